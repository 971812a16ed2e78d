"""Enterprise policy matcher (政策计算器): list every rule an enterprise profile may qualify for, with amounts.

A profile is a flat mapping documented in knowledge/examples/profile.example.json: keys are slot names of
knowledge/awards.yaml (location, industry, scale, rd_spend, annual_rent, ...), a few rule-specific keys
(robot_purchase_imported, export_credit_premium, ...; see each rule's `profile`), `recognitions` (events of
this year: 首次认定高新技术企业, 省重点文化企业, a rule id, or "rule-id:option") and optional
`revenue_history` ({"2021": 2000万元, ...}) from which the growth figures are derived.
Every amount comes from `calculate`; the matcher only decides which rules are relevant and adds them up.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from assistant.amounts import format_money, parse_quantity
from assistant.calculator import UNKNOWN, UNMET, Calculation, calculate
from assistant.rules import Rule

KEY_ALIASES = {"rd_spend_this_year": "rd_spend", "rent": "annual_rent", "rent_area": "area", "company": "name"}
SPECIAL_KEYS = ("name", "recognitions", "revenue_history", "investments")
PLACE_SLOT = "location"  # place-specific rules (紫金港/云栖) are listed only for a profile that states its location
MIN_RECOGNITION_ALIAS = 4  # "国家级" alone is too vague to name a recognition; "国家级博士后工作站" is not


@dataclass(frozen=True)
class MatchItem:
    """One rule the profile may qualify for."""

    rule_id: str
    rule_name: str
    article: str
    article_label: str
    status: str  # eligible | possible (information missing) | ineligible
    amount_yuan: Decimal | None
    counted_yuan: Decimal  # what goes into the total (0 when not counted: exclusive variant, shared cap)
    is_maximum: bool
    unmet: tuple[str, ...]
    unknown: tuple[str, ...]
    assumptions: tuple[str, ...]
    calculation: Calculation
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "rule_name": self.rule_name,
            "article": self.article,
            "article_label": self.article_label,
            "status": self.status,
            "amount_yuan": _number(self.amount_yuan),
            "counted_yuan": _number(self.counted_yuan),
            "is_maximum": self.is_maximum,
            "unmet": list(self.unmet),
            "unknown": list(self.unknown),
            "assumptions": list(self.assumptions),
            "note": self.note,
            "calculation": self.calculation.to_dict(),
        }


@dataclass(frozen=True)
class MatchResult:
    """All matches for one profile: eligible first, then possible, then ineligible; `total_yuan` adds eligible ones."""

    profile_name: str
    items: tuple[MatchItem, ...]
    total_yuan: Decimal
    notes: tuple[str, ...] = ()

    @property
    def eligible(self) -> tuple[MatchItem, ...]:
        return tuple(item for item in self.items if item.status == "eligible")

    def to_dict(self) -> dict[str, Any]:
        return {
            "profile_name": self.profile_name,
            "total_yuan": _number(self.total_yuan),
            "total_text": format_money(self.total_yuan),
            "items": [item.to_dict() for item in self.items],
            "notes": list(self.notes),
        }


def match_profile(profile: Mapping[str, Any], rules: Sequence[Rule]) -> MatchResult:
    """Evaluate every relevant rule for the profile; never raises on bad values (they become notes)."""
    facts, notes = normalize_profile(profile, rules)
    recognitions = {str(item).strip().lower() for item in _as_list(profile.get("recognitions"))}
    items: list[MatchItem] = []
    skipped_for_location = False
    for rule in rules:
        inputs = _inputs_for(rule, facts, recognitions)
        triggered = _triggered(rule, recognitions)
        if not _relevant(rule, inputs, triggered):
            continue
        if any(spec.slot == PLACE_SLOT and spec.scope and PLACE_SLOT not in inputs for spec in rule.conditions):
            skipped_for_location = True
            continue
        calc = calculate(rule, inputs)
        if _scope_excluded(rule, calc):
            continue
        items.append(_item(calc, rule))
    if skipped_for_location:
        notes.append("未填写所在区域（location），紫金港科技城、云栖小镇的专项政策未列入；填写后可一并测算。")
    items, group_notes = _settle_groups(items, rules)
    order = {"eligible": 0, "possible": 1, "ineligible": 2}
    items.sort(key=lambda item: (order[item.status], -(item.counted_yuan or 0), item.article_label))
    total = sum((item.counted_yuan for item in items if item.status == "eligible"), Decimal(0))
    name = str(profile.get("name") or profile.get("company") or "（未命名企业）")
    return MatchResult(profile_name=name, items=tuple(items), total_yuan=total, notes=tuple(notes + group_notes))


def format_match(result: MatchResult) -> str:
    """The match as Chinese text: eligible items with amounts and the total, possible items with what to
    confirm, ineligible items with the unmet condition, then notes."""
    lines = [f"政策匹配结果：{result.profile_name}"]
    eligible = [item for item in result.items if item.status == "eligible"]
    possible = [item for item in result.items if item.status == "possible"]
    ineligible = [item for item in result.items if item.status == "ineligible"]
    if eligible:
        lines.append(f"可申报（{len(eligible)}项，合计约{format_money(result.total_yuan)}）：")
        for number, item in enumerate(eligible, 1):
            amount = format_money(item.amount_yuan)  # type: ignore[arg-type]
            prefix = "最高" if item.is_maximum else ""
            lines.append(f"{number}. {item.article_label} {item.rule_name}：{prefix}{amount}")
            if item.calculation.trace:
                lines.append(f"   计算：{item.calculation.trace}")
            if item.assumptions:
                lines.append(f"   假设：{'；'.join(item.assumptions)}")
            if item.note:
                lines.append(f"   说明：{item.note}")
    else:
        lines.append("暂未匹配到可确定金额的政策。")
    if possible:
        lines.append("可能符合（需补充信息）：")
        for item in possible:
            detail = "；".join(item.calculation.missing[:2]) or "；".join(item.unknown)
            alternatives = "；".join(f"{d}：{format_money(a)}" for d, a in item.calculation.alternatives[:2])
            text = f"- {item.article_label} {item.rule_name}：{detail}"
            lines.append(text + (f"（{alternatives}）" if alternatives else ""))
    if ineligible:
        lines.append("不符合：")
        for item in ineligible:
            lines.append(f"- {item.article_label} {item.rule_name}：{'；'.join(item.unmet)}")
    for note in result.notes:
        lines.append(f"注：{note}")
    lines.append("以上为按政策条款测算的估算，标“最高”的为上限，最终以主管部门审核为准。")
    return "\n".join(lines)


def run_match_command(profile_path: Path, rules: Sequence[Rule]) -> tuple[int, str]:
    """`python -m assistant match profile.json`: (exit code, text). 2 when the file is missing or not a JSON object."""
    try:
        profile = json.loads(Path(profile_path).read_text(encoding="utf-8"))
    except OSError as error:
        return 2, f"无法读取企业画像文件 {profile_path}：{error.strerror or error}"
    except json.JSONDecodeError as error:
        return 2, f"企业画像文件 {profile_path} 不是有效的 JSON（第{error.lineno}行第{error.colno}列）：{error.msg}"
    if not isinstance(profile, dict):
        return 2, f"企业画像文件 {profile_path} 应为一个 JSON 对象（键为字段名）。"
    return 0, format_match(match_profile(profile, rules))


def normalize_profile(profile: Mapping[str, Any], rules: Sequence[Rule]) -> tuple[dict[str, Any], list[str]]:
    """Profile keys resolved to slot names (aliases, `investments` flattened, growth derived from
    `revenue_history`); unknown keys are reported in the notes and ignored."""
    known_slots = {slot.name for rule in rules for slot in rule.inputs}
    mapped_keys = {key for rule in rules for _, key in rule.profile_inputs if not key.startswith("=")}
    facts: dict[str, Any] = {}
    notes: list[str] = []
    flat: dict[str, Any] = {}
    for key, value in profile.items():
        if key == "investments" and isinstance(value, Mapping):
            flat.update({str(k): v for k, v in value.items()})
        else:
            flat[str(key)] = value
    ignored = []
    for key, value in flat.items():
        if key.startswith("_") or key in SPECIAL_KEYS:
            continue
        name = KEY_ALIASES.get(key, key)
        if name in known_slots or name in mapped_keys:
            facts[name] = value
        else:
            ignored.append(key)
    if ignored:
        notes.append("未识别的字段（已忽略）：" + "、".join(ignored))
    history = profile.get("revenue_history")
    if isinstance(history, Mapping) and history:
        derived, problem = _growth_from_history(history)
        for key, value in derived.items():
            facts.setdefault(key, value)
        if problem:
            notes.append(problem)
    return facts, notes


# ----------------------------------------------------------------------------- relevance


def _inputs_for(rule: Rule, facts: Mapping[str, Any], recognitions: set[str]) -> dict[str, Any]:
    mapped = dict(rule.profile_inputs)
    inputs: dict[str, Any] = {}
    for slot in rule.inputs:
        if slot.name in mapped:
            key = mapped[slot.name]
            if key.startswith("="):
                inputs[slot.name] = key[1:]
            elif key in facts:
                inputs[slot.name] = facts[key]
        elif slot.name in facts:
            inputs[slot.name] = facts[slot.name]
        if slot.kind == "choice" and slot.recognition and slot.name not in inputs:
            keys = _recognized_options(rule, slot, recognitions)
            if keys:
                inputs[slot.name] = keys
    return inputs


def _recognized_options(rule: Rule, slot: Any, recognitions: set[str]) -> list[str]:
    keys = []
    for option in slot.options:
        names = {option.label.lower()} | {
            alias.lower() for alias in option.aliases if len(alias) >= MIN_RECOGNITION_ALIAS
        }
        names.add(f"{rule.id}:{option.key}")
        if names & recognitions:
            keys.append(option.key)
    return keys


def _triggered(rule: Rule, recognitions: set[str]) -> bool:
    return rule.id in recognitions or any(event.lower() in recognitions for event in rule.events)


def _relevant(rule: Rule, inputs: Mapping[str, Any], triggered: bool) -> bool:
    """Worth listing: a recognition names it, or the profile holds what its formula needs (or, for a fixed
    award behind a threshold, the thresholded facts and its scope facts)."""
    if triggered:
        return True
    if rule.event_only:
        return False

    def known(name: str) -> bool:
        sources = rule.input(name).derive_minus
        return name in inputs or (sources is not None and all(source in inputs for source in sources))

    formula = rule.formula
    if formula.kind == "options":
        return formula.option_slot in inputs and all(known(name) for name in formula.base)
    if formula.kind == "rate" and len(formula.base) > 1:
        return any(known(name) for name in formula.base)
    if rule.base_slots:
        return all(known(name) for name in rule.base_slots)
    thresholds = [spec for spec in rule.conditions if not spec.scope and not spec.assume]
    scopes = [spec for spec in rule.conditions if spec.scope and not spec.assume]
    return bool(thresholds) and all(known(spec.slot) for spec in thresholds + scopes)


def _scope_excluded(rule: Rule, calc: Calculation) -> bool:
    """A known scope fact that contradicts the rule (云栖 vs 紫金港, 汽车销售 vs 零售) means it is not for this firm."""
    scope_labels = {spec.label for spec in rule.conditions if spec.scope}
    return any(condition.status == UNMET and condition.name in scope_labels for condition in calc.conditions)


def _item(calc: Calculation, rule: Rule) -> MatchItem:
    status = {"eligible": "eligible", "incomplete": "possible", "ineligible": "ineligible"}[calc.status]
    unmet = tuple(f"{c.name}{c.detail}" for c in calc.conditions if c.status == UNMET)
    unknown = tuple(c.name for c in calc.conditions if c.status == UNKNOWN)
    amount = calc.amount_yuan
    return MatchItem(
        rule_id=rule.id,
        rule_name=rule.name,
        article=rule.article,
        article_label=rule.article_label,
        status=status,
        amount_yuan=amount,
        counted_yuan=amount if status == "eligible" and amount is not None else Decimal(0),
        is_maximum=calc.is_maximum,
        unmet=unmet,
        unknown=unknown,
        assumptions=calc.assumptions,
        calculation=calc,
    )


def _settle_groups(items: list[MatchItem], rules: Sequence[Rule]) -> tuple[list[MatchItem], list[str]]:
    """Variants of one award (same group, no shared cap) count once: the highest; rules sharing a cap_group
    add up to the cap."""
    by_id = {rule.id: rule for rule in rules}
    notes: list[str] = []
    settled_groups = {
        by_id[item.rule_id].group for item in items if item.status == "eligible" and not by_id[item.rule_id].cap_group
    }
    # A variant that does not apply says nothing once another variant of the same award does; when none
    # applies, the first one (in file order) is enough to say why.
    result = []
    explained: set[str] = set()
    for item in items:
        group = by_id[item.rule_id].group
        if group and item.status != "eligible" and not by_id[item.rule_id].cap_group:
            if group in settled_groups or group in explained:
                continue
            explained.add(group)
        result.append(item)
    groups: dict[str, list[int]] = {}
    for index, item in enumerate(result):
        rule = by_id[item.rule_id]
        if rule.group and not rule.cap_group and item.status == "eligible":
            groups.setdefault(rule.group, []).append(index)
    for indices in groups.values():
        if len(indices) < 2:
            continue
        best = max(indices, key=lambda i: (len(result[i].assumptions) == 0, result[i].amount_yuan or 0))
        for index in indices:
            if index != best:
                kept = result[best]
                result[index] = _replace(
                    result[index], counted_yuan=Decimal(0), note=f"与“{kept.rule_name}”只能享受其一，合计按金额较高者计"
                )
    caps: dict[str, list[int]] = {}
    for index, item in enumerate(result):
        rule = by_id[item.rule_id]
        if rule.cap_group and item.status == "eligible":
            caps.setdefault(rule.cap_group, []).append(index)
    for indices in caps.values():
        caps_of_group = [by_id[result[i].rule_id].formula.cap for i in indices]
        cap = min((value for value in caps_of_group if value is not None), default=None)
        if cap is None or len(indices) < 2:
            continue
        used = Decimal(0)
        for index in indices:
            counted = min(result[index].counted_yuan, max(cap - used, Decimal(0)))
            if counted != result[index].counted_yuan:
                result[index] = _replace(
                    result[index],
                    counted_yuan=counted,
                    note=f"与同组资助合计不超过{format_money(cap)}，计入{format_money(counted)}",
                )
            used += counted
        if used >= cap:
            notes.append(f"{'、'.join(result[i].rule_name for i in indices)}合计不超过{format_money(cap)}。")
    return result, notes


def _replace(item: MatchItem, **changes: Any) -> MatchItem:
    return replace(item, **changes)


# ----------------------------------------------------------------------------- derived facts


def _growth_from_history(history: Mapping[Any, Any]) -> tuple[dict[str, Decimal], str]:
    """From {year: revenue}: the latest year's growth, the 3-year compound growth and the number of
    consecutive years of positive growth ending with the latest year."""
    series: list[tuple[int, Decimal]] = []
    for year, raw in history.items():
        try:
            value = _money(raw)
            series.append((int(str(year)[:4]), value))
        except (ValueError, InvalidOperation):
            return {}, f"revenue_history 中 {year} 年的数值“{raw}”无法识别，已忽略增长率推算。"
    series.sort()
    if len(series) < 2:
        return {}, ""
    derived: dict[str, Decimal] = {}
    latest_year, latest = series[-1]
    derived["revenue"] = latest
    previous = series[-2][1]
    if previous > 0:
        derived["revenue_growth_latest"] = (latest - previous) / previous
    positive = 0
    for (_, earlier), (_, later) in zip(reversed(series[:-1]), reversed(series[1:]), strict=True):
        if later > earlier:
            positive += 1
        else:
            break
    derived["revenue_positive_growth_years"] = Decimal(positive)
    base = dict(series).get(latest_year - 3)
    if base is not None and base > 0 and latest > 0:
        ratio = float(latest / base)
        derived["revenue_cagr_3y"] = Decimal(str(round(ratio ** (1 / 3) - 1, 6)))
    return derived, ""


def _money(raw: Any) -> Decimal:
    if isinstance(raw, bool):
        raise ValueError("not a number")
    if isinstance(raw, (int, float, Decimal)):
        return Decimal(str(raw))
    parsed = parse_quantity(str(raw))
    if parsed is None or parsed.kind not in ("money", "number"):
        raise ValueError("not money")
    return parsed.value


def _as_list(raw: Any) -> list[Any]:
    if raw is None:
        return []
    if isinstance(raw, (list, tuple, set)):
        return list(raw)
    return [raw]


def _number(value: Decimal | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)
