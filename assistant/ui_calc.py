"""The 奖补计算 tab's forms: field labels with units, the check for a bare number far from the clause's scale,
and the enterprise matcher's form (checkboxes and amounts) turned into a matcher profile.

Labels, units and options come from the rules (knowledge/awards.yaml through assistant/rules.py) and from
the documented example profile (knowledge/examples/profile.example.json); nothing here computes an award.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

UNIT_HINTS = {
    "money": "单位：元，可写“800万元”",
    "percent": "单位：%，如 30",
    "area": "单位：平方米",
    "years": "单位：年",
    "days": "单位：日",
    "weight": "单位：吨",
    "count": "单位：家/个",
}
BARE_NUMBER = re.compile(r"(\d+(?:\.\d+)?)")  # matched whole against the stripped value
WAN = Decimal(10_000)  # 1万元: a clause whose sums are all 万元 or more reads a bare "1200" as probably 1200万元
# The matcher form: which facts it asks for, in this order (all are keys of the documented example profile).
PROFILE_FLAGS = ("is_manufacturer", "above_designated_size", "newly_registered")
PROFILE_AMOUNTS = (
    "years_since_registration",
    "revenue",
    "rd_spend",
    "rd_spend_last_year",
    "tech_renovation_investment",
    "robot_purchase_imported",
    "robot_purchase_domestic",
    "annual_rent",
    "area",
    "export_credit_premium",
    "retail_sales",
)
PROFILE_CHOICES = ("location", "scale")


def field_label(slot: Any) -> str:
    """A form field's label with its unit: 年度研发投入新增额（单位：元，可写“800万元”）."""
    hint = UNIT_HINTS.get(slot.kind, f"单位：{slot.unit}" if slot.unit else "")
    return f"{slot.label}（{hint}）" if hint else slot.label


def scale_question(rule: Any, slot: Any, value: str) -> str | None:
    """A question when a money field holds a bare number under 1万 while every sum of the clause is 万元 or more
    ("1200" where the thresholds are 200万元): 是1200元还是1200万元？ None when the value is fine to compute with."""
    if slot.kind != "money":
        return None
    bare = BARE_NUMBER.fullmatch(str(value).strip())
    if bare is None:
        return None
    sums = [amount for kind, amount in rule.parameters() if kind == "money" and amount > 0]
    try:
        number = Decimal(bare.group(1))
    except InvalidOperation:
        return None
    if not sums or min(sums) < WAN or number >= WAN:
        return None
    shown = bare.group(1)
    return f"“{slot.label}”填的是{shown}元还是{shown}万元？请写上单位，例如“{shown}万元”。"


# The rule form is a fixed pool of fields per kind, relabelled and emptied whenever the rule changes (a form
# re-rendered per rule kept the previous rule's values in the fields at the same places).
FIELD_GROUPS = ("choice", "flag", "number")


def field_group(slot: Any) -> str:
    return slot.kind if slot.kind in ("choice", "flag") else "number"


def pool_sizes(rules: Sequence[Any]) -> dict[str, int]:
    """How many fields of each group the form needs: the most any rule asks for."""
    return {
        group: max((sum(1 for slot in rule.inputs if field_group(slot) == group) for rule in rules), default=0)
        for group in FIELD_GROUPS
    }


def _slots_by_group(rule: Any) -> dict[str, list[Any]]:
    return {group: [slot for slot in rule.inputs if field_group(slot) == group] for group in FIELD_GROUPS}


def field_updates(rule: Any | None, sizes: Mapping[str, int]) -> list[dict[str, Any]]:
    """One property update per pool field (choices, then flags, then numbers): the rule's slot with its label,
    unit, question and an empty value, or hidden and empty when the rule has no slot there."""
    slots = _slots_by_group(rule) if rule is not None else {group: [] for group in FIELD_GROUPS}
    updates: list[dict[str, Any]] = []
    for group in FIELD_GROUPS:
        for index in range(sizes[group]):
            empty = "" if group == "number" else None
            if index >= len(slots[group]):
                updates.append({"visible": False, "value": empty})
                continue
            slot = slots[group][index]
            if group == "choice":
                choices = [(option.label, option.key) for option in slot.options]
                updates.append(
                    {"visible": True, "value": None, "label": slot.label, "info": slot.question, "choices": choices}
                )
            elif group == "flag":
                updates.append({"visible": True, "value": None, "label": slot.label, "info": slot.question})
            else:
                updates.append({"visible": True, "value": "", "label": field_label(slot), "placeholder": slot.question})
    return updates


def values_in_rule_order(rule: Any, values: Sequence[Any], sizes: Mapping[str, int]) -> list[Any]:
    """The pool's values (choices, flags, numbers) rearranged into the rule's slot order."""
    by_group: dict[str, list[Any]] = {}
    start = 0
    for group in FIELD_GROUPS:
        by_group[group] = list(values[start : start + sizes[group]])
        start += sizes[group]
    taken = {group: 0 for group in FIELD_GROUPS}
    ordered = []
    for slot in rule.inputs:
        group = field_group(slot)
        ordered.append(by_group[group][taken[group]] if taken[group] < len(by_group[group]) else None)
        taken[group] += 1
    return ordered


def form_inputs(rule: Any, values: Sequence[Any]) -> dict[str, Any]:
    """The calculator inputs of a filled form: one value per slot, in the rule's order; empty fields left out
    (flags arrive as 是/否)."""
    inputs: dict[str, Any] = {}
    for slot, value in zip(rule.inputs, values, strict=False):
        if value in (None, "", []):
            continue
        inputs[slot.name] = {"是": True, "否": False}.get(value, value) if slot.kind == "flag" else value
    return inputs


@dataclass(frozen=True)
class ProfileForm:
    """What the matcher form shows: options of the choice facts, the recognitions to tick, labels."""

    choices: dict[str, tuple[str, list[tuple[str, str]]]]  # key -> (label, [(option label, option key)])
    industries: list[tuple[str, str]]
    recognitions: list[str]
    flags: dict[str, str]  # key -> label
    amounts: dict[str, str]  # key -> label with unit
    aliases: dict[str, str]  # how a profile may name an option (科技型中小企业) -> the option key (sme)


def _doc_label(text: str) -> str:
    """The name part of a documented key: '年房租额；area 为承租面积（㎡）' -> '年房租额'."""
    return re.split(r"[（(；;：:]", text, maxsplit=1)[0].strip()


def profile_form(rules: Sequence[Any], documented: Mapping[str, str]) -> ProfileForm:
    """The matcher form from the rules' slots (labels, options, units) and the example profile's `_doc`
    (labels of keys that are not slots, such as robot_purchase_imported)."""
    slots: dict[str, Any] = {}
    recognitions: list[str] = []
    for rule in rules:
        for slot in rule.inputs:
            slots.setdefault(slot.name, slot)
            if slot.recognition:
                recognitions += [option.label for option in slot.options]
        recognitions += list(rule.events)

    def label(key: str) -> str:
        slot = slots.get(key)
        if slot is not None:
            return slot.label
        return _doc_label(documented.get(key, key))

    def amount_label(key: str) -> str:
        slot = slots.get(key)
        kind = slot.kind if slot is not None else "money"
        return f"{label(key)}（{UNIT_HINTS.get(kind, '')}）"

    choices = {
        key: (slots[key].label, [(option.label, option.key) for option in slots[key].options])
        for key in PROFILE_CHOICES
        if key in slots
    }
    industry = slots.get("industry")
    return ProfileForm(
        choices=choices,
        industries=[(option.label, option.key) for option in industry.options] if industry else [],
        recognitions=list(dict.fromkeys(recognitions)),
        flags={key: label(key) for key in PROFILE_FLAGS},
        amounts={key: amount_label(key) for key in PROFILE_AMOUNTS},
        aliases={
            alias: option.key
            for key in (*PROFILE_CHOICES, "industry")
            if key in slots
            for option in slots[key].options
            for alias in (option.label, option.key, *option.aliases)
        },
    )


def profile_from_form(
    form: ProfileForm, name: str, choices: Sequence[Any], industries: Sequence[str], flags: Sequence[str],
    recognitions: Sequence[str], amounts: Sequence[Any],
) -> dict[str, Any]:  # fmt: skip
    """The matcher profile of a filled form: only the facts given (a missing fact becomes a question)."""
    profile: dict[str, Any] = {"name": name.strip()} if name and name.strip() else {}
    for key, value in zip(form.choices, choices, strict=False):
        if value:
            profile[key] = value
    if industries:
        profile["industry"] = list(industries)
    for key in form.flags:
        if key in flags:
            profile[key] = True
    if recognitions:
        profile["recognitions"] = list(recognitions)
    for key, value in zip(form.amounts, amounts, strict=False):
        if value not in (None, "") and str(value).strip():
            profile[key] = str(value).strip()
    return profile


def form_defaults(form: ProfileForm, example: Mapping[str, Any]) -> dict[str, Any]:
    """The example profile's values placed in the form's fields (option labels are matched to their keys)."""

    def option_key(options: list[tuple[str, str]], value: Any) -> str | None:
        key = form.aliases.get(str(value))
        return key if key in {option for _, option in options} else None

    industries = example.get("industry") or []
    industries = [industries] if isinstance(industries, str) else industries
    return {
        "name": str(example.get("name", "")),
        "choices": [option_key(options, example.get(key)) for key, (_, options) in form.choices.items()],
        "industries": [k for k in (option_key(form.industries, i) for i in industries) if k],
        "flags": [key for key in form.flags if example.get(key) is True],
        "recognitions": [r for r in example.get("recognitions", []) if r in form.recognitions],
        "amounts": ["" if example.get(key) is None else str(example[key]) for key in form.amounts],
    }
