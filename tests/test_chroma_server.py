"""Scale-out: the assistant on a real `chroma run` server via the same open_index code, restarts and replicas."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.embeddings import FakeEmbedder
from assistant.index import index_fingerprint, open_index
from assistant.notice import load_chunks, read_notice
from assistant.serve import ChromaProcess
from assistant.settings import PROJECT_ROOT, Settings

pytestmark = pytest.mark.integration

CHROMA = PROJECT_ROOT / ".venv" / "bin" / "chroma"
A18_QUESTION = "首次认定的高新技术企业奖励多少？"
A18_AFTER_RESTART = "高新技术企业重新认定通过的，奖励多少钱？"


class ChromaServer(ChromaProcess):
    """`chroma run` on 127.0.0.1 and a free port, persisting to `path`; restartable on the same port and path."""

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture()
def chroma_server(tmp_path: Path) -> Iterator[ChromaServer]:
    if not CHROMA.exists():
        pytest.fail(f"{CHROMA} is missing: `make install` installs chromadb, which provides it")
    server = ChromaServer(tmp_path / "chroma-server", tmp_path / "chroma.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def replica_settings(server: ChromaServer, data_dir: Path) -> Settings:
    """One app replica: its own local data dir (as on its own host), the shared Chroma server."""
    return Settings.from_env(
        environ={}, embedder="fake", data_dir=data_dir, chroma_host="127.0.0.1", chroma_port=server.port
    )


def builds(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("building index")]


def test_assistant_answers_from_a_chroma_server_before_and_after_it_restarts(chroma_server, tmp_path, caplog):
    from assistant.answer import Assistant

    caplog.set_level(logging.WARNING, logger="assistant.index")
    settings = replica_settings(chroma_server, tmp_path / "app")
    assistant = Assistant.create(settings)

    first = assistant.ask(A18_QUESTION)
    chroma_server.restart()
    second = assistant.ask(A18_AFTER_RESTART)  # a new question: the dense search goes to the restarted server
    reopened = Assistant.create(settings)  # an app restart after the server restart finds the index in place

    assert builds(caplog) == ["building index xihu_notice: missing"]
    assert not settings.chroma_dir.exists()  # nothing went to the embedded store
    assert (chroma_server.path / "chroma.sqlite3").is_file()
    assert first.citations[0] == "A18"
    assert "20万元" in first.answer
    assert second.citations[0] == "A18"
    assert "10万元" in second.answer
    assert reopened.ask(A18_QUESTION).answer == first.answer


def test_two_app_replicas_share_one_chroma_server_and_build_once(chroma_server, tmp_path, caplog):
    from assistant.answer import Assistant

    caplog.set_level(logging.WARNING, logger="assistant.index")
    one = Assistant.create(replica_settings(chroma_server, tmp_path / "replica-1"))
    two = Assistant.create(replica_settings(chroma_server, tmp_path / "replica-2"))

    assert builds(caplog) == ["building index xihu_notice: missing"]
    assert one.ask(A18_QUESTION).answer == two.ask(A18_QUESTION).answer
    assert one.retriever.collection.id == two.retriever.collection.id


def test_replica_starting_while_another_builds_on_the_same_server_leaves_both_working(chroma_server, tmp_path):
    """Replicas on different hosts do not share the file lock, so a second one can arrive mid-build."""
    first_batch_done, second_finished = threading.Event(), threading.Event()

    class PausingEmbedder(FakeEmbedder):
        """Pauses the first replica's build after its first batch until the second replica has finished."""

        batches = 0

        def embed_passages(self, texts):
            PausingEmbedder.batches += 1
            if PausingEmbedder.batches == 2:
                first_batch_done.set()
                second_finished.wait(timeout=60)
            return super().embed_passages(texts)

    settings_one = replica_settings(chroma_server, tmp_path / "replica-1")
    settings_two = replica_settings(chroma_server, tmp_path / "replica-2")
    chunks = load_chunks(settings_one)
    outcome: dict[str, object] = {}

    def replica_one() -> None:
        try:
            outcome["one"] = open_index(settings_one, chunks, PausingEmbedder())
        except Exception as error:  # what a crashing replica would die of
            outcome["one"] = error

    thread = threading.Thread(target=replica_one)
    thread.start()
    try:
        assert first_batch_done.wait(timeout=60)
        try:
            outcome["two"] = open_index(settings_two, chunks, FakeEmbedder())
        except Exception as error:
            outcome["two"] = error
    finally:
        second_finished.set()
        thread.join(timeout=120)

    fingerprint = index_fingerprint(read_notice(settings_one), FakeEmbedder.name)
    for name in ("one", "two"):
        collection = outcome[name]
        assert not isinstance(collection, Exception), f"replica {name}: {collection!r}"
        assert collection.count() == len(chunks)
        assert collection.metadata["fingerprint"] == fingerprint


# -- the server goes away or comes back empty ---------------------------------------------------------
def app_client(server: ChromaServer, data_dir: Path):
    from fastapi.testclient import TestClient

    from assistant.api import create_app

    return TestClient(create_app(replica_settings(server, data_dir)))


def test_a_chroma_server_back_on_an_empty_volume_is_noticed_and_the_index_rebuilt(chroma_server, tmp_path, caplog):
    import shutil

    caplog.set_level(logging.WARNING, logger="assistant.index")
    client = app_client(chroma_server, tmp_path / "app")
    assert client.post("/api/ask", json={"question": A18_QUESTION}).json()["citations"][0] == "A18"

    chroma_server.stop()
    shutil.rmtree(chroma_server.path)  # the volume is lost
    chroma_server.start()
    answer = client.post("/api/ask", json={"question": A18_AFTER_RESTART})  # before: 500 until the app restarted

    assert answer.status_code == 200
    assert answer.json()["citations"][0] == "A18"
    assert "10万元" in answer.json()["answer"]
    assert builds(caplog) == ["building index xihu_notice: missing"] * 2
    assert client.get("/readyz").json() == {
        "status": "ready",
        "checks": {"store": "ok", "index": "ok", "feedback": "ok"},
    }


def test_while_the_chroma_server_is_down_answers_are_503_with_retry_after_and_only_readyz_fails(
    chroma_server, tmp_path
):
    client = app_client(chroma_server, tmp_path / "app")
    assert client.get("/readyz").status_code == 200

    chroma_server.stop()
    down = client.post("/api/ask", json={"question": A18_AFTER_RESTART})
    ready, alive = client.get("/readyz"), client.get("/healthz")
    chroma_server.start()
    back = client.post("/api/ask", json={"question": A18_AFTER_RESTART})

    assert down.status_code == 503
    assert down.headers["retry-after"] == "5"
    assert down.json() == {"detail": "检索服务暂时连接不上，请稍后再试。"}
    assert ready.status_code == 503
    assert ready.headers["retry-after"] == "5"
    assert ready.json() == {
        "detail": "服务尚未就绪，请稍后再试。",
        "checks": {"store": "检索服务暂时连接不上，请稍后再试。", "index": "未检查", "feedback": "ok"},
    }
    assert alive.status_code == 200  # liveness: the process is fine, it is the store that is not
    assert back.status_code == 200
    assert back.json()["citations"][0] == "A18"
