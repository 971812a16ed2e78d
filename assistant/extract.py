"""Extractive selection: the clause window of the notice that answers a question, and why a nearby figure is not
always the answer. Pure functions over chunks and weighted question grams (Retriever.query_grams)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.amounts import Amount, find_amounts
from assistant.records import Chunk
from assistant.retrieve import matched_weight, normalise_question
from assistant.vocabulary import pattern

# A number starts here, not inside a longer one ("12.5" is not searched again from "2" and "5": linear on digits).
_NUMBER_START = r"(?<!\d)(?<!\d\.)"
# What a window must hold to answer a question asking for that kind of value (see answer.WANTS).
VALUE_PATTERNS = {
    "amount": re.compile(rf"{_NUMBER_START}\d[\d.]*\s*(万元|亿元|元|万|亿)"),
    "percent": re.compile(rf"{_NUMBER_START}\d[\d.]*\s*%|百分点|分之|一倍"),
    "count": re.compile(rf"{_NUMBER_START}\d[\d.]*\s*万?\s*(家|个|亩|场|所|户|张|吨|人|栋|平方米|方|支|套|项|名|位)"),
    "date": re.compile(r"\d{4}\s*年|(?<!\d)\d+\s*月|(?<!\d)\d+\s*[日天]|全年|期限"),
    "value": re.compile(r"\d|分之|(?<![一二两三四五六七八九十百千])[一二两三四五六七八九十百千]+(个|家|项|条|所)"),
}
# What a question asking what support there is ("区块链企业有什么支持") is answered with: a sum or a share
_SUPPORT_VALUE = re.compile(f"{VALUE_PATTERNS['amount'].pattern}|{VALUE_PATTERNS['percent'].pattern}")
# "区块链企业有什么支持": `wants` SUPPORT prefers a window that grants ("通过房租补助、装修补贴等形式给予支持") to one
# that only names the topic ("支持区块链企业开展区块链+的应用"), as a value kind is preferred for "多少"
SUPPORT = "support"
_SUPPORT_CLAUSE = pattern("extract_grant_words")
_SENTENCE_END = re.compile(r"(?<=[。；;])")
_CLAUSE_END = re.compile(r"(?<=[,，:：])")


def best_passage(grams: dict[str, float], chunks: Sequence[Chunk], wants: str) -> tuple[Chunk, str, str] | None:
    """(chunk, clause window, its sentence) that best answers the question; earlier chunks are preferred.

    `grams` are the question's weighted grams (Retriever.query_grams). The window is chosen for its overlap
    with them. A window holding the asked-for kind of value wins only when it is nearly as relevant and the
    value is about what made the best window relevant: the value's own subject (its clause back to the
    nearest "对…" clause) must keep most of the best window's matched weight, so a figure granted to someone
    else ("单项冠军" when the question is about "专精特新") is never passed off as the answer.
    """
    value = _SUPPORT_CLAUSE if wants == SUPPORT else VALUE_PATTERNS.get(wants)
    best: tuple[float, Chunk, str, str] | None = None
    best_valued: tuple[float, Chunk, str, str, str] | None = None
    for rank, chunk in enumerate(chunks):
        weight = (1.0, 0.7, 0.55)[min(rank, 2)]
        for sentence in sentences(chunk)[1 if chunk.kind == "article" else 0 :] or sentences(chunk):
            clauses = [c for c in _CLAUSE_END.split(sentence) if c]
            for i in range(len(clauses)):
                for j in range(i + 1, min(i + 4, len(clauses)) + 1):
                    window = "".join(clauses[i:j])
                    score = _window_score(window, grams) * weight
                    if best is None or score > best[0]:
                        best = (score, chunk, window, sentence)
                    if value is None or (best_valued is not None and score <= best_valued[0]):
                        continue
                    k = next((k for k in range(i, j) if value.search(clauses[k])), None)
                    if k is not None and (wants == SUPPORT or _value_clause_fits(clauses[k], grams)):
                        best_valued = (score, chunk, window, sentence, _subject_span(clauses, k))
    if best is None:
        return None
    if best_valued is not None and best_valued[0] >= VALUE_WINDOW_RATIO * best[0]:
        # A near tie needs no further proof; a weaker window must keep the best window's subject.
        tie = best_valued[0] >= 0.95 * best[0]
        if tie or _lost_weight(best[2], best_valued[4], grams) <= LOST_WEIGHT_SHARE:
            best = best_valued[:4]
    return best[1], _completed(best[2], best[3]).strip().rstrip(",，:：;；。"), best[3].strip()


def _completed(window: str, sentence: str) -> str:
    """A window ending on the subject of what follows ("…,对通过平台使用智算算力的企业") takes the next clause, which says
    what that subject gets (",发放“算力券”"); one opening on a part of a total ("其中制造业实际利用外资1.58亿美元") takes
    the clause before it, the total ("实际利用外资7.9亿美元,")."""
    clauses = [c for c in _CLAUSE_END.split(window) if c]
    at = sentence.find(window)
    if not clauses or at < 0:
        return window
    if clauses[-1].lstrip().startswith("对"):
        following = [c for c in _CLAUSE_END.split(sentence[at + len(window) :]) if c]
        window = window + following[0] if following else window
    if clauses[0].lstrip().startswith("其中"):
        before = [c for c in _CLAUSE_END.split(sentence[:at]) if c]
        window = before[-1] + window if before else window
    return window


RIVALS_SHOWN = 3


def rival_windows(
    grams: dict[str, float], chunk: Chunk, window: str, sentence: str, wants: str
) -> list[tuple[str, str]]:
    """Clause windows of the chunk that the question's words cannot tell from the chosen one: each holds every
    question gram the chosen window holds and states a different value of the kind asked for ("高心企业第一次认定
    给多少": 首次认定的高新技术企业 20万 and 首次认定的新雏鹰企业 50万 match the same words). Empty when the chosen
    window holds no such value or matches a word the others lack. A question asking for no kind of value ("有什么
    支持") is judged by the sums and shares stated. (window, sentence) pairs, at most RIVALS_SHOWN, in the notice's
    order."""
    value = VALUE_PATTERNS.get(wants) if wants else _SUPPORT_VALUE
    if value is None or not value.search(window):
        return []
    chosen = {g for g in grams if g in normalise_question(window)}
    if not chosen:
        return []  # the chosen window holds none of the question's words: they tell no clause from another
    stated = {m.group(0) for m in value.finditer(window)}
    taken = (sentence.find(window), sentence.find(window) + len(window)) if window in sentence else (-1, -1)
    rivals: list[tuple[str, str]] = []
    for other in sentences(chunk):
        clauses = [c for c in _CLAUSE_END.split(other) if c]
        starts = [sum(len(c) for c in clauses[:i]) for i in range(len(clauses) + 1)]
        pick: tuple[float, str] | None = None
        for i in range(len(clauses)):
            for j in range(i + 1, min(i + 3, len(clauses)) + 1):
                if other.strip() == sentence.strip() and starts[i] < taken[1] and taken[0] < starts[j]:
                    continue  # the chosen window itself, or a window sharing one of its clauses
                candidate = "".join(clauses[i:j]).strip().rstrip(",，:：;；。")
                found = {m.group(0) for m in value.finditer(candidate)}
                if not found or found == stated:
                    continue
                normalised = normalise_question(candidate)
                if not all(g in normalised for g in chosen):
                    continue
                score = matched_weight(normalised, grams) - 0.01 * len(candidate)  # _window_score, normalised once
                if pick is None or score > pick[0]:
                    pick = (score, candidate)
        if pick is not None:
            rivals.append((pick[1], other.strip()))
    return rivals[:RIVALS_SHOWN]


def _subject_span(clauses: Sequence[str], k: int) -> str:
    """Clause k and the clauses before it back to the one that names its subject ("对…")."""
    start = next((s for s in range(k, -1, -1) if clauses[s].lstrip().startswith("对")), 0)
    return "".join(clauses[start : k + 1])


VALUE_WINDOW_RATIO = 0.75
# A clause that grants: it opens with a grant word ("给予…", "按…"), or names its subject and grants in one breath
# ("对评上西湖龙井手工炒制大师的给予1万元奖励").
_GRANT = pattern("extract_grant_words", r"^\s*(?:{})")
_GRANT_AFTER_SUBJECT = pattern("extract_grant_words", r"的\s*(?:{})")


LOST_WEIGHT_SHARE = 0.25


def _lost_weight(best: str, other: str, grams: dict[str, float]) -> float:
    """Share of the best window's matched question weight that the other window does not match."""
    best_text, other_text = normalise_question(best), normalise_question(other)
    matched = {g: w for g, w in grams.items() if g in best_text}
    total = sum(matched.values())
    return sum(w for g, w in matched.items() if g not in other_text) / total if total else 0.0


def _value_clause_fits(clause: str, grams: dict[str, float]) -> bool:
    text = normalise_question(clause)
    return bool(_GRANT.search(clause) or _GRANT_AFTER_SUBJECT.search(clause)) or any(
        len(g) >= 3 and g in text for g in grams
    )


def _window_score(window: str, grams: dict[str, float]) -> float:
    return matched_weight(normalise_question(window), grams) - 0.01 * len(window)


def sentences(chunk: Chunk) -> list[str]:
    """The chunk's sentences (split at 。 and ；), without the article marker and the 责任单位 tail."""
    body = re.sub(r"^[(（][一二三四五六七八九十]+[)）]", "", chunk.text.strip())
    body = re.sub(r"[(（]\s*(责任单位\s*[:：])?[^()（）]*[)）]\s*$", "", body) if chunk.kind == "article" else body
    return [s for s in _SENTENCE_END.split(body.replace("\n", "。")) if s.strip("。； ")]


def extend_to_value(window: str, sentence: str, wants: str, forward: bool = True) -> str:
    """The window, carried on to the first clause after it that holds the asked-for kind of value when the window
    itself holds none ("加快推动子基金组建," + … + "成立组建5支基金"), else back to the nearest clause before it that
    holds one when that clause opens the sentence's subject ("区级每年安排资金1000万元," + "开展全域统防统治无人机植保飞防");
    the window as it is otherwise. `forward` False looks back only."""
    pattern = VALUE_PATTERNS.get(wants)
    if pattern is None or pattern.search(window) or window not in sentence:
        return window
    start = sentence.index(window)
    clauses = [c for c in _CLAUSE_END.split(sentence[start + len(window) :]) if c]
    for index, clause in enumerate(clauses if forward else ()):
        if pattern.search(clause):
            return (window + "".join(clauses[: index + 1])).rstrip(",，:：;；")
    before = [c for c in _CLAUSE_END.split(sentence[:start]) if c]
    for index in range(len(before) - 1, -1, -1):
        if pattern.search(before[index]):
            # only a value that what follows spends or does ("安排资金…,开展…"), not another subject's award
            if any(c.lstrip().startswith("对") for c in before[index + 1 :]) or before[index].lstrip().startswith("对"):
                return window
            return "".join(before[index:]) + window
    return window


# A stated figure is taken for an item only when its clause holds this share of the item's weighted grams that the
# chunks hold at all, and outscores every other clause stating a sum by this ratio (set on dev19/dev22/dev24).
STATED_FIGURE_SHARE = 0.35
STATED_FIGURE_MARGIN = 1.25


def stated_figure(grams: dict[str, float], chunks: Sequence[Chunk]) -> tuple[Chunk, str, str, Amount] | None:
    """(chunk, clause, sentence, amount): the one clause of the chunks stating a single sum of money that best
    matches an item of a question ("西湖龙井茶产业发展与保护资金" -> "支持西湖龙井茶产业发展与保护资金989万元");
    None unless that clause holds at least STATED_FIGURE_SHARE of the item's weight that these chunks hold at all
    (the item's asides, "区里今年", match nothing anyway)."""
    texts = [normalise_question(chunk.text) for chunk in chunks]
    total = sum(w for g, w in grams.items() if any(g in text for text in texts))
    scored: list[tuple[float, float, Chunk, str, str, Amount]] = []
    for rank, chunk in enumerate(chunks):
        weight = 1.0 - 0.05 * rank
        for sentence in sentences(chunk):
            for clause in (c for c in _CLAUSE_END.split(sentence) if c):
                money = [amount for amount in find_amounts(clause) if amount.kind == "money"]
                if len(money) != 1:
                    continue
                matched = matched_weight(normalise_question(clause), grams)
                scored.append(
                    (matched * weight, matched, chunk, clause.strip().rstrip(",，:：;；。"), sentence, money[0])
                )
    if not scored:
        return None
    scored.sort(key=lambda item: -item[0])
    score, matched, chunk, clause, sentence, amount = scored[0]
    runner_up = scored[1][0] if len(scored) > 1 else 0.0
    if matched < STATED_FIGURE_SHARE * total or score < STATED_FIGURE_MARGIN * runner_up:
        return None
    return chunk, clause, sentence.strip(), amount
