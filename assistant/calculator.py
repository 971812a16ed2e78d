"""The award calculator: evaluate one Rule on inputs with Decimal arithmetic and explain every step in Chinese.

`calculate(rule, inputs)` is pure and never raises on user input. Bad input (negative, absurdly large, text
where a number belongs, a percentage where money belongs, an unknown option) does not raise: the result has
`amount_yuan=None`, the message in `errors` and, together with the question to ask again, in `missing`.
Outcomes:
  eligible   -> amount_yuan > 0 (a ceiling when is_maximum), conditions met or assumed (see assumptions)
  ineligible -> amount_yuan == 0 and the unmet condition(s) named with "需要 …，实际 …"
  incomplete -> amount_yuan is None; `missing` holds the Chinese questions to ask; `alternatives` the amounts
                under each possible answer when they can be computed
Input values: Decimal/Amount are canonical (money in yuan, percent as a fraction 0.3); int, float and strings
without a unit are read in the slot's unit (money in yuan, percent in points: 30 -> 30%); strings may carry
their unit ("800万元", "30%", "3年", "2000平方米"). Choices take an option key, label or alias; flags take
bool or 是/否.
`combine(calculations, caps)` adds up several awards one question asks about together into one Calculation
(the parts in `parts`, each part and the sum in the trace, caps shared by a `cap_group` applied).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any

from assistant.amounts import (
    Above,
    Amount,
    format_money,
    format_money_en,
    format_money_range,
    format_quantity,
    parse_quantity,
    tidy,
)
from assistant.numerals import int_to_cn
from assistant.rules import ConditionSpec, Rule, Slot, close_rule_ids, find_rule
from assistant.vocabulary import words

MET, UNMET, UNKNOWN = "met", "unmet", "unknown"
OP_SYMBOLS = {">=": "≥", ">": ">", "<=": "≤", "<": "<"}
KIND_NAMES = {
    "money": "金额",
    "percent": "百分比",
    "area": "面积",
    "years": "年数",
    "days": "天数",
    "weight": "重量（吨）",
    "count": "数量",
}
KIND_EXAMPLES = {
    "money": "800万元",
    "percent": "30%",
    "area": "2000平方米",
    "years": "3年",
    "days": "30日",
    "weight": "6吨",
    "count": "3家",
}
# Largest value accepted per kind; anything above is a unit mistake (1e30, 10万亿元 ...).
LIMITS = {
    "money": Decimal("1e13"),
    "percent": Decimal(100),
    "area": Decimal("1e8"),
    "years": Decimal(200),
    "days": Decimal(36_500),
    "weight": Decimal("1e7"),
    "count": Decimal("1e6"),
}
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Condition:
    """One eligibility check as shown to the user: name, met/unmet/unknown, "需要 ≥200万元，实际 1200万元"."""

    name: str
    status: str  # met | unmet | unknown
    detail: str


@dataclass(frozen=True)
class Calculation:
    """What the calculator found for one rule, with everything needed to explain it."""

    rule_id: str
    rule_name: str
    article: str  # A34
    article_label: str  # 第三十四条
    clause: str  # verbatim clause of the notice
    amount_yuan: Decimal | None  # None: incomplete or invalid input; 0: not eligible
    is_maximum: bool  # True: a ceiling (最高/不超过); False: the exact award (给予)
    conditions: tuple[Condition, ...] = ()
    trace: str = ""  # the arithmetic as a person writes it
    assumptions: tuple[str, ...] = ()
    alternatives: tuple[tuple[str, Decimal], ...] = ()  # (when, amount) for answers not yet known
    missing: tuple[str, ...] = ()  # Chinese questions (and input errors) to put to the user
    payout: str = ""  # 补助 / 奖励 / 资助 / 担保费 ...
    applies_to: str = ""
    formula_text: str = ""  # the method in words: 按年度研发投入新增额的5%计算，最高200万元
    amount_min_yuan: Decimal | None = None  # bottom of a range award (10万—20万元)
    per_year: bool = False
    is_fee: bool = False
    errors: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    parts: tuple[Calculation, ...] = ()  # set on a combined calculation (combine): the awards that were added up
    articles: tuple[str, ...] = ()  # every article the amount rests on (A39, A18 for a sum across articles)
    premise: str = ""  # the condition the amount rests on, leading the answer ("若位于紫金港科技城")
    # each figure as the question gave it, (slot label, value): shown so a misreading is seen at a glance
    read_inputs: tuple[tuple[str, str], ...] = ()

    @property
    def article_labels(self) -> str:
        """How the answer cites the articles: 第三十九条 or 第三十九条、第十八条."""
        labels = [_article_label(article) for article in self.articles if article != self.article]
        return "、".join([self.article_label, *labels])

    @property
    def status(self) -> str:
        """eligible | ineligible | incomplete."""
        if self.amount_yuan is None:
            return "incomplete"
        if any(condition.status == UNMET for condition in self.conditions) or self.amount_yuan <= 0:
            return "ineligible"
        return "eligible"

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict: Decimals become numbers, tuples become lists; adds status and amount_text."""
        return {
            "rule_id": self.rule_id,
            "rule_name": self.rule_name,
            "article": self.article,
            "article_label": self.article_label,
            "clause": self.clause,
            "status": self.status,
            "amount_yuan": _number(self.amount_yuan),
            "amount_min_yuan": _number(self.amount_min_yuan),
            "amount_text": format_money(self.amount_yuan) if self.amount_yuan is not None else None,
            "is_maximum": self.is_maximum,
            "conditions": [{"name": c.name, "status": c.status, "detail": c.detail} for c in self.conditions],
            "trace": self.trace,
            "assumptions": list(self.assumptions),
            "alternatives": [
                {"description": description, "amount_yuan": _number(amount), "amount_text": format_money(amount)}
                for description, amount in self.alternatives
            ],
            "missing": list(self.missing),
            "payout": self.payout,
            "applies_to": self.applies_to,
            "formula": self.formula_text,
            "per_year": self.per_year,
            "is_fee": self.is_fee,
            "errors": list(self.errors),
            "notes": list(self.notes),
            "parts": [part.to_dict() for part in self.parts],
            "articles": list(self.articles or (self.article,)),
            "amount_min_text": format_money(self.amount_min_yuan) if self.amount_min_yuan is not None else None,
            "premise": self.premise,
            "read_inputs": [list(item) for item in self.read_inputs],
        }


def calculate(rule: Rule, inputs: Mapping[str, Any]) -> Calculation:
    """Evaluate `rule` on `inputs` (slot name -> value). Pure; never raises on bad input (see module doc)."""
    values, errors = coerce_inputs(rule, inputs)
    values, derivation = _derive(rule, values)
    conditions: list[Condition] = []
    assumptions: list[str] = []
    questions: dict[str, str] = {}
    blocking: list[ConditionSpec] = []
    for spec in rule.conditions:
        condition = _check(rule, spec, values)
        conditions.append(condition)
        if condition.status != UNKNOWN:
            continue
        if spec.assume:
            assumptions.append(spec.assumption)
        else:
            blocking.append(spec)
            missing_slot = spec.slot if spec.slot not in values else (spec.of or spec.slot)
            questions.setdefault(missing_slot, spec.question or rule.input(missing_slot).question)
    outcome = _evaluate_formula(rule, values)
    already_unmet = {condition.name for condition in conditions if condition.status == UNMET}
    conditions.extend(c for c in outcome.conditions if not (c.status == UNMET and c.name in already_unmet))
    assumptions.extend(outcome.assumptions)
    for slot_name in outcome.missing_slots:
        questions.setdefault(slot_name, rule.input(slot_name).question)
    for slot_name, message in errors.items():
        questions[slot_name] = f"{message}{rule.input(slot_name).question}"
    unmet = [condition for condition in conditions if condition.status == UNMET]
    alternatives = list(outcome.alternatives)
    amount: Decimal | None
    if errors:
        amount = None
        trace = "输入有误，无法计算：" + "".join(errors.values())
        alternatives = []
    elif unmet:
        amount = Decimal(0)
        trace = "不符合条件：" + "；".join(f"{condition.name}{condition.detail}" for condition in unmet)
        alternatives = []
    elif blocking or outcome.amount is None:
        amount = None
        trace = outcome.trace if outcome.amount is not None else ""
        if outcome.amount is not None:
            alternatives.insert(0, (_if_met(rule, blocking, values), outcome.amount))
    else:
        amount = outcome.amount
        trace = outcome.trace
    if derivation and trace:
        trace = derivation + trace
    return Calculation(
        rule_id=rule.id,
        rule_name=rule.name,
        article=rule.article,
        article_label=rule.article_label,
        clause=rule.clause,
        amount_yuan=amount,
        is_maximum=rule.is_maximum or outcome.is_range,
        conditions=tuple(conditions),
        trace=trace,
        assumptions=tuple(dict.fromkeys(assumptions)),
        alternatives=tuple(alternatives),
        missing=tuple(dict.fromkeys(questions.values())) if amount is None else (),
        payout=rule.payout,
        applies_to=rule.applies_to,
        formula_text=describe_formula(rule),
        amount_min_yuan=outcome.amount_min if amount is not None and amount > 0 else None,
        per_year=rule.per_year,
        is_fee=rule.is_fee,
        errors=tuple(errors.values()),
        notes=rule.notes,
        articles=(rule.article,),
    )


def by_year(rule: Rule, inputs: Mapping[str, Any], annuals: Sequence[Decimal]) -> Calculation:
    """A yearly schedule whose base differs year by year ("三年房租分别是60万、80万、100万"): each year's amount from
    its own base and rate, the cumulative cap over their sum. Conditions as calculate() finds them with the first
    year's base; more years than the schedule has are not paid."""
    formula = rule.formula
    whole = calculate(rule, {**inputs, formula.base[0]: annuals[0]})
    if formula.kind != "schedule" or whole.status != "eligible":
        return whole
    area = Decimal(str(inputs[formula.area_slot])) if formula.area_slot and formula.area_slot in inputs else None
    share = Decimal(1)
    prorated = ""
    if area is not None and formula.area_cap is not None and area > formula.area_cap:
        share = formula.area_cap / area  # 面积超过上限: each year's rent prorated
        prorated = f" × {_plain_number(formula.area_cap)}/{_plain_number(area)}"
    rates = [segment.rate for segment in formula.segments for _ in range(int(segment.years))]
    pieces = []
    total = Decimal(0)
    for year, (annual, rate) in enumerate(zip(annuals, rates, strict=False), start=1):
        amount = _cents(annual * share * rate)
        total += amount
        pieces.append(
            f"第{year}年：{format_money(annual)}{prorated} × {format_quantity(rate, 'percent')} = {format_money(amount)}"
        )
    amount, cap_text = _apply_cap(total, formula.cap, "累计上限")
    trace = "；".join(pieces) + f"；合计{format_money(total)}{cap_text}，{rule.payout}{format_money(amount)}"
    assumptions = tuple(a for a in whole.assumptions if not a.startswith("按完整补助期"))
    if len(annuals) > len(rates):
        assumptions += (f"补助期最长{format_quantity(Decimal(len(rates)), 'years')}，之后的年份不计",)
    return replace(whole, amount_yuan=amount, trace=trace, assumptions=assumptions, amount_min_yuan=None)


@dataclass(frozen=True)
class SharedCap:
    """One cap over several rules' amounts together (进口、国产机器人每家企业资助总额不超过50万元)."""

    rule_ids: frozenset[str]
    cap: Decimal
    label: str = "共同上限"


def shared_caps(rules: Sequence[Rule]) -> tuple[SharedCap, ...]:
    """The caps that rules of one `cap_group` share: the group's common formula cap."""
    groups: dict[str, list[Rule]] = {}
    for rule in rules:
        if rule.cap_group:
            groups.setdefault(rule.cap_group, []).append(rule)
    caps = []
    for members in groups.values():
        values = {rule.formula.cap for rule in members if rule.formula.cap is not None}
        if len(members) > 1 and len(values) == 1:
            caps.append(SharedCap(frozenset(rule.id for rule in members), values.pop(), "合计上限"))
    return tuple(caps)


def combine(calculations: Sequence[Calculation], caps: Sequence[SharedCap] = ()) -> Calculation:
    """One Calculation for several awards a question asks about together ("又…一共能拿多少"): the amount is the sum
    of the parts (shared caps applied), the trace lists each part and the sum, `parts` keeps the parts.
    The amount is None while any part still needs information; 0 only when no part is eligible. `article` is the
    first part's; `articles` lists every part's article (a sum may cross articles: 第三十九条 + 第十八条), and the
    answer cites them all. Raises ValueError on an empty list; one calculation is returned as it is."""
    parts = tuple(calculations)
    if not parts:
        raise ValueError("combine needs at least one calculation")
    if len(parts) == 1:
        return parts[0]
    complete = all(part.amount_yuan is not None for part in parts)
    lines = [f"{part.rule_name}：{_part_trace(part)}" for part in parts]
    amount: Decimal | None = None
    alternatives: list[tuple[str, Decimal]] = []
    if complete:
        amount, sum_text = _sum_parts(parts, caps)
        lines.append(sum_text)
        for index, part in enumerate(parts):
            for description, value in part.alternatives:
                replaced = list(parts)
                replaced[index] = replace(part, amount_yuan=value)
                alternatives.append((f"{description}（{part.rule_name}）", _sum_parts(replaced, caps)[0]))
    eligible_parts = [part for part in parts if part.status == "eligible"]
    shown = eligible_parts if amount is not None and amount > 0 else list(parts)
    conditions = tuple(
        Condition(f"{part.rule_name}：{condition.name}", condition.status, condition.detail)
        for part in shown
        for condition in part.conditions
    )
    notes = [f"{part.rule_name}不符合条件，未计入合计。" for part in parts if part.status == "ineligible" and amount]
    mins = [part.amount_min_yuan for part in parts if part.amount_min_yuan is not None]
    amount_min: Decimal | None = None
    if mins and amount is not None and amount > 0:
        amount_min = sum(
            (
                part.amount_min_yuan if part.amount_min_yuan is not None else part.amount_yuan or Decimal(0)
                for part in parts
            ),
            Decimal(0),
        )
    return Calculation(
        rule_id="+".join(part.rule_id for part in parts),
        rule_name="、".join(dict.fromkeys(part.rule_name for part in parts)),
        article=parts[0].article,
        article_label=parts[0].article_label,
        clause="；".join(dict.fromkeys(part.clause for part in parts)),
        amount_yuan=amount,
        is_maximum=any(part.is_maximum for part in parts),
        conditions=conditions,
        trace="；".join(lines),
        assumptions=tuple(dict.fromkeys(item for part in parts for item in part.assumptions)),
        alternatives=tuple(alternatives),
        missing=tuple(dict.fromkeys(item for part in parts for item in part.missing)) if amount is None else (),
        payout="、".join(dict.fromkeys(part.payout for part in parts)),
        applies_to="；".join(dict.fromkeys(part.applies_to for part in parts)),
        formula_text="；".join(f"{part.rule_name}：{part.formula_text}" for part in parts),
        amount_min_yuan=amount_min,
        per_year=all(part.per_year for part in parts),
        is_fee=all(part.is_fee for part in parts),
        errors=tuple(dict.fromkeys(item for part in parts for item in part.errors)),
        read_inputs=_parts_read_inputs(parts),
        notes=tuple(dict.fromkeys([*notes, *(item for part in parts for item in part.notes)])),
        parts=parts,
        articles=tuple(dict.fromkeys(article for part in parts for article in (part.articles or (part.article,)))),
        premise="、".join(dict.fromkeys(part.premise for part in parts if part.premise and part.status == "eligible")),
    )


def staged_part(calc: Calculation, share: Decimal, when: str, later: bool) -> Calculation:
    """The part of a staged award asked for: the `share` paid `when` (达产升规后拨付) if `later`, else the rest, paid
    first. "200万元，其中50%达产升规后拨付" -> first 100万元. An amount still unknown returns the calculation as it is."""
    if calc.amount_yuan is None or calc.status == "ineligible":
        return calc
    part_share = share if later else 1 - share
    part = _cents(calc.amount_yuan * part_share)
    stage = when.removesuffix("拨付")
    label = f"{stage}拨付部分" if later else f"{stage.removesuffix('后')}前先拨付部分"
    return replace(
        calc,
        amount_yuan=part,
        amount_min_yuan=None,
        trace=f"{calc.trace}；{label}：{format_money(calc.amount_yuan)} × {format_quantity(part_share, 'percent')}"
        f" = {format_money(part)}",
        alternatives=(),
    )


def times(calc: Calculation, count: Decimal, counted: str) -> Calculation:
    """The award for `count` items of one kind ("3个绿色食品" at 4万元 each): amount, range bottom and alternatives
    multiplied, the trace ending with "，3个 × 4万元 = 12万元". `counted` is the count as the question wrote it.
    A count of 1 or an amount still unknown returns the calculation as it is."""
    if count == 1 or calc.amount_yuan is None:
        return calc
    total = tidy(calc.amount_yuan * count)
    low = tidy(calc.amount_min_yuan * count) if calc.amount_min_yuan is not None else None
    return replace(
        calc,
        amount_yuan=total,
        amount_min_yuan=low,
        trace=f"{calc.trace}，{counted} × {format_money(calc.amount_yuan)} = {format_money(total)}",
        alternatives=tuple((description, tidy(value * count)) for description, value in calc.alternatives),
    )


def _part_trace(part: Calculation) -> str:
    if part.amount_yuan is None:
        return "还需补充信息（" + " ".join(part.missing) + "）" if part.missing else "还需补充信息"
    if part.status == "ineligible":
        unmet = "；".join(f"{c.name}{c.detail}" for c in part.conditions if c.status == UNMET)
        return f"不符合条件（{unmet}），计0元" if unmet else "不符合条件，计0元"
    return part.trace


def _sum_parts(parts: Sequence[Calculation], caps: Sequence[SharedCap]) -> tuple[Decimal, str]:
    """The total of complete parts with shared caps applied, and the sentence that shows it."""
    amounts = [part.amount_yuan or Decimal(0) for part in parts]
    raw = sum(amounts, Decimal(0))
    text = f"合计：{' + '.join(format_money(value) for value in amounts)} = {format_money(raw)}"
    total = raw
    for cap in caps:
        members = [part for part in parts if part.rule_id in cap.rule_ids and part.amount_yuan]
        if len(members) < 2:
            continue
        shared = sum((part.amount_yuan or Decimal(0) for part in members), Decimal(0))
        if shared > cap.cap:
            total -= shared - cap.cap
            text += f"，超过{cap.label}{format_money(cap.cap)}，按{cap.label}计{format_money(total)}"
        elif shared == cap.cap:
            text += f"，恰好达到{cap.label}{format_money(cap.cap)}"
        else:
            text += f"，未超过{cap.label}{format_money(cap.cap)}"
    return total, text


def format_calculation(calc: Calculation, language: str = "zh") -> str:
    """The user-facing text: lead sentence, then 计算 (trace), conditions, assumptions, alternatives,
    questions, and the clause with its article label. The lead sentence is English when language == "en"."""
    lines = [_lead_sentence(calc, language)]
    read = "按以下数字计算：" + "，".join(f"{label} {value}" for label, value in calc.read_inputs)
    if calc.read_inputs and not calc.parts:
        lines.append(read)
    if calc.trace and calc.status != "ineligible" and not calc.errors:
        lines.append(f"计算：{calc.trace}")
    elif calc.status == "incomplete" and calc.formula_text:
        lines.append(f"计算方法：{calc.formula_text}")
    if calc.read_inputs and calc.parts:
        lines.append(read)  # a sum's working names each part's figures and rate first; the figures as read follow
    shown = [c for c in calc.conditions if c.status != MET or calc.status != "ineligible"]
    if shown:
        marks = {MET: "符合", UNMET: "不符合", UNKNOWN: "待确认"}
        lines.append("条件：")
        lines.extend(f"- {c.name}：{c.detail}（{marks[c.status]}）" for c in shown)
    if calc.assumptions:
        lines.append("假设：" + "；".join(calc.assumptions))
    if calc.alternatives:
        lines.append("其他情形：")
        for description, amount in calc.alternatives:
            lines.append(f"- {description}：{_amount_phrase(calc, amount)}")
    if calc.missing:
        lines.append("还需确认：" + " ".join(calc.missing))
    if calc.notes:
        lines.append("说明：" + " ".join(calc.notes))
    lines.append(f"依据：{_basis(calc)}")
    return "\n".join(lines)


def _parts_read_inputs(parts: Sequence[Calculation]) -> tuple[tuple[str, str], ...]:
    """The figures every part read; a label several parts read is named with its part ("紫金港科技城购置进口工业机器人资助：
    工业机器人设备购置额")."""
    labels = [label for part in parts for label, _ in dict.fromkeys(part.read_inputs)]
    shared = {label for label in labels if labels.count(label) > 1}
    return tuple(
        dict.fromkeys(
            (f"{part.rule_name}：{label}" if label in shared else label, value)
            for part in parts
            for label, value in part.read_inputs
        )
    )


def _basis(calc: Calculation) -> str:
    """第十九条：“clause；clause” — or, for a sum across articles, each article with its own clauses."""
    if len(calc.articles) <= 1 or not calc.parts:
        return f"{calc.article_label}：“{calc.clause}”"
    by_article: dict[str, list[str]] = {}
    for part in calc.parts:
        by_article.setdefault(part.article_label, [])
        if part.clause not in by_article[part.article_label]:
            by_article[part.article_label].append(part.clause)
    return "；".join(f"{label}：“{'；'.join(clauses)}”" for label, clauses in by_article.items())


def _article_label(article: str) -> str:
    """A39 -> 第三十九条."""
    return f"第{int_to_cn(int(article[1:]))}条"


def describe_formula(rule: Rule) -> str:
    """The method in words, e.g. 按年度研发投入新增额的5%计算，最高200万元."""
    formula = rule.formula
    top = "最高" if rule.is_maximum else ""
    if formula.kind == "fixed":
        if formula.amount_min is not None:
            return f"{format_money(formula.amount_min)}—{format_money(formula.amount)}"  # type: ignore[arg-type]
        return f"{top or '给予'}{format_money(formula.amount)}{'（每年）' if rule.per_year else ''}"  # type: ignore[arg-type]
    if formula.kind == "rate":
        base = "与".join(rule.input(name).label for name in formula.base)
        rate = format_quantity(formula.rate, "percent")  # type: ignore[arg-type]
        text = f"按{base}的{'不超过' if rule.is_maximum else ''}{rate}计算"  # wording pinned by tests/test_ui.py
        if formula.base_cap is not None:
            text += f"（{rule.input(formula.base[0]).label}最高{format_money(formula.base_cap)}）"
        if formula.cap is not None:
            text += f"，最高{format_money(formula.cap)}"
        if formula.staged_share is not None:
            text += f"，其中{format_quantity(formula.staged_share, 'percent')}{formula.staged_when}"
        return text
    if formula.kind == "tiers":
        parts = []
        for tier in formula.tiers:
            test = "且".join(f"{rule.input(spec.slot).label}{_need_text(rule, spec, {})}" for spec in tier.when)
            award = format_money(tier.amount) if tier.amount is not None else format_quantity(tier.rate, "percent")  # type: ignore[arg-type]
            parts.append(f"{test}：{award}")
        text = "；".join(parts)
        if formula.cap is not None:
            text += f"；最高{format_money(formula.cap)}"
        if formula.top_up:
            text += "；晋档补差"
        return text
    if formula.kind == "schedule":
        base = rule.input(formula.base[0]).label
        start = 1
        parts = []
        for segment in formula.segments:
            end = start + int(segment.years) - 1
            span = f"第{start}年" if start == end else f"第{start}—{end}年"
            parts.append(f"{span}按{base}的{format_quantity(segment.rate, 'percent')}")
            start = end + 1
        text = "，".join(parts)
        if formula.area_cap is not None:
            text += f"，补助面积最高{format_quantity(formula.area_cap, 'area')}"
        if formula.cap is not None:
            text += f"，累计最高{format_money(formula.cap)}"
        return text
    if formula.kind == "per_unit":
        return f"每家{top}{format_money(formula.unit_amount)}"  # type: ignore[arg-type]
    slot = rule.input(formula.option_slot)  # type: ignore[arg-type]
    parts = []
    for choice in formula.choices:
        parts.append(f"{_choice_label(slot, choice.key, choice.label)}：{_choice_award(rule, choice)}")
    return "；".join(parts)


def run_calc_command(rule_id: str, pairs: Sequence[str], rules: Sequence[Rule]) -> tuple[int, str]:
    """`python -m assistant calc RULE key=value ...`: exit code and text.
    0 computed (eligible or not), 1 more information needed or an input is invalid, 2 usage error
    (unknown rule -> the close rule ids; malformed pair; unknown input name -> the rule's inputs)."""
    rule = find_rule(rules, rule_id)
    if rule is None:
        close = close_rule_ids(rules, rule_id)
        hint = f"相近的规则：{', '.join(close)}" if close else "可用规则：" + ", ".join(r.id for r in rules)
        return 2, f"未找到规则“{rule_id}”。{hint}"
    inputs: dict[str, str] = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        key = key.strip()
        if not separator or not key:
            return 2, f"参数“{pair}”格式不对，应为 名称=值（如 rd_increase=1200万元）。\n{describe_inputs(rule)}"
        if not rule.has_input(key):
            return 2, f"规则 {rule.id} 没有输入“{key}”。\n{describe_inputs(rule)}"
        inputs[key] = value.strip()
    calc = calculate(rule, inputs)
    return (1 if calc.status == "incomplete" else 0), format_calculation(calc)


def describe_inputs(rule: Rule) -> str:
    """The inputs a rule reads, one line each, for CLI help and tool descriptions."""
    lines = [f"{rule.id}（{rule.article_label}，{rule.name}）的输入："]
    for slot in rule.inputs:
        if slot.kind == "choice":
            kind = "可选：" + "、".join(f"{option.key}={option.label}" for option in slot.options)
        elif slot.kind == "flag":
            kind = "是/否"
        else:
            kind = f"{KIND_NAMES[slot.kind]}，如 {KIND_EXAMPLES[slot.kind]}"
        lines.append(f"  {slot.name}：{slot.label}（{kind}）")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- inputs


def coerce_inputs(rule: Rule, inputs: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Typed values for the rule's slots (Decimal, frozenset of option keys, bool) and per-slot error messages.
    Keys that are not inputs of the rule are ignored; None and blank strings count as not given."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for slot in rule.inputs:
        if slot.name not in inputs:
            continue
        raw = inputs[slot.name]
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        try:
            values[slot.name] = coerce_value(slot, raw)
        except ValueError as error:
            errors[slot.name] = str(error)
        except ArithmeticError:  # decimal.Overflow and kin: a number beyond any the notice deals in
            errors[slot.name] = f"「{slot.label}」数值过大（收到“{_shown(raw)}”），请核对单位。"
    return values, errors


def coerce_value(slot: Slot, raw: Any) -> Any:
    """One input value in the slot's canonical type; ValueError with a Chinese message when it cannot be."""
    if slot.kind == "flag":
        return _coerce_flag(slot, raw)
    if slot.kind == "choice":
        return _coerce_choice(slot, raw)
    return _coerce_number(slot, raw)


def _coerce_number(slot: Slot, raw: Any) -> Decimal:
    shown = _shown(raw)
    wrong_kind = f"「{slot.label}」应为{KIND_NAMES[slot.kind]}（如 {KIND_EXAMPLES[slot.kind]}），收到“{shown}”。"
    value: Decimal
    if isinstance(raw, bool) or not isinstance(raw, (int, float, Decimal, str, Amount)):
        raise ValueError(wrong_kind)
    if isinstance(raw, Amount):
        if raw.kind != slot.kind:
            raise ValueError(wrong_kind)
        value = raw.value
    elif isinstance(raw, Decimal):
        value = raw
    elif isinstance(raw, float):
        if math.isnan(raw) or math.isinf(raw):
            raise ValueError(f"「{slot.label}」不是有效数字（收到“{shown}”）。")
        value = _points(slot, Decimal(repr(raw)))
    elif isinstance(raw, int):
        value = _points(slot, Decimal(raw))
    else:
        parsed = parse_quantity(raw)
        if parsed is None:
            raise ValueError(
                f"「{slot.label}」无法识别“{shown}”，请填写{KIND_NAMES[slot.kind]}（如 {KIND_EXAMPLES[slot.kind]}）。"
            )
        if parsed.kind == "number":
            value = _points(slot, parsed.value)
        elif parsed.kind == slot.kind:
            value = parsed.value
        else:
            raise ValueError(wrong_kind)
    if not value.is_finite():
        raise ValueError(f"「{slot.label}」不是有效数字（收到“{shown}”）。")
    if value < 0 and not slot.signed:
        raise ValueError(f"「{slot.label}」不能为负数（收到“{shown}”）。")
    # adjusted() first: abs() of 1e999999999 overflows the decimal context (decimal.Overflow) before comparing.
    if value.adjusted() > LIMITS[slot.kind].adjusted() or abs(value) > LIMITS[slot.kind]:
        raise ValueError(f"「{slot.label}」数值过大（收到“{shown}”），请核对单位。")
    if slot.kind == "count" and value != value.to_integral_value():
        raise ValueError(f"「{slot.label}」应为整数（收到“{shown}”）。")
    return tidy(value)


def _points(slot: Slot, value: Decimal) -> Decimal:
    """A bare number in a percent slot is in percentage points (30 -> 30%)."""
    return value / 100 if slot.kind == "percent" else value


def _coerce_flag(slot: Slot, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int) or (isinstance(raw, Decimal) and raw.is_finite()):
        if raw in (0, 1):
            return bool(raw)
    text = str(raw).strip().lower()
    if text in (word.lower() for word in (*slot.no, *words("calc_no_words"))):
        return False
    if text in (word.lower() for word in (*slot.yes, *words("calc_yes_words"))):
        return True
    raise ValueError(f"「{slot.label}」请回答“是”或“否”，收到“{_shown(raw)}”。")


def _coerce_choice(slot: Slot, raw: Any) -> frozenset[str]:
    items = list(raw) if isinstance(raw, (list, tuple, set, frozenset)) else [raw]
    keys: set[str] = set()
    for item in items:
        key = match_option(slot, item) if isinstance(item, str) else None
        if key is None:
            choices = "、".join(option.label for option in slot.options)
            raise ValueError(f"「{slot.label}」无法识别“{_shown(item)}”，可选：{choices}。")
        keys.add(key)
    if not keys:
        raise ValueError(f"「{slot.label}」未填写。")
    return frozenset(keys)


def match_option(slot: Slot, text: str) -> str | None:
    """The option key named by `text`: exact key, label or alias first, then the longest alias it contains."""
    wanted = text.strip().lower()
    for option in slot.options:
        if wanted in (option.key.lower(), option.label.lower(), *(alias.lower() for alias in option.aliases)):
            return option.key
    best: tuple[int, str] | None = None
    for option in slot.options:
        for alias in (option.label, *option.aliases):
            if alias and alias.lower() in wanted and (best is None or len(alias) > best[0]):
                best = (len(alias), option.key)
    return best[1] if best else None


def _shown(raw: Any) -> str:
    text = str(raw)
    return text if len(text) <= 30 else text[:30] + "…"


def _derive(rule: Rule, values: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """Fill derived slots (新增额 = 本年 − 上年) that were not given; return the derivation as trace text."""
    notes = []
    for slot in rule.inputs:
        if slot.derive_minus and slot.name not in values:
            first, second = slot.derive_minus
            if first in values and second in values:
                values = {**values, slot.name: values[first] - values[second]}
                notes.append(
                    f"{slot.label} = {format_money(values[first])} − {format_money(values[second])}"
                    f" = {format_money(values[slot.name])}；"
                )
    return values, "".join(notes)


# ----------------------------------------------------------------------------- conditions


def _check(rule: Rule, spec: ConditionSpec, values: Mapping[str, Any]) -> Condition:
    slot = rule.input(spec.slot)
    need = _need_text(rule, spec, values)
    if spec.slot not in values:
        suffix = "（按符合计算）" if spec.assume else ""
        return Condition(spec.label, UNKNOWN, f"需要 {need}，未提供{suffix}")
    value = values[spec.slot]
    actual = _value_text(slot, value)
    if spec.of is not None:
        if spec.of not in values:
            suffix = "（按符合计算）" if spec.assume else ""
            return Condition(
                spec.label, UNKNOWN, f"需要 {need}，实际 {actual}，未提供{rule.input(spec.of).label}{suffix}"
            )
        required = values[spec.of] * spec.value  # type: ignore[operator]
        met = value >= required if spec.op == ">=" else value > required
    else:
        met = _holds(spec, value)
    return Condition(spec.label, MET if met else UNMET, f"需要 {need}，实际 {actual}")


def _holds(spec: ConditionSpec, value: Any) -> bool:
    if spec.op == "is":
        return value is spec.value
    if spec.op == "eq":
        return spec.value in value
    if spec.op == "in":
        return bool(set(spec.value) & set(value))  # type: ignore[arg-type]
    threshold = spec.value
    return {
        ">=": value >= threshold,
        ">": value > threshold,
        "<=": value <= threshold,
        "<": value < threshold,
    }[spec.op]


def _need_text(rule: Rule, spec: ConditionSpec, values: Mapping[str, Any]) -> str:
    slot = rule.input(spec.slot)
    if spec.of is not None:
        of_label = rule.input(spec.of).label
        text = f"{OP_SYMBOLS[spec.op]}{of_label}的{format_quantity(spec.value, 'percent')}"  # type: ignore[arg-type]
        if spec.of in values:
            text += f"（{format_money(values[spec.of] * spec.value)}）"
        return text
    if spec.op == "is":
        return "是" if spec.value else "否"
    if spec.op in ("eq", "in"):
        keys = (spec.value,) if isinstance(spec.value, str) else spec.value
        return "或".join(_option_label(slot, key) for key in keys)  # type: ignore[union-attr]
    return f"{OP_SYMBOLS[spec.op]}{format_quantity(spec.value, slot.kind)}"  # type: ignore[arg-type]


def _need_actual(rule: Rule, spec: ConditionSpec, values: Mapping[str, Any]) -> str:
    return f"需要 {_need_text(rule, spec, values)}，实际 {_value_text(rule.input(spec.slot), values[spec.slot])}"


def _value_text(slot: Slot, value: Any) -> str:
    if slot.kind == "flag":
        return "是" if value else "否"
    if slot.kind == "choice":
        return "、".join(_option_label(slot, key) for key in sorted(value))
    return ("超过" if isinstance(value, Above) else "") + format_quantity(value, slot.kind)


def _option_label(slot: Slot, key: str) -> str:
    option = slot.option(key)
    return option.label if option else key


def _if_met(rule: Rule, blocking: Sequence[ConditionSpec], values: Mapping[str, Any]) -> str:
    parts = []
    for spec in blocking:
        need = _need_text(rule, spec, values)
        parts.append(need if rule.input(spec.slot).kind == "choice" else f"{spec.label}{need}")
    return "若满足：" + "；".join(parts)


# ----------------------------------------------------------------------------- formulas


@dataclass
class _Outcome:
    amount: Decimal | None = None
    trace: str = ""
    amount_min: Decimal | None = None
    is_range: bool = False
    missing_slots: list[str] = field(default_factory=list)
    conditions: list[Condition] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    alternatives: list[tuple[str, Decimal]] = field(default_factory=list)


def _evaluate_formula(rule: Rule, values: Mapping[str, Any]) -> _Outcome:
    kind = rule.formula.kind
    if kind == "fixed":
        return _fixed(rule)
    if kind == "rate":
        return _rate(rule, values, rule.formula.rate, rule.formula.cap)  # type: ignore[arg-type]
    if kind == "tiers":
        return _tiers(rule, values)
    if kind == "schedule":
        return _schedule(rule, values)
    if kind == "per_unit":
        return _per_unit(rule, values)
    return _options(rule, values)


def _fixed(rule: Rule) -> _Outcome:
    formula = rule.formula
    amount: Decimal = formula.amount  # type: ignore[assignment]
    if formula.amount_min is not None:
        trace = f"{rule.payout}标准为{format_money_range(formula.amount_min, amount)}，最高{format_money(amount)}"
        return _Outcome(amount=amount, amount_min=formula.amount_min, is_range=True, trace=trace)
    every = "每年" if rule.per_year else ""
    trace = f"{every}{'最高' if rule.is_maximum else '给予'}{format_money(amount)}{rule.payout}"
    return _Outcome(amount=amount, trace=trace)


def _rate(rule: Rule, values: Mapping[str, Any], rate: Decimal, cap: Decimal | None) -> _Outcome:
    formula = rule.formula
    present = [name for name in formula.base if name in values]
    if not present:
        return _Outcome(missing_slots=list(formula.base))
    base = sum((values[name] for name in present), Decimal(0))
    if base <= 0:
        labels = "与".join(rule.input(name).label for name in present)
        return _Outcome(conditions=[Condition(labels, UNMET, f"需要 >0元，实际 {format_money(base)}")])
    prefix = ""
    assumptions = []
    if len(formula.base) > 1:
        absent = [rule.input(name).label for name in formula.base if name not in values]
        if absent:
            assumptions.append(f"未提供{'、'.join(absent)}，未计入")
        base_text = " + ".join(f"{rule.input(name).label}{format_money(values[name])}" for name in present)
        base_text = f"（{base_text}）" if len(present) > 1 else base_text
    else:
        base_text = format_money(base)
    effective = base
    if formula.base_cap is not None and base > formula.base_cap:
        label = rule.input(formula.base[0]).label
        cap_text = format_money(formula.base_cap)
        prefix = f"{label}{format_money(base)}超过上限{cap_text}，按{cap_text}计："
        effective = formula.base_cap
        base_text = format_money(effective)
    raw = _cents(effective * rate)
    trace = f"{prefix}{base_text} × {format_quantity(rate, 'percent')} = {format_money(raw)}"
    received = values.get(formula.cap_used) if formula.cap_used else None
    if received and cap is not None:
        # "已经拿了42万": what was received of this award counts against its total cap
        room = cap - received
        if room <= 0:
            label = rule.input(formula.cap_used).label  # type: ignore[arg-type]
            return _Outcome(
                conditions=[
                    Condition(label, UNMET, f"需要 少于上限{format_money(cap)}，实际 已获{format_money(received)}")
                ]
            )
        amount = min(raw, room)
        trace += f"，已获{format_money(received)}，上限{format_money(cap)}剩余{format_money(room)}" + (
            f"，按剩余额度计{format_money(room)}" if raw > room else "，未超过剩余额度"
        )
    else:
        amount, cap_text = _apply_cap(raw, cap, "上限")
        trace += cap_text
    trace += f"，{rule.payout}{'不超过' if rule.is_fee else ''}{format_money(amount)}"
    if formula.staged_share is not None:
        staged = _cents(amount * formula.staged_share)
        trace += (
            f"（其中{format_quantity(formula.staged_share, 'percent')}即{format_money(staged)}{formula.staged_when}）"
        )
    if formula.period_years is not None:
        trace += f"；补助期{format_quantity(formula.period_years, 'years')}，以上为一个年度的金额"
    return _Outcome(amount=amount, trace=trace, assumptions=assumptions)


def _apply_cap(raw: Decimal, cap: Decimal | None, word: str) -> tuple[Decimal, str]:
    if cap is None:
        return raw, ""
    if raw > cap:
        return cap, f"，超过{word}{format_money(cap)}，按{word}计{format_money(cap)}"
    if raw == cap:
        return cap, f"，恰好达到{word}{format_money(cap)}"
    return raw, f"，未超过{word}{format_money(cap)}"


def _tiers(rule: Rule, values: Mapping[str, Any]) -> _Outcome:
    formula = rule.formula
    needed = list(dict.fromkeys([*formula.base, *(spec.slot for tier in formula.tiers for spec in tier.when)]))
    absent = [name for name in needed if name not in values]

    def fails(spec: ConditionSpec) -> bool:
        return spec.slot in values and not _holds(spec, values[spec.slot])

    # A known figure can rule out every tier whatever the unknown ones are (估值2.5亿 is below the lowest tier's
    # 超过3亿 whatever the revenue): not eligible, nothing to ask.
    every_tier_fails = all(any(fails(spec) for spec in tier.when) for tier in formula.tiers)
    if absent and not every_tier_fails:
        return _Outcome(missing_slots=absent)
    reached = None
    for tier in formula.tiers:
        if all(spec.slot in values and _holds(spec, values[spec.slot]) for spec in tier.when):
            reached = tier
    if reached is None:
        lowest = formula.tiers[0]
        failing = [spec for spec in lowest.when if fails(spec)]
        return _Outcome(
            conditions=[
                Condition(
                    f"{spec.label}（{lowest.label}）",
                    UNMET,
                    _need_actual(rule, spec, values),
                )
                for spec in failing
            ]
        )
    tests = "且".join(
        f"{spec.label}{_value_text(rule.input(spec.slot), values[spec.slot])}（{_need_text(rule, spec, values)}）"
        for spec in reached.when
    )
    met = [
        Condition(
            spec.label,
            MET,
            f"需要 {_need_text(rule, spec, values)}，实际 {_value_text(rule.input(spec.slot), values[spec.slot])}",
        )
        for spec in reached.when
    ]
    if reached.rate is not None:
        base = sum((values[name] for name in formula.base), Decimal(0))
        raw = _cents(base * reached.rate)
        amount, cap_text = _apply_cap(raw, formula.cap, "上限")
        trace = (
            f"{tests}，达到{reached.label}，按{format_quantity(reached.rate, 'percent')}计："
            f"{format_money(base)} × {format_quantity(reached.rate, 'percent')} = {format_money(raw)}{cap_text}"
            f"，{rule.payout}{format_money(amount)}"
        )
        return _Outcome(amount=amount, trace=trace, conditions=met)
    amount = reached.amount  # type: ignore[assignment]
    trace = f"{tests}，达到{reached.label}，{rule.payout}{format_money(amount)}"
    if formula.top_up and formula.top_up in values and values[formula.top_up] > 0:
        previous = values[formula.top_up]
        difference = amount - previous
        if difference <= 0:
            label = rule.input(formula.top_up).label
            return _Outcome(
                conditions=[
                    *met,
                    Condition(
                        "晋档补差",
                        UNMET,
                        f"需要 本档奖励{format_money(amount)}高于{label}，实际 已获{format_money(previous)}",
                    ),
                ]
            )
        trace += (
            f"；已获{format_money(previous)}，晋档补差"
            f"{format_money(amount)} − {format_money(previous)} = {format_money(difference)}"
        )
        amount = difference
    return _Outcome(amount=amount, trace=trace, conditions=met)


def _schedule(rule: Rule, values: Mapping[str, Any]) -> _Outcome:
    formula = rule.formula
    base_name = formula.base[0]
    if base_name not in values:
        return _Outcome(missing_slots=[base_name])
    annual: Decimal = values[base_name]
    label = rule.input(base_name).label
    if annual <= 0:
        return _Outcome(conditions=[Condition(label, UNMET, f"需要 >0元，实际 {format_money(annual)}")])
    total_years = sum((segment.years for segment in formula.segments), Decimal(0))
    assumptions: list[str] = []
    parts: list[str] = []
    eligible = annual
    if formula.area_slot is not None and formula.area_cap is not None:
        area = values.get(formula.area_slot)
        cap_text = format_quantity(formula.area_cap, "area")
        if area is None:
            assumptions.append(f"按承租面积不超过{cap_text}计算（原则上补助面积最高不超过{cap_text}）")
        elif area <= 0:
            area_label = rule.input(formula.area_slot).label
            return _Outcome(
                conditions=[Condition(area_label, UNMET, f"需要 >0㎡，实际 {format_quantity(area, 'area')}")]
            )
        elif area > formula.area_cap:
            eligible = _cents(annual * formula.area_cap / area)
            parts.append(
                f"承租面积{format_quantity(area, 'area')}超过补助面积上限{cap_text}，按比例折算："
                f"{format_money(annual)} × {_plain_number(formula.area_cap)}/{_plain_number(area)}"
                f" = {format_money(eligible)}/年；"
            )
    first = Decimal(1)
    start_slot = formula.start_year_slot
    if start_slot is not None and start_slot in values:
        first = values[start_slot]
        if first < 1 or first != first.to_integral_value() or first > total_years:
            return _Outcome(
                conditions=[
                    Condition(
                        rule.input(start_slot).label,
                        UNMET,
                        f"需要 第1—{_plain_number(total_years)}年，实际 第{_plain_number(first)}年",
                    )
                ]
            )
    available = total_years - first + 1
    if formula.years_slot is not None and formula.years_slot in values:
        years = values[formula.years_slot]
        if years <= 0:
            years_label = rule.input(formula.years_slot).label
            return _Outcome(
                conditions=[Condition(years_label, UNMET, f"需要 >0年，实际 {format_quantity(years, 'years')}")]
            )
        if years > available:
            if first == 1:
                assumptions.append(
                    f"补助期最长{format_quantity(total_years, 'years')}，按{format_quantity(total_years, 'years')}计算"
                )
            else:
                assumptions.append(
                    f"补助期最长{format_quantity(total_years, 'years')}，按{_year_span(first, total_years)}计算"
                )
            years = available
    elif start_slot is not None and start_slot in values:
        years = Decimal(1)  # "第三年": that year alone
    else:
        years = total_years
        assumptions.append(f"按完整补助期{format_quantity(total_years, 'years')}计算")
    last = first + years - 1
    segment_start = Decimal(1)
    subtotal = Decimal(0)
    before = Decimal(0)  # paid in the years before the window (for a cumulative cap)
    pieces = []
    for segment in formula.segments:
        segment_end = segment_start + segment.years - 1
        earlier = min(segment_end, first - 1) - segment_start + 1
        if earlier > 0:
            before += _cents(eligible * segment.rate * earlier)
        low, high = max(segment_start, first), min(segment_end, last)
        segment_start = segment_end + 1
        if high < low:
            continue
        span = high - low + 1
        part = _cents(eligible * segment.rate * span)
        when = _year_span(low, high)
        if len(formula.segments) == 1 and first == 1:
            when = ""
        rate = f"{format_money(eligible)}/年 × {format_quantity(segment.rate, 'percent')}"
        if span > 1:  # the yearly amount shown too: "每年能补多少？三年一共多少？" reads both
            rate += f" = {format_money(_cents(eligible * segment.rate))}/年"
        pieces.append(f"{when}{'：' if when else ''}{rate} × {format_quantity(span, 'years')} = {format_money(part)}")
        subtotal += part
    trace = "".join(parts) + "；".join(pieces)
    if len(pieces) > 1:
        trace += f"；合计{format_money(subtotal)}"
    if formula.cap is not None and first > 1:
        paid = min(before, formula.cap)
        room = formula.cap - paid
        earlier_span = _year_span(Decimal(1), first - 1)
        if room <= 0:
            return _Outcome(
                conditions=[
                    Condition(
                        "累计补助上限",
                        UNMET,
                        f"需要 累计不超过{format_money(formula.cap)}，实际 {earlier_span}已补助{format_money(paid)}",
                    )
                ]
            )
        if subtotal > room:
            amount = room
            cap_text = (
                f"，{earlier_span}已补助{format_money(paid)}，累计上限{format_money(formula.cap)}，"
                f"按剩余额度计{format_money(room)}"
            )
        else:
            amount = subtotal
            cap_text = f"，连同{earlier_span}的{format_money(paid)}未超过累计上限{format_money(formula.cap)}"
    else:
        amount, cap_text = _apply_cap(subtotal, formula.cap, "累计上限")
    trace += f"{cap_text}，{rule.payout}{format_money(amount)}"
    return _Outcome(amount=amount, trace=trace, assumptions=assumptions)


def _year_span(first: Decimal, last: Decimal) -> str:
    """第3年 or 第1—2年."""
    if last <= first:
        return f"第{_plain_number(first)}年"
    return f"第{_plain_number(first)}—{_plain_number(last)}年"


def _per_unit(rule: Rule, values: Mapping[str, Any]) -> _Outcome:
    formula = rule.formula
    count_slot: str = formula.count_slot  # type: ignore[assignment]
    if count_slot not in values:
        return _Outcome(missing_slots=[count_slot])
    count = values[count_slot]
    if count <= 0:
        return _Outcome(
            conditions=[Condition(rule.input(count_slot).label, UNMET, f"需要 ≥1家，实际 {_plain_number(count)}家")]
        )
    raw = count * formula.unit_amount  # type: ignore[operator]
    amount, cap_text = _apply_cap(raw, formula.cap, "上限")
    trace = f"{_plain_number(count)}家 × {format_money(formula.unit_amount)} = {format_money(raw)}{cap_text}"  # type: ignore[arg-type]
    trace += f"，{rule.payout}{'最高' if rule.is_maximum else ''}{format_money(amount)}"
    return _Outcome(amount=amount, trace=trace)


def _options(rule: Rule, values: Mapping[str, Any]) -> _Outcome:
    formula = rule.formula
    slot = rule.input(formula.option_slot)  # type: ignore[arg-type]
    value = values.get(slot.name)
    assumptions: list[str] = []
    if value is None and formula.default_option is None:
        alternatives = []
        for choice in formula.choices:
            result = _one_choice(rule, slot, choice, values)
            if result.amount is not None:
                alternatives.append((f"若为{_choice_label(slot, choice.key, choice.label)}", result.amount))
        missing = [slot.name] + [name for name in formula.base if name not in values]
        return _Outcome(missing_slots=missing, alternatives=alternatives)
    if value is None:
        keys = [formula.default_option]
        assumptions.append(formula.default_assumption)
    elif slot.kind == "flag":
        keys = ["yes" if value else "no"]
    else:
        keys = sorted(value)
    chosen = [choice for choice in (formula.choice(key) for key in keys if key) if choice is not None]
    if not chosen:
        need = "或".join(_choice_label(slot, choice.key, choice.label) for choice in formula.choices)
        return _Outcome(conditions=[Condition(slot.label, UNMET, f"需要 {need}，实际 {_value_text(slot, value)}")])
    results = [(choice, _one_choice(rule, slot, choice, values)) for choice in chosen]
    choice, result = max(results, key=lambda item: item[1].amount if item[1].amount is not None else Decimal(-1))
    result.assumptions[:0] = assumptions
    if value is None and result.amount is not None:
        for other in formula.choices:
            if other.key == choice.key:
                continue
            alternative = _one_choice(rule, slot, other, values)
            if alternative.amount is not None:
                result.alternatives.append((f"若为{_choice_label(slot, other.key, other.label)}", alternative.amount))
    return result


def _one_choice(rule: Rule, slot: Slot, choice: Any, values: Mapping[str, Any]) -> _Outcome:
    label = _choice_label(slot, choice.key, choice.label)
    if choice.rate is not None:
        result = _rate(rule, values, choice.rate, choice.cap if choice.cap is not None else rule.formula.cap)
        if result.amount is not None:
            result.trace = f"{label}：{result.trace}"
        return result
    if choice.amount_min is not None:
        top = format_money(choice.amount)
        trace = f"{label}：{rule.payout}{format_money(choice.amount_min)}—{top}，最高{top}"
        return _Outcome(amount=choice.amount, amount_min=choice.amount_min, is_range=True, trace=trace)
    prefix = "最高" if rule.is_maximum else ""
    return _Outcome(amount=choice.amount, trace=f"{label}：{rule.payout}{prefix}{format_money(choice.amount)}")


def _choice_label(slot: Slot, key: str, label: str = "") -> str:
    return label or _option_label(slot, key)


def _choice_award(rule: Rule, choice: Any) -> str:
    if choice.rate is not None:
        cap = choice.cap if choice.cap is not None else rule.formula.cap
        base = "与".join(rule.input(name).label for name in rule.formula.base)
        text = f"按{base}的{format_quantity(choice.rate, 'percent')}"
        return text + (f"，最高{format_money(cap)}" if cap is not None else "")
    if choice.amount_min is not None:
        return f"{format_money(choice.amount_min)}—{format_money(choice.amount)}"
    return f"{'最高' if rule.is_maximum else ''}{format_money(choice.amount)}"


# ----------------------------------------------------------------------------- presentation


def _lead_sentence(calc: Calculation, language: str) -> str:
    if language == "en":
        lead = _lead_sentence_en(calc)
        return f"If the company is in {calc.premise.removeprefix('若位于')}: {lead}" if _premised(calc) else lead
    lead = _lead_sentence_zh(calc)
    return f"{calc.premise}，{lead}" if _premised(calc) else lead


def _premised(calc: Calculation) -> bool:
    return bool(calc.premise) and calc.status == "eligible"


def _lead_sentence_zh(calc: Calculation) -> str:
    labels = calc.article_labels
    where = f"（{labels}，{calc.rule_name}）"
    if calc.status == "incomplete":
        if calc.errors:
            return f"输入有误，暂无法计算{calc.rule_name}（{labels}）。"
        return f"计算{calc.rule_name}（{labels}）还需要补充信息。"
    amount: Decimal = calc.amount_yuan  # type: ignore[assignment]
    if calc.status == "ineligible":
        unmet = [c for c in calc.conditions if c.status == UNMET]
        reasons = "；".join(f"{c.name}{c.detail}" for c in unmet)
        return f"不符合{calc.rule_name}（{labels}）的条件：{reasons}。"
    every = ("合计" if calc.parts else "") + ("每年" if calc.per_year else "")
    if calc.is_fee:
        return f"{calc.payout}{every}最高为{format_money(amount)}{where}。"
    if calc.amount_min_yuan is not None:
        return (
            f"{every}最高可获{format_money(amount)}{calc.payout}"
            f"（标准为{format_money_range(calc.amount_min_yuan, amount)}）{where}。"
        )
    if calc.is_maximum:
        return f"{every}最高可获{format_money(amount)}{calc.payout}{where}。"
    return f"{every}可获{format_money(amount)}{calc.payout}{where}。"


def _lead_sentence_en(calc: Calculation) -> str:
    numbers = " and ".join(str(int(article[1:])) for article in (calc.articles or (calc.article,)))
    article = f"Article{'s' if len(calc.articles) > 1 else ''} {numbers} ({calc.article_labels}, {calc.rule_name})"
    if calc.status == "incomplete":
        if calc.errors:
            return f"Some inputs are invalid, so {article} cannot be calculated yet."
        return f"More information is needed to calculate the amount under {article}."
    amount: Decimal = calc.amount_yuan  # type: ignore[assignment]
    money = f"{format_money_en(amount)} ({format_money(amount)})"
    every = (" in total" if calc.parts else "") + (" per year" if calc.per_year else "")
    if calc.status == "ineligible":
        return f"Not eligible under {article}; see the unmet conditions below."
    if calc.is_fee:
        return f"The fee is at most {money}{every} under {article}."
    if calc.amount_min_yuan is not None:
        low = calc.amount_min_yuan
        return (
            f"{format_money_en(low)} to {format_money_en(amount)} ({format_money_range(low, amount)}){every}"
            f" under {article}."
        )
    if calc.is_maximum:
        return f"Up to {money}{every} under {article}."
    return f"{money}{every} under {article}."


def _amount_phrase(calc: Calculation, amount: Decimal) -> str:
    if amount <= 0:
        return "不符合条件"
    if calc.is_fee:
        return f"{calc.payout}最高为{format_money(amount)}"
    return f"{'最高' if calc.is_maximum else ''}{format_money(amount)}"


def _cents(value: Decimal) -> Decimal:
    """Round down to the cent: an award ceiling is never rounded up."""
    return tidy(value.quantize(CENT, rounding=ROUND_DOWN))


def _plain_number(value: Decimal) -> str:
    return f"{tidy(value):f}"


def _number(value: Decimal | None) -> int | float | None:
    if value is None:
        return None
    try:
        return int(value) if value == value.to_integral_value() else float(value)
    except (InvalidOperation, OverflowError, ValueError):  # pragma: no cover - values are bounded by LIMITS
        return None
