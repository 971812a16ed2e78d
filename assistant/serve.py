"""Serve with several worker processes: `python -m assistant.serve` (XIHU_WORKERS workers, default 1).

One worker: the whole app (UI and API) in one process, as app.py. Several: uvicorn workers sharing the port
serve the JSON API (and /healthz, /readyz), each with its own model, all sharing one Chroma server and one
feedback database. The API keeps no conversation state: every /api/ask brings its own history, so any worker
(or replica on another machine) answers any turn without sticky sessions. The Gradio UI cannot be spread over
processes (its queue and session state live in the process that served the page: a question's "join" and its
result stream would land on different workers), so with XIHU_UI_PORT set one more process serves the UI there.

With more than one worker and no XIHU_CHROMA_HOST, a local `chroma run` is started on 127.0.0.1 (persisting
to data_dir/chroma-server) and stopped with the app: the embedded store belongs to one process only.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.settings import Settings

log = logging.getLogger(__name__)
CHROMA_START_TIMEOUT_S = 60.0
WORKER_CONCURRENCY = 8  # answer slots of each of several workers (XIHU_CONCURRENCY overrides)


def app_from_env() -> Any:
    """The whole app (UI and API) with settings from the environment (uvicorn factory), warmed up."""
    return _warmed_app(Settings.from_env(), ui=True)


def api_from_env() -> Any:
    """The JSON API without the UI (the uvicorn factory each of several workers calls), warmed up."""
    return _warmed_app(Settings.from_env(), ui=False)


def _warmed_app(settings: Settings, ui: bool) -> Any:
    from assistant.answer import Assistant
    from assistant.api import create_app
    from assistant.http_guards import check_exposure

    check_exposure(settings)  # before the model loads: a refused start stays quick
    assistant = Assistant.create(settings)
    warm_up(assistant)
    return create_app(settings, assistant, ui=ui)


def warm_up(assistant: Any) -> int:
    """Answer the scope's in-scope examples (knowledge/scope.yaml) once before the worker takes requests; return
    how many were answered. The first answers would otherwise load jieba's part-of-speech tagger (~0.5 s) and embed
    the example router's utterances while holding the GIL, and every request the worker holds meanwhile waits past
    XIHU_MAX_WAIT_S (503s in the first seconds of the load benchmark). Answers are the same either way: only what
    is loaded and remembered differs. A failure (a store still starting) ends the warm-up, never the start."""
    started = time.perf_counter()
    answered = 0
    for question in assistant.scope.answerable:
        try:
            assistant.ask(question)
        except Exception as error:
            log.warning("warm-up stopped after %d questions: %s", answered, type(error).__name__)
            return answered
        answered += 1
    log.info("warmed up with %d questions in %.1f s", answered, time.perf_counter() - started)
    return answered


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ChromaProcess:
    """`chroma run` on 127.0.0.1 as a child process; `stop` ends it."""

    def __init__(self, path: Path, log_path: Path, port: int | None = None) -> None:
        self.path, self.log_path, self.port = path, log_path, port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> ChromaProcess:
        import httpx

        chroma = Path(sys.executable).parent / "chroma"
        command = [str(chroma), "run", "--host", "127.0.0.1", "--port", str(self.port), "--path", str(self.path)]
        self.path.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + CHROMA_START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"chroma exited with code {self.process.returncode}; see {self.log_path}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/api/v2/heartbeat", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"chroma did not answer within {CHROMA_START_TIMEOUT_S:.0f} s; see {self.log_path}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=20)


def main(argv: Sequence[str] | None = None) -> int:
    """Start the workers (and a local Chroma server and the UI process when asked); return when uvicorn stops."""
    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = Settings.from_env()
    if settings.workers <= 1:
        uvicorn.run("assistant.serve:app_from_env", factory=True, host=settings.host, port=settings.port)
        return 0
    # One process per core, one thread each: the query embedder's OpenMP threads (one per core by default) in
    # every worker and every concurrent answer would oversubscribe the cores and spin against each other.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    # Answer slots per worker, unless set: the clients spread over the workers (the API closes a busy worker's
    # connections), 16 clients about 8 to each; with 4 slots half of them waited for one, and in the first seconds
    # of the load benchmark (every question new) some waited past XIHU_MAX_WAIT_S and got 503 (8-49 a run, none
    # with 8 slots in 4 runs; p95 no different beyond the shared machine's noise).
    os.environ.setdefault("XIHU_CONCURRENCY", str(WORKER_CONCURRENCY))
    # The workers share question vectors for as long as the app runs: a question one worker embedded, the others
    # look up (SharedQueryVectors).
    scratch = Path(tempfile.mkdtemp(prefix="xihu-serve-"))
    os.environ.setdefault("XIHU_QUERY_CACHE", str(scratch / "query-vectors.sqlite3"))
    chroma, ui = None, None
    try:
        if not settings.chroma_host:
            chroma = ChromaProcess(settings.data_dir / "chroma-server", settings.data_dir / "chroma-server.log")
            chroma.start()
            log.info("%d workers share a Chroma server started on 127.0.0.1:%d", settings.workers, chroma.port)
            # The workers (and the UI process) read their settings from the environment they inherit.
            os.environ["XIHU_CHROMA_HOST"], os.environ["XIHU_CHROMA_PORT"] = "127.0.0.1", str(chroma.port)
        if settings.ui_port:
            command = [sys.executable, "-m", "uvicorn", "assistant.serve:app_from_env", "--factory"]
            command += ["--host", settings.host, "--port", str(settings.ui_port)]
            ui = subprocess.Popen(command)
            log.info("the UI is served by one process on %s:%d", settings.host, settings.ui_port)
        uvicorn.run(
            "assistant.serve:api_from_env",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            timeout_graceful_shutdown=10,
        )
    finally:
        if ui is not None and ui.poll() is None:
            ui.terminate()
            try:
                ui.wait(timeout=20)
            except subprocess.TimeoutExpired:
                ui.kill()
                ui.wait(timeout=20)
        if chroma is not None:
            chroma.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
