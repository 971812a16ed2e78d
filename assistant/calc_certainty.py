"""Whether every figure a calculation rests on has a certain role; when one does not, the answer that asks back.

A value is certain when the question bound it to its slot itself: a cue word of the slot in the figure's clause, an
option's own word, the figure's form (see calc_inputs.Assignment.how). A figure is inferred when it only followed the
pattern of the figure before ("2023年研发投入650万，2024年800万") or fell to the rule's one slot of its kind; a negated
word right before its option ("不是进口的") names the other of two options or a flag's other value, which is certain.
Uncertain, so no amount is stated:
- an inferred figure that could be another of the rule's values (is 800万 the spend or the increase?);
- an option's word with something said against it earlier in its clause ("早就不算科技型中小企业了"), or a word of the
  rule the question negates that no input of the rule reads ("不是首次认定的高企");
- two dated figures of one yearly difference whose years contradict their slots ("前年…650万，去年…800万");
- a sum of money given for another option of the rule's choice, or for what the clause leaves out of the base ("不含
  空调、电脑"), that no input took;
- a question that asks for a part of the total ("一共能拿多少，其中区级多少") the rule does not split off itself.
The answer then names the rule, its formula and (through phrasing) its clause, shows how each figure was read
("我的理解：年度研发投入新增额 = 150万元（2024年800万元 − 2023年650万元）") and asks for what is missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from decimal import Decimal

from assistant.amounts import Amount, format_quantity
from assistant.calc_apply import QuestionContext
from assistant.calc_inputs import INFERRED_READINGS, Assignment, follow_up_start, negation_before
from assistant.calculator import UNMET, Calculation, describe_formula
from assistant.figures import clause_begin, excluded_words, year_of
from assistant.rules import NUMERIC_KINDS, Rule, Slot
from assistant.vocabulary import pattern

# "其中区级多少": an ask right after 其中 with no figure in between asks for a part of the total
_PART_ASKED = pattern("calc_part_asked")
_PART_QUESTION = "您同时问到总额和其中一部分，政策只规定总额的计算方法，未分列其中各部分，您想了解的是哪一项金额？"
_CONFIRM = "为避免算错，请先确认："
_CONTRADICTION = pattern("calc_contradiction")
# a clause ends at its punctuation, an English sentence's full stop, or the end of a bracketed aside
_CLAUSE_END = pattern("calc_segment_break", r"{}|\.\s|[)）]")
_EXCLUDED = pattern("calc_excluded_in_clause")
_DATED = pattern("calc_relative_year", r"(?:(?:19|20)?\d\d\s*年(?:度)?|{})")


def uncertain_reading(
    rule: Rule, assignments: Mapping[str, Assignment], context: QuestionContext, calc: Calculation | None = None
) -> str | None:
    """The question to ask back (with the rule, its formula and how each figure was read), or None when every value
    the calculation rests on is certain. With the calculation: a condition it fails only on a figure bound to the
    slot by its kind, not by a word of the question ("一年最多奖多少" is no "保持正增长1年"), is asked about too:
    "不符合" would be stated on a guess."""
    text = context.text
    asks: list[str] = []
    numeric = [slot for slot in rule.inputs if slot.kind in NUMERIC_KINDS]
    derived = {slot.name: slot for slot in numeric if slot.derive_minus}
    feeds = {name: slot for slot in derived.values() for name in slot.derive_minus or ()}
    for name, item in assignments.items():
        if not rule.has_input(name):
            continue
        slot = rule.input(name)
        if slot.kind in NUMERIC_KINDS and item.how in INFERRED_READINGS and _rivals(rule, slot, derived):
            asks.append((feeds.get(name) or derived.get(name) or slot).question)
        elif (
            slot.kind in ("choice", "flag")
            and item.how == "cue"
            and _contradicted_before(text, item, slot, context, assignments)
        ):
            asks.append(slot.question or f"请确认{slot.label}。")
    for slot in derived.values():
        current, previous = slot.derive_minus or ("", "")
        # the difference is worked out (not given: "新增三百万") from figures dated against their slots
        if current in assignments and previous in assignments and slot.name not in assignments:
            years = (_year_at(text, assignments[current].position), _year_at(text, assignments[previous].position))
            if None not in years and years[0] < years[1]:  # type: ignore[operator]
                asks.append(slot.question)
    if calc is not None:
        asks.extend(_failed_on_a_guess(rule, assignments, calc))
    unused = _unused_money(rule, assignments, context)
    if unused is not None:
        asks.append(f"您提到的{unused.text.strip()}没有用于这项计算，它是指什么？")
    negated = _negated_rule_word(rule, text)
    if negated:
        asks.append(f"您提到“{negated}”，本项政策适用于{rule.applies_to}，是否符合？")
    # a part the rule itself splits off ("其中50%达产升规后拨付") is shown in the working; any other part is not stated
    if _PART_ASKED.search(text.lower()) and rule.formula.staged_share is None:
        asks.append(_PART_QUESTION)
    if not asks:
        return None
    lines = [f"{rule.name}（{rule.article_label}）：{describe_formula(rule)}。"]
    understood = _understanding(rule, assignments, context)
    if understood:
        lines.append("我的理解：" + "；".join(understood) + "。")
    lines.append(_CONFIRM + "".join(dict.fromkeys(asks)))
    return "\n".join(lines)


def excluded_item(rule: Rule, context: QuestionContext) -> str | None:
    """For a sum of items: the question to ask when one item's sum is for what the rule's clause leaves out of its
    base ("(不含空调、电脑等办公类设备)" and "其中空调、电脑这些办公设备30万"); None when no item is."""
    excluded = _EXCLUDED.search(rule.clause)
    amount = _money_named_by(excluded_words(rule), context) if excluded else None
    if excluded is None or amount is None:
        return None
    return (
        f"{rule.name}（{rule.article_label}）：{describe_formula(rule)}。\n{_CONFIRM}"
        f"原文规定{excluded.group(0)}，您提到的{amount.text.strip()}是否已包含在投资额内？"
        "请告诉我扣除后的金额。"
    )


def _unused_money(rule: Rule, assignments: Mapping[str, Assignment], context: QuestionContext) -> Amount | None:
    """A sum of money the question's last turn gives for another option of the rule's choice than the one computed,
    or for what the clause leaves out of the base, that no input took ("2 imported robots at 1,000,000 yuan each and
    3 domestic ones at 400,000 yuan each" computed for the imported ones only; "其中空调、电脑30万"): the award asked
    for may be the sum of both, or the base less the part left out."""
    others = [
        word.lower()
        for slot in rule.inputs
        if slot.kind == "choice" and (chosen := assignments.get(slot.name)) is not None
        for option in slot.options
        if option.key != chosen.value
        for word in (option.label, *option.aliases)
    ]
    used = {item.position for item in assignments.values()}
    # the earlier turn's figures were the earlier question's
    return _money_named_by(others + excluded_words(rule), context, used, follow_up_start(context.text) or 0)


def _money_named_by(
    words: list[str], context: QuestionContext, skip: AbstractSet[int] = frozenset(), since: int = 0
) -> Amount | None:
    """The first sum of money (from `since`, not at a position in `skip`) whose clause names one of the words before it."""
    if not words:
        return None
    text = context.text.lower()
    for amount in context.amounts:
        if amount.kind != "money" or amount.start in skip or amount.start < since:
            continue
        if any(word in text[clause_begin(text, amount.start, _CLAUSE_END) : amount.start] for word in words):
            return amount
    return None


def _rivals(rule: Rule, slot: Slot, derived: Mapping[str, Slot]) -> bool:
    """Whether a figure without a cue could as well be another of the rule's values: a slot of its derivation (the
    spend or the increase?) or another base slot of its kind (valuation or revenue?). A slot the formula reads from
    "第三年" or that records an earlier award is no rival of a bare figure."""
    family = {name for derive in derived.values() for name in (derive.name, *(derive.derive_minus or ()))}
    if slot.name in family:
        return True
    return (
        any(
            other.name in rule.base_slots and other.name != slot.name and other.kind == slot.kind
            for other in rule.inputs
        )
        and slot.name in rule.base_slots
    )


def _failed_on_a_guess(rule: Rule, assignments: Mapping[str, Assignment], calc: Calculation) -> list[str]:
    failed = {c.name for c in calc.conditions if c.status == UNMET}
    asks = []
    for spec in rule.conditions:
        item = assignments.get(spec.slot)
        if spec.label in failed and item is not None and item.how in INFERRED_READINGS and rule.has_input(spec.slot):
            slot = rule.input(spec.slot)
            asks.append(
                f"{slot.label} = {format_quantity(item.value, slot.kind)}，但这个数字不一定是指它。"
                + (slot.question or f"请确认{slot.label}。")
            )
    return asks


def _contradicted_before(
    text: str, item: Assignment, slot: Slot, context: QuestionContext, read: Mapping[str, Assignment]
) -> bool:
    """An option or flag read from its word while its clause says something against it before the word, not right
    before it ("已经不算科技型中小企业了", "规模早就超出了科技型中小企业的标准"): the word may name what the enterprise is not.
    A marker followed by a figure speaks of the figure ("成立不到3年的科技型中小企业"); one followed by a word of another
    option of the slot speaks against that option and backs the one read ("规模超过科技型中小企业标准的大企业")."""
    begin = clause_begin(text, item.position, _CLAUSE_END)
    markers = list(_CONTRADICTION.finditer(text.lower(), begin, item.position))
    if not markers:
        return False
    last = markers[-1].end()
    # the marker speaks of something nearer: a figure, or another value read from its own word ("不是第一次评定为4A级")
    between = [amount.start for amount in context.amounts] + [other.position for other in read.values()]
    if any(last <= at < item.position for at in between):
        return False
    spoken_of = text.lower()[last : item.position]
    return not any(word in spoken_of for word in _other_option_words(slot, item.value))


def _understanding(rule: Rule, assignments: Mapping[str, Assignment], context: QuestionContext) -> list[str]:
    """How each value was read: "年度研发投入新增额 = 150万元（2024年800万元 − 2023年650万元）", "上年度研发投入额 = 650万元"."""
    text = context.text
    shown: list[str] = []
    used: set[str] = set()
    for slot in rule.inputs:
        if not slot.derive_minus or slot.name in assignments:
            continue
        current, previous = slot.derive_minus
        if current in assignments and previous in assignments:
            now, before = assignments[current], assignments[previous]
            years = (_year_at(text, now.position), _year_at(text, before.position))
            if None not in years and years[0] < years[1]:  # type: ignore[operator]
                now, before = before, now  # "前年650万，去年800万": the later year's figure is the later spend
            difference = format_quantity(now.value - before.value, slot.kind)
            shown.append(f"{slot.label} = {difference}（{_dated(text, now, slot)} − {_dated(text, before, slot)}）")
            used |= {current, previous}
    for slot in rule.inputs:
        item = assignments.get(slot.name)
        if item is None or slot.name in used:
            continue
        if slot.kind in NUMERIC_KINDS:
            shown.append(f"{slot.label} = {format_quantity(item.value, slot.kind)}")
        elif slot.kind == "choice" and (option := slot.option(str(item.value))) is not None:
            reading = "（由否定的说法推断）" if item.how == "negated" else ""
            shown.append(f"{slot.label}：{option.label}{reading}")
    return shown


def _dated(text: str, item: Assignment, slot: Slot) -> str:
    """A value with the year word its clause opens with: "2024年800万元", "去年650万元"."""
    begin = clause_begin(text, item.position)
    years = list(_DATED.finditer(text, begin, item.position))
    return f"{years[-1].group(0).strip() if years else ''}{format_quantity(item.value, slot.kind)}"


def _other_option_words(slot: Slot, chosen: object) -> list[str]:
    """The words of a choice slot's options other than the one read (none for flags)."""
    return [
        word.lower()
        for option in slot.options
        if option.key != chosen
        for word in (option.label, *option.aliases)
        if len(word) >= 2
    ]


def _option_words(slot: Slot) -> tuple[str, ...]:
    return tuple(word for option in slot.options for word in (option.label, *option.aliases))


def _year_at(text: str, position: int) -> int | None:
    return year_of(text, Amount(Decimal(0), "money", "", position, position))


def _negated_rule_word(rule: Rule, text: str) -> str | None:
    """A word of the rule right after a negation ("不是首次认定", "非首次"): the question denies what the rule is for.
    Words an input reads (a flag's "第一次", an option's name) are left to it. Returns the negated phrase, or None."""
    lowered = text.lower()
    read = {w.lower() for slot in rule.inputs for w in (*slot.yes, *slot.no, *_option_words(slot))}
    for word in sorted(
        {w.lower() for w in (*rule.events, *rule.keywords) if len(w) >= 2} - read, key=len, reverse=True
    ):
        at = lowered.find(word)
        while at >= 0:
            negation = negation_before(lowered, at)
            if negation is not None:
                return text[negation : at + len(word)]
            at = lowered.find(word, at + 1)
    return None
