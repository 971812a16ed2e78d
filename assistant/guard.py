"""The number guard: every amount, percentage and date an answer states must occur in a cited chunk or the calculator output."""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from assistant.numerals import to_halfwidth

# A number with the unit that makes it a claim: money, percentages, dates, areas, counts of things.
_CLAIM = re.compile(
    r"(?<!\d)(?<!\d,)(\d[\d,]*(?:\.\d+)?)\s*(万亿|亿元|亿|万元|万|元|%|％|个百分点|年|月|日|亩|家|个|平方米|㎡|吨|人|张|场|所|户)"
)
# English money: "RMB 200,000", "200,000 yuan", "2 million yuan", "CNY 1.5 billion".
_CLAIM_EN = re.compile(
    r"(?:rmb|cny|¥)\s*(\d[\d,]*(?:\.\d+)?)\s*(million|billion)?"
    r"|(?<!\d)(?<!\d,)(\d[\d,]*(?:\.\d+)?)\s*(million|billion)?\s*(?:yuan|rmb)",
    re.I,
)
_SCALE_EN = {"": Decimal(1), "million": Decimal(10) ** 6, "billion": Decimal(10) ** 9}
_YUAN = {
    "万亿": Decimal(10) ** 12,
    "亿元": Decimal(10) ** 8,
    "亿": Decimal(10) ** 8,
    "万元": Decimal(10) ** 4,
    "万": Decimal(10) ** 4,
    "元": Decimal(1),
}


def claims(text: str) -> set[tuple[str, Decimal]]:
    """(kind, value) pairs a text states; money is normalised to yuan so 20万元 == 200000元."""
    found: set[tuple[str, Decimal]] = set()
    for number, unit in _CLAIM.findall(to_halfwidth(text)):
        try:
            value = Decimal(number.replace(",", ""))
        except InvalidOperation:
            continue
        if unit in _YUAN:
            found.add(("yuan", value * _YUAN[unit]))
        elif unit in ("%", "％"):
            found.add(("percent", value))
        else:
            found.add((unit, value))
    for prefixed, prefixed_scale, suffixed, suffixed_scale in _CLAIM_EN.findall(text):
        number, scale = (prefixed, prefixed_scale) if prefixed else (suffixed, suffixed_scale)
        try:
            found.add(("yuan", Decimal(number.replace(",", "")) * _SCALE_EN[scale.lower()]))
        except InvalidOperation:
            continue
    return found


def unsupported_claims(answer: str, sources: Iterable[str]) -> list[str]:
    """Claims in `answer` that no source text states; an empty list means the answer passes the guard."""
    allowed: set[tuple[str, Decimal]] = set()
    for source in sources:
        allowed |= claims(source)
    bad = sorted(claims(answer) - allowed, key=lambda kv: (kv[0], kv[1]))
    return [f"{value.normalize():f} ({kind})" for kind, value in bad]


def unknown_citations(cited: Iterable[str], retrieved: Iterable[str]) -> list[str]:
    """Cited chunk ids that retrieval did not return."""
    allowed = set(retrieved)
    return [cid for cid in cited if cid not in allowed]
