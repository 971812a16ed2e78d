"""Feedback in PostgreSQL (XIHU_FEEDBACK_URL=postgresql://…) against a real server this module starts:
a throw-away cluster (initdb) on 127.0.0.1 from Debian's `postgresql` package (`make postgres` installs it)."""

from __future__ import annotations

import csv
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.feedback import FeedbackStore, make_feedback_store
from assistant.settings import Settings

pytestmark = pytest.mark.integration


def postgres_bin() -> Path | None:
    """The folder holding initdb and postgres: Debian's /usr/lib/postgresql/<version>/bin, else the PATH."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class PostgresCluster:
    """A fresh cluster in a temp folder, run by a non-root user (postgres refuses to run as root)."""

    def __init__(self) -> None:
        bindir = postgres_bin()
        if bindir is None:
            pytest.skip("PostgreSQL server binaries are not installed (Debian package postgresql: `make postgres`)")
        self.bindir = bindir
        self.user: str | None = None
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                pytest.skip("running as root and there is no 'postgres' user to run the server as")
            self.user = "postgres"
        self.root = Path(tempfile.mkdtemp(prefix="xihu-pg-"))
        if self.user:
            shutil.chown(self.root, self.user, self.user)
        self.data = self.root / "data"
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"postgresql://xihu@127.0.0.1:{self.port}/postgres"
        self.process: subprocess.Popen[bytes] | None = None
        initdb = [str(bindir / "initdb"), "-D", str(self.data), "-U", "xihu", "-A", "trust", "-E", "UTF8"]
        subprocess.run([*initdb, "--no-locale", "--no-sync"], check=True, capture_output=True, **self._as_user())

    def _as_user(self) -> dict[str, object]:
        return {"user": self.user, "group": self.user, "extra_groups": []} if self.user else {}

    def start(self) -> None:
        import psycopg

        command = [str(self.bindir / "postgres"), "-D", str(self.data), "-h", "127.0.0.1", "-p", str(self.port)]
        command += ["-k", str(self.root), "-F"]  # socket in our folder; no fsync: a test cluster
        log = (self.root / "server.log").open("ab")
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, **self._as_user())
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError((self.root / "server.log").read_text(errors="replace")[-2000:])
            try:
                psycopg.connect(self.url, connect_timeout=1).close()
                return
            except psycopg.OperationalError:
                time.sleep(0.1)
        raise RuntimeError("postgres did not accept connections within 60 s")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)  # "fast" shutdown: ends open sessions
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture()
def cluster() -> Iterator[PostgresCluster]:
    server = PostgresCluster()
    try:
        server.start()
        yield server
    finally:
        server.remove()


def pg_settings(cluster: PostgresCluster, tmp_path: Path) -> Settings:
    return Settings.from_env(environ={}, embedder="fake", data_dir=tmp_path / "data", feedback_url=cluster.url)


def test_with_a_postgresql_url_votes_go_to_postgresql_and_export_safely(cluster, tmp_path):
    from assistant.feedback_pg import PostgresFeedbackStore

    settings = pg_settings(cluster, tmp_path)
    store = make_feedback_store(settings)
    assert isinstance(store, PostgresFeedbackStore)
    assert store.add("研发补助多少？", "最高200万元（第十四条）", ["A14", "S2"], "down", "  没说清楚条件 ") == 1
    assert store.add("=1+1", "答", [], "up", "a\x00b") == 2

    rows = store.rows()
    assert [(r["id"], r["question"], r["citations"], r["rating"], r["comment"]) for r in rows] == [
        (1, "研发补助多少？", "A14,S2", "down", "没说清楚条件"),
        (2, "=1+1", "", "up", "ab"),  # PostgreSQL text holds no NUL
    ]
    target = tmp_path / "feedback.csv"
    assert store.export_csv(target) == 2
    with target.open(encoding="utf-8-sig", newline="") as handle:
        assert [r["question"] for r in csv.DictReader(handle)] == ["研发补助多少？", "'=1+1"]
    assert not settings.feedback_db.exists()  # nothing went to SQLite
    assert make_feedback_store(Settings.from_env(environ={}, data_dir=tmp_path)).__class__ is FeedbackStore


def test_the_api_stores_votes_in_postgresql_and_answers_503_while_it_is_down(cluster, tmp_path, fake_assistant):
    from assistant.api import create_app

    settings = pg_settings(cluster, tmp_path)
    client = TestClient(create_app(settings, fake_assistant))
    vote = {"question": "首次认定的高新技术企业奖励多少？", "answer": "20万元", "citations": ["A18"], "rating": "up"}

    first = client.post("/api/feedback", json=vote)
    ready = client.get("/readyz")
    cluster.stop()
    down, not_ready = client.post("/api/feedback", json=vote), client.get("/readyz")
    cluster.start()
    back = client.post("/api/feedback", json=vote)

    assert first.json() == {"id": 1}
    assert ready.json()["checks"]["feedback"] == "ok"
    assert down.status_code == 503
    assert down.headers["retry-after"] == "30"
    assert down.json() == {"detail": "评价暂时无法保存（反馈数据库连接不上），请稍后再试。"}
    assert not_ready.status_code == 503
    assert not_ready.json()["checks"]["feedback"] == "反馈数据库不可用（OperationalError）"
    assert back.json() == {"id": 2}
    assert [r["question"] for r in make_feedback_store(settings).rows()] == [vote["question"]] * 2


def test_votes_from_many_threads_of_two_stores_all_land_once(cluster, tmp_path):
    settings = pg_settings(cluster, tmp_path)
    stores = [make_feedback_store(settings), make_feedback_store(settings)]  # as two workers would
    errors: list[Exception] = []

    def vote(n: int) -> None:
        try:
            for i in range(10):
                stores[n % 2].add(f"问题{n}-{i}", "答", ["A1"], "up" if i % 2 else "down")
        except Exception as error:  # collected: an exception in a thread would not fail the test
            errors.append(error)

    threads = [threading.Thread(target=vote, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    rows = stores[0].rows()
    assert sorted(r["id"] for r in rows) == list(range(1, 81))
    assert {r["question"] for r in rows} == {f"问题{n}-{i}" for n in range(8) for i in range(10)}


def test_workers_starting_together_on_an_empty_database_lose_no_vote(cluster):
    """Every worker creates the table on its first vote; racing CREATE … IF NOT EXISTS fails the loser's
    transaction (DuplicateTable / UniqueViolation on the row type) and its vote with it (CI saw this once)."""
    import psycopg

    from assistant.feedback_pg import PostgresFeedbackStore

    workers = 8
    for attempt in range(6):  # the race is narrow: several empty databases
        with psycopg.connect(cluster.url, autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE fresh{attempt}")
        url = cluster.url.rsplit("/", 1)[0] + f"/fresh{attempt}"
        stores = [PostgresFeedbackStore(url) for _ in range(workers)]
        start = threading.Barrier(workers)
        errors: list[Exception] = []

        def first_vote(n: int, start: threading.Barrier = start, stores: list = stores, errors: list = errors) -> None:
            try:
                start.wait()
                stores[n].add(f"第{n}个工作进程的第一票", "答", ["A1"], "up")
            except Exception as error:  # collected: an exception in a thread would not fail the test
                errors.append(error)

        threads = [threading.Thread(target=first_vote, args=(n,)) for n in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert len(stores[0].rows()) == workers
