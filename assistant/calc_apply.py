"""Calculating the rule chosen for a question: the question's context shared by every rule, the calculation with the
figures shown as they were read, a place-bound rule computed for its place, the parts of staged and yearly awards."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from assistant.amounts import Amount, format_quantity
from assistant.calc_inputs import Assignment, apply_year_window, extract_inputs, follow_up_start, mentions
from assistant.calculator import (
    UNKNOWN,
    Calculation,
    Condition,
    calculate,
    staged_part,
    times,
)
from assistant.figures import (
    SENTENCE_END,
    YEARS_OF_AWARD,
    clause_begin,
    small_number,
)
from assistant.rules import NUMERIC_KINDS, ConditionSpec, Rule
from assistant.vocabulary import pattern

PLACE_SLOT = "location"  # 紫金港科技城 / 云栖小镇: rules of 第三十四、三十五条 exist only for their place
RENT_SLOT = "annual_rent"  # what a rent per ㎡ and month times the area is (年房租额)
# Several awards in one question: words that ask for the sum, words that separate the items, words that ask
# for each amount separately (no sum then), and "两次" for an award granted once per occurrence.
TOTAL = pattern("calc_total")
EXTRA_ONLY = pattern("calc_extra_only")
# The part of a staged award asked for ("其中50%达产升规后拨付"): what comes first, or what comes once the stage is met
_STAGE_BEFORE = pattern("calc_stage_before")
_STAGE_AFTER = pattern("calc_stage_after")
_PART_ASKED = pattern("calc_part_asked")
# "那几个增长条件都满足", "其他条件都符合": the user vouches for the conditions they give no figure for
_AFFIRMED = pattern("calc_conditions_affirmed")
_ASKING = pattern("calc_asking")


@dataclass(frozen=True)
class CalcOutcome:
    """What `plan_calculation` decided: the rule, the inputs it read, the calculation, or what to ask.
    For a question about several awards at once ("又…一共"), `calculation` is the combined one (see
    calculator.combine), `rule`/`inputs` are its first part and `parts` lists every part's rule."""

    rule: Rule | None
    inputs: dict[str, Any]
    calculation: Calculation | None
    clarification: str | None = None  # Chinese question when something is missing or the rule is ambiguous
    candidates: tuple[str, ...] = ()  # rule ids when ambiguous (best first)
    parts: tuple[Rule, ...] = ()  # the rules added up in a combined calculation
    # with a clarification about an uncertain reading: the calculation as read, its amount withheld (the answer
    # shows the figures and formula it would rest on and cites them)
    reading: Calculation | None = None


@dataclass(frozen=True)
class QuestionContext:
    """Everything read once from the question and shared by every rule's scoring."""

    text: str
    amounts: tuple[Amount, ...]
    products: dict[int, str]  # start of a per-unit total -> "3台 × 40万元 = 120万元"
    cues: list[tuple[int, int, frozenset[tuple[str, str]]]]
    spans: list[tuple[int, int, str]]
    named_articles: set[str]
    hints: tuple[str, ...]
    # (kind, value, how it was read): years from a year of registration ("按2017年注册…计7年"), days between two dates
    read_notes: tuple[tuple[str, Decimal, str], ...] = ()
    bound: dict[int, str] = dataclasses.field(default_factory=dict)  # amount start -> the only slot it can fill


Scored = tuple[float, int, Rule, dict[str, Any]]
# "三年房租分别是60万、80万、100万": a figure for each year, listed after 分别/依次/每年分别
_EACH_YEAR = pattern("calc_each_year")
_LIST_SEPARATOR = pattern("calc_list_separator")


def yearly_bases(rule: Rule, context: QuestionContext) -> list[Decimal]:
    """The base of a yearly schedule given year by year: money amounts listed right after 分别/依次, separated only
    by 、，和 — two or more of them; [] otherwise."""
    money = [amount for amount in context.amounts if amount.kind == "money"]
    for index, amount in enumerate(money):
        if not _EACH_YEAR.search(context.text[max(0, amount.start - 6) : amount.start]):
            continue
        listed = [amount]
        for following in money[index + 1 :]:
            if not _LIST_SEPARATOR.fullmatch(context.text[listed[-1].end : following.start]):
                break
            listed.append(following)
        if len(listed) >= 2:
            return [item.value for item in listed]
    return []


def over_years(rule: Rule, calc: Calculation, text: str, span: tuple[int, int] | None = None) -> Calculation:
    """A yearly award (每年给予最高500万元) for the years a question adds up ("认定后头两年每年都拿满，一共多少")."""
    if not rule.per_year or rule.formula.kind == "schedule" or calc.amount_yuan is None or not TOTAL.search(text):
        return calc
    piece = text[span[0] : span[1]] if span and span[1] > span[0] else text
    found = YEARS_OF_AWARD.search(piece) or YEARS_OF_AWARD.search(text)  # its item, else the whole question
    if found is None:
        return calc
    years = small_number(found.group(1) or found.group(2))
    if years < 2:
        return calc
    return dataclasses.replace(times(calc, Decimal(years), f"{years}年"), per_year=False)


def outcome_of(rule: Rule, inputs: dict[str, Any], calc: Calculation, parts: tuple[Rule, ...] = ()) -> CalcOutcome:
    clarification = "".join(calc.missing[:2]) if calc.amount_yuan is None and calc.missing else None
    return CalcOutcome(rule=rule, inputs=inputs, calculation=calc, clarification=clarification, parts=parts)


def included_rules(rule: Rule, rules: Sequence[Rule]) -> tuple[Rule, ...]:
    by_id = {other.id: other for other in rules}
    return tuple(by_id[rule_id] for rule_id in rule.includes if rule_id in by_id)


def inputs_for(rule: Rule, inputs: dict[str, Any], context: QuestionContext) -> dict[str, Any]:
    found = {name: item.value for name, item in rule_inputs(rule, context).items()}
    return {**{name: value for name, value in inputs.items() if rule.has_input(name)}, **found}


def rule_inputs(rule: Rule, context: QuestionContext) -> dict[str, Assignment]:
    """The rule's inputs in the whole question, with the year window of a schedule ("第三年") applied."""
    assignments = extract_inputs(rule, context.text, context.amounts, context.cues, context.bound)
    assignments = _with_earlier_tier(rule, context, assignments)
    return apply_year_window(rule, context.text, assignments)


# the lower tier was received: said outright, or implied by a tier reached again later ("第二年营收又首次突破了5亿")
_RECEIVED_BEFORE = pattern("calc_received_before")


def _with_earlier_tier(
    rule: Rule, context: QuestionContext, assignments: dict[str, Assignment]
) -> dict[str, Assignment]:
    """晋档补差 with the earlier award named but not its amount: "首次突破5000万…这个已经拿过了，现在突破1亿了" —
    what was received is the tier the earlier, lower figure reached."""
    formula = rule.formula
    if formula.kind != "tiers" or not formula.top_up or formula.top_up in assignments:
        return assignments
    if not _RECEIVED_BEFORE.search(context.text):
        return assignments
    slots = {spec.slot for tier in formula.tiers for spec in tier.when}
    if len(slots) != 1:
        return assignments
    name = next(iter(slots))
    current = assignments.get(name)
    kind = rule.input(name).kind
    if current is None:
        return assignments
    earlier = [
        a.value for a in context.amounts if a.kind == kind and a.start < current.position and a.value < current.value
    ]
    if not earlier:
        return assignments
    received = calculate(rule, {**{k: v.value for k, v in assignments.items()}, name: max(earlier)}).amount_yuan
    if not received:
        return assignments
    return {**assignments, formula.top_up: Assignment(received, False, current.position)}


def calculate_rule(rule: Rule, inputs: dict[str, Any], context: QuestionContext) -> Calculation:
    """calculate(), then: a place-specific rule whose place is the only unknown is computed for that place with
    the assumption stated; a base amount that came from "3台，每台40万元" shows its multiplication."""
    calc = calculate(rule, inputs)
    calc = dataclasses.replace(calc, read_inputs=read_inputs(rule, inputs))
    if calc.amount_yuan is None and not calc.errors:
        calc = _assume_place(rule, inputs, calc)
    if calc.amount_yuan is None and not calc.errors and _AFFIRMED.search(context.text.lower()):
        calc = _affirmed(rule, inputs, calc)
    calc = _with_read_notes(rule, inputs, calc, context)
    calc = _with_products(rule, inputs, calc, context)
    if rule.formula.staged_share is not None and (later := _staged_asked(context.text)) is not None:
        calc = staged_part(calc, rule.formula.staged_share, rule.formula.staged_when, later=later)
    return calc


def read_inputs(rule: Rule, inputs: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """The figures the rule reads, as (label, value) in the rule's order: ("技术改造项目总投资额", "800万元")."""
    return tuple(
        (slot.label, format_quantity(inputs[slot.name], slot.kind))
        for slot in rule.inputs
        if slot.kind in NUMERIC_KINDS and slot.name in inputs
    )


def _staged_asked(text: str) -> bool | None:
    """Whether the question asks for the part of a staged award paid once the stage is met (True), the part paid
    first (False), or the whole (None): the stage word must stand in the sentence that asks ("那达产升规之前能先拿到
    多少？"), not in an aside ("总共能拿多少？听说有一部分要等达产升规后才拨"); a question asking the total as well gets
    the whole."""
    lowered = text.lower()
    # "补贴一共多少？先拿多少？", "补贴多少？其中多少要等达产升规后才拨？": the total is asked in the same turn (a follow-up
    # "那达产升规之前能先拿多少？" asks anew); the answer is the whole, its working shows the part
    turn = lowered[follow_up_start(lowered) or 0 :]
    if _PART_ASKED.search(turn) or any(
        _ASKING.search(sentence) and TOTAL.search(sentence) for sentence in SENTENCE_END.split(turn)
    ):
        return None
    for later, stage in ((False, _STAGE_BEFORE), (True, _STAGE_AFTER)):
        for match in stage.finditer(lowered):
            begin = clause_begin(lowered, match.start(), SENTENCE_END)
            end = SENTENCE_END.search(lowered, match.end())
            sentence = lowered[begin : end.start() if end else len(lowered)]
            if _ASKING.search(sentence) and not TOTAL.search(sentence):
                return later
    return None


def _with_read_notes(rule: Rule, inputs: dict[str, Any], calc: Calculation, context: QuestionContext) -> Calculation:
    """Say how a figure the rule reads was worked out from the question ("2017年注册" -> 7年; two dates -> 15日)."""
    read = {(slot.kind, inputs[slot.name]) for slot in rule.inputs if slot.name in inputs}
    notes = [note for kind, value, note in context.read_notes if (kind, value) in read]
    if not notes:
        return calc
    return dataclasses.replace(calc, notes=(*dict.fromkeys(notes), *calc.notes))


def _place_spec(rule: Rule) -> ConditionSpec | None:
    """The condition that makes a rule exist only for one place (紫金港科技城/云栖小镇), or None."""
    return next(
        (
            spec
            for spec in rule.conditions
            if spec.slot == PLACE_SLOT and spec.scope and spec.op == "eq" and not spec.assume
        ),
        None,
    )


def place_considered(rule: Rule, text: str, named_articles: set[str], hints: Sequence[str]) -> bool:
    """Whether a rule that exists only for one place may answer the question: its place is stated, its article is
    named, or retrieval (when it gave its ranking) puts that article first. A question that names another place
    or none, about something another article is about ("西溪谷的区块链企业房租", "算力服务平台", "节能技改"), is not
    this rule's: its words (房租, 平台, 技改, 营收) are shared, and the place would be an assumption."""
    spec = _place_spec(rule)
    if spec is None or rule.article in named_articles:
        return True
    if place_stated(rule, text):
        return True
    articles = [hint for hint in hints if hint.startswith("A")]
    return not hints or articles[:1] == [rule.article]


def place_stated(rule: Rule, text: str) -> bool:
    """Whether the rule is bound to a place and the question names that place."""
    spec = _place_spec(rule)
    return spec is not None and spec.value in _places_stated(rule, text)


def _places_stated(rule: Rule, text: str) -> set[str]:
    """The places (紫金港科技城, 云栖小镇 …) the question names, as option keys of the rule's place slot."""
    if not any(slot.name == PLACE_SLOT for slot in rule.inputs):
        return set()
    slot = rule.input(PLACE_SLOT)
    return {key for key, _ in mentions(text, [(o.key, (o.label, *o.aliases)) for o in slot.options])}


def _affirmed(rule: Rule, inputs: dict[str, Any], calc: Calculation) -> Calculation:
    """The user vouches for the conditions they give no figure for ("那几个增长条件都满足"): compute as if met and say
    so, each such condition still shown as 待确认 (按符合计算). Who the rule is for (its place) is not vouched for."""
    vouched = [spec for spec in rule.conditions if spec.slot not in inputs and not spec.assume and not spec.scope]
    if not vouched:
        return calc
    trusting = dataclasses.replace(
        rule,
        conditions=tuple(
            dataclasses.replace(spec, assume=True) if spec in vouched else spec for spec in rule.conditions
        ),
    )
    assumed = calculate(trusting, inputs)
    if assumed.amount_yuan is None:
        return calc
    labels = "、".join(spec.label for spec in vouched)
    return dataclasses.replace(assumed, assumptions=(f"按您所说已满足：{labels}", *assumed.assumptions))


def _assume_place(rule: Rule, inputs: dict[str, Any], calc: Calculation) -> Calculation:
    """紫金港/云栖 rules exist only for their place: when the place is the one fact missing, answer for that place
    and say so ("按位于云栖小镇计算") instead of asking. Other unknown facts still make the calculator ask."""
    places = [
        spec
        for spec in rule.conditions
        if spec.slot == PLACE_SLOT and spec.scope and spec.op == "eq" and not spec.assume and PLACE_SLOT not in inputs
    ]
    if not places:
        return calc
    spec = places[0]
    slot = rule.input(PLACE_SLOT)
    option = slot.option(str(spec.value))
    label = option.label if option else str(spec.value)
    assumed = calculate(rule, {**inputs, PLACE_SLOT: spec.value})
    if assumed.amount_yuan is None:
        return calc
    note = f"按位于{label}计算（本项政策仅适用于{label}）"
    return dataclasses.replace(
        assumed,
        premise=f"若位于{label}" if assumed.status == "eligible" else "",
        assumptions=(note, *assumed.assumptions),
        conditions=tuple(
            Condition(c.name, UNKNOWN, f"需要 {label}，未提供（按符合计算）") if c.name == spec.label else c
            for c in assumed.conditions
        ),
    )


def _with_products(rule: Rule, inputs: dict[str, Any], calc: Calculation, context: QuestionContext) -> Calculation:
    if not context.products or not calc.trace:
        return calc
    notes = []
    for name in rule.base_slots:
        value = inputs.get(name)
        for start, text in context.products.items():
            amount = next((a for a in context.amounts if a.start == start), None)
            kind = rule.input(name).kind
            if amount is not None and value == amount.value and amount.kind == kind and kind in ("money", "count"):
                notes.append(f"{rule.input(name).label} = {text}；")
                break
    if not notes:
        return calc
    if calc.status == "ineligible":  # the trace is not shown then: say how the figure was read in the notes
        return dataclasses.replace(
            calc, notes=(*(note.rstrip("；") + "。" for note in dict.fromkeys(notes)), *calc.notes)
        )
    return dataclasses.replace(calc, trace="".join(dict.fromkeys(notes)) + calc.trace)
