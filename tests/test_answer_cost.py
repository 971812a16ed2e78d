"""What one answer costs: every text of a request is embedded once, however many stages look at it."""

from __future__ import annotations

from collections import Counter

import pytest

from assistant.answer import Assistant, _RememberedQueries
from assistant.embeddings import FakeEmbedder
from assistant.retrieve import Retriever


class CountingEmbedder(FakeEmbedder):
    """The fake embedder, counting each text it embeds as a query."""

    def __init__(self) -> None:
        self.embedded: Counter[str] = Counter()

    def embed_queries(self, texts):
        self.embedded.update(texts)
        return super().embed_queries(texts)


@pytest.fixture()
def counted(fake_assistant):
    """An Assistant on the fake index whose question embedder counts what it embeds (the router's examples
    embedded beforehand)."""
    base = fake_assistant.retriever
    embedder = CountingEmbedder()
    retriever = Retriever(
        base.chunks, _RememberedQueries(embedder), base.collection, base.lexicon, base.fusion, everyday=base.everyday
    )
    assistant = Assistant(fake_assistant.settings, retriever, fake_assistant.rules, fake_assistant.scope)
    assistant.router.route("预热")
    embedder.embedded.clear()
    return assistant, embedder


def test_a_follow_up_embeds_each_of_its_texts_once(counted):
    assistant, embedder = counted
    history = [
        {"role": "user", "content": "出口信用保险保费有补助吗？"},
        {"role": "assistant", "content": "有，按第四十六条……"},
    ]

    assistant.ask("如果是制造业呢？", history)

    # the earlier turn, the follow-up alone (the conversation judge, the router) and the joined reading
    assert embedder.embedded, "the question was embedded"
    assert max(embedder.embedded.values()) == 1, embedder.embedded


def test_a_question_asked_again_is_not_embedded_again(counted):
    assistant, embedder = counted
    assistant.ask("首次认定的高新技术企业奖励多少？")
    first = sum(embedder.embedded.values())

    answer = assistant.ask("首次认定的高新技术企业奖励多少？")

    assert first >= 1
    assert sum(embedder.embedded.values()) == first
    assert answer.citations[0] == "A18"


def test_the_question_vectors_of_more_questions_than_the_load_benchmark_asks_are_kept():
    embedder = CountingEmbedder()
    remembered = _RememberedQueries(embedder)
    texts = [f"问题{n}" for n in range(1000)]  # the dev set the load benchmark cycles through has 371
    for _ in range(2):
        for text in texts:
            remembered.embed_queries([text])
    assert sum(embedder.embedded.values()) == 1000
