"""The JSON API (assistant/api.py) over HTTP, on the fake embedder: every route, its errors, and the UI mount."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from assistant.feedback import FeedbackStore
from assistant.settings import Settings

RD_QUESTION = "科技型中小企业年度研发投入新增800万元，能拿多少研发补助？"
A27_UNITS = ["市规划资源局西湖分局", "区发改经信局"]


@pytest.fixture(scope="module")
def app_settings(fake_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The fake settings with a data dir of this module's own (the feedback database lives there)."""
    return replace(fake_settings, data_dir=tmp_path_factory.mktemp("api-data"))


@pytest.fixture(scope="module")
def client(app_settings: Settings, fake_assistant) -> TestClient:
    from assistant.api import create_app

    return TestClient(create_app(app_settings, fake_assistant))


# -- /healthz -----------------------------------------------------------------------------------------
def test_healthz_reports_ok_with_the_loaded_notice_and_rules(client: TestClient, fake_assistant) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": "0.1.0", "chunks": 81, "rules": len(fake_assistant.rules)}


# -- /api/ask -----------------------------------------------------------------------------------------
def test_ask_returns_the_answer_record_as_json(client: TestClient, fake_assistant) -> None:
    response = client.post("/api/ask", json={"question": "第二十七条是什么？"})
    assert response.status_code == 200
    body = response.json()
    assert body == fake_assistant.ask("第二十七条是什么？").to_dict()
    assert (body["route"], body["citations"], body["refused"]) == ("lookup", ["A27"], False)
    assert body["answer"].startswith("第二十七条是“强化工业用地供应服务保障”")


def test_ask_a_calculation_returns_the_calculation_and_amount(client: TestClient) -> None:
    body = client.post("/api/ask", json={"question": RD_QUESTION, "history": []}).json()
    assert (body["route"], body["amount_yuan"], body["citations"]) == ("calculation", 400000.0, ["A14"])
    assert body["calculation"]["rule_id"] == "rd-subsidy-sme"
    assert body["calculation"]["amount_text"] == "40万元"


def test_ask_with_history_answers_the_follow_up(client: TestClient) -> None:
    first = client.post("/api/ask", json={"question": RD_QUESTION}).json()
    history = [{"role": "user", "content": RD_QUESTION}, {"role": "assistant", "content": first["answer"]}]
    body = client.post("/api/ask", json={"question": "那新增1000万元呢？", "history": history}).json()
    assert (body["route"], body["amount_yuan"]) == ("calculation", 500000.0)


@pytest.mark.parametrize(
    "payload",
    [{"question": ""}, {"question": "   \n "}, {}, {"question": "\u200b\x00"}],
    ids=["empty", "blank", "missing", "invisible"],
)
def test_ask_without_a_question_is_422_with_a_chinese_message(client: TestClient, payload: dict) -> None:
    response = client.post("/api/ask", json=payload)
    assert response.status_code == 422
    assert response.json()["detail"] == "请输入您的问题。"


def test_ask_over_the_length_limit_is_422_and_at_the_limit_is_answered(
    client: TestClient, app_settings: Settings
) -> None:
    limit = app_settings.max_question_chars
    assert limit == 500
    too_long = client.post("/api/ask", json={"question": "研" * (limit + 1)})
    assert too_long.status_code == 422
    assert too_long.json()["detail"] == "问题太长了（501字），请控制在500字以内。"
    at_limit = client.post("/api/ask", json={"question": "研" * limit})
    assert at_limit.status_code == 200


def test_ask_with_a_question_that_is_not_text_is_422(client: TestClient) -> None:
    response = client.post("/api/ask", json={"question": ["第一条"]})
    assert response.status_code == 422
    assert response.json()["detail"] == "问题必须是文字。"


def test_ask_with_a_malformed_history_is_422(client: TestClient) -> None:
    response = client.post("/api/ask", json={"question": "第一条", "history": [{"role": "robot", "content": "x"}]})
    assert response.status_code == 422


def test_ask_html_in_the_question_comes_back_as_plain_json_text(client: TestClient) -> None:
    body = client.post("/api/ask", json={"question": "<img src=x onerror=alert(1)>"}).json()
    assert body["question"] == "<img src=x onerror=alert(1)>"
    assert body["refused"] is True


# -- /api/articles --------------------------------------------------------------------------------------
@pytest.mark.parametrize("ref", ["A27", "a27", "27", "二十七", "第二十七条", "第27条", "（二十七）"])
def test_an_article_is_found_by_any_form_of_its_number(client: TestClient, ref: str) -> None:
    response = client.get(f"/api/articles/{quote(ref)}")
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["label"], body["title"]) == ("A27", "第二十七条", "强化工业用地供应服务保障")
    assert (body["section"], body["section_title"]) == (3, "五大产业生态圈建设培育政策")
    assert (body["lead_units"], body["responsible_units"]) == (["区发改经信局"], A27_UNITS)
    assert body["text"].startswith("(二十七)强化工业用地供应服务保障。")


def test_a_section_and_the_preamble_are_found_by_id(client: TestClient) -> None:
    section = client.get("/api/articles/S2").json()
    assert (section["id"], section["kind"], section["label"]) == ("S2", "section", "第二部分（科技创新政策）")
    assert client.get("/api/articles/PRE").json()["label"] == "序言"


@pytest.mark.parametrize("ref", ["73", "第七十三条", "0", "abc", "A99"])
def test_an_unknown_article_is_404_with_a_chinese_message(client: TestClient, ref: str) -> None:
    response = client.get(f"/api/articles/{quote(ref)}")
    assert response.status_code == 404
    assert response.json()["detail"] == (
        f"没有找到“{ref}”：本政策共72条，请输入1–72、二十七、第二十七条或A27这样的条号。"
    )


# -- /api/rules and /api/calc ---------------------------------------------------------------------------
def test_rules_lists_every_rule_with_its_inputs_and_units(client: TestClient, fake_assistant) -> None:
    rules = client.get("/api/rules").json()
    assert [r["id"] for r in rules] == [r.id for r in fake_assistant.rules]
    rd = next(r for r in rules if r["id"] == "rd-subsidy-sme")
    assert (rd["article"], rd["article_label"], rd["is_maximum"]) == ("A14", "第十四条", True)
    inputs = {i["name"]: (i["kind"], i["unit"]) for i in rd["inputs"]}
    assert inputs["rd_increase"] == ("money", "元")
    scale = next(i for i in rd["inputs"] if i["name"] == "scale")
    assert [o["key"] for o in scale["options"]] == ["sme", "above_sme"]


def test_calc_computes_the_award_with_trace_and_conditions(client: TestClient) -> None:
    response = client.post(
        "/api/calc", json={"rule_id": "rd-subsidy-sme", "inputs": {"scale": "sme", "rd_increase": "800万元"}}
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["amount_yuan"], body["amount_text"], body["is_maximum"]) == (
        "eligible",
        400000,
        "40万元",
        True,
    )
    assert body["trace"] == "800万元 × 5% = 40万元，未超过上限200万元，补助40万元"
    assert [c["status"] for c in body["conditions"]] == ["met", "met"]


def test_calc_caps_the_award(client: TestClient) -> None:
    body = client.post(
        "/api/calc", json={"rule_id": "rd-subsidy-sme", "inputs": {"scale": "sme", "rd_increase": 6e7}}
    ).json()
    assert (body["amount_yuan"], body["amount_text"]) == (2000000, "200万元")


def test_calc_with_missing_inputs_says_what_to_ask(client: TestClient) -> None:
    body = client.post("/api/calc", json={"rule_id": "rd-subsidy-sme", "inputs": {}}).json()
    assert (body["status"], body["amount_yuan"]) == ("incomplete", None)
    assert body["missing"] != []


def test_calc_below_the_threshold_is_not_eligible(client: TestClient) -> None:
    body = client.post(
        "/api/calc", json={"rule_id": "rd-subsidy-sme", "inputs": {"scale": "sme", "rd_increase": "100万元"}}
    ).json()
    assert (body["status"], body["amount_yuan"]) == ("ineligible", 0)
    assert [c["status"] for c in body["conditions"]] == ["met", "unmet"]


def test_calc_with_an_unknown_rule_is_404_with_close_rule_ids(client: TestClient) -> None:
    response = client.post("/api/calc", json={"rule_id": "rd-subsidy-smee", "inputs": {}})
    assert response.status_code == 404
    assert response.json()["detail"].startswith("没有找到规则“rd-subsidy-smee”。相近的规则：rd-subsidy-sme")


def test_calc_with_an_input_the_rule_does_not_read_is_422(client: TestClient) -> None:
    response = client.post("/api/calc", json={"rule_id": "rd-subsidy-sme", "inputs": {"revenue": "1亿元"}})
    assert response.status_code == 422
    assert response.json()["detail"].startswith("规则 rd-subsidy-sme 没有输入“revenue”。可用的输入：scale（经营规模）")


# -- /api/match -----------------------------------------------------------------------------------------
def test_match_lists_the_awards_of_a_profile_with_the_total(client: TestClient) -> None:
    response = client.post(
        "/api/match", json={"profile": {"name": "示例公司", "scale": "sme", "rd_increase": "800万元"}}
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["profile_name"], body["total_yuan"], body["total_text"]) == ("示例公司", 400000, "40万元")
    assert [(i["rule_id"], i["status"], i["amount_yuan"]) for i in body["items"]] == [
        ("rd-subsidy-sme", "eligible", 400000)
    ]


def test_match_without_a_profile_is_422(client: TestClient) -> None:
    response = client.post("/api/match", json={})
    assert response.status_code == 422
    assert response.json()["detail"] == '请提供企业情况（profile），例如 {"profile": {"industry": "ic"}}。'


# -- /api/feedback --------------------------------------------------------------------------------------
def test_feedback_is_stored_in_the_database(client: TestClient, app_settings: Settings) -> None:
    payload = {
        "question": "研发补助？",
        "answer": "最高200万元",
        "citations": ["A14"],
        "rating": "down",
        "comment": "不清楚",
    }
    response = client.post("/api/feedback", json=payload)
    assert response.status_code == 200
    row_id = response.json()["id"]
    row = next(r for r in FeedbackStore(app_settings.feedback_db).rows() if r["id"] == row_id)
    assert (row["question"], row["answer"], row["citations"], row["rating"], row["comment"]) == (
        "研发补助？",
        "最高200万元",
        "A14",
        "down",
        "不清楚",
    )


@pytest.mark.parametrize("rating", ["", "good", "UP"])
def test_feedback_with_a_bad_rating_is_422(client: TestClient, rating: str) -> None:
    response = client.post("/api/feedback", json={"question": "问", "answer": "答", "rating": rating})
    assert response.status_code == 422
    assert response.json()["detail"] == "评价（rating）只能是 up（有帮助）或 down（没帮助）。"


def test_feedback_without_the_question_is_422(client: TestClient) -> None:
    response = client.post("/api/feedback", json={"answer": "答", "rating": "up"})
    assert response.status_code == 422
    assert response.json()["detail"] == "请同时提供问题（question）和回答（answer）。"


# -- the UI mount ---------------------------------------------------------------------------------------
def test_the_gradio_ui_is_served_at_the_root(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert "西湖政策助手" in response.text


def test_the_api_docs_are_under_api(client: TestClient) -> None:
    assert client.get("/api/openapi.json").json()["info"]["title"] == "西湖政策助手 API"


def test_create_app_builds_the_assistant_when_none_is_given(tmp_path: Path, fake_settings: Settings) -> None:
    from assistant.api import create_app

    settings = replace(fake_settings, data_dir=tmp_path)
    client = TestClient(create_app(settings))
    assert client.get("/api/articles/1").json()["id"] == "A1"


def test_calc_with_an_unreadable_input_value_is_422_with_the_reason(client: TestClient) -> None:
    response = client.post(
        "/api/calc", json={"rule_id": "rd-subsidy-sme", "inputs": {"scale": "sme", "rd_increase": "很多"}}
    )
    assert response.status_code == 422
    assert response.json()["detail"] == "输入有误：「年度研发投入新增额」无法识别“很多”，请填写金额（如 800万元）。"
