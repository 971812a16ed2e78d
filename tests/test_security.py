"""Security: no eval/exec, loopback by default, basic auth, size limits, security headers, no secrets in logs."""

from __future__ import annotations

import ast
import asyncio
import base64
import http.server
import logging
import os
import re
import socket
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from assistant.http_guards import (
    BAD_LENGTH,
    UNAUTHORIZED,
    BasicAuthMiddleware,
    BodyGuardMiddleware,
    too_large_message,
)
from assistant.settings import PROJECT_ROOT, Settings

NORMAL = "首次认定的高新技术企业奖励多少？"
PASSWORD_ENV = "XIHU_TEST_AUTH_PASSWORD"
PASSWORD = "s3cret:密码-Ω"  # a colon and non-ASCII on purpose
API_KEY_ENV = "XIHU_TEST_LLM_KEY"
API_KEY = "sk-test-9f8e7d6c5b4a39281706f5e4d3c2b1a0"
CHALLENGE = 'Basic realm="xihu-assistant", charset="UTF-8"'
LONG_REF = "9" * 5_000


def python_sources() -> list[Path]:
    files = [*(PROJECT_ROOT / "assistant").rglob("*.py"), *(PROJECT_ROOT / "eval").rglob("*.py")]
    files.append(PROJECT_ROOT / "app.py")
    return sorted(f for f in files if f.is_file())


def calls(tree: ast.AST) -> list[ast.Call]:
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call)]


def call_name(call: ast.Call) -> str:
    """`eval`, `yaml.load`, `builtins.exec`: the dotted name a call is made through."""
    parts: list[str] = []
    func: ast.AST = call.func
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        parts.append(func.id)
    return ".".join(reversed(parts))


# -- the code ---------------------------------------------------------------------------------------------
def test_sources_are_found():
    names = {f.relative_to(PROJECT_ROOT).as_posix() for f in python_sources()}
    assert {"app.py", "assistant/answer.py", "assistant/http_guards.py", "eval/load.py"} <= names


def test_no_eval_or_exec_anywhere():
    offenders = [
        f"{path.relative_to(PROJECT_ROOT)}:{call.lineno} {call_name(call)}"
        for path in python_sources()
        for call in calls(ast.parse(path.read_text(encoding="utf-8")))
        if call_name(call) in {"eval", "exec", "builtins.eval", "builtins.exec", "__import__"}
    ]
    assert offenders == []


def test_no_unsafe_loaders_or_shells():
    offenders = []
    for path in python_sources():
        for call in calls(ast.parse(path.read_text(encoding="utf-8"))):
            name = call_name(call)
            shell = any(k.arg == "shell" and getattr(k.value, "value", False) is True for k in call.keywords)
            if name in {"yaml.load", "yaml.unsafe_load", "pickle.load", "pickle.loads", "os.system"} or shell:
                offenders.append(f"{path.relative_to(PROJECT_ROOT)}:{call.lineno} {name}")
    assert offenders == []


def test_the_scan_would_catch_an_eval():
    tree = ast.parse("import yaml\nx = eval('1')\nyaml.load(s)\nsubprocess.run('ls', shell=True)")
    assert [call_name(c) for c in calls(tree)] == ["eval", "yaml.load", "subprocess.run"]


# -- binding ----------------------------------------------------------------------------------------------
def test_the_app_binds_loopback_unless_configured():
    assert Settings().host == "127.0.0.1"
    assert Settings.from_env(environ={}).host == "127.0.0.1"
    assert Settings.from_env(environ={"XIHU_HOST": "0.0.0.0"}).host == "0.0.0.0"  # only when asked for


def test_app_py_passes_the_configured_host_to_the_server():
    tree = ast.parse((PROJECT_ROOT / "app.py").read_text(encoding="utf-8"))
    runs = [c for c in calls(tree) if call_name(c) == "uvicorn.run"]
    assert len(runs) == 1
    host = next(k.value for k in runs[0].keywords if k.arg == "host")
    assert ast.unparse(host) == "settings.host"


def test_no_wildcard_address_is_written_into_the_code():
    assert [str(p) for p in python_sources() if "0.0.0.0" in p.read_text(encoding="utf-8")] == []


# -- basic auth -------------------------------------------------------------------------------------------
@pytest.fixture()
def auth_client(fake_settings, fake_assistant, monkeypatch, caplog):
    from fastapi.testclient import TestClient

    from assistant.api import create_app

    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    settings = replace(fake_settings, auth_user="admin", auth_password_env=PASSWORD_ENV)
    with TestClient(create_app(settings, fake_assistant)) as client:
        yield client
    assert PASSWORD not in caplog.text  # nothing logged the password, whatever the test did


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"authorization": f"Basic {token}"}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        basic("admin", "wrong"),
        basic("root", PASSWORD),
        basic("admin", PASSWORD[:-1]),
        {"authorization": "Basic !!!not-base64!!!"},
        {"authorization": "Bearer " + base64.b64encode(f"admin:{PASSWORD}".encode()).decode()},
        {"authorization": "Basic " + base64.b64encode(b"admin").decode()},  # no colon at all
    ],
    ids=["none", "wrong password", "wrong user", "password prefix", "not base64", "bearer", "no colon"],
)
def test_basic_auth_rejects_missing_or_wrong_credentials(auth_client, headers):
    for path in ("/api/articles/A18", "/"):
        response = auth_client.get(path, headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == CHALLENGE
        assert response.json() == {"detail": UNAUTHORIZED}
    assert auth_client.post("/api/ask", json={"question": NORMAL}, headers=headers).status_code == 401


def test_basic_auth_lets_the_right_credentials_in(auth_client):
    headers = basic("admin", PASSWORD)
    assert auth_client.get("/api/articles/A18", headers=headers).json()["id"] == "A18"
    assert auth_client.post("/api/ask", json={"question": NORMAL}, headers=headers).json()["citations"] == ["A18"]
    assert auth_client.get("/", headers=headers).status_code == 200


def test_health_check_needs_no_credentials(auth_client):
    assert auth_client.get("/healthz").json()["status"] == "ok"


def test_auth_without_a_password_refuses_to_start(fake_settings, fake_assistant, monkeypatch):
    from assistant.api import create_app

    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    settings = replace(fake_settings, auth_user="admin", auth_password_env=PASSWORD_ENV)
    with pytest.raises(RuntimeError, match=f"env var {PASSWORD_ENV} holding the password is unset or empty"):
        create_app(settings, fake_assistant)


def test_repeated_wrong_credentials_are_slowed_down_with_429(auth_client):
    wrong = basic("admin", "guess")
    statuses = [auth_client.get("/api/articles/A18", headers=wrong).status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    blocked = auth_client.get("/api/articles/A18", headers=basic("admin", PASSWORD))  # no more guesses, right or not
    assert blocked.status_code == 429
    assert blocked.json() == {"detail": f"登录失败次数太多，请{blocked.headers['retry-after']}秒后再试。"}
    assert 299 <= int(blocked.headers["retry-after"]) <= 300


def test_requests_without_credentials_are_no_failed_logins(auth_client):
    assert [auth_client.get("/api/articles/A18").status_code for _ in range(8)] == [401] * 8
    assert auth_client.get("/api/articles/A18", headers=basic("admin", PASSWORD)).status_code == 200


def test_failed_logins_leave_the_window_and_memory_stays_bounded():
    from assistant.http_guards import FailedLogins

    now = [0.0]
    failures = FailedLogins(limit=3, window_s=60, max_clients=100, clock=lambda: now[0])
    for second in (0, 10, 20):
        now[0] = second
        failures.failed("10.0.0.1")
    assert failures.wait_s("10.0.0.1") == 40  # until the first failure (at 0 s) leaves the 60 s window
    assert failures.wait_s("10.0.0.2") == 0  # another client is not affected
    now[0] = 60
    assert failures.wait_s("10.0.0.1") == 0
    failures.succeeded("10.0.0.1")
    for client in range(1_000):
        failures.failed(f"192.0.2.{client}")
    assert len(failures) == 100


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "[::]", "192.168.1.5", "10.0.0.7", "example.org"])
def test_a_reachable_address_without_auth_refuses_to_start(fake_settings, host):
    from assistant.api import create_app
    from assistant.http_guards import ExposureError

    settings = replace(fake_settings, host=host)
    with pytest.raises(ExposureError, match=f"refusing to serve on {re.escape(host)}:7860 without authentication"):
        create_app(settings)  # refused before the model loads: no assistant is given


@pytest.mark.parametrize(
    ("host", "overrides"),
    [
        ("127.0.0.1", {}),
        ("127.0.0.2", {}),
        ("localhost", {}),
        ("::1", {}),
        ("0.0.0.0", {"auth_user": "admin"}),
        ("0.0.0.0", {"allow_open": True}),
    ],
)
def test_loopback_or_auth_or_an_explicit_allowance_may_start(fake_settings, host, overrides):
    from assistant.http_guards import check_exposure

    check_exposure(replace(fake_settings, host=host, **overrides))  # no error


def test_allow_open_is_read_from_the_environment():
    assert Settings.from_env(environ={"XIHU_ALLOW_OPEN": "1"}).allow_open is True
    assert Settings.from_env(environ={"XIHU_ALLOW_OPEN": "0"}).allow_open is False
    assert Settings.from_env(environ={}).allow_open is False


def test_app_py_on_a_public_address_without_auth_exits_saying_why(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("XIHU_")},
        "PYTHONPATH": str(PROJECT_ROOT),
        "XIHU_EMBEDDER": "fake",
        "XIHU_DATA_DIR": str(tmp_path / "data"),
        "XIHU_HOST": "0.0.0.0",
    }
    done = subprocess.run(
        [sys.executable, "app.py"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "xihu: refusing to serve on 0.0.0.0:7860 without authentication: anyone who can reach this address could "
        "use the assistant and submit feedback. Set XIHU_AUTH_USER and the password in XIHU_AUTH_PASSWORD to "
        "require a login, bind to 127.0.0.1 (XIHU_HOST), or set XIHU_ALLOW_OPEN=1 if it is meant to be open (for "
        "example behind a proxy that authenticates)."
    )


def test_logs_cut_user_text(fake_settings, caplog):
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from assistant.http_guards import install_guards

    app = FastAPI()
    install_guards(app, fake_settings)

    @app.get("/boom/{ref}")
    def boom(ref: str) -> None:
        raise RuntimeError("boom")

    caplog.set_level(logging.INFO)
    TestClient(app, raise_server_exceptions=False).get(f"/boom/{LONG_REF}")
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:50000", "GET", f"/api/articles/{LONG_REF}", "1.1", 404
    )
    server_side = ("assistant.http_guards", "uvicorn.access")  # (httpx logs the test client's own request)
    messages = [record.getMessage() for record in caplog.records if record.name in server_side]
    assert any(f"/boom/{LONG_REF[:194]}…(+4806 chars)" in m for m in messages)
    assert f'"GET /api/articles/{LONG_REF[:186]}…(+4814 chars) HTTP/1.1" 404' in messages[-1]
    assert all(LONG_REF not in m for m in messages)


def test_the_auth_middleware_does_not_show_the_password():
    middleware = BasicAuthMiddleware(app=None, user="admin", password=PASSWORD)  # type: ignore[arg-type]
    assert PASSWORD not in repr(middleware)
    assert "admin" not in repr(middleware)


# -- request size -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def client(fake_settings, fake_assistant):
    from fastapi.testclient import TestClient

    from assistant.api import create_app

    with TestClient(create_app(fake_settings, fake_assistant)) as test_client:
        yield test_client


def body_of_size(size: int) -> bytes:
    body = f'{{"question": "{NORMAL}"}}'.encode()
    return body + b" " * (size - len(body))  # JSON allows trailing whitespace


def test_body_at_the_limit_is_accepted_and_one_byte_more_is_refused(client, fake_settings):
    limit = fake_settings.max_body_bytes
    headers = {"content-type": "application/json"}
    at_limit = client.post("/api/ask", content=body_of_size(limit), headers=headers)
    over = client.post("/api/ask", content=body_of_size(limit + 1), headers=headers)
    assert at_limit.status_code == 200
    assert at_limit.json()["citations"] == ["A18"]
    assert over.status_code == 413
    assert over.json() == {"detail": too_large_message(limit)}


def run_asgi(app: Any, headers: list[tuple[bytes, bytes]], chunks: list[bytes]) -> tuple[list[dict], int]:
    """Call an ASGI app once; returns what it sent and how many body chunks it asked for."""
    sent: list[dict] = []
    pending = list(chunks)
    asked = 0

    async def receive() -> dict:
        nonlocal asked
        asked += 1
        chunk = pending.pop(0) if pending else b""
        return {"type": "http.request", "body": chunk, "more_body": bool(pending)}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/api/ask", "headers": headers}
    asyncio.run(app(scope, receive, send))
    return sent, asked


async def _never_called(scope: Any, receive: Any, send: Any) -> None:
    raise AssertionError("the route must not run")


def test_declared_length_over_the_limit_is_refused_before_reading_the_body():
    guard = BodyGuardMiddleware(_never_called, max_body_bytes=100)
    sent, asked = run_asgi(guard, [(b"content-length", b"101")], [b"x" * 101])
    assert sent[0]["status"] == 413
    assert asked == 0
    assert too_large_message(100).encode() in sent[1]["body"]


def test_body_longer_than_its_declared_length_is_cut_off_at_the_limit():
    guard = BodyGuardMiddleware(_never_called, max_body_bytes=100)
    sent, asked = run_asgi(guard, [(b"content-length", b"10")], [b"x" * 60, b"x" * 60, b"x" * 60])
    assert sent[0]["status"] == 413
    assert asked == 2


def test_invalid_content_length_is_a_bad_request():
    guard = BodyGuardMiddleware(_never_called, max_body_bytes=100)
    sent, _ = run_asgi(guard, [(b"content-length", b"12abc")], [b"{}"])
    assert sent[0]["status"] == 400
    assert BAD_LENGTH.encode() in sent[1]["body"]


# -- headers: JSON is never sniffed as HTML, the UI is never framed ------------------------------------------
def test_answers_to_markup_are_json_that_browsers_will_not_render(client):
    response = client.post("/api/ask", json={"question": f"<script>alert(1)</script>{NORMAL}"})
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert "<script" not in response.json()["answer"]


def test_the_ui_page_cannot_be_framed(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["content-security-policy"] == "frame-ancestors 'none'"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


# -- secrets in logs ----------------------------------------------------------------------------------------
class FailingChatServer(http.server.BaseHTTPRequestHandler):
    """A chat endpoint on 127.0.0.1 that records the Authorization header and answers 500."""

    seen: list[str] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        FailingChatServer.seen.append(self.headers.get("authorization", ""))
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(500)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_llm_api_key_is_used_but_never_logged_or_printed(fake_settings, monkeypatch, caplog, capfd):
    import openai

    from assistant.answer import Assistant

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FailingChatServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv(API_KEY_ENV, API_KEY)
    settings = replace(
        fake_settings,
        llm_base_url=f"http://127.0.0.1:{server.server_address[1]}/v1",
        llm_model="test-model",
        llm_api_key_env=API_KEY_ENV,
        llm_timeout_s=5.0,
    )
    try:
        assistant = Assistant.create(settings)
        assistant.ask(NORMAL)
        with pytest.raises(openai.InternalServerError):  # the error path is where keys tend to leak
            assistant.chat_model.invoke("hello")
        logging.getLogger("assistant").exception("a failure while the key is configured")
    finally:
        server.shutdown()
        server.server_close()

    assert FailingChatServer.seen and FailingChatServer.seen[-1] == f"Bearer {API_KEY}"  # the key was really used
    out, err = capfd.readouterr()
    for text in (caplog.text, out, err, repr(settings), str(settings.describe())):
        assert API_KEY not in text


# -- the real app process ----------------------------------------------------------------------------------
def listening_addresses(port: int) -> set[str]:
    """Local addresses listening on `port`, from /proc/net/tcp and tcp6 (hex, as the kernel writes them)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, port_hex = fields[1].rsplit(":", 1)
            if int(port_hex, 16) == port and fields[3] == "0A":  # 0A = LISTEN
                found.add(address)
    return found


@pytest.mark.integration
def test_app_py_listens_on_loopback_only_and_logs_no_secrets(tmp_path):
    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("XIHU_")},
        "PYTHONPATH": str(PROJECT_ROOT),
        "XIHU_EMBEDDER": "fake",
        "XIHU_DATA_DIR": str(tmp_path / "data"),
        "XIHU_PORT": str(port),
        "XIHU_AUTH_USER": "admin",
        "XIHU_AUTH_PASSWORD": PASSWORD,
        "OPENAI_API_KEY": API_KEY,
    }
    log = tmp_path / "app.log"
    with log.open("wb") as out:
        app = subprocess.Popen([sys.executable, "app.py"], cwd=PROJECT_ROOT, env=env, stdout=out, stderr=out)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert app.poll() is None, log.read_text()[-3000:]
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        auth = ("admin", PASSWORD)
        assert listening_addresses(port) == {"0100007F"}  # 127.0.0.1 only
        assert httpx.post(f"{url}/api/ask", json={"question": NORMAL}, auth=auth).json()["citations"] == ["A18"]
        assert httpx.post(f"{url}/api/ask", json={"question": NORMAL}, auth=("admin", "nope")).status_code == 401
        assert httpx.post(f"{url}/api/ask", content=b"\xff", auth=auth).status_code == 400
        assert httpx.get(f"{url}/api/articles/{LONG_REF}", auth=auth).status_code == 404
        assert httpx.get(f"{url}/healthz", headers={"x-padding": "a" * 1_000_000}).status_code == 431
    finally:
        app.terminate()
        try:
            app.wait(timeout=20)
        except subprocess.TimeoutExpired:
            app.kill()
            app.wait()
    output = log.read_text(encoding="utf-8", errors="replace")
    assert "POST /api/ask" in output or "Uvicorn running" in output or "Application startup complete" in output
    assert API_KEY not in output
    assert PASSWORD not in output
    assert (
        f"/api/articles/{LONG_REF[:186]}…(+4814 chars)" in output and LONG_REF not in output
    )  # the access log cuts the 5,000-digit reference


# -- no phoning home ---------------------------------------------------------------------------------------
def test_the_ui_sends_no_telemetry(client):
    mounted = [route.app for route in client.app.routes if hasattr(getattr(route, "app", None), "get_blocks")]
    assert len(mounted) == 1
    assert mounted[0].get_blocks().analytics_enabled is False
