"""The LangChain tool calls the very same calculator and never raises on bad arguments."""

from __future__ import annotations

import json

from langchain_core.tools import BaseTool

from assistant.calc_tool import TOOL_NAME, make_calculator_tool
from assistant.calculator import calculate, format_calculation
from assistant.rules import find_rule, load_rules
from assistant.settings import PROJECT_ROOT

RULES = load_rules(PROJECT_ROOT / "knowledge" / "awards.yaml")
TOOL = make_calculator_tool(RULES)


def test_tool_is_a_structured_tool_with_a_schema():
    assert isinstance(TOOL, BaseTool)
    assert TOOL.name == TOOL_NAME
    schema = TOOL.args_schema.model_json_schema()
    assert schema["required"] == ["rule_id"]
    assert set(schema["properties"]) == {"rule_id", "inputs"}


def test_description_lists_every_rule_with_its_inputs():
    for rule in RULES:
        assert f"{rule.id} — {rule.article_label} — {rule.name}" in TOOL.description
    assert (
        "rd-subsidy-sme — 第十四条 — 研发投入增量补助（科技型中小企业规模） — scale(sme/above_sme), rd_increase(元)"
        in TOOL.description
    )


def test_tool_result_is_the_calculators_result():
    inputs = {"location": "紫金港", "tech_renovation_investment": "800万元"}
    result = json.loads(TOOL.invoke({"rule_id": "zijingang-tech-renovation", "inputs": inputs}))
    calc = calculate(find_rule(RULES, "zijingang-tech-renovation"), inputs)
    assert result == {"text": format_calculation(calc), **json.loads(json.dumps(calc.to_dict(), ensure_ascii=False))}
    assert (result["amount_yuan"], result["amount_text"]) == (320_000, "32万元")


def test_numbers_from_a_model_are_read_in_the_slot_unit():
    result = json.loads(
        TOOL.invoke({"rule_id": "rd-subsidy-sme", "inputs": {"rd_increase": 12_000_000, "scale": "sme"}})
    )
    assert result["amount_yuan"] == 600_000


def test_unknown_rule_returns_close_ids():
    result = json.loads(TOOL.invoke({"rule_id": "rd-subsidy", "inputs": {}}))
    assert result["error"] == "未找到规则“rd-subsidy”。"
    assert "rd-subsidy-sme" in result["close_rule_ids"]


def test_bad_inputs_come_back_as_questions():
    result = json.loads(
        TOOL.invoke(
            {"rule_id": "zijingang-tech-renovation", "inputs": {"location": "紫金港", "tech_renovation_investment": -5}}
        )
    )
    assert result["amount_yuan"] is None
    assert result["missing"] == [
        "「技术改造项目总投资额」不能为负数（收到“-5”）。请问技术改造（含新建）项目的总投资额（含设备、外购技术及软件）是多少？"
    ]


def test_inputs_may_be_left_out():
    result = json.loads(TOOL.invoke({"rule_id": "high-tech-first"}))
    assert result["amount_yuan"] == 200_000
