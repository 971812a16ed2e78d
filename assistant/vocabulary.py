"""The words that steer behaviour, loaded once from knowledge/language.yaml; facts about the notice from notice.yaml.

Every trigger list (follow-up openers, totals, relative years, negations, department asks, value kinds,
other regions, out-of-scope tasks …) lives in `knowledge/language.yaml` under a name; code asks for it by that
name (`words("total")`, `pattern("total")`) and never keeps its own copy. Adding a phrasing means adding a word
to that file. Facts about the notice itself (title, issuer, date, article count, hotline) live in
`knowledge/notice.yaml` and are read through `notice_facts()`.

Nothing is read at import time: `pattern()` returns a lazily compiled pattern, so module-level constants such as
`_TOTAL = pattern("total")` cost nothing until first use.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import yaml

KNOWLEDGE_DIR = Path(__file__).resolve().parent.parent / "knowledge"
LANGUAGE_FILE = KNOWLEDGE_DIR / "language.yaml"
NOTICE_FACTS_FILE = KNOWLEDGE_DIR / "notice.yaml"


class VocabularyError(KeyError):
    """A name asked for that knowledge/language.yaml does not define."""


@dataclass(frozen=True)
class Vocabulary:
    """Named word lists (`words:`) and named regular expressions (`patterns:`) of language.yaml."""

    word_lists: Mapping[str, tuple[str, ...]]
    patterns: Mapping[str, str]

    @classmethod
    def load(cls, path: Path) -> Vocabulary:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        word_lists = {str(k): tuple(str(w) for w in (v or ())) for k, v in (raw.get("words") or {}).items()}
        unquoted = sorted(
            str(k) for k, v in (raw.get("words") or {}).items() if any(isinstance(w, bool) for w in v or ())
        )
        strings = sorted(str(k) for k, v in (raw.get("words") or {}).items() if isinstance(v, str))
        if strings:  # a regular expression put under words: would be read as a list of its characters
            raise ValueError(f"{path.name}: word lists given as one string (put patterns under patterns:) {strings}")
        if unquoted:  # YAML reads a bare yes/no/true/false as a boolean: the word would silently become "True"
            raise ValueError(f"{path.name}: quote yes/no/true/false in the word lists {unquoted}")
        patterns = {str(k): str(v) for k, v in (raw.get("patterns") or {}).items()}
        clash = set(word_lists) & set(patterns)
        if clash:
            raise ValueError(f"{path.name}: names used both as words and patterns: {sorted(clash)}")
        return cls(word_lists, patterns)

    def words(self, name: str) -> tuple[str, ...]:
        try:
            return self.word_lists[name]
        except KeyError:
            raise VocabularyError(f"knowledge/language.yaml has no word list {name!r}") from None

    def regex(self, name: str) -> str:
        """The regular expression named `name`: a `patterns:` entry, or a word list as an alternation
        (longest words first, so 一共是 is tried before 一共)."""
        if name in self.patterns:
            return self.patterns[name]
        words = sorted(self.words(name), key=len, reverse=True)
        return "(?:" + "|".join(re.escape(w) for w in words) + ")"


@cache
def vocabulary(path: Path = LANGUAGE_FILE) -> Vocabulary:
    """The project's vocabulary, read once per process."""
    return Vocabulary.load(path)


def words(name: str) -> tuple[str, ...]:
    """The word list `name` of knowledge/language.yaml."""
    return vocabulary().words(name)


@cache
def word_set(name: str) -> frozenset[str]:
    """The word list `name` as a set, for membership tests ("多少" in word_set("retrieve_question_words"))."""
    return frozenset(vocabulary().words(name))


LEXICON_FILE = KNOWLEDGE_DIR / "lexicon.yaml"


def spelling_rules(raw: dict[str, Any]) -> tuple[tuple[re.Pattern[str], str], ...]:
    """The `spellings:` of a loaded lexicon.yaml as (compiled regex, replacement) pairs (also retrieve.Lexicon's)."""
    return tuple((re.compile(str(found)), str(used)) for found, used in raw.get("spellings", ()))


@cache
def _spellings(path: Path = LEXICON_FILE) -> tuple[tuple[re.Pattern[str], str], ...]:
    return spelling_rules((yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}) or {})


@lru_cache(maxsize=16384)  # find_words asks it for every rule word of every calculation question
def same_length_spelling(text: str) -> str:
    """Lower-case English with the lexicon's spelling rules (knowledge/lexicon.yaml `spellings:`) applied where
    they keep the length ("recognised" -> "recognized"), so positions found in the result are positions in `text`."""
    text = text.lower()
    for found, used in _spellings():

        def same_length(match: re.Match[str], used: str = used) -> str:
            kept = match.expand(used)
            return kept if len(kept) == len(match.group(0)) else match.group(0)

        text = found.sub(same_length, text)
    return text


class LazyPattern:
    """A compiled pattern built on first use from a language.yaml entry, optionally inside a template.

    `pattern("total")` matches any total word; `pattern("total", r"(?:{})[^。]*")` puts the alternation where
    `{}` stands. Behaves like `re.Pattern` for the methods the package uses.
    """

    def __init__(self, name: str, template: str = "{}", flags: int = 0) -> None:
        self.name = name
        self.template = template
        self.flags = flags

    @property
    def compiled(self) -> re.Pattern[str]:
        cached: re.Pattern[str] | None = self.__dict__.get("_compiled")
        if cached is None:
            cached = re.compile(self.template.replace("{}", vocabulary().regex(self.name)), self.flags)
            self.__dict__["_compiled"] = cached
        return cached

    @property
    def pattern(self) -> str:
        return self.compiled.pattern

    def search(self, string: str, *args: Any) -> re.Match[str] | None:
        return self.compiled.search(string, *args)

    def match(self, string: str, *args: Any) -> re.Match[str] | None:
        return self.compiled.match(string, *args)

    def fullmatch(self, string: str, *args: Any) -> re.Match[str] | None:
        return self.compiled.fullmatch(string, *args)

    def finditer(self, string: str, *args: Any) -> Iterator[re.Match[str]]:
        return self.compiled.finditer(string, *args)

    def findall(self, string: str, *args: Any) -> list[Any]:
        return self.compiled.findall(string, *args)

    def sub(self, repl: Any, string: str, count: int = 0) -> str:
        return self.compiled.sub(repl, string, count)

    def split(self, string: str, maxsplit: int = 0) -> list[str]:
        return self.compiled.split(string, maxsplit)

    def __repr__(self) -> str:
        return f"LazyPattern({self.name!r})"


def pattern(name: str, template: str = "{}", flags: int = 0) -> LazyPattern:
    """A lazily compiled pattern for the language.yaml entry `name` (see LazyPattern)."""
    return LazyPattern(name, template, flags)


@dataclass(frozen=True)
class NoticeFacts:
    """Facts about the notice itself (knowledge/notice.yaml): what it is, who issued it, when, how big."""

    title: str
    issuer: str
    issued: date
    year: int
    article_count: int
    section_count: int
    region: str
    city: str
    hotline: str
    hotline_en: str
    title_en: str

    @property
    def title_quoted(self) -> str:
        return f"《{self.title}》"

    @property
    def full_name(self) -> str:
        return f"{self.issuer}{self.title_quoted}"

    @property
    def issued_zh(self) -> str:
        return f"{self.issued.year}年{self.issued.month}月{self.issued.day}日"


@cache
def notice_facts(path: Path = NOTICE_FACTS_FILE) -> NoticeFacts:
    """The notice's metadata, read once per process."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    issued = raw["issued"]
    return NoticeFacts(
        title=str(raw["title"]),
        issuer=str(raw["issuer"]),
        issued=issued if isinstance(issued, date) else date.fromisoformat(str(issued)),
        year=int(raw["year"]),
        article_count=int(raw["article_count"]),
        section_count=int(raw["section_count"]),
        region=str(raw["region"]),
        city=str(raw["city"]),
        hotline=str(raw["hotline"]),
        hotline_en=str(raw["hotline_en"]),
        title_en=str(raw["title_en"]),
    )
