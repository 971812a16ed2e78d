"""What is refused before retrieval: today's rules (knowledge/scope.yaml patterns) and an example router that compares
the question with example utterances of each out-of-scope route (the semantic-router pattern)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from assistant.numerals import cites_other_document
from assistant.retrieve import normalise_question
from assistant.vocabulary import notice_facts, pattern

_YEAR_POLICY = pattern("scope_year_policy")
_YEAR_POLICY_EN = pattern("scope_year_policy_en", flags=re.IGNORECASE)
_PAST_OUTCOME = pattern("scope_past_outcome")
_YEAR_NAMED = pattern("scope_year_named")
_NAMED_DOCUMENT = pattern("scope_named_document")
_INSIDE = pattern("scope_inside_document")
# A place is where the asker comes from, lives or moved from ("我老家是安徽的", "从上海迁来的"): background
_PLACE_BEFORE = pattern("scope_place_origin_before", "(?:{})$")
_PLACE_AFTER = pattern("scope_place_origin_after", "^(?:{})")
_PLACE_PAST = pattern("scope_place_past_before", flags=re.IGNORECASE)
_PLACE_ACT = pattern("scope_place_acts")
_VISIT_BEFORE = pattern("scope_place_visit_before")
_VISIT_AFTER = pattern("scope_place_visit_after")
_VALIDITY = pattern("scope_validity_asked")
_CLAUSE = re.compile(r"[，,。；;！!？?\n]")


@dataclass(frozen=True)
class Unstated:
    """A kind of information the notice never gives (申报材料, 电话, 截止日期 ...), with the words that ask for it."""

    name: str
    what: str  # how the answer names it: 申报材料和办理流程
    what_en: str
    patterns: tuple[re.Pattern[str], ...]
    cite: bool = True  # point to the article the question is about (not for 区长是谁: no article is)

    def asked_in(self, text: str) -> list[re.Match[str]]:
        return [m for p in self.patterns for m in p.finditer(text)]


@dataclass(frozen=True)
class Route:
    """An out-of-scope route of the example router: the refusal reason it gives and its example utterances."""

    reason: str  # task | personal_data | other_region | other_year | off_topic | injection
    examples: tuple[str, ...]


@dataclass(frozen=True)
class Scope:
    """What the assistant refuses before retrieval, and the kinds of information it never has
    (knowledge/scope.yaml)."""

    other_places: tuple[str, ...]
    injection: tuple[re.Pattern[str], ...]
    off_topic: tuple[re.Pattern[str], ...]
    covered_years: tuple[int, ...] = ()
    tasks: tuple[re.Pattern[str], ...] = ()
    unstated: tuple[Unstated, ...] = ()
    routes: tuple[Route, ...] = ()
    answerable: tuple[str, ...] = ()  # in-scope examples: a route must beat the closest of them
    route_threshold: float = 1.0
    route_margin: float = 0.0
    own_places: tuple[str, ...] = ()  # places inside the notice's region (西湖区, 紫金港, 三墩 …)

    @classmethod
    def load(cls, path: Path) -> Scope:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        router = raw.get("router") or {}
        return cls(
            tuple(str(p).lower() for p in raw.get("other_places", [])),
            tuple(re.compile(p, re.I) for p in raw.get("injection", [])),
            tuple(re.compile(p, re.I) for p in raw.get("off_topic", [])),
            tuple(int(y) for y in raw.get("covered_years", [notice_facts().year])),
            tuple(re.compile(p, re.I) for p in raw.get("tasks", [])),
            tuple(
                Unstated(
                    name,
                    str(kind["what"]),
                    str(kind["what_en"]),
                    tuple(re.compile(p, re.I) for p in kind["patterns"]),
                    bool(kind.get("cite", True)),
                )
                for name, kind in (raw.get("unstated") or {}).items()
            ),
            tuple(
                Route(str(name), tuple(str(e) for e in examples))
                for name, examples in (router.get("routes") or {}).items()
            ),
            tuple(str(e) for e in router.get("answerable") or ()),
            float(router.get("threshold", 1.0)),
            float(router.get("margin", 0.0)),
            tuple(str(p).lower() for p in raw.get("own_places", [])),
        )

    def unstated_asked(self, question: str) -> tuple[Unstated | None, str]:
        """The kind of never-stated information the question asks for, and the question without those words
        (what is left names the topic: "研发投入补助" of "研发投入补助在哪个网站申报")."""
        text = normalise_question(question)
        for kind in self.unstated:
            matches = kind.asked_in(text)
            if matches:
                for match in sorted(matches, key=lambda m: m.start(), reverse=True):
                    text = text[: match.start()] + " " + text[match.end() :]
                return kind, text
        return None, text

    def refusal_reason(self, question: str, focus: str = "") -> str:
        """Why the rules refuse the question outright ('' when they do not). `focus` is the asking part of a long
        question (asks.ask_focus): everyday topics and other places in the story told before it are background."""
        text = normalise_question(question)
        asked = normalise_question(focus) if focus else text
        if any(p.search(text) for p in self.injection):
            return "injection"
        if any(p.search(text) for p in self.tasks):
            return "task"
        if cites_other_document(question) or asks_inside_other_document(question):
            return "other_document"
        if (
            self.asks_other_place(asked)
            or (
                focus
                and self.asks_other_place(text)
                and not (self.names_own_place(text) and not self.acts_elsewhere(text))
            )
        ) and not self.acts_here(text):
            return "other_region"
        if any(p.search(asked) for p in self.off_topic):
            return "off_topic"
        own_year = max(self.covered_years)
        # A later year asks about policy this notice does not set; an earlier one is a fact about the asker
        # ("2017年注册的").
        years = {int(y) for y in _YEAR_NAMED.findall(text)}
        # "这批政策到2025年还能用吗，有效期到什么时候" asks how long this notice holds: its closing paragraph answers
        if years and max(years) > own_year and not years & set(self.covered_years) and not _VALIDITY.search(text):
            return "other_year"
        # A year's policy ("2023年西湖区对…奖励", "去年区里的政策") other than the notice's own year.
        for match in (*_YEAR_POLICY.finditer(text), *_YEAR_POLICY_EN.finditer(text)):
            year = match.group("year")
            if not year or int(year) != own_year:
                return "other_year"
        # What an earlier year actually came to ("2023年实际利用外资完成了多少"): the notice sets its own year's targets.
        for match in _PAST_OUTCOME.finditer(text):
            if int(match.group("year")) < own_year:
                return "other_year"
        return ""

    def names_own_place(self, text: str) -> bool:
        """Whether the question names the notice's region or a place inside it: another place in the story told
        before its question is then where the asker lives or comes from ("我住余杭，在西湖区新注册开了…")."""
        return any(place in text for place in self.own_places)

    def acts_elsewhere(self, text: str) -> bool:
        """Whether the company applies, registers or operates in another place ("当时是在拱墅区申报的"): the place
        then decides the question, however much of 西湖区 the question names. Where it came from is background."""
        return any(
            _PLACE_ACT.search(text, end, clause_end) and not _PLACE_BEFORE.search(before)
            for before, end, clause_end in self._places(text)
        )

    def acts_here(self, text: str) -> bool:
        """Whether the company is to register, set up or operate in the notice's region ("我在上海有家公司，打算在
        云栖小镇新设一家"): the question is then about here, wherever else it has a company."""
        for place in self.own_places:
            start = text.find(place)
            while start >= 0:
                following = _CLAUSE.search(text, start)
                if _PLACE_ACT.search(text, start + len(place), following.start() if following else len(text)):
                    return True
                start = text.find(place, start + 1)
        return False

    def asks_other_place(self, text: str) -> bool:
        """Whether the question asks about another place's policy: a place the notice does not cover, named
        other than as where the asker or the company comes from ("我老家是安徽的", "从上海迁到西湖区的企业"), where
        the asker was before ("Used to run a VR studio in Shanghai") or goes to for an event ("要去上海参加一个农博会"):
        background, answerable."""
        return any(
            not (
                _PLACE_BEFORE.search(before)
                or _PLACE_PAST.search(before)
                or _PLACE_AFTER.search(text[end:])
                or (_VISIT_BEFORE.search(before) and _VISIT_AFTER.search(text[end:]))
            )
            for before, end, _ in self._places(text)
        )

    def _places(self, text: str) -> Iterator[tuple[str, int, int]]:
        """Each mention of another place: the text of its clause before it, where it ends, where its clause ends."""
        for place in self.other_places:
            start = text.find(place)
            while start >= 0:
                clause_start = max((m.end() for m in _CLAUSE.finditer(text, 0, start)), default=0)
                following = _CLAUSE.search(text, start)
                yield text[clause_start:start], start + len(place), following.start() if following else len(text)
                start = text.find(place, start + 1)


def asks_inside_other_document(question: str) -> bool:
    """Whether the question asks what another named document says ("《…实施细则》里面对容积率怎么规定",
    "“民营经济32条”具体是哪32条", "浙政发〔2024〕4号文里…"). Asking about the notice's own title, or only when
    another document comes out ("《…实施细则》什么时候出台"), is not."""
    text = _curly_quotes(question)
    for match in _NAMED_DOCUMENT.finditer(text):
        title = match.group("title")
        if title is not None and _is_own_title(re.sub(r"\s+", "", title)):
            continue
        if _INSIDE.match(text[match.end() :]):
            return True
    return False


def _is_own_title(title: str) -> bool:
    """The notice's own title, with or without its issuer's places in front or "的通知" behind."""
    facts = notice_facts()
    core = title.removesuffix("的通知")
    for prefix in (facts.city, facts.region, "关于"):
        core = core.removeprefix(prefix)
    own = facts.title.removeprefix("关于")
    return core in (own, own.replace("的若干", "若干"))


def _curly_quotes(text: str) -> str:
    """Curly and straight quotes alike as “…”; the rest as the user typed it."""
    return re.sub(r'"([^"]*)"', r"“\1”", text.replace("「", "“").replace("」", "”"))


@dataclass
class ExampleRouter:
    """The semantic-router pattern: each out-of-scope route's example utterances, embedded once with the app's
    embedder; a question goes to the route of its closest example when that similarity reaches `threshold` and
    beats the closest in-scope example by `margin` (so "我老家是安徽的，…技改有补贴吗" stays answerable)."""

    scope: Scope
    embedder: Any
    _vectors: np.ndarray | None = field(default=None, init=False, repr=False)
    _reasons: tuple[str, ...] = field(default=(), init=False, repr=False)

    def _matrix(self) -> tuple[np.ndarray, tuple[str, ...]]:
        if self._vectors is None:
            texts = [e for r in self.scope.routes for e in r.examples] + list(self.scope.answerable)
            reasons = tuple(r.reason for r in self.scope.routes for _ in r.examples) + ("",) * len(
                self.scope.answerable
            )
            self._vectors = (
                np.asarray(self.embedder.embed_queries([normalise_question(t) for t in texts]))
                if texts
                else np.zeros((0, 1))
            )
            self._reasons = reasons
        return self._vectors, self._reasons

    def closest(self, question: str) -> tuple[str, float, float]:
        """The closest route's reason, its similarity, and the closest in-scope example's similarity."""
        vectors, reasons = self._matrix()
        if not len(reasons):
            return "", 0.0, 0.0
        vector = np.asarray(self.embedder.embed_queries([normalise_question(question)])[0])
        sims = vectors @ vector
        out = [i for i, r in enumerate(reasons) if r]
        inside = [i for i, r in enumerate(reasons) if not r]
        best = max(out, key=lambda i: sims[i]) if out else None
        if best is None:
            return "", 0.0, float(max(sims[inside], default=0.0))
        return reasons[best], float(sims[best]), float(max((sims[i] for i in inside), default=0.0))

    def route(self, question: str) -> str:
        """The refusal reason of the route the question belongs to, or '' when it is in scope."""
        reason, similarity, answerable = self.closest(question)
        if reason and similarity >= self.scope.route_threshold and similarity >= answerable + self.scope.route_margin:
            return reason
        return ""
