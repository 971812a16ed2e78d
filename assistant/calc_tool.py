"""The award calculator as a LangChain tool: a configured LLM calls the very same `calculate`.

The tool returns JSON text: `Calculation.to_dict()` plus "text" (format_calculation) — or, for an unknown
rule id, {"error": ..., "close_rule_ids": [...]}. It never raises on bad arguments.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, Field

from assistant.calculator import calculate, format_calculation
from assistant.rules import Rule, close_rule_ids
from assistant.vocabulary import notice_facts

TOOL_NAME = "xihu_award_calculator"

InputValue = str | int | float | bool | list[str]


class CalculatorArgs(BaseModel):
    """Arguments of the calculator tool."""

    rule_id: str = Field(description="Rule id from the list in the tool description, e.g. rd-subsidy-sme.")
    inputs: dict[str, InputValue] = Field(
        default_factory=dict,
        description=(
            "Rule inputs by name. Money as '1200万元' or a number in yuan; percent as '30%' (a bare number is "
            "percent points); years as '3年'; area as '2000平方米'; choices by option key or Chinese label; "
            "flags as true/false. Leave out what the user did not say: the result lists what is missing."
        ),
    )


def make_calculator_tool(rules: Sequence[Rule]) -> BaseTool:
    """A StructuredTool (args: rule_id, inputs) over `rules` that returns the calculation as JSON text."""
    by_id = {rule.id: rule for rule in rules}

    def run(rule_id: str, inputs: dict[str, Any] | None = None) -> str:
        rule = by_id.get(rule_id.strip())
        if rule is None:
            return json.dumps(
                {"error": f"未找到规则“{rule_id}”。", "close_rule_ids": close_rule_ids(rules, rule_id)},
                ensure_ascii=False,
            )
        calc = calculate(rule, inputs or {})
        return json.dumps({"text": format_calculation(calc), **calc.to_dict()}, ensure_ascii=False)

    return StructuredTool.from_function(
        func=run,
        name=TOOL_NAME,
        description=_description(rules),
        args_schema=CalculatorArgs,
    )


def _description(rules: Sequence[Rule]) -> str:
    facts = notice_facts()
    lines = [
        f"Exact award/subsidy amounts under {facts.region}{facts.title_quoted}({facts.year}). "
        "Never compute amounts yourself: call this tool and quote its 'text' (amount, trace, clause). "
        "Rules (id — article — name — inputs):"
    ]
    for rule in rules:
        inputs = ", ".join(_input_hint(slot) for slot in rule.inputs)
        lines.append(f"{rule.id} — {rule.article_label} — {rule.name} — {inputs or '无需输入'}")
    return "\n".join(lines)


def _input_hint(slot: Any) -> str:
    if slot.kind == "choice":
        return f"{slot.name}({'/'.join(option.key for option in slot.options)})"
    return f"{slot.name}({slot.unit or slot.kind})"
