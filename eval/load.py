"""Load benchmark (`make load`): N concurrent clients posting dev-set questions to /api/ask for a bounded time.

`python -m eval.load --clients 16 --seconds 30 [--url URL] [--out load.json]`. Without --url it starts the app
itself (uvicorn on 127.0.0.1 and a free port, settings from XIHU_* env vars) and stops it afterwards.
Reports throughput, p50/p95/p99 latency and errors as JSON and a table, against the target
(16 clients for 30 s: 0 errors, p95 < 1 s). A missed target fails the command only with --check.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval.metrics import percentile

DEFAULT_DATASET = Path("eval/datasets/dev.jsonl")
TARGET_P95_MS = 1000.0
TARGET_ERRORS = 0
START_TIMEOUT_S = 600.0  # a cold start may build the index with the real model first
REQUEST_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Sample:
    """One request: when it finished (seconds since the start), how long it took, and what came back."""

    finished_s: float
    latency_ms: float
    outcome: str  # "ok", "HTTP 500", "ReadTimeout", ...


def app_from_env() -> Any:
    """The app as `app.py` builds it, with settings from the environment (uvicorn --factory target)."""
    from assistant.api import create_app
    from assistant.settings import Settings

    return create_app(Settings.from_env())


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LocalServer:
    """The app under uvicorn in a child process on 127.0.0.1; a context manager that always stops it."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._env = env
        self._log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> LocalServer:
        command = [
            sys.executable, "-m", "uvicorn", "eval.load:app_from_env", "--factory",
            "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning",
        ]  # fmt: skip
        with self._log_path.open("wb") as log:
            self._process = subprocess.Popen(command, env=self._env, stdout=log, stderr=subprocess.STDOUT)
        self._wait_until_healthy()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=15)

    def _wait_until_healthy(self) -> None:
        import httpx

        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(f"the app exited with code {self._process.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"the app did not answer /healthz within {START_TIMEOUT_S:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        text = self._log_path.read_text(encoding="utf-8", errors="replace") if self._log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def load_questions(dataset: Path) -> list[dict[str, Any]]:
    """Request bodies for /api/ask: every dev-set question with its earlier turns."""
    from eval.runner import load_cases

    return [{"question": c.question, "history": c.history_messages()} for c in load_cases(dataset)]


def run_clients(
    url: str, bodies: Sequence[dict[str, Any]], clients: int, seconds: float, auth: tuple[str, str] | None = None
) -> tuple[list[Sample], float]:
    """`clients` threads, each with its own connection, post shuffled bodies until `seconds` have passed.

    Requests already sent when time is up are waited for and counted. Returns the samples and the wall time.
    """
    import httpx

    samples: list[Sample] = []
    lock = threading.Lock()
    start = time.perf_counter()
    deadline = start + seconds
    barrier = threading.Barrier(clients)

    def client(index: int) -> None:
        order = list(bodies)
        random.Random(index).shuffle(order)  # mixed questions, different per client, reproducible
        mine: list[Sample] = []
        with httpx.Client(base_url=url, timeout=REQUEST_TIMEOUT_S, auth=auth) as http:
            barrier.wait()
            i = 0
            while time.perf_counter() < deadline:
                body = order[i % len(order)]
                i += 1
                sent = time.perf_counter()
                try:
                    response = http.post("/api/ask", json=body)
                    outcome = "ok" if response.status_code == 200 else f"HTTP {response.status_code}"
                except httpx.HTTPError as error:
                    outcome = type(error).__name__
                done = time.perf_counter()
                mine.append(Sample(done - start, (done - sent) * 1000, outcome))
        with lock:
            samples.extend(mine)

    threads = [threading.Thread(target=client, args=(i,), name=f"load-client-{i}") for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return samples, time.perf_counter() - start


def summarise(samples: Sequence[Sample], wall_s: float, clients: int, seconds: float) -> dict[str, Any]:
    """Throughput, latency percentiles (nearest rank, over every request) and errors by kind."""
    latencies = [s.latency_ms for s in samples]
    errors = Counter(s.outcome for s in samples if s.outcome != "ok")
    p95 = percentile(latencies, 95)

    def ms(value: float | None) -> float | None:
        return None if value is None else round(value, 1)

    return {
        "clients": clients,
        "seconds": seconds,
        "wall_s": round(wall_s, 2),
        "requests": len(samples),
        "ok": len(samples) - sum(errors.values()),
        "errors": sum(errors.values()),
        "error_kinds": dict(sorted(errors.items())),
        "throughput_rps": round(len(samples) / wall_s, 1) if wall_s > 0 else 0.0,
        "latency_ms": {
            "p50": ms(percentile(latencies, 50)),
            "p95": ms(p95),
            "p99": ms(percentile(latencies, 99)),
            "mean": ms(sum(latencies) / len(latencies)) if latencies else None,
            "max": ms(max(latencies)) if latencies else None,
        },
        "target": {
            "p95_ms": TARGET_P95_MS,
            "errors": TARGET_ERRORS,
            "met": bool(samples) and not errors and p95 is not None and p95 < TARGET_P95_MS,
        },
    }


def table(report: dict[str, Any]) -> str:
    """The report as a Markdown table."""
    latency = report["latency_ms"]
    kinds = ", ".join(f"{k}: {v}" for k, v in report["error_kinds"].items()) or "none"
    rows = [
        ("server", f"{report['server']}, embedder: {report['embedder']}"),
        ("clients x seconds", f"{report['clients']} x {report['seconds']:g} s (wall {report['wall_s']} s)"),
        ("requests (ok)", f"{report['requests']} ({report['ok']})"),
        ("throughput", f"{report['throughput_rps']} req/s"),
        ("latency p50 / p95 / p99", f"{latency['p50']} / {latency['p95']} / {latency['p99']} ms"),
        ("latency mean / max", f"{latency['mean']} / {latency['max']} ms"),
        ("errors", f"{report['errors']} ({kinds})"),
        ("target: 0 errors, p95 < 1000 ms", "met" if report["target"]["met"] else "MISSED"),
    ]
    return "\n".join(["| measure | value |", "| --- | --- |", *(f"| {k} | {v} |" for k, v in rows)])


def warm_up(url: str, bodies: Sequence[dict[str, Any]], count: int, auth: tuple[str, str] | None) -> None:
    """A few sequential requests first, so lazy loads (tokeniser, caches) are not counted as latency."""
    import httpx

    with httpx.Client(base_url=url, timeout=START_TIMEOUT_S, auth=auth) as http:
        for body in list(bodies)[:count]:
            http.post("/api/ask", json=body)


def server_env(embedder: str | None, data_dir: Path | None) -> dict[str, str]:
    """The environment for the app we start: ours, plus the chosen embedder and data folder."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path.cwd()), env.get("PYTHONPATH", "")]))
    if embedder:
        env["XIHU_EMBEDDER"] = embedder
    if data_dir is not None:
        env["XIHU_DATA_DIR"] = str(data_dir)
    return env


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m eval.load", description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (threads), default 16")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long clients keep sending, default 30")
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--url", help="a running app, e.g. http://127.0.0.1:7860; default: start one")
    target.add_argument("--start", action="store_true", help="start the app on 127.0.0.1 (the default)")
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET, help="JSONL of questions (dev set)")
    parser.add_argument(
        "--embedder", help="embedder of the app we start (sets XIHU_EMBEDDER); `fake` also uses a throwaway data dir"
    )
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests before the clock starts")
    parser.add_argument("--out", type=Path, help="write the JSON report here (and the table beside it as .md)")
    parser.add_argument("--check", action="store_true", help="exit 1 when the target is missed")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.clients < 1 or args.seconds <= 0:
        print("--clients must be at least 1 and --seconds above 0", file=sys.stderr)
        return 2
    bodies = load_questions(args.dataset)
    if not bodies:
        print(f"{args.dataset} has no questions", file=sys.stderr)
        return 2
    auth = _auth_from_env()
    from assistant.settings import Settings

    embedder = args.embedder or ("as configured there" if args.url else Settings.from_env().embedder)
    with tempfile.TemporaryDirectory(prefix="xihu-load-") as scratch:
        if args.url:
            url, server_name = args.url.rstrip("/"), args.url
            report = _measure(url, bodies, args, auth)
        else:
            # A fake-embedder index must never replace the real one in the shared data dir.
            data_dir = Path(scratch) / "data" if embedder == "fake" else None
            try:
                with LocalServer(server_env(args.embedder, data_dir), Path(scratch) / "server.log") as server:
                    url, server_name = server.url, f"started {server.url} (uvicorn, 1 process)"
                    report = _measure(url, bodies, args, auth)
            except RuntimeError as error:
                print(f"load: {error}", file=sys.stderr)
                return 1
    from eval.bench import machine_info

    report = {"url": url, "server": server_name, "embedder": embedder, "dataset": str(args.dataset),
              **report, "machine": machine_info()}  # fmt: skip
    text = table(report)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        args.out.with_suffix(".md").write_text(text + "\n", encoding="utf-8")
    else:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    return 1 if args.check and not report["target"]["met"] else 0


def _measure(url: str, bodies: Sequence[dict[str, Any]], args: argparse.Namespace, auth: Any) -> dict[str, Any]:
    warm_up(url, bodies, args.warmup, auth)
    samples, wall = run_clients(url, bodies, args.clients, args.seconds, auth)
    return summarise(samples, wall, args.clients, args.seconds)


def _auth_from_env() -> tuple[str, str] | None:
    """Basic-auth credentials for an app that requires them: XIHU_AUTH_USER and the password env var it names."""
    from assistant.settings import Settings

    settings = Settings.from_env()
    if not settings.auth_user:
        return None
    return settings.auth_user, os.environ.get(settings.auth_password_env, "")


if __name__ == "__main__":
    raise SystemExit(main())
