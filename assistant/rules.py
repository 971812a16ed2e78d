"""Award rules as data: load and validate knowledge/awards.yaml into frozen `Rule` records.

A rule encodes one computable clause of the notice (its verbatim `clause`, eligibility `conditions`,
a `formula` and the `inputs` it needs). The calculator (calculator.py) evaluates rules; nothing here computes.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from assistant.amounts import parse_quantity
from assistant.numerals import int_to_cn
from assistant.vocabulary import notice_facts

NUMERIC_KINDS = ("money", "percent", "area", "years", "days", "weight", "count")
SLOT_KINDS = (*NUMERIC_KINDS, "flag", "choice")
# what a slot takes when a question states several values for it: the last one, the lowest ("每年增幅分别是12%、9%、
# 15%"), or for a flag "no" — a word meaning false decides ("本地老企业拆分出来新注册的" is no new registration)
SEVERAL_VALUES = ("last", "lowest", "no")
FORMULA_KINDS = ("fixed", "rate", "tiers", "schedule", "per_unit", "options")
CONDITION_OPS = (">=", ">", "<=", "<", "eq", "in", "is")
UNIT_SYMBOLS = {"money": "元", "percent": "%", "area": "㎡", "years": "年", "days": "日", "weight": "吨", "count": "家"}
RULE_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
ARTICLE_ID = re.compile(r"^A([1-9]\d?)$")


class RuleError(ValueError):
    """awards.yaml holds bad data; the message names the rule (or slot) and the field."""


@dataclass(frozen=True)
class Option:
    """One value of a choice slot: a stable key, the Chinese label and the words people use for it."""

    key: str
    label: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Slot:
    """One input fact (an enterprise or project attribute) with its unit kind and how to ask for it."""

    name: str
    label: str  # Chinese name shown to users, e.g. 年度研发投入新增额
    kind: str  # one of SLOT_KINDS
    question: str  # Chinese question asked when the value is missing
    cues: tuple[str, ...] = ()  # words that introduce the value in a question ("新增", "多了")
    options: tuple[Option, ...] = ()  # choice slots
    yes: tuple[str, ...] = ()  # flag slots: words meaning true
    no: tuple[str, ...] = ()  # flag slots: words meaning false
    signed: bool = False  # may be negative (growth rates)
    recognition: bool = False  # choice filled from a profile's "recognitions"
    derive_minus: tuple[str, str] | None = None  # value = first - second when not given
    several: str = "last"  # "lowest": of values listed together ("每年增幅分别是12%、9%、15%") the lowest decides
    count_within: tuple[str, Decimal] | None = None  # count slots: items count only within N years after a word

    @property
    def unit(self) -> str:
        """Unit symbol of a numeric slot (元, %, ㎡, 年, 日, 吨, 家); empty for flags and choices."""
        return UNIT_SYMBOLS.get(self.kind, "")

    def option(self, key: str) -> Option | None:
        return next((option for option in self.options if option.key == key), None)


@dataclass(frozen=True)
class ConditionSpec:
    """An eligibility test on one slot: `slot op value` (or `slot >= value × of` when `of` is set)."""

    slot: str
    op: str
    value: Decimal | str | bool | tuple[str, ...]
    label: str  # Chinese name of the condition shown in answers
    of: str | None = None  # ratio base slot (项目实际投资 >= 70% × 立项金额)
    scope: bool = False  # defines who the rule is for (location, industry, scale): a mismatch means "not this rule"
    assume: bool = False  # when unknown, compute as if met and say so in the assumptions
    assumption: str = ""
    question: str = ""  # overrides the slot question when asking about this condition
    # Options the clause itself names as excluded ("汽车销售除外"): a question stating one is about this rule
    # (and fails it), not about another rule.
    excepted: tuple[str, ...] = ()


@dataclass(frozen=True)
class Tier:
    """One step of a tiers formula: all `when` conditions met -> `amount`, or `rate` × base."""

    label: str
    when: tuple[ConditionSpec, ...]
    amount: Decimal | None = None
    rate: Decimal | None = None


@dataclass(frozen=True)
class Choice:
    """The award for one option of an options formula: a fixed amount, a range, or rate × base with a cap."""

    key: str
    amount: Decimal | None = None
    amount_min: Decimal | None = None  # set for ranges (A类 500—1000万元): amount is the top of the range
    rate: Decimal | None = None
    cap: Decimal | None = None
    label: str = ""  # overrides the option label in answers (flag options have none)


@dataclass(frozen=True)
class Segment:
    """`years` consecutive years paid at `rate` of the annual base (第一、二年100%)."""

    years: Decimal
    rate: Decimal


@dataclass(frozen=True)
class Formula:
    """How the amount is computed. Fields used per kind:

    fixed:    amount (or amount_min..amount for a range)
    rate:     base (slots, summed), rate, cap, base_cap, staged_share/staged_when, period_years,
              cap_used (slot: what the enterprise already received of this award counts against its total cap)
    tiers:    tiers (highest satisfied wins: amount, or rate × base), cap, top_up (晋档补差 slot)
    schedule: base (annual amount), segments, years_slot (how many years), start_year_slot (from which year;
              alone it means that one year), area_slot/area_cap (prorated), cap (cumulative)
    per_unit: count_slot × unit_amount
    options:  option_slot picks a Choice; base/cap for rate choices; default_option/default_assumption
    """

    kind: str
    base: tuple[str, ...] = ()
    rate: Decimal | None = None
    cap: Decimal | None = None
    amount: Decimal | None = None
    amount_min: Decimal | None = None
    base_cap: Decimal | None = None
    staged_share: Decimal | None = None
    staged_when: str = ""
    period_years: Decimal | None = None
    tiers: tuple[Tier, ...] = ()
    top_up: str | None = None
    cap_used: str | None = None
    segments: tuple[Segment, ...] = ()
    years_slot: str | None = None
    start_year_slot: str | None = None
    area_slot: str | None = None
    area_cap: Decimal | None = None
    count_slot: str | None = None
    unit_amount: Decimal | None = None
    option_slot: str | None = None
    choices: tuple[Choice, ...] = ()
    default_option: str | None = None
    default_assumption: str = ""

    def choice(self, key: str) -> Choice | None:
        return next((choice for choice in self.choices if choice.key == key), None)


@dataclass(frozen=True)
class Rule:
    """One computable award, subsidy, fee or fixed prize of the notice, with the clause it encodes."""

    id: str  # stable, readable: rd-subsidy-sme
    article: str  # chunk id of the article: A14
    name: str  # short Chinese name
    applies_to: str  # who it is for, in Chinese
    clause: str  # verbatim substring of the notice
    payout: str  # the word used for the money: 补助, 奖励, 资助, 担保费 ...
    is_maximum: bool  # 最高/不超过: the computed amount is a ceiling; False for 给予 (an exact award)
    formula: Formula
    inputs: tuple[Slot, ...]  # every slot the rule reads, with label, unit kind and question
    conditions: tuple[ConditionSpec, ...] = ()
    keywords: tuple[str, ...] = ()
    events: tuple[str, ...] = ()  # recognitions that trigger the rule (matcher)
    marks: tuple[str, ...] = ()  # words that tell it from its article's other awards, naming nothing alone (通过认定)
    group: str = ""  # variants of one award (question parser); only one is granted unless they share a cap_group
    cap_group: str = ""  # rules whose amounts add up under one per-company cap
    per_year: bool = False
    is_fee: bool = False  # the amount is a fee payable (担保费), not money received
    notes: tuple[str, ...] = ()
    unused_numbers: tuple[tuple[str, str], ...] = field(default=())  # (number as written, why it is not a parameter)
    profile_inputs: tuple[tuple[str, str], ...] = ()  # (slot, profile key) or (slot, "=option") for the matcher
    event_only: bool = False  # the matcher considers the rule only when a profile recognition names it
    repeatable: bool = False  # granted once per occurrence (孵化器每升一级), so one question may count it twice
    includes: tuple[str, ...] = ()  # rules the same event also earns (个转企并首次上规 also earns 首次上规纳统)

    @property
    def article_number(self) -> int:
        return int(self.article[1:])

    @property
    def article_label(self) -> str:
        """How people cite the article: 第三十四条."""
        return f"第{int_to_cn(self.article_number)}条"

    def input(self, name: str) -> Slot:
        for slot in self.inputs:
            if slot.name == name:
                return slot
        raise KeyError(f"rule {self.id} has no input {name!r}")

    def has_input(self, name: str) -> bool:
        return any(slot.name == name for slot in self.inputs)

    @property
    def base_slots(self) -> tuple[str, ...]:
        """Slots the formula needs to produce an amount (the money to multiply, the option to pick, ...)."""
        formula = self.formula
        if formula.kind in ("rate", "schedule"):
            return formula.base
        if formula.kind == "per_unit":
            return (formula.count_slot,) if formula.count_slot else ()
        if formula.kind == "options":
            return ((formula.option_slot,) if formula.option_slot else ()) + formula.base
        if formula.kind == "tiers":
            if formula.base:
                return formula.base
            return tuple(dict.fromkeys(spec.slot for tier in formula.tiers for spec in tier.when))
        return ()

    def parameters(self) -> frozenset[tuple[str, Decimal]]:
        """Every (kind, value) the rule uses: amounts, rates, caps, thresholds, years. For the clause-coverage test."""
        found: set[tuple[str, Decimal]] = set()
        formula = self.formula

        def money(value: Decimal | None) -> None:
            if value is not None:
                found.add(("money", value))

        def percent(value: Decimal | None) -> None:
            if value is not None:
                found.add(("percent", value))

        for value in (formula.cap, formula.amount, formula.amount_min, formula.base_cap, formula.unit_amount):
            money(value)
        for value in (formula.rate, formula.staged_share):
            percent(value)
        if formula.period_years is not None:
            found.add(("years", formula.period_years))
        if formula.area_cap is not None:
            found.add(("area", formula.area_cap))
        elapsed = Decimal(0)
        for segment in formula.segments:
            percent(segment.rate)
            found.add(("years", segment.years))
            elapsed += segment.years
            found.add(("years", elapsed))
        for tier in formula.tiers:
            money(tier.amount)
            percent(tier.rate)
        for choice in formula.choices:
            money(choice.amount)
            money(choice.amount_min)
            money(choice.cap)
            percent(choice.rate)
        specs = list(self.conditions) + [spec for tier in formula.tiers for spec in tier.when]
        for spec in specs:
            if isinstance(spec.value, Decimal):
                kind = "percent" if spec.of else self.input(spec.slot).kind
                found.add((kind, spec.value))
        return frozenset(found)


def load_rules(path: Path | str) -> tuple[Rule, ...]:
    """Read and validate the rules file. Raises RuleError naming the rule and field on bad data."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise RuleError(f"cannot read award rules from {path}: {error}") from error
    return parse_rules(raw)


def default_rules_path(knowledge_dir: Path) -> Path:
    """Where the rules live: Settings().knowledge_dir / "awards.yaml"."""
    return Path(knowledge_dir) / "awards.yaml"


def parse_rules(raw: Any) -> tuple[Rule, ...]:
    """Validate an already-parsed YAML document (a mapping with `slots` and `rules`)."""
    if (
        not isinstance(raw, Mapping)
        or not isinstance(raw.get("slots"), Mapping)
        or not isinstance(raw.get("rules"), list)
    ):
        raise RuleError("award rules must be a mapping with a 'slots' mapping and a 'rules' list")
    slots = {str(name): _parse_slot(str(name), spec) for name, spec in raw["slots"].items()}
    for slot in slots.values():
        for source in slot.derive_minus or ():
            if source not in slots:
                raise RuleError(f"slot {slot.name!r}: derive refers to unknown slot {source!r}")
    rules: list[Rule] = []
    seen: set[str] = set()
    for index, spec in enumerate(raw["rules"]):
        rule_id = str(spec.get("id", f"#{index + 1}")) if isinstance(spec, Mapping) else f"#{index + 1}"
        try:
            rule = _parse_rule(spec, slots)
        except RuleError as error:
            raise RuleError(f"rule {rule_id!r}: {error}") from None
        if rule.id in seen:
            raise RuleError(f"rule {rule.id!r}: duplicate id")
        seen.add(rule.id)
        rules.append(rule)
    for rule in rules:
        for included in rule.includes:
            if included not in seen or included == rule.id:
                raise RuleError(f"rule {rule.id!r}: includes refers to unknown rule {included!r}")
    return tuple(rules)


def find_rule(rules: Sequence[Rule], rule_id: str) -> Rule | None:
    return next((rule for rule in rules if rule.id == rule_id), None)


def close_rule_ids(rules: Sequence[Rule], rule_id: str, limit: int = 5) -> list[str]:
    """Rule ids that look like `rule_id` (typos, partial ids), best first."""
    ids = [rule.id for rule in rules]
    close = difflib.get_close_matches(rule_id, ids, n=limit, cutoff=0.5)
    containing = [candidate for candidate in ids if rule_id and rule_id.lower() in candidate and candidate not in close]
    return (close + containing)[:limit]


# ----------------------------------------------------------------------------- parsing helpers


def _parse_slot(name: str, spec: Any) -> Slot:
    where = f"slot {name!r}"
    if not isinstance(spec, Mapping):
        raise RuleError(f"{where}: must be a mapping")
    kind = _required_text(spec, "kind", where)
    if kind not in SLOT_KINDS:
        raise RuleError(f"{where}: kind {kind!r} is not one of {', '.join(SLOT_KINDS)}")
    options: tuple[Option, ...] = ()
    if kind == "choice":
        raw_options = spec.get("options")
        if not isinstance(raw_options, Mapping) or not raw_options:
            raise RuleError(f"{where}: a choice slot needs options")
        options = tuple(
            Option(
                key=str(key),
                label=_required_text(option, "label", f"{where} option {key!r}"),
                aliases=_text_tuple(option.get("aliases", ()), f"{where} option {key!r} aliases"),
            )
            for key, option in raw_options.items()
        )
    derive = spec.get("derive")
    derive_minus: tuple[str, str] | None = None
    if derive is not None:
        minus = derive.get("minus") if isinstance(derive, Mapping) else None
        if not isinstance(minus, list) or len(minus) != 2:
            raise RuleError(f"{where}: derive must be {{minus: [slot, slot]}}")
        derive_minus = (str(minus[0]), str(minus[1]))
    return Slot(
        name=name,
        label=_required_text(spec, "label", where),
        kind=kind,
        question=_required_text(spec, "question", where),
        cues=_text_tuple(spec.get("cues", ()), f"{where} cues"),
        options=options,
        yes=_text_tuple(spec.get("yes_words", ()), f"{where} yes_words"),
        no=_text_tuple(spec.get("no_words", ()), f"{where} no_words"),
        signed=bool(spec.get("signed", False)),
        recognition=bool(spec.get("recognition", False)),
        derive_minus=derive_minus,
        several=_several(spec.get("several", "last"), where),
        count_within=_count_within(spec.get("count_within"), kind, where),
    )


def _several(raw: Any, where: str) -> str:
    if raw not in SEVERAL_VALUES:
        raise RuleError(f"{where}: several must be one of {', '.join(SEVERAL_VALUES)}")
    return str(raw)


def _count_within(raw: Any, kind: str, where: str) -> tuple[str, Decimal] | None:
    """{after: 毕业, years: 1年}: an item counts only when it happened within 1 year after 毕业."""
    if raw is None:
        return None
    if kind != "count" or not isinstance(raw, Mapping):
        raise RuleError(f"{where}: count_within is a mapping {{after, years}} on a count slot")
    return _required_text(raw, "after", where), _quantity(raw.get("years"), "years", f"{where} count_within")


def _parse_rule(spec: Any, slots: Mapping[str, Slot]) -> Rule:
    if not isinstance(spec, Mapping):
        raise RuleError("must be a mapping")
    rule_id = _required_text(spec, "id", "rule")
    if not RULE_ID.match(rule_id):
        raise RuleError("id must be lowercase words joined by hyphens")
    article = _required_text(spec, "article", "rule")
    match = ARTICLE_ID.match(article)
    count = notice_facts().article_count
    if not match or not 1 <= int(match.group(1)) <= count:
        raise RuleError(f"article {article!r} must look like A1..A{count}")
    if "maximum" not in spec or not isinstance(spec["maximum"], bool):
        raise RuleError("'maximum' must be true (最高/不超过) or false (an exact amount)")
    used: dict[str, Slot] = {}

    def use(name: Any, where: str) -> str:
        slot_name = str(name)
        if slot_name not in slots:
            raise RuleError(f"{where} refers to unknown slot {slot_name!r}")
        used[slot_name] = slots[slot_name]
        for source in slots[slot_name].derive_minus or ():
            used[source] = slots[source]
        return slot_name

    conditions = tuple(
        _parse_condition(item, slots, use, f"condition {index + 1}")
        for index, item in enumerate(spec.get("conditions") or ())
    )
    formula = _parse_formula(spec.get("formula"), slots, use)
    unused = spec.get("unused_numbers") or {}
    if not isinstance(unused, Mapping):
        raise RuleError("unused_numbers must map a number as written to the reason it is not a parameter")
    clause = _required_text(spec, "clause", "rule")
    for number, reason in unused.items():
        if str(number) not in clause and (parse_quantity(str(number)) is None):
            raise RuleError(f"unused number {number!r} is not a quantity")
        if not str(reason).strip():
            raise RuleError(f"unused number {number!r} needs a reason")
    return Rule(
        id=rule_id,
        article=article,
        name=_required_text(spec, "name", "rule"),
        applies_to=_required_text(spec, "applies_to", "rule"),
        clause=clause,
        payout=_required_text(spec, "payout", "rule"),
        is_maximum=spec["maximum"],
        formula=formula,
        inputs=tuple(used.values()),
        conditions=conditions,
        keywords=_text_tuple(spec.get("keywords", ()), "keywords"),
        events=_text_tuple(spec.get("events", ()), "events"),
        marks=_text_tuple(spec.get("marks", ()), "marks"),
        group=str(spec.get("group") or ""),
        cap_group=str(spec.get("cap_group") or ""),
        per_year=bool(spec.get("per_year", False)),
        is_fee=bool(spec.get("fee", False)),
        notes=_text_tuple(spec.get("notes", ()), "notes"),
        unused_numbers=tuple((str(number), str(reason)) for number, reason in unused.items()),
        profile_inputs=_profile_inputs(spec.get("profile"), used),
        event_only=_event_only(spec),
        repeatable=bool(spec.get("repeatable", False)),
        includes=_text_tuple(spec.get("includes", ()), "includes"),
    )


def _profile_inputs(raw: Any, used: Mapping[str, Slot]) -> tuple[tuple[str, str], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, Mapping):
        raise RuleError("profile must map a slot to a profile key (or to '=option')")
    pairs = []
    for slot_name, key in raw.items():
        if str(slot_name) not in used:
            raise RuleError(f"profile maps {slot_name!r}, which the rule does not read")
        slot = used[str(slot_name)]
        if str(key).startswith("=") and slot.option(str(key)[1:]) is None:
            raise RuleError(f"profile value {key!r} is not an option of slot {slot_name!r}")
        pairs.append((str(slot_name), str(key)))
    return tuple(pairs)


def _event_only(spec: Mapping[str, Any]) -> bool:
    match = spec.get("match")
    if match is None:
        return False
    if match != "event":
        raise RuleError("match must be 'event' (only a recognition in the profile triggers the rule)")
    if not spec.get("events"):
        raise RuleError("match: event needs events")
    return True


def _parse_condition(spec: Any, slots: Mapping[str, Slot], use: Any, where: str) -> ConditionSpec:
    if not isinstance(spec, Mapping):
        raise RuleError(f"{where} must be a mapping")
    slot_name = use(spec.get("slot"), where)
    slot = slots[slot_name]
    op = str(spec.get("op", ""))
    if op not in CONDITION_OPS:
        raise RuleError(f"{where}: op {op!r} is not one of {', '.join(CONDITION_OPS)}")
    raw_value = spec.get("value")
    of = spec.get("of")
    value: Decimal | str | bool | tuple[str, ...]
    if of is not None:
        use(of, where)
        if slot.kind != "money" or slots[str(of)].kind != "money" or op not in (">=", ">"):
            raise RuleError(f"{where}: a ratio condition compares two money slots with >= or >")
        value = _quantity(raw_value, "percent", where)
    elif slot.kind in NUMERIC_KINDS:
        if op not in (">=", ">", "<=", "<"):
            raise RuleError(f"{where}: numeric slot {slot_name!r} needs >=, >, <= or <")
        value = _quantity(raw_value, slot.kind, where)
    elif slot.kind == "flag":
        if op != "is" or not isinstance(raw_value, bool):
            raise RuleError(f"{where}: flag slot {slot_name!r} needs op 'is' and value true/false")
        value = raw_value
    else:
        keys = raw_value if isinstance(raw_value, list) else [raw_value]
        for key in keys:
            if slot.option(str(key)) is None:
                raise RuleError(f"{where}: {key!r} is not an option of slot {slot_name!r}")
        if op == "eq" and not isinstance(raw_value, list):
            value = str(raw_value)
        elif op == "in" and isinstance(raw_value, list):
            value = tuple(str(key) for key in raw_value)
        else:
            raise RuleError(f"{where}: choice slot {slot_name!r} needs 'eq' with one option or 'in' with a list")
    excepted = _text_tuple(spec.get("except", ()), f"{where} except")
    if excepted and (slot.kind != "choice" or not spec.get("scope")):
        raise RuleError(f"{where}: except names options of a choice slot in a scope condition")
    for key in excepted:
        if slot.option(key) is None or (isinstance(value, tuple) and key in value) or key == value:
            raise RuleError(f"{where}: except {key!r} must be an option of {slot_name!r} the condition does not accept")
    assume = bool(spec.get("assume", False))
    label = str(spec.get("label") or _default_label(slot, of, slots))
    assumption = str(spec.get("assumption") or (f"按{label}计算" if assume else ""))
    return ConditionSpec(
        slot=slot_name,
        op=op,
        value=value,
        label=label,
        of=str(of) if of is not None else None,
        scope=bool(spec.get("scope", False)),
        assume=assume,
        assumption=assumption,
        question=str(spec.get("question") or ""),
        excepted=excepted,
    )


def _default_label(slot: Slot, of: Any, slots: Mapping[str, Slot]) -> str:
    if of is not None:
        return f"{slot.label}不低于{slots[str(of)].label}的比例"
    return slot.label


def _parse_formula(spec: Any, slots: Mapping[str, Slot], use: Any) -> Formula:
    if not isinstance(spec, Mapping):
        raise RuleError("formula must be a mapping")
    kind = str(spec.get("kind", ""))
    if kind not in FORMULA_KINDS:
        raise RuleError(f"formula kind {kind!r} is not one of {', '.join(FORMULA_KINDS)}")
    where = f"formula ({kind})"
    base_raw = spec.get("base")
    base: tuple[str, ...] = ()
    if base_raw is not None:
        names = base_raw if isinstance(base_raw, list) else [base_raw]
        base = tuple(use(name, f"{where} base") for name in names)
        for name in base:
            if slots[name].kind != "money":
                raise RuleError(f"{where}: base slot {name!r} must be money")
    cap = _optional_quantity(spec, "cap", "money", where)
    if kind == "fixed":
        if "range" in spec:
            low, high = _range(spec["range"], where)
            return Formula(kind=kind, amount=high, amount_min=low)
        return Formula(kind=kind, amount=_quantity(spec.get("amount"), "money", where))
    if kind == "rate":
        if not base:
            raise RuleError(f"{where}: needs a base slot")
        staged = spec.get("staged")
        staged_share = None
        staged_when = ""
        if staged is not None:
            if not isinstance(staged, Mapping):
                raise RuleError(f"{where}: staged must be {{share, when}}")
            staged_share = _quantity(staged.get("share"), "percent", where)
            staged_when = _required_text(staged, "when", where)
        return Formula(
            kind=kind,
            base=base,
            rate=_quantity(spec.get("rate"), "percent", where),
            cap=cap,
            base_cap=_optional_quantity(spec, "base_cap", "money", where),
            staged_share=staged_share,
            staged_when=staged_when,
            period_years=_optional_quantity(spec, "period_years", "years", where),
            cap_used=_cap_used(spec, cap, use, where),
        )
    if kind == "tiers":
        raw_tiers = spec.get("tiers")
        if not isinstance(raw_tiers, list) or not raw_tiers:
            raise RuleError(f"{where}: needs a non-empty tiers list")
        tiers = []
        for index, raw in enumerate(raw_tiers):
            tier_where = f"{where} tier {index + 1}"
            if not isinstance(raw, Mapping) or not raw.get("when"):
                raise RuleError(f"{tier_where}: needs 'when' conditions")
            when = tuple(_parse_condition(item, slots, use, tier_where) for item in raw["when"])
            amount = _optional_quantity(raw, "amount", "money", tier_where)
            rate = _optional_quantity(raw, "rate", "percent", tier_where)
            if (amount is None) == (rate is None):
                raise RuleError(f"{tier_where}: needs exactly one of amount or rate")
            if rate is not None and not base:
                raise RuleError(f"{tier_where}: a rate tier needs the formula base")
            tiers.append(Tier(label=_required_text(raw, "label", tier_where), when=when, amount=amount, rate=rate))
        top_up = use(spec["top_up"], where) if spec.get("top_up") else None
        return Formula(kind=kind, base=base, cap=cap, tiers=tuple(tiers), top_up=top_up)
    if kind == "schedule":
        if len(base) != 1:
            raise RuleError(f"{where}: needs exactly one base slot (the annual amount)")
        raw_segments = spec.get("segments")
        if not isinstance(raw_segments, list) or not raw_segments:
            raise RuleError(f"{where}: needs segments")
        segments = tuple(
            Segment(
                years=_quantity(f"{item.get('years')}年", "years", where),
                rate=_quantity(item.get("rate"), "percent", where),
            )
            for item in raw_segments
        )
        area_slot = use(spec["area_slot"], where) if spec.get("area_slot") else None
        area_cap = _optional_quantity(spec, "area_cap", "area", where)
        if (area_slot is None) != (area_cap is None):
            raise RuleError(f"{where}: area_slot and area_cap go together")
        return Formula(
            kind=kind,
            base=base,
            segments=segments,
            cap=cap,
            years_slot=use(spec["years_slot"], where) if spec.get("years_slot") else None,
            start_year_slot=_years_slot(spec.get("start_year_slot"), slots, use, where),
            area_slot=area_slot,
            area_cap=area_cap,
        )
    if kind == "per_unit":
        count_slot = use(spec.get("count"), where)
        if slots[count_slot].kind != "count":
            raise RuleError(f"{where}: count slot must be a count")
        return Formula(
            kind=kind, count_slot=count_slot, unit_amount=_quantity(spec.get("unit_amount"), "money", where), cap=cap
        )
    # options
    option_slot = use(spec.get("slot"), where)
    slot = slots[option_slot]
    if slot.kind not in ("choice", "flag"):
        raise RuleError(f"{where}: option slot {option_slot!r} must be a choice or flag")
    valid_keys = [option.key for option in slot.options] if slot.kind == "choice" else ["yes", "no"]
    raw_choices = spec.get("choices")
    if not isinstance(raw_choices, Mapping) or not raw_choices:
        raise RuleError(f"{where}: needs choices")
    choices = []
    for key, raw in raw_choices.items():
        key = str(key)
        choice_where = f"{where} choice {key!r}"
        if key not in valid_keys:
            raise RuleError(f"{choice_where}: not an option of slot {option_slot!r} ({', '.join(valid_keys)})")
        if not isinstance(raw, Mapping):
            raise RuleError(f"{choice_where}: must be a mapping")
        label = str(raw.get("label") or "")
        if slot.kind == "flag" and not label:
            raise RuleError(f"{choice_where}: a flag option needs a label (e.g. 符合条件的制造业企业)")
        if "range" in raw:
            low, high = _range(raw["range"], choice_where)
            choices.append(Choice(key=key, amount=high, amount_min=low, label=label))
            continue
        amount = _optional_quantity(raw, "amount", "money", choice_where)
        rate = _optional_quantity(raw, "rate", "percent", choice_where)
        if (amount is None) == (rate is None):
            raise RuleError(f"{choice_where}: needs exactly one of amount, range or rate")
        if rate is not None and not base:
            raise RuleError(f"{choice_where}: a rate choice needs the formula base")
        cap_of_choice = _optional_quantity(raw, "cap", "money", choice_where)
        choices.append(Choice(key=key, amount=amount, rate=rate, cap=cap_of_choice, label=label))
    default = spec.get("default")
    if default is not None and str(default) not in raw_choices:
        raise RuleError(f"{where}: default {default!r} is not one of the choices")
    if default is not None and not spec.get("default_assumption"):
        raise RuleError(f"{where}: a default option needs a default_assumption to tell the user")
    return Formula(
        kind=kind,
        base=base,
        cap=cap,
        option_slot=option_slot,
        choices=tuple(choices),
        default_option=str(default) if default is not None else None,
        default_assumption=str(spec.get("default_assumption") or ""),
    )


def _cap_used(spec: Mapping[str, Any], cap: Decimal | None, use: Any, where: str) -> str | None:
    if not spec.get("cap_used"):
        return None
    if cap is None:
        raise RuleError(f"{where}: cap_used needs a cap")
    return str(use(spec["cap_used"], where))


def _years_slot(name: Any, slots: Mapping[str, Slot], use: Any, where: str) -> str | None:
    if not name:
        return None
    slot_name = use(name, where)
    if slots[slot_name].kind != "years":
        raise RuleError(f"{where}: start_year_slot {slot_name!r} must be a years slot")
    return slot_name


def _range(raw: Any, where: str) -> tuple[Decimal, Decimal]:
    if not isinstance(raw, list) or len(raw) != 2:
        raise RuleError(f"{where}: range must be [low, high]")
    low, high = (_quantity(item, "money", where) for item in raw)
    if low >= high:
        raise RuleError(f"{where}: range low must be below high")
    return low, high


def _quantity(raw: Any, kind: str, where: str) -> Decimal:
    if raw is None or isinstance(raw, bool):
        raise RuleError(f"{where}: missing {kind} value")
    parsed = parse_quantity(str(raw))
    if parsed is None or (parsed.kind != kind and not (parsed.kind == "number" and kind == "count")):
        raise RuleError(f"{where}: {raw!r} is not a {kind} amount (write it with its unit, e.g. 200万元, 5%, 3年)")
    if parsed.value < 0:
        raise RuleError(f"{where}: {raw!r} must not be negative")
    return parsed.value


def _optional_quantity(spec: Mapping[str, Any], key: str, kind: str, where: str) -> Decimal | None:
    return _quantity(spec[key], kind, f"{where} {key}") if spec.get(key) is not None else None


def _required_text(spec: Mapping[str, Any], key: str, where: str) -> str:
    value = spec.get(key)
    if not isinstance(value, str) or not value.strip():
        raise RuleError(f"{where}: '{key}' must be a non-empty string")
    return value.strip()


def _text_tuple(raw: Any, where: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, (list, tuple)):
        raise RuleError(f"{where} must be a list")
    return tuple(str(item) for item in raw)
