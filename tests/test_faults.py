"""Faults: a deleted, corrupted, stale or half-built index, two builders at once, and a killed feedback writer."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from assistant.embeddings import FakeEmbedder
from assistant.index import index_fingerprint, open_index
from assistant.notice import load_chunks, load_everyday, read_notice
from assistant.settings import PROJECT_ROOT, Settings

A18_QUESTION = "首次认定的高新技术企业奖励多少？"


@pytest.fixture()
def store_settings(tmp_path: Path) -> Settings:
    """The real notice and the fake embedder, with a data dir of this test's own."""
    return Settings.from_env(environ={}, embedder="fake", data_dir=tmp_path / "data")


@pytest.fixture()
def own_knowledge_settings(tmp_path: Path) -> Settings:
    """Like store_settings, but with a copy of the knowledge folder that the test may edit."""
    knowledge = tmp_path / "knowledge"
    shutil.copytree(PROJECT_ROOT / "knowledge", knowledge)
    return Settings.from_env(environ={}, embedder="fake", knowledge_dir=knowledge, data_dir=tmp_path / "data")


def builds(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The "building index" warnings logged so far (one per build)."""
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("building index")]


def top_hit(collection, question: str) -> str:
    vector = [float(x) for x in FakeEmbedder().embed_queries([question])[0]]
    return collection.query(query_embeddings=[vector], n_results=1)["ids"][0][0]


def assert_current(collection, settings: Settings, embedder_name: str = FakeEmbedder.name) -> None:
    chunks = load_chunks(settings)
    assert collection.count() == len(chunks)
    assert collection.metadata["fingerprint"] == index_fingerprint(read_notice(settings), embedder_name)
    a18 = next(c for c in chunks if c.id == "A18")
    assert collection.get(ids=["A18"])["documents"] == [a18.text]


def test_deleted_index_directory_is_rebuilt_on_next_open(store_settings, caplog):
    caplog.set_level(logging.WARNING, logger="assistant.index")
    chunks, embedder = load_chunks(store_settings), FakeEmbedder()
    open_index(store_settings, chunks, embedder)
    shutil.rmtree(store_settings.chroma_dir)

    collection = open_index(store_settings, chunks, embedder)

    assert builds(caplog) == ["building index xihu_notice: missing"] * 2
    assert (store_settings.chroma_dir / "chroma.sqlite3").is_file()  # on disk, not a cached copy of deleted files
    assert_current(collection, store_settings)
    assert top_hit(collection, A18_QUESTION) == "A18"


@pytest.mark.parametrize(
    "damage",
    ["garbage header", "garbage in the middle", "all garbage", "truncated"],
)
def test_corrupted_sqlite_file_is_detected_logged_and_rebuilt(store_settings, caplog, damage):
    caplog.set_level(logging.WARNING, logger="assistant.index")
    chunks, embedder = load_chunks(store_settings), FakeEmbedder()
    open_index(store_settings, chunks, embedder)
    database = store_settings.chroma_dir / "chroma.sqlite3"
    size = database.stat().st_size
    garbage = bytes(range(256)) * (size // 256 + 1)
    with database.open("r+b") as handle:
        match damage:
            case "garbage header":
                handle.write(garbage[:4096])
            case "garbage in the middle":
                handle.seek(size // 2)
                handle.write(garbage[: size // 4])
            case "all garbage":
                handle.write(garbage[:size])
            case "truncated":
                handle.truncate(size // 3)

    collection = open_index(store_settings, chunks, embedder)

    unreadable = [r for r in caplog.records if "is unreadable" in r.getMessage()]
    assert len(unreadable) == 1
    assert unreadable[0].levelno == logging.WARNING
    assert str(store_settings.chroma_dir) in unreadable[0].getMessage()
    assert builds(caplog)[-1] == "building index xihu_notice: missing"
    assert_current(collection, store_settings)
    assert top_hit(collection, A18_QUESTION) == "A18"


def test_changed_notice_text_is_rebuilt_and_the_old_text_never_served(own_knowledge_settings, caplog):
    caplog.set_level(logging.WARNING, logger="assistant.index")
    settings = own_knowledge_settings
    embedder = FakeEmbedder()
    old = open_index(settings, load_chunks(settings), embedder)
    old_fingerprint = old.metadata["fingerprint"]
    text = read_notice(settings)
    a18 = next(c for c in load_chunks(settings) if c.id == "A18")
    assert "20万元" in a18.text
    settings.notice_path.write_text(text.replace(a18.text, a18.text.replace("20万元", "25万元", 1)), encoding="utf-8")

    collection = open_index(settings, load_chunks(settings), embedder)

    assert builds(caplog)[-1] == "building index xihu_notice: stale (notice, model or chunker changed)"
    assert collection.metadata["fingerprint"] != old_fingerprint
    assert_current(collection, settings)
    assert "25万元" in collection.get(ids=["A18"])["documents"][0]


def test_changed_embedder_name_is_rebuilt(store_settings, caplog):
    caplog.set_level(logging.WARNING, logger="assistant.index")

    class RenamedEmbedder(FakeEmbedder):
        name = "fake-char-hash-v2"

    chunks = load_chunks(store_settings)
    open_index(store_settings, chunks, FakeEmbedder())
    collection = open_index(store_settings, chunks, RenamedEmbedder())

    assert builds(caplog) == [
        "building index xihu_notice: missing",
        "building index xihu_notice: stale (notice, model or chunker changed)",
    ]
    assert collection.metadata["embedder"] == "fake-char-hash-v2"
    assert_current(collection, store_settings, embedder_name="fake-char-hash-v2")


def test_unchanged_index_is_opened_without_a_rebuild(store_settings, caplog):
    caplog.set_level(logging.WARNING, logger="assistant.index")
    chunks, embedder = load_chunks(store_settings), FakeEmbedder()
    open_index(store_settings, chunks, embedder)
    open_index(store_settings, chunks, embedder)
    assert builds(caplog) == ["building index xihu_notice: missing"]


def test_build_interrupted_halfway_is_never_served_and_is_rebuilt(store_settings, caplog):
    caplog.set_level(logging.WARNING, logger="assistant.index")

    class DyingEmbedder(FakeEmbedder):
        calls = 0

        def embed_passages(self, texts):
            DyingEmbedder.calls += 1
            if DyingEmbedder.calls == 3:
                raise MemoryError("killed mid-build")
            return super().embed_passages(texts)

    chunks = load_chunks(store_settings)
    with pytest.raises(MemoryError):
        open_index(store_settings, chunks, DyingEmbedder())

    collection = open_index(store_settings, chunks, FakeEmbedder())

    assert builds(caplog) == [
        "building index xihu_notice: missing",
        "building index xihu_notice: stale (notice, model or chunker changed)",
    ]
    assert_current(collection, store_settings)


# -- several processes ------------------------------------------------------------------------------
BUILDER = textwrap.dedent(
    """
    import logging, sys, time
    from pathlib import Path
    from assistant.embeddings import FakeEmbedder
    from assistant.index import open_index
    from assistant.notice import load_chunks
    from assistant.settings import Settings

    class SlowEmbedder(FakeEmbedder):  # a build long enough for the other process to arrive meanwhile
        def embed_passages(self, texts):
            time.sleep(0.1)
            return super().embed_passages(texts)

    builds = []
    handler = logging.Handler()
    handler.emit = lambda record: builds.append(record.getMessage())
    logging.getLogger("assistant.index").addHandler(handler)
    logging.getLogger("assistant.index").setLevel(logging.WARNING)
    settings = Settings.from_env(environ={}, embedder="fake", data_dir=Path(sys.argv[1]))
    chunks = load_chunks(settings)
    print("ready", flush=True)
    go = Path(sys.argv[2])
    while not go.exists():
        time.sleep(0.01)
    collection = open_index(settings, chunks, SlowEmbedder())
    print("builds", sum(m.startswith("building index") for m in builds), flush=True)
    print("count", collection.count(), flush=True)
    print("fingerprint", collection.metadata["fingerprint"], flush=True)
    """
)


@pytest.mark.integration
def test_two_processes_opening_at_once_make_one_build(tmp_path):
    data_dir, go = tmp_path / "data", tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", BUILDER, str(data_dir), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=PROJECT_ROOT,
        )
        for _ in range(2)
    ]
    try:
        for process in processes:
            assert process.stdout.readline().strip() == "ready"
        go.touch()  # both are past their imports: they reach open_index together
        outputs = [process.communicate(timeout=300) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    results = []
    for (stdout, stderr), process in zip(outputs, processes, strict=True):
        assert process.returncode == 0, stderr[-2000:]
        results.append(dict(line.split(" ", 1) for line in stdout.splitlines()))
    settings = Settings.from_env(environ={}, embedder="fake", data_dir=data_dir)
    fingerprint = index_fingerprint(read_notice(settings), FakeEmbedder.name)
    assert sorted(r["builds"] for r in results) == ["0", "1"]
    assert [r["count"] for r in results] == [str(len(load_chunks(settings)))] * 2
    assert [r["fingerprint"] for r in results] == [fingerprint] * 2


FEEDBACK_WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from assistant.feedback import FeedbackStore

    store = FeedbackStore(Path(sys.argv[1]))
    i = 0
    while True:
        i += 1
        row = store.add(f"问题{i}：首次认定的高新技术企业奖励多少？", "20万元。" * 50, ["A18"], "up", f"comment {i}")
        print(row, flush=True)  # printed only after add() returned, i.e. after the commit
    """
)


@pytest.mark.integration
def test_feedback_rows_committed_before_a_sigkill_all_survive(tmp_path):
    from assistant.feedback import FeedbackStore

    database = tmp_path / "feedback.sqlite3"
    writer = subprocess.Popen(
        [sys.executable, "-c", FEEDBACK_WRITER, str(database)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        cwd=PROJECT_ROOT,
    )
    committed: list[int] = []
    try:
        deadline = time.monotonic() + 120
        while len(committed) < 200 and time.monotonic() < deadline:
            line = writer.stdout.readline()
            if not line:
                break
            committed.append(int(line))
        assert len(committed) == 200, writer.stderr.read()[-2000:]
        os.kill(writer.pid, signal.SIGKILL)  # mid-stream: it is writing the next rows right now
        writer.wait(timeout=30)
        committed += [int(line) for line in writer.stdout.read().split()]  # reported before the kill landed
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()

    assert writer.returncode == -signal.SIGKILL
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    rows = FeedbackStore(database).rows()
    stored = {row["id"]: row for row in rows}
    assert set(committed) <= set(stored)
    assert committed == list(range(1, len(committed) + 1))
    last = stored[committed[-1]]
    assert last["question"] == f"问题{committed[-1]}：首次认定的高新技术企业奖励多少？"
    assert last["citations"] == "A18"
    assert len(rows) - len(committed) <= 1  # at most the one row committed as the kill landed, unreported


KILLED_BUILDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from assistant.embeddings import FakeEmbedder
    from assistant.index import open_index
    from assistant.notice import load_chunks
    from assistant.settings import Settings

    class StallingEmbedder(FakeEmbedder):  # stalls mid-build so the test can kill it with vectors written
        calls = 0

        def embed_passages(self, texts):
            StallingEmbedder.calls += 1
            if StallingEmbedder.calls == 4:
                print("mid-build", flush=True)
                time.sleep(600)
            return super().embed_passages(texts)

    settings = Settings.from_env(environ={}, embedder="fake", data_dir=Path(sys.argv[1]))
    open_index(settings, load_chunks(settings), StallingEmbedder(), force=True)
    """
)


def segment_folders(settings: Settings) -> set[str]:
    return {p.name for p in settings.chroma_dir.iterdir() if p.is_dir()}


def vector_segments(settings: Settings) -> set[str]:
    with sqlite3.connect(settings.chroma_dir / "chroma.sqlite3") as connection:
        return {row[0] for row in connection.execute("SELECT id FROM segments WHERE scope = 'VECTOR'")}


@pytest.mark.integration
def test_a_killed_builds_orphan_segment_folder_is_removed_on_the_next_open(store_settings, caplog):
    caplog.set_level(logging.WARNING, logger="assistant.index")
    chunks = load_chunks(store_settings)
    open_index(store_settings, chunks, FakeEmbedder())
    before = segment_folders(store_settings)
    builder = subprocess.Popen(
        [sys.executable, "-c", KILLED_BUILDER, str(store_settings.data_dir)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        cwd=PROJECT_ROOT,
    )
    try:
        assert builder.stdout.readline().strip() == "mid-build"
        os.kill(builder.pid, signal.SIGKILL)
        builder.wait(timeout=30)
    finally:
        if builder.poll() is None:
            builder.kill()
            builder.wait()
    left = segment_folders(store_settings)
    assert len(left - before) == 1  # the killed build's vectors, in a folder no segment row will name again

    collection = open_index(store_settings, chunks, FakeEmbedder())

    assert_current(collection, store_settings)
    assert segment_folders(store_settings) == vector_segments(store_settings)
    assert len(segment_folders(store_settings)) == 1
    removed = [r.getMessage() for r in caplog.records if r.getMessage().startswith("removing orphan")]
    assert len(removed) == 2  # the killed build's folder and the replaced collection's


def test_a_collection_deleted_under_a_running_app_is_rebuilt_on_the_next_query(store_settings, caplog):
    from assistant.index import collection_name, make_client

    caplog.set_level(logging.WARNING, logger="assistant.index")
    chunks = load_chunks(store_settings)
    handle = open_index(store_settings, chunks, FakeEmbedder())
    make_client(store_settings).delete_collection(collection_name(store_settings, handle.fingerprint))

    assert top_hit(handle, A18_QUESTION) == "A18"  # before: NotFoundError on every query until a restart
    assert builds(caplog) == ["building index xihu_notice: missing"] * 2
    assert handle.readiness() == {"store": "ok", "index": "ok"}


def test_a_store_that_cannot_be_reached_raises_store_unavailable_with_retry_after(store_settings):
    import httpx

    from assistant.index import IndexHandle, StoreUnavailable

    class Unreachable:
        def query(self, **kwargs):
            raise httpx.ConnectError("[Errno 111] Connection refused")

    handle = IndexHandle(Unreachable(), "f" * 24, 81, reopen=lambda: pytest.fail("an outage is no lost collection"))
    with pytest.raises(StoreUnavailable) as raised:
        handle.query(query_embeddings=[[0.0]], n_results=1)
    assert (raised.value.message, raised.value.retry_after) == ("检索服务暂时连接不上，请稍后再试。", 5)


def test_queries_arriving_while_a_lost_collection_is_rebuilt_get_503_at_once(store_settings):
    from assistant.index import IndexHandle, StoreUnavailable

    class Lost:
        def count(self):
            raise RuntimeError("Collection [x] does not exist.")

    handle = IndexHandle(Lost(), "f" * 24, 81, reopen=lambda: pytest.fail("not reached"))
    handle._rebuilding.acquire()  # another request is rebuilding right now
    try:
        with pytest.raises(StoreUnavailable) as raised:
            handle.count()
    finally:
        handle._rebuilding.release()
    assert raised.value.message == "检索索引正在重建，请稍后再试。"


# -- a read-only data dir ---------------------------------------------------------------------------
READ_ONLY_APP = textwrap.dedent(
    """
    import json, logging, sys
    from pathlib import Path
    from fastapi.testclient import TestClient
    from assistant.api import create_app
    from assistant.settings import Settings

    warnings = []
    handler = logging.Handler()
    handler.emit = lambda record: warnings.append(record.getMessage())
    logging.getLogger("assistant").addHandler(handler)
    logging.getLogger("assistant").setLevel(logging.WARNING)
    settings = Settings.from_env(environ={}, embedder="fake", data_dir=Path(sys.argv[1]))
    client = TestClient(create_app(settings))
    vote = {"question": "首次认定的高新技术企业奖励多少？", "answer": "20万元", "citations": ["A18"], "rating": "up"}
    ask = client.post("/api/ask", json={"question": "首次认定的高新技术企业奖励多少？"})
    votes = [client.post("/api/feedback", json=vote) for _ in range(2)]
    ready = client.get("/readyz")
    print(json.dumps({
        "ask": [ask.status_code, ask.json()["citations"][:1]],
        "votes": [[v.status_code, v.json()] for v in votes],
        "ready": [ready.status_code, ready.json()],
        "warnings": warnings,
    }, ensure_ascii=False))
    """
)


def as_unprivileged_root() -> list[str]:
    """A command prefix that runs as root without the capabilities that let root write anywhere."""
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("setpriv (util-linux) is needed to drop root's override of file permissions")
    return [setpriv, "--bounding-set=-all", "--inh-caps=-all", "--"]


@pytest.mark.integration
def test_a_read_only_data_dir_with_a_valid_index_starts_serves_and_refuses_votes_clearly(tmp_path):
    import json

    settings = Settings.from_env(environ={}, embedder="fake", data_dir=tmp_path / "data")
    open_index(settings, load_chunks(settings), FakeEmbedder(), everyday=load_everyday(settings))  # as the app does
    (tmp_path / "data" / "index.lock").unlink(missing_ok=True)
    before = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    for path in [tmp_path / "data", *(tmp_path / "data").rglob("*")]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    prefix = as_unprivileged_root() if os.geteuid() == 0 else []
    try:
        run = subprocess.run(
            [*prefix, sys.executable, "-c", READ_ONLY_APP, str(tmp_path / "data")],
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
            cwd=PROJECT_ROOT,
        )
    finally:
        for path in [tmp_path / "data", *(tmp_path / "data").rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["ask"] == [200, ["A18"]]
    read_only = "评价功能暂时关闭：服务器的数据目录是只读的，评价无法保存。"
    assert report["votes"] == [[503, {"detail": read_only}]] * 2
    assert report["ready"] == [
        200,
        {"status": "ready", "checks": {"store": "ok", "index": "ok", "feedback": f"disabled: {read_only}"}},
    ]
    disabled = [w for w in report["warnings"] if w.startswith("feedback disabled")]
    assert len(disabled) == 1  # said once, not per vote
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == before  # nothing written
