"""Score predictions against gold labels: per-case pass/fail with reasons, and the aggregate metrics.

Every definition the report prints lives here, next to the code that implements it
(`PASS_DEFINITION`, `METRIC_DEFINITIONS`, `FACT_MATCHING`).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from eval.runner import Case, Prediction

ANSWER_WINDOW = 250  # facts must appear in the direct answer: its first 250 characters
AMOUNT_TOLERANCE_YUAN = Decimal("0.5")  # two amounts are equal when they differ by less than half a yuan
NO_KIND = "(none)"
PASS, ABSTAINED, CONFIDENT_WRONG, ERROR = "pass", "abstained", "confident_wrong", "error"

PASS_DEFINITION = (
    "An **answerable** case passes when all of these hold: the answer is not a refusal; "
    "if the case has gold ids, the first citation is one of them (hit@1); "
    f"every fact group has one of its strings in the first {ANSWER_WINDOW} characters of the answer; "
    "if the case has `amount_yuan`, the predicted amount is within 0.5 yuan of it. "
    "An **unanswerable** case (`answerable: false`) passes when the answer is a refusal and states no amount "
    "(`amount_yuan` is null). A case without `answerable` counts as answerable. "
    "An answer that asks the user back (route `clarify`) never passes an answerable case: it is an abstention."
)

OUTCOME_DEFINITION = (
    "Every failure is one of: **abstained** — refused, or asked the user back, on an answerable case (or asked back "
    "on an unanswerable one): the user is told the assistant is not sure; **confident-wrong** — answered, not refused "
    "and not asked back, and wrong: a wrong or missing amount, a missing fact, a wrong first citation, or an answer "
    "to an unanswerable case; **error** — the predictor raised. Confident-wrong is the failure that misleads a user."
)

FACT_MATCHING = (
    f"Facts are looked for in the first {ANSWER_WINDOW} characters of the answer. Both sides are normalised: "
    "Unicode NFKC (full-width digits, letters, punctuation and spaces become half-width), lower case, "
    "all whitespace removed, thousands separators between digits removed (320,000 → 320000). "
    "A fact that is only an amount of money (a number, optionally 千/万/亿/万亿, then 元, e.g. `32万元`, "
    "`320,000元`) matches any amount of money in the answer with the same value in yuan (within 0.5 yuan), "
    "so 32万元 = 320,000元 = 320000元 = 32 万元, and `20万元` does not match inside `120万元`. "
    "Any other fact matches as a normalised substring, except that a fact starting (ending) with a digit may "
    "not be preceded (followed) by a digit or a decimal point, so `20万` does not match inside `120万`. "
    "Amounts written in Chinese numerals (二十万元) are not converted."
)

METRIC_DEFINITIONS: tuple[tuple[str, str], ...] = (
    ("pass rate", "Share of labelled cases that pass (definition below); also per `kind`."),
    ("hit@1", "Answerable cases with gold ids: share whose first citation is a gold id."),
    ("hit@3", "Same cases: share with a gold id among the first three citations."),
    ("MRR", "Same cases: mean of 1/rank of the first gold id among the citations (0 when none is cited)."),
    (
        "citation precision",
        "Same cases, pooled: cited ids (duplicates within a case counted once) that are gold ids / all cited ids.",
    ),
    ("fact accuracy", "Answerable cases with facts: share in which every fact group is found (see fact matching)."),
    ("amount exact", "Cases with `amount_yuan`: share whose predicted amount is within 0.5 yuan of it."),
    ("refusal precision", "Refusal is the positive class: refused cases that are unanswerable / all refused cases."),
    ("refusal recall", "Unanswerable cases that were refused / all unanswerable cases."),
    ("false-refusal rate", "Answerable cases that were refused / all answerable cases."),
    ("confident-wrong", "Labelled cases answered (not refused, not asked back) and wrong / all labelled cases."),
    ("abstained", "Labelled cases that failed by refusing or asking back / all labelled cases."),
    ("latency p50 / p95", "Nearest-rank percentiles of the per-question wall time of every prediction, in ms."),
)

_THOUSANDS_SEPARATOR = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_WHITESPACE = re.compile(r"\s+")
_MONEY = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)(万亿|亿|万|千)?元")
_MONEY_FACT = re.compile(r"(\d+(?:\.\d+)?)(万亿|亿|万|千)?元")
_MULTIPLIERS = {
    None: Decimal(1),
    "千": Decimal(1_000),
    "万": Decimal(10_000),
    "亿": Decimal(100_000_000),
    "万亿": Decimal(1_000_000_000_000),
}


def normalise(text: str) -> str:
    """NFKC, lower case, no whitespace, no thousands separators: the form facts are matched in."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _WHITESPACE.sub("", text)
    return _THOUSANDS_SEPARATOR.sub("", text)


def _yuan(number: str, multiplier: str | None) -> Decimal:
    return Decimal(number) * _MULTIPLIERS[multiplier]


def money_amounts(text: str) -> list[Decimal]:
    """Every amount of money in `text` (any form: 32万元, 320,000元, ３２万元), as yuan, in order."""
    return [_yuan(m.group(1), m.group(2)) for m in _MONEY.finditer(normalise(text))]


def money_fact_value(fact: str) -> Decimal | None:
    """The yuan value of a fact that is nothing but an amount of money (`32万元`), else None."""
    match = _MONEY_FACT.fullmatch(normalise(fact))
    if match is None:
        return None
    try:
        return _yuan(match.group(1), match.group(2))
    except InvalidOperation:  # pragma: no cover - the pattern only admits valid decimals
        return None


def amounts_equal(a: float | Decimal, b: float | Decimal) -> bool:
    """Two amounts of money are the same when they differ by less than half a yuan."""
    return abs(Decimal(str(a)) - Decimal(str(b))) < AMOUNT_TOLERANCE_YUAN


def _substring_found(needle: str, haystack: str) -> bool:
    start = haystack.find(needle)
    while start != -1:
        before = haystack[start - 1] if start > 0 else ""
        end = start + len(needle)
        after = haystack[end] if end < len(haystack) else ""
        clash_before = needle[0].isdigit() and (before.isdigit() or before == ".")
        clash_after = needle[-1].isdigit() and (
            after.isdigit() or (after == "." and haystack[end + 1 : end + 2].isdigit())
        )
        if not clash_before and not clash_after:
            return True
        start = haystack.find(needle, start + 1)
    return False


def fact_found(fact: str, text: str) -> bool:
    """Whether one acceptable fact string occurs in `text` under the rules of FACT_MATCHING."""
    value = money_fact_value(fact)
    if value is not None:
        return any(amounts_equal(value, amount) for amount in money_amounts(text))
    needle = normalise(fact)
    return bool(needle) and _substring_found(needle, normalise(text))


def answer_window(answer: str) -> str:
    """The direct answer: the first ANSWER_WINDOW characters, where facts must be."""
    return answer[:ANSWER_WINDOW]


def missing_fact_groups(facts: Sequence[Sequence[str]], answer: str) -> list[tuple[str, ...]]:
    """Fact groups none of whose strings is in the answer window, in dataset order."""
    window = answer_window(answer)
    return [tuple(group) for group in facts if not any(fact_found(fact, window) for fact in group)]


def first_gold_rank(citations: Sequence[str], gold: Sequence[str]) -> int | None:
    """1-based rank of the first cited gold id, or None when no gold id is cited."""
    for rank, chunk_id in enumerate(citations, start=1):
        if chunk_id in gold:
            return rank
    return None


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100): the smallest value with at least p% of values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def _format_amount(value: float | None) -> str:
    if value is None:
        return "none"
    return f"{value:,.2f}".rstrip("0").rstrip(".") + "元"


@dataclass(frozen=True)
class CaseResult:
    """The verdict on one case for one system, with every reason it failed (empty when it passed)."""

    case: Case
    prediction: Prediction
    passed: bool
    reasons: tuple[str, ...] = ()

    @property
    def outcome(self) -> str:
        """pass | abstained | confident_wrong | error (see OUTCOME_DEFINITION)."""
        if self.passed:
            return PASS
        if self.prediction.error:
            return ERROR
        if self.prediction.refused or self.prediction.asked_back:
            return ABSTAINED
        return CONFIDENT_WRONG


def judge(case: Case, prediction: Prediction) -> CaseResult:
    """Apply PASS_DEFINITION to one labelled case; reasons are listed in a fixed order."""
    reasons: list[str] = []
    if prediction.error:
        reasons.append(f"error: {prediction.error}")
    if case.expects_refusal:
        if not prediction.refused:
            reasons.append("should have refused")
        if prediction.amount_yuan is not None:
            reasons.append(f"stated an amount on an unanswerable case: {_format_amount(prediction.amount_yuan)}")
        if prediction.asked_back and not prediction.refused:
            reasons.append("asked back instead of refusing")
        return CaseResult(case, prediction, passed=not reasons, reasons=tuple(reasons))

    if prediction.refused:
        reasons.append("false refusal")
    elif prediction.asked_back:
        reasons.append("asked back")
    if case.gold:
        first = prediction.citations[0] if prediction.citations else None
        if first is None:
            reasons.append(f"wrong article: no citation, expected {'/'.join(case.gold)}")
        elif first not in case.gold:
            reasons.append(f"wrong article: cited {first}, expected {'/'.join(case.gold)}")
    for group in missing_fact_groups(case.facts or (), prediction.answer):
        reasons.append("missing fact: " + " | ".join(group))
    if case.amount_yuan is not None and (
        prediction.amount_yuan is None or not amounts_equal(prediction.amount_yuan, case.amount_yuan)
    ):
        reasons.append(
            f"wrong amount: got {_format_amount(prediction.amount_yuan)}, expected {_format_amount(case.amount_yuan)}"
        )
    return CaseResult(case, prediction, passed=not reasons, reasons=tuple(reasons))


@dataclass(frozen=True)
class Rate:
    """numerator / denominator, kept apart so the report can show both; value is None when nothing counted."""

    numerator: float
    denominator: int

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None


@dataclass(frozen=True)
class Scores:
    """All metrics of one system over one dataset (labelled cases only, except latency)."""

    system: str
    pass_rate: Rate
    pass_by_kind: dict[str, Rate]
    hit_at_1: Rate
    hit_at_3: Rate
    mrr: Rate
    citation_precision: Rate
    fact_accuracy: Rate
    amount_exact: Rate
    refusal_precision: Rate
    refusal_recall: Rate
    false_refusal_rate: Rate
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    results: tuple[CaseResult, ...] = field(default=())
    confident_wrong: Rate = Rate(0, 0)
    abstained: Rate = Rate(0, 0)
    confident_wrong_by_kind: dict[str, Rate] = field(default_factory=dict)
    abstained_by_kind: dict[str, Rate] = field(default_factory=dict)

    @property
    def failures(self) -> tuple[CaseResult, ...]:
        return tuple(r for r in self.results if not r.passed)


def _missing_prediction(case: Case, system: str) -> Prediction:
    return Prediction(case.id, case.question, "", (), None, False, 0.0, system=system, error="no prediction")


def score(cases: Sequence[Case], predictions: Sequence[Prediction], system: str = "assistant") -> Scores:
    """Score one system's predictions; cases are matched by id, a labelled case without one fails."""
    by_id = {p.id: p for p in predictions}
    labelled = [c for c in cases if c.labelled]
    results = tuple(judge(c, by_id.get(c.id) or _missing_prediction(c, system)) for c in labelled)

    kinds: dict[str, list[CaseResult]] = {}
    for r in results:
        kinds.setdefault(r.case.kind or NO_KIND, []).append(r)

    def share(of: Sequence[CaseResult], outcome: str) -> Rate:
        return Rate(sum(r.outcome == outcome for r in of), len(of))

    ranked = [r for r in results if not r.case.expects_refusal and r.case.gold]
    ranks = [first_gold_rank(r.prediction.citations, r.case.gold or ()) for r in ranked]
    cited = [list(dict.fromkeys(r.prediction.citations)) for r in ranked]
    with_facts = [r for r in results if r.case.facts and not r.case.expects_refusal]
    with_amount = [r for r in results if r.case.amount_yuan is not None]
    refused = [r for r in results if r.prediction.refused]
    unanswerable = [r for r in results if r.case.expects_refusal]
    answerable = [r for r in results if not r.case.expects_refusal]
    latencies = [p.latency_ms for p in predictions]

    return Scores(
        system=system,
        pass_rate=Rate(sum(r.passed for r in results), len(results)),
        pass_by_kind={kind: share(of, PASS) for kind, of in kinds.items()},
        hit_at_1=Rate(sum(rank == 1 for rank in ranks), len(ranks)),
        hit_at_3=Rate(sum(rank is not None and rank <= 3 for rank in ranks), len(ranks)),
        mrr=Rate(sum(1 / rank for rank in ranks if rank is not None), len(ranks)),
        citation_precision=Rate(
            sum(sum(i in (r.case.gold or ()) for i in ids) for r, ids in zip(ranked, cited, strict=True)),
            sum(len(ids) for ids in cited),
        ),
        fact_accuracy=Rate(
            sum(not missing_fact_groups(r.case.facts or (), r.prediction.answer) for r in with_facts), len(with_facts)
        ),
        amount_exact=Rate(
            sum(
                r.prediction.amount_yuan is not None
                and amounts_equal(r.prediction.amount_yuan, r.case.amount_yuan or 0)
                for r in with_amount
            ),
            len(with_amount),
        ),
        refusal_precision=Rate(sum(r.case.expects_refusal for r in refused), len(refused)),
        refusal_recall=Rate(sum(r.prediction.refused for r in unanswerable), len(unanswerable)),
        false_refusal_rate=Rate(sum(r.prediction.refused for r in answerable), len(answerable)),
        latency_p50_ms=percentile(latencies, 50),
        latency_p95_ms=percentile(latencies, 95),
        results=results,
        confident_wrong=share(results, CONFIDENT_WRONG),
        abstained=share(results, ABSTAINED),
        confident_wrong_by_kind={kind: share(of, CONFIDENT_WRONG) for kind, of in kinds.items()},
        abstained_by_kind={kind: share(of, ABSTAINED) for kind, of in kinds.items()},
    )
