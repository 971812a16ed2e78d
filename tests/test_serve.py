"""Serving past one process: a full queue answers 503 + Retry-After, the API keeps no conversation state, and
`python -m assistant.serve` runs several workers sharing one Chroma server."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.settings import PROJECT_ROOT, Settings

A18_QUESTION = "首次认定的高新技术企业奖励多少？"
FOLLOW_UP = "那重新认定的呢？"


class InTurnAssistant:
    """The fake assistant whose n-th answer waits until gates[n] is set: the first answer can leave while the second
    is still being answered, whatever the machine's load."""

    def __init__(self, assistant, answers: int) -> None:
        self._assistant = assistant
        self.started = threading.Semaphore(0)
        self.gates = [threading.Event() for _ in range(answers)]
        self._calls = 0
        self._lock = threading.Lock()

    def __getattr__(self, name: str):
        return getattr(self._assistant, name)

    def ask(self, question, history=None):
        with self._lock:
            gate = self.gates[self._calls]
            self._calls += 1
        self.started.release()
        assert gate.wait(timeout=60)
        return self._assistant.ask(question, history)


class BlockingAssistant:
    """The fake assistant whose answers wait until `release` is set (so requests pile up)."""

    def __init__(self, assistant) -> None:
        self._assistant = assistant
        self.started = threading.Semaphore(0)
        self.release = threading.Event()

    def __getattr__(self, name: str):
        return getattr(self._assistant, name)

    def ask(self, question, history=None):
        self.started.release()
        assert self.release.wait(timeout=60)
        return self._assistant.ask(question, history)


def test_requests_beyond_the_answer_slots_and_the_queue_get_503_with_retry_after_at_once(fake_assistant, tmp_path):
    from assistant.api import create_app

    settings = Settings.from_env(
        environ={}, embedder="fake", data_dir=tmp_path, concurrency=1, max_queue=1, max_wait_s=30.0
    )
    blocking = BlockingAssistant(fake_assistant)
    app = create_app(settings, blocking)
    results: list[int] = []

    def ask() -> None:
        results.append(TestClient(app).post("/api/ask", json={"question": A18_QUESTION}).status_code)

    answering = threading.Thread(target=ask)
    answering.start()
    assert blocking.started.acquire(timeout=30)  # one is answering now
    waiting = threading.Thread(target=ask)
    waiting.start()
    time.sleep(0.5)  # the second is queued behind it
    started = time.perf_counter()
    turned_away = TestClient(app).post("/api/ask", json={"question": A18_QUESTION})
    elapsed = time.perf_counter() - started
    blocking.release.set()
    answering.join(timeout=60)
    waiting.join(timeout=60)

    assert turned_away.status_code == 503
    assert turned_away.headers["retry-after"] == "1"
    assert turned_away.json() == {"detail": "现在提问的人太多，请稍后再试。"}
    assert elapsed < 1.0  # answered at once, not after the queue
    assert results == [200, 200]
    assert TestClient(app).post("/api/ask", json={"question": A18_QUESTION}).status_code == 200  # room again


def test_a_question_waiting_longer_than_max_wait_gets_503_with_retry_after(fake_assistant, tmp_path):
    from assistant.api import create_app

    settings = Settings.from_env(
        environ={}, embedder="fake", data_dir=tmp_path, concurrency=1, max_queue=5, max_wait_s=0.3
    )
    blocking = BlockingAssistant(fake_assistant)
    app = create_app(settings, blocking)
    answering = threading.Thread(target=lambda: TestClient(app).post("/api/ask", json={"question": A18_QUESTION}))
    answering.start()
    assert blocking.started.acquire(timeout=30)
    started = time.perf_counter()
    waited = TestClient(app).post("/api/ask", json={"question": A18_QUESTION})
    elapsed = time.perf_counter() - started
    blocking.release.set()
    answering.join(timeout=60)

    assert waited.status_code == 503
    assert waited.headers["retry-after"] == "1"
    assert waited.json() == {"detail": "现在提问的人太多，请稍后再试。"}
    assert 0.3 <= elapsed < 2.0  # it waited its max_wait_s for the slot, then was told to come back


def test_requests_waiting_for_a_server_thread_count_against_the_queue_too(fake_assistant, tmp_path):
    import anyio.to_thread

    from assistant.api import create_app

    settings = Settings.from_env(
        environ={}, embedder="fake", data_dir=tmp_path, concurrency=1, max_queue=0, max_wait_s=30.0
    )
    blocking = BlockingAssistant(fake_assistant)
    with TestClient(create_app(settings, blocking)) as client:

        def one_thread() -> None:  # the server's thread pool, shrunk so one answer fills it
            anyio.to_thread.current_default_thread_limiter().total_tokens = 1

        client.portal.call(one_thread)
        answering = threading.Thread(target=lambda: client.post("/api/ask", json={"question": A18_QUESTION}))
        answering.start()
        assert blocking.started.acquire(timeout=30)
        started = time.perf_counter()
        turned_away = client.post("/api/ask", json={"question": A18_QUESTION})  # before: waited for the thread
        elapsed = time.perf_counter() - started
        blocking.release.set()
        answering.join(timeout=60)
    assert turned_away.status_code == 503
    assert turned_away.headers["retry-after"] == "1"
    assert turned_away.headers["x-content-type-options"] == "nosniff"  # inside the guards
    assert elapsed < 1.0


def in_the_stack(app, kind):
    """The middleware of that kind in the app's built stack (built by its first request)."""
    layer = app.middleware_stack
    while not isinstance(layer, kind):
        layer = layer.app
    return layer


@pytest.mark.parametrize(("workers", "first_closes"), [(2, True), (1, False)])
def test_with_several_workers_an_answer_leaving_a_busy_worker_closes_its_connection(
    fake_assistant, tmp_path, workers, first_closes
):
    from assistant.api import AdmissionMiddleware, create_app

    settings = Settings.from_env(
        environ={}, embedder="fake", data_dir=tmp_path, concurrency=1, max_queue=2, max_wait_s=30.0, workers=workers
    )
    answering = InTurnAssistant(fake_assistant, answers=3)
    app = create_app(settings, answering)
    responses: dict[str, object] = {}

    def ask(name: str) -> None:
        responses[name] = TestClient(app).post("/api/ask", json={"question": A18_QUESTION})

    first = threading.Thread(target=ask, args=("first",))
    first.start()
    assert answering.started.acquire(timeout=30)  # answering; the second waits for its slot
    second = threading.Thread(target=ask, args=("second",))
    second.start()
    admission = in_the_stack(app, AdmissionMiddleware)
    deadline = time.monotonic() + 30
    while admission.in_flight < 2 and time.monotonic() < deadline:  # the second is in: it waits for the slot
        time.sleep(0.01)
    assert admission.in_flight == 2
    answering.gates[0].set()
    first.join(timeout=60)  # the first has left; the second is still in the worker (its answer waits on gates[1])
    answering.gates[1].set()
    second.join(timeout=60)
    answering.gates[2].set()

    assert [responses[name].status_code for name in ("first", "second")] == [200, 200]
    # the first left while the second still waited in this worker: its client reconnects, maybe to another worker
    assert (responses["first"].headers.get("connection") == "close") is first_closes
    # a request leaving an idle worker keeps its connection (asked after both: whether the second's answer starts
    # before the first's slot is counted free is a race, not a behaviour)
    alone = TestClient(app).post("/api/ask", json={"question": A18_QUESTION})
    assert alone.status_code == 200 and "connection" not in alone.headers


@pytest.mark.parametrize(("given", "used"), [(None, "8"), ("3", "3")])
def test_several_workers_each_answer_8_questions_at_once_unless_told_otherwise(monkeypatch, given, used):
    import uvicorn

    from assistant import serve

    for name in ("OMP_NUM_THREADS", "XIHU_QUERY_CACHE", "XIHU_CONCURRENCY", "XIHU_UI_PORT"):
        monkeypatch.delenv(name, raising=False)
    if given is not None:
        monkeypatch.setenv("XIHU_CONCURRENCY", given)
    monkeypatch.setenv("XIHU_WORKERS", "2")
    monkeypatch.setenv("XIHU_CHROMA_HOST", "127.0.0.1")  # a store of its own: no local Chroma server started
    seen: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: seen.update(kwargs, env=dict(os.environ)))

    assert serve.main([]) == 0
    assert seen["workers"] == 2
    assert seen["env"]["XIHU_CONCURRENCY"] == used  # type: ignore[index]
    assert Settings.from_env(environ=seen["env"]).concurrency == int(used)  # type: ignore[arg-type]


def children(pid: int) -> list[tuple[int, str]]:
    """(pid, command line) of the direct children of `pid`, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append((int(entry.name), command))
    return found


def wait_until_ready(url: str, timeout_s: float = 300) -> None:
    import httpx

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise AssertionError(f"{url} not ready within {timeout_s} s")


@pytest.mark.integration
def test_two_workers_share_a_chroma_server_any_worker_answers_a_follow_up_and_one_process_serves_the_ui(
    tmp_path, fake_assistant
):
    import httpx
    from gradio_client import Client

    from eval.load import LocalServer, free_port

    ui_port = free_port()
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "XIHU_EMBEDDER": "fake", "XIHU_DATA_DIR": str(tmp_path)}
    env["XIHU_UI_PORT"] = str(ui_port)
    with LocalServer(env, tmp_path / "serve.log", workers=2) as server:
        assert server._process is not None
        first = httpx.post(f"{server.url}/api/ask", json={"question": A18_QUESTION}, timeout=30).json()
        history = [{"role": "user", "content": A18_QUESTION}, {"role": "assistant", "content": first["answer"]}]
        follow_ups = [  # each on a new connection: the kernel hands them to either worker
            httpx.post(f"{server.url}/api/ask", json={"question": FOLLOW_UP, "history": history}, timeout=30).json()
            for _ in range(12)
        ]
        ready = httpx.get(f"{server.url}/readyz", timeout=30)
        no_ui = httpx.get(f"{server.url}/", timeout=30)
        ui_url = f"http://127.0.0.1:{ui_port}"
        wait_until_ready(ui_url)
        # Each client joins Gradio's queue and reads the result stream on separate connections: on the workers'
        # port these land on different processes and fail; the UI process holds both.
        ui_answers = [Client(ui_url, verbose=False).predict(A18_QUESTION, [], api_name="/respond") for _ in range(4)]
        kids = children(server._process.pid)
    assert (tmp_path / "chroma-server" / "chroma.sqlite3").is_file()  # the index lives on the shared server
    assert not (tmp_path / "chroma").exists()  # and not in an embedded store
    assert sum("chroma run" in command for _, command in kids) == 1
    assert sum("spawn_main" in command for _, command in kids) == 2  # the workers, not the resource tracker
    assert sum("assistant.serve:app_from_env" in command for _, command in kids) == 1  # the UI process
    expected = fake_assistant.ask(FOLLOW_UP, history).to_dict()
    assert all(answer == expected for answer in follow_ups)  # the history in the request is all a worker needs
    assert "10万元" in expected["answer"]
    assert expected != fake_assistant.ask(FOLLOW_UP).to_dict()  # and the history is what made the answer
    assert ready.json()["status"] == "ready"
    assert no_ui.status_code == 404
    assert all("20万元" in str(answer) for answer in ui_answers)
    assert server._process.poll() is not None  # stopped, with its workers, UI process and Chroma server
    deadline = time.monotonic() + 10  # the resource tracker exits once it notices its parent has gone
    while any(Path(f"/proc/{pid}").exists() for pid, _ in kids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [command for pid, command in kids if Path(f"/proc/{pid}").exists()] == []


# -- warm-up: a worker answers the scope's in-scope examples before it takes requests ---------------------------


class RecordingAssistant:
    def __init__(self, answerable, fail_at: str = "") -> None:
        self.scope = type("Scope", (), {"answerable": tuple(answerable)})()
        self.asked: list[str] = []
        self.fail_at = fail_at

    def ask(self, question, history=None):
        if question == self.fail_at:
            from assistant.index import StoreUnavailable

            raise StoreUnavailable()
        self.asked.append(question)


def test_a_worker_answers_each_in_scope_example_once_before_it_takes_requests():
    from assistant.serve import warm_up

    assistant = RecordingAssistant(["新认定的高新技术企业奖励多少", "奶茶店有什么奖励"])
    assert warm_up(assistant) == 2
    assert assistant.asked == ["新认定的高新技术企业奖励多少", "奶茶店有什么奖励"]


def test_a_warm_up_that_fails_ends_quietly_and_the_worker_starts_cold(caplog):
    from assistant.serve import warm_up

    assistant = RecordingAssistant(
        ["新认定的高新技术企业奖励多少", "奶茶店有什么奖励", "技改有补贴吗"], fail_at="奶茶店有什么奖励"
    )
    assert warm_up(assistant) == 1
    assert "warm-up stopped after 1 questions: StoreUnavailable" in caplog.text


def test_the_worker_factory_warms_the_assistant_up_before_returning_the_app(fake_assistant, tmp_path, monkeypatch):
    import assistant.serve as serve
    from assistant.answer import Assistant

    warmed = []
    monkeypatch.setenv("XIHU_EMBEDDER", "fake")
    monkeypatch.setenv("XIHU_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(Assistant, "create", classmethod(lambda cls, settings: fake_assistant))
    monkeypatch.setattr(serve, "warm_up", warmed.append)

    app = serve.api_from_env()

    assert warmed == [fake_assistant]
    assert TestClient(app).post("/api/ask", json={"question": A18_QUESTION}).json()["citations"][0] == "A18"
