"""Any JSON and any Unicode, to every endpoint: never a 5xx, always a JSON body, always an answer within 2 s.

Property-based (hypothesis) through FastAPI's TestClient over an Assistant on the fake embedder. Bodies are
serialised here with `ensure_ascii=True`, so lone surrogates ("\\ud800") travel JSON-escaped as a client would
send them; each endpoint gets both arbitrary JSON and bodies of its own shape with arbitrary values, so the
values reach the code behind the schema (the calculator, the matcher, the feedback store).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ANSWER_WITHIN_S = 2.0
POST_ROUTES = ("/api/ask", "/api/calc", "/api/match", "/api/feedback")

# Any code point, lone surrogates included (hypothesis leaves them out unless asked), and text made mostly of
# what broke things before: lone surrogates, digits int() cannot read, numerals, exponents.
TRICKY = ["\ud800", "\udfff", "\udc00", "²", "①", "³", "第", "条", "九", "十", "万", "元", "e", "9", " ", "\x00"]
TEXT = st.one_of(
    st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=60),
    st.lists(st.sampled_from(TRICKY), max_size=12).map("".join),
)
NUMBERS = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["1e999999999", "-1e999999999", "1e-999999999", "9" * 5000, "NaN", "Infinity", "800万元"]),
)
JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), NUMBERS, TEXT),
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(TEXT, children, max_size=4)),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def client(fake_settings, fake_assistant, tmp_path_factory) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from assistant.api import create_app

    app_settings = replace(fake_settings, data_dir=tmp_path_factory.mktemp("any-input"))
    with TestClient(create_app(app_settings, fake_assistant)) as test_client:
        # Warm the lazy parts (jieba's dictionary, the first embedding) so the 2 s bound times answers, not start-up.
        test_client.post("/api/ask", json={"question": "高企奖多少"})
        test_client.get("/api/articles/18")
        yield test_client


@pytest.fixture(scope="module")
def rule_inputs(fake_assistant) -> dict[str, list[str]]:
    return {rule.id: [slot.name for slot in rule.inputs] for rule in fake_assistant.rules}


def assert_answered_well(response: Any, elapsed: float) -> None:
    assert response.status_code < 500, response.text[:300]
    assert response.headers["content-type"].startswith("application/json"), response.text[:300]
    response.json()  # parses
    assert elapsed < ANSWER_WITHIN_S, f"answered in {elapsed:.2f} s"


def post(client: Any, url: str, body: Any) -> None:
    content = json.dumps(body, ensure_ascii=True).encode()
    started = time.perf_counter()
    response = client.post(url, content=content, headers={"content-type": "application/json"})
    assert_answered_well(response, time.perf_counter() - started)


PROPERTY = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@PROPERTY
@given(url=st.sampled_from(POST_ROUTES), body=JSON)
def test_any_json_to_any_endpoint_is_answered_without_a_server_error(client, url, body):
    post(client, url, body)


@PROPERTY
@given(
    question=TEXT,
    history=st.lists(
        st.fixed_dictionaries({"role": st.sampled_from(["user", "assistant"]), "content": TEXT}), max_size=4
    ),
)
def test_any_question_and_history_are_answered_without_a_server_error(client, question, history):
    post(client, "/api/ask", {"question": question, "history": history})


@PROPERTY
@given(data=st.data(), name_is_real=st.booleans(), value=JSON)
def test_any_calculator_input_is_answered_without_a_server_error(client, rule_inputs, data, name_is_real, value):
    rule_id = data.draw(st.one_of(st.sampled_from(sorted(rule_inputs)), TEXT))
    names = rule_inputs.get(rule_id) or ["x"]
    name = data.draw(st.sampled_from(names) if name_is_real else TEXT)
    post(client, "/api/calc", {"rule_id": rule_id, "inputs": {name: value}})


@PROPERTY
@given(
    profile=st.dictionaries(
        st.one_of(st.sampled_from(["industry", "scale", "location", "revenue", "name"]), TEXT), JSON, max_size=5
    )
)
def test_any_enterprise_profile_is_answered_without_a_server_error(client, profile):
    post(client, "/api/match", {"profile": profile})


@PROPERTY
@given(
    question=TEXT,
    answer=TEXT,
    citations=st.lists(TEXT, max_size=3),
    rating=st.one_of(st.sampled_from(["up", "down"]), TEXT),
    comment=TEXT,
)
def test_any_feedback_is_answered_without_a_server_error(client, question, answer, citations, rating, comment):
    body = {"question": question, "answer": answer, "citations": citations, "rating": rating, "comment": comment}
    post(client, "/api/feedback", body)


@PROPERTY
@given(ref=st.one_of(TEXT, st.sampled_from(["²", "①", "第³条", "9" * 5000, "第九九条", "十十", "A27"])))
def test_any_article_reference_is_answered_without_a_server_error(client, ref):
    encoded = quote(ref.encode("utf-8", "surrogatepass"), safe="")
    started = time.perf_counter()
    response = client.get(f"/api/articles/{encoded}")
    assert_answered_well(response, time.perf_counter() - started)
