"""Serve with several worker processes: `python -m assistant.serve` (XIHU_WORKERS workers, default 1).

Each worker is a uvicorn process holding the whole app and its own model; they share the port, one Chroma
server and one feedback database. The API keeps no conversation state: every /api/ask brings its own
history, so any worker (or replica on another machine) answers any turn without sticky sessions.

With more than one worker and no XIHU_CHROMA_HOST, a local `chroma run` is started on 127.0.0.1 (persisting
to data_dir/chroma-server) and stopped with the app: the embedded store belongs to one process only.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.settings import Settings

log = logging.getLogger(__name__)
CHROMA_START_TIMEOUT_S = 60.0


def app_from_env() -> Any:
    """The app with settings from the environment (the uvicorn factory each worker calls)."""
    from assistant.api import create_app

    return create_app(Settings.from_env())


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
    """Start the workers (and a local Chroma server when they need one); return when uvicorn stops."""
    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = Settings.from_env()
    chroma = None
    if settings.workers > 1 and not settings.chroma_host:
        chroma = ChromaProcess(settings.data_dir / "chroma-server", settings.data_dir / "chroma-server.log")
        chroma.start()
        log.info("%d workers share a Chroma server started on 127.0.0.1:%d", settings.workers, chroma.port)
        # The workers read their settings from the environment they inherit.
        os.environ["XIHU_CHROMA_HOST"], os.environ["XIHU_CHROMA_PORT"] = "127.0.0.1", str(chroma.port)
    try:
        uvicorn.run(
            "assistant.serve:app_from_env",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=max(1, settings.workers),
            timeout_graceful_shutdown=10,
        )
    finally:
        if chroma is not None:
            chroma.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
