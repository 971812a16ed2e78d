"""The enterprise policy matcher: which rules a profile may qualify for, with amounts, questions and the total."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from assistant.matcher import format_match, match_profile, normalize_profile, run_match_command
from assistant.rules import load_rules
from assistant.settings import PROJECT_ROOT

W = 10_000
RULES = load_rules(PROJECT_ROOT / "knowledge" / "awards.yaml")
EXAMPLE = PROJECT_ROOT / "knowledge" / "examples" / "profile.example.json"


def _amounts(result) -> dict[str, tuple[str, Decimal | None, Decimal]]:
    return {item.rule_id: (item.status, item.amount_yuan, item.counted_yuan) for item in result.items}


def test_example_profile_matches_every_rule_it_qualifies_for_with_the_total():
    result = match_profile(json.loads(EXAMPLE.read_text(encoding="utf-8")), RULES)
    assert result.profile_name == "示例智造科技有限公司"
    assert _amounts(result) == {
        "zijingang-ic-rent": ("eligible", 120 * W, 120 * W),
        "postdoc-workstation": ("eligible", 100 * W, 100 * W),
        "export-credit-insurance": ("eligible", 65 * W, 65 * W),
        "rd-subsidy-sme": ("eligible", 60 * W, 60 * W),
        "zijingang-robot-domestic": ("eligible", 40 * W, 35 * W),
        "zijingang-tech-renovation": ("eligible", 32 * W, 32 * W),
        "high-tech-first": ("eligible", 20 * W, 20 * W),
        "zijingang-robot-imported": ("eligible", 15 * W, 15 * W),
    }
    assert result.total_yuan == 447 * W
    assert result.notes == ("紫金港科技城购置进口工业机器人资助、紫金港科技城购置国产工业机器人资助合计不超过50万元。",)


def test_example_profile_text_lists_items_and_total():
    text = format_match(match_profile(json.loads(EXAMPLE.read_text(encoding="utf-8")), RULES))
    lines = text.splitlines()
    assert lines[0] == "政策匹配结果：示例智造科技有限公司"
    assert lines[1] == "可申报（8项，合计约447万元）："
    assert lines[2] == "1. 第三十四条 紫金港科技城集成电路企业租房补贴：120万元"
    assert "   说明：与同组资助合计不超过50万元，计入35万元" in lines
    assert lines[-1] == "以上为按政策条款测算的估算，标“最高”的为上限，最终以主管部门审核为准。"


def test_a_fact_that_contradicts_a_rule_scope_drops_the_rule():
    result = match_profile(
        {"location": "云栖小镇", "tech_renovation_investment": "800万元", "annual_rent": "100万元"}, RULES
    )
    assert _amounts(result) == {"yunqi-rent": ("eligible", 300 * W, 300 * W)}


def test_place_specific_rules_need_the_location():
    result = match_profile({"tech_renovation_investment": "800万元", "annual_rent": "100万元"}, RULES)
    assert result.items == ()
    assert result.notes == ("未填写所在区域（location），紫金港科技城、云栖小镇的专项政策未列入；填写后可一并测算。",)


def test_unknown_industry_is_a_question_not_an_amount():
    result = match_profile({"location": "紫金港科技城", "annual_rent": "80万元"}, RULES)
    (item,) = result.items
    assert (item.rule_id, item.status, item.amount_yuan) == ("zijingang-ic-rent", "possible", None)
    assert result.total_yuan == 0
    assert (
        "- 第三十四条 紫金港科技城集成电路企业租房补贴：请问贵公司是否为集成电路企业？（若满足：集成电路：120万元）"
        in format_match(result)
    )


def test_below_threshold_is_listed_as_not_eligible_with_the_reason():
    result = match_profile({"location": "紫金港", "tech_renovation_investment": "400万元"}, RULES)
    (item,) = result.items
    assert (item.status, item.unmet) == ("ineligible", ("技术改造项目总投资额需要 ≥500万元，实际 400万元",))


def test_variants_of_one_award_count_once():
    result = match_profile(
        {"scale": "sme", "rd_spend": "1.2亿元", "rd_spend_last_year": "1亿元", "location": "西溪谷"}, RULES
    )
    assert _amounts(result) == {
        "rd-subsidy-sme-direct": ("eligible", 200 * W, 200 * W),
        "rd-subsidy-sme": ("eligible", 100 * W, 0),
    }
    assert result.total_yuan == 200 * W


def test_recognitions_name_events_options_and_rule_ids():
    profile = {
        "recognitions": [
            "首次认定高新技术企业",
            "省重点文化企业",
            "5A级景区",
            "xinchuying-first",
            "sports-demonstration:national",
        ]
    }
    result = match_profile(profile, RULES)
    assert _amounts(result) == {
        "xinchuying-first": ("eligible", 50 * W, 50 * W),
        "scenic-area-rating": ("eligible", 50 * W, 50 * W),
        "high-tech-first": ("eligible", 20 * W, 20 * W),
        "culture-enterprise-recognition": ("eligible", 20 * W, 20 * W),
        "sports-demonstration": ("eligible", 20 * W, 20 * W),
    }
    assert result.total_yuan == 160 * W


def test_an_award_none_of_whose_variants_applies_is_explained_once():
    result = match_profile({"location": "西溪谷", "rd_spend": "2000万元"}, RULES)
    assert [(item.rule_id, item.unmet) for item in result.items] == [
        ("rd-subsidy-sme-direct", ("年度研发投入额需要 ≥1亿元，实际 2000万元",))
    ]


def test_vague_recognition_words_do_not_match_options():
    assert match_profile({"recognitions": ["国家级"]}, RULES).items == ()


def test_event_only_rules_need_their_recognition():
    facts = {"location": "云栖小镇", "valuation": "20亿元", "revenue": "5亿元", "rd_spend": "2000万元"}
    assert "yunqi-space-hq-award" not in _amounts(match_profile(facts, RULES))
    with_event = match_profile({**facts, "recognitions": ["新引进空天信息总部企业"]}, RULES)
    assert _amounts(with_event)["yunqi-space-hq-award"] == ("eligible", 500 * W, 500 * W)


def test_growth_is_derived_from_revenue_history():
    profile = {
        "location": "云栖小镇",
        "above_designated_size": True,
        "rd_spend": "1000万元",
        "revenue_history": {"2020": "2000万元", "2021": "2600万元", "2022": "3500万元", "2023": "5000万元"},
    }
    facts, notes = normalize_profile(profile, RULES)
    assert notes == []
    assert facts["revenue"] == Decimal(50_000_000)
    assert facts["revenue_growth_latest"] == Decimal(15) / Decimal(35)
    assert facts["revenue_positive_growth_years"] == 3
    assert facts["revenue_cagr_3y"] == Decimal("0.357209")
    assert _amounts(match_profile(profile, RULES))["yunqi-rd-award"] == ("eligible", 300 * W, 300 * W)


def test_unknown_keys_are_reported_and_ignored():
    result = match_profile(
        {"name": "甲公司", "favourite_colour": "blue", "_comment": "ignored", "rd_spend_this_year": "3亿"}, RULES
    )
    assert result.notes[0] == "未识别的字段（已忽略）：favourite_colour"
    assert result.profile_name == "甲公司"


def test_bad_values_never_raise_and_are_explained():
    result = match_profile({"location": "紫金港", "tech_renovation_investment": "很多"}, RULES)
    (item,) = result.items
    assert item.status == "possible"
    assert item.calculation.errors == ("「技术改造项目总投资额」无法识别“很多”，请填写金额（如 800万元）。",)


def test_to_dict_is_json():
    data = match_profile(json.loads(EXAMPLE.read_text(encoding="utf-8")), RULES).to_dict()
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert (data["total_yuan"], data["total_text"]) == (4_470_000, "447万元")


def test_match_command_reads_a_profile_file(tmp_path: Path):
    code, text = run_match_command(EXAMPLE, RULES)
    assert code == 0 and text.startswith("政策匹配结果：示例智造科技有限公司")


@pytest.mark.parametrize(
    ("content", "start"),
    [
        ("{not json", "企业画像文件"),
        ("[1, 2]", "企业画像文件"),
    ],
)
def test_match_command_rejects_bad_files_with_exit_2(tmp_path: Path, content, start):
    path = tmp_path / "profile.json"
    path.write_text(content, encoding="utf-8")
    code, text = run_match_command(path, RULES)
    assert code == 2 and text.startswith(start)


def test_match_command_missing_file_exits_2(tmp_path: Path):
    code, text = run_match_command(tmp_path / "none.json", RULES)
    assert code == 2 and text.startswith(f"无法读取企业画像文件 {tmp_path / 'none.json'}")
