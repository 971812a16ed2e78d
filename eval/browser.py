"""The app as a browser meets it: `python app.py` on a free port, driven by Playwright through Debian's chromium,
and the time from a question sent to its whole answer shown. Used by tests/test_ui_browser.py and `make bench`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from assistant.serve import free_port
from assistant.settings import PROJECT_ROOT, Settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STARTUP_TIMEOUT_S = 240  # the real model loads and the index is built in a fresh data dir
ANSWER_TIMEOUT_MS = 30_000

# In the page: type the question, press 发送 and resolve with the milliseconds until a new answer bubble holds
# its text. Measured in the page, so Playwright's own round trips are not counted.
_TIME_ANSWER_JS = """([question, timeout]) => new Promise((resolve, reject) => {
  const bots = () => document.querySelectorAll('#chatbot [data-testid="bot"]');
  const before = bots().length;
  const box = document.querySelector('#question textarea');
  box.value = question;
  box.dispatchEvent(new Event('input', { bubbles: true }));
  const start = performance.now();
  document.querySelector('#send').click();
  const check = () => {
    const all = bots();
    const last = all[all.length - 1];
    const text = all.length > before && last.querySelector('.answer-text')?.textContent;
    if (text) resolve([performance.now() - start, text]);
    else if (performance.now() - start > timeout) reject(new Error('no answer within ' + timeout + ' ms'));
    else requestAnimationFrame(check);
  };
  check();
})"""


def app_environment(data_dir: Path | None, port: int) -> tuple[dict[str, str], str]:
    """The environment for `python app.py`: the developer's XIHU_* settings, this port, no auth, the given data
    dir (None keeps the configured one and its index), and the fake embedder only when the model folder has
    not been built. Returns the environment and the embedder it will use."""
    env = {**os.environ, "XIHU_HOST": "127.0.0.1", "XIHU_PORT": str(port), "XIHU_AUTH_USER": ""}
    if data_dir is not None:
        env["XIHU_DATA_DIR"] = str(data_dir)
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    settings = Settings.from_env(environ=env)
    model_folder = settings.models_dir / settings.embedding_model
    if settings.embedder == "sentence-transformers" and not model_folder.is_dir():
        env["XIHU_EMBEDDER"] = "fake"
    return env, env.get("XIHU_EMBEDDER", settings.embedder)


@contextmanager
def running_app(data_dir: Path | None, log_path: Path) -> Iterator[tuple[str, str]]:
    """`python app.py` until the block ends; yields its URL and embedder once /healthz answers."""
    port = free_port()
    env, embedder = app_environment(data_dir, port)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "app.py"], cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if process.poll() is not None:
                tail = log_path.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"app.py exited with {process.returncode}:\n{tail}")
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"app.py did not answer /healthz in {STARTUP_TIMEOUT_S}s")
            time.sleep(0.5)
        yield url, embedder
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium (Debian's /usr/bin/chromium, installed by `make browser`)."""
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        raise RuntimeError("/usr/bin/chromium is missing: run `make browser` (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def time_answer(page: Any, question: str) -> float:
    """Milliseconds from pressing 发送 to the new answer's text on screen, in the chat tab of `page`."""
    return float(page.evaluate(_TIME_ANSWER_JS, [question, ANSWER_TIMEOUT_MS])[0])


def first_answer_text(page: Any, question: str) -> str:
    """The new answer's text in the first frame it shows any (checked every frame), after pressing 发送."""
    return str(page.evaluate(_TIME_ANSWER_JS, [question, ANSWER_TIMEOUT_MS])[1])


def measure_browser(questions: Sequence[str], warm_up: int = 2) -> dict[str, Any]:
    """p50/p95 of question sent -> whole answer visible, in Chromium at 1366×900 against a new `python app.py`
    (the configured data dir, so its index is reused): each question once as new (`browser_first_time_*`), then
    all of them again, their retrieval now cached (`browser_*`: what the page adds to a computed answer, the
    measure of issue 15's target). The first `warm_up` first-time questions open the connection and are not
    counted."""
    from eval.metrics import percentile

    def summary(prefix: str, latencies: list[float]) -> dict[str, float]:
        return {
            f"{prefix}_p50_ms": round(percentile(latencies, 50) or 0.0, 1),
            f"{prefix}_p95_ms": round(percentile(latencies, 95) or 0.0, 1),
        }

    log_path = PROJECT_ROOT / "eval" / "out" / "bench-app.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with running_app(None, log_path) as (url, _), chromium() as browser:
        page = browser.new_page(locale="zh-CN", viewport={"width": 1366, "height": 900})
        page.goto(url + "/")
        page.wait_for_selector("#question textarea")
        first = [time_answer(page, question) for question in questions]
        again = [time_answer(page, question) for question in questions]
    return {
        "browser_questions": len(questions),
        **summary("browser", again),
        **summary("browser_first_time", first[warm_up:] or first),
    }
