"""Load benchmark (`make load`): N concurrent clients posting dev-set questions to /api/ask for a bounded time.

`python -m eval.load --clients 16,64 --seconds 30 [--workers 2] [--url URL] [--out load.json]`. Without --url
it starts the app itself (`python -m assistant.serve` on 127.0.0.1 and a free port with XIHU_WORKERS=--workers,
which also starts a local Chroma server for more than one worker; settings from XIHU_* env vars) and stops it
afterwards. Each client count runs in turn against the same server. A client that gets 503 with Retry-After
waits that long before its next request, as a well-behaved client does.

Reports throughput, p50/p95/p99 latency of every request and of the answered ones, errors by kind and the
503s that came with Retry-After (load shed on purpose, not an error), against the targets: up to 16 clients
0 errors, no 503 and p95 < 300 ms; more clients 0 errors other than 503 + Retry-After and p95 of the answered
< 1 s. A missed target fails the command only with --check.
"""

from __future__ import annotations

import argparse
import json
import os
import random
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

from assistant.serve import free_port
from eval.metrics import percentile

DEFAULT_DATASET = Path("eval/datasets/dev.jsonl")
TARGET_P95_MS = 1000.0  # answered requests, above 16 clients (503 + Retry-After allowed)
TARGET_P95_MS_LIGHT = 300.0  # every request, up to 16 clients (nothing shed)
LIGHT_CLIENTS = 16
TARGET_ERRORS = 0
SHED = "HTTP 503 + Retry-After"  # the outcome of a request turned away on purpose
START_TIMEOUT_S = 600.0  # a cold start may build the index with the real model first
REQUEST_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Sample:
    """One request: when it finished (seconds since the start), how long it took, and what came back."""

    finished_s: float
    latency_ms: float
    outcome: str  # "ok", SHED, "HTTP 500", "ReadTimeout", ...


class LocalServer:
    """`python -m assistant.serve` (its workers, and the Chroma server it starts for several) in a child
    process on 127.0.0.1; a context manager that always stops it."""

    def __init__(self, env: dict[str, str], log_path: Path, workers: int = 1) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self._env = {**env, "XIHU_HOST": "127.0.0.1", "XIHU_PORT": str(self.port), "XIHU_WORKERS": str(workers)}
        self._log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> LocalServer:
        command = [sys.executable, "-m", "assistant.serve"]
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
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200 and self._all_workers_up():
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"the app did not answer /healthz within {START_TIMEOUT_S:.0f} s:\n{self.log_tail()}")

    def _all_workers_up(self) -> bool:
        """Every worker has logged its start-up (uvicorn: "Application startup complete"), so none is still
        loading its model when the clock starts."""
        text = self._log_path.read_text(encoding="utf-8", errors="replace") if self._log_path.exists() else ""
        return text.count("Application startup complete") >= self.workers

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
                retry_after = 0.0
                try:
                    response = http.post("/api/ask", json=body)
                    outcome = "ok" if response.status_code == 200 else f"HTTP {response.status_code}"
                    if response.status_code == 503 and response.headers.get("retry-after", "").isdigit():
                        outcome, retry_after = SHED, float(response.headers["retry-after"])
                except httpx.HTTPError as error:
                    outcome = type(error).__name__
                done = time.perf_counter()
                mine.append(Sample(done - start, (done - sent) * 1000, outcome))
                if retry_after:  # told to come back later: do so, as a browser or a polite client would
                    time.sleep(max(0.0, min(retry_after, deadline - time.perf_counter())))
        with lock:
            samples.extend(mine)

    threads = [threading.Thread(target=client, args=(i,), name=f"load-client-{i}") for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return samples, time.perf_counter() - start


def summarise(samples: Sequence[Sample], wall_s: float, clients: int, seconds: float) -> dict[str, Any]:
    """Throughput, latency percentiles (nearest rank, over every request and over the answered ones),
    errors by kind (503 + Retry-After counted apart, as shed) and whether the target for `clients` is met."""
    latencies = [s.latency_ms for s in samples]
    answered = [s.latency_ms for s in samples if s.outcome == "ok"]
    shed = sum(s.outcome == SHED for s in samples)
    errors = Counter(s.outcome for s in samples if s.outcome not in ("ok", SHED))
    light = clients <= LIGHT_CLIENTS
    target_ms = TARGET_P95_MS_LIGHT if light else TARGET_P95_MS
    p95 = percentile(latencies if light else answered, 95)

    def ms(value: float | None) -> float | None:
        return None if value is None else round(value, 1)

    def spread(values: Sequence[float]) -> dict[str, float | None]:
        return {
            "p50": ms(percentile(values, 50)),
            "p95": ms(percentile(values, 95)),
            "p99": ms(percentile(values, 99)),
            "mean": ms(sum(values) / len(values)) if values else None,
            "max": ms(max(values)) if values else None,
        }

    met = bool(answered) and not errors and p95 is not None and p95 < target_ms and not (light and shed)
    return {
        "clients": clients,
        "seconds": seconds,
        "wall_s": round(wall_s, 2),
        "requests": len(samples),
        "ok": len(answered),
        "shed_503_retry_after": shed,
        "errors": sum(errors.values()),
        "error_kinds": dict(sorted(errors.items())),
        "throughput_rps": round(len(samples) / wall_s, 1) if wall_s > 0 else 0.0,
        "answered_rps": round(len(answered) / wall_s, 1) if wall_s > 0 else 0.0,
        "latency_ms": spread(latencies),
        "answered_latency_ms": spread(answered),
        "target": {
            "p95_ms": target_ms,
            "p95_of": "every request" if light else "answered requests",
            "errors": TARGET_ERRORS,
            "shed_allowed": not light,
            "met": met,
        },
    }


def target_text(report: dict[str, Any]) -> str:
    target = report["target"]
    if target["shed_allowed"]:
        return f"target: 0 errors besides 503 + Retry-After, p95 of answered < {target['p95_ms']:g} ms"
    return f"target: 0 errors, no 503, p95 < {target['p95_ms']:g} ms"


def table(report: dict[str, Any]) -> str:
    """One run's report as a Markdown table."""
    latency, answered = report["latency_ms"], report["answered_latency_ms"]
    kinds = ", ".join(f"{k}: {v}" for k, v in report["error_kinds"].items()) or "none"
    rows = [
        ("server", f"{report['server']}, embedder: {report['embedder']}"),
        ("clients x seconds", f"{report['clients']} x {report['seconds']:g} s (wall {report['wall_s']} s)"),
        ("requests (ok)", f"{report['requests']} ({report['ok']})"),
        ("throughput (answered)", f"{report['throughput_rps']} req/s ({report['answered_rps']} req/s)"),
        ("latency p50 / p95 / p99", f"{latency['p50']} / {latency['p95']} / {latency['p99']} ms"),
        ("answered p50 / p95 / p99", f"{answered['p50']} / {answered['p95']} / {answered['p99']} ms"),
        ("latency mean / max", f"{latency['mean']} / {latency['max']} ms"),
        ("503 + Retry-After (shed)", str(report["shed_503_retry_after"])),
        ("errors", f"{report['errors']} ({kinds})"),
        (target_text(report), "met" if report["target"]["met"] else "MISSED"),
    ]
    return "\n".join(["| measure | value |", "| --- | --- |", *(f"| {k} | {v} |" for k, v in rows)])


def warm_up(url: str, bodies: Sequence[dict[str, Any]], count: int, auth: tuple[str, str] | None) -> None:
    """A few untimed requests first, so lazy loads (tokeniser, caches) are not counted as latency. Each on a
    connection of its own, so they spread over the workers."""
    import httpx

    for body in list(bodies)[:count]:
        httpx.post(f"{url}/api/ask", json=body, timeout=START_TIMEOUT_S, auth=auth)


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
    parser.add_argument(
        "--clients", type=client_counts, default=[16], help="concurrent clients (threads), e.g. 16 or 16,64"
    )
    parser.add_argument("--workers", type=int, default=1, help="worker processes of the app we start, default 1")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long clients keep sending, default 30")
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--url", help="a running app, e.g. http://127.0.0.1:7860; default: start one")
    target.add_argument("--start", action="store_true", help="start the app on 127.0.0.1 (the default)")
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET, help="JSONL of questions (dev set)")
    parser.add_argument(
        "--embedder", help="embedder of the app we start (sets XIHU_EMBEDDER); `fake` also uses a throwaway data dir"
    )
    parser.add_argument("--warmup", type=int, default=10, help="untimed requests before the clock starts")
    parser.add_argument("--out", type=Path, help="write the JSON report here (and the table beside it as .md)")
    parser.add_argument("--check", action="store_true", help="exit 1 when the target is missed")
    return parser


def client_counts(text: str) -> list[int]:
    """ "16,64" -> [16, 64]."""
    return [int(part) for part in text.split(",") if part.strip()]


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not args.clients or min(args.clients) < 1 or args.seconds <= 0 or args.workers < 1:
        print("--clients must be at least 1, --workers at least 1 and --seconds above 0", file=sys.stderr)
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
            runs = _measure(url, bodies, args, auth)
        else:
            # A fake-embedder index must never replace the real one in the shared data dir.
            data_dir = Path(scratch) / "data" if embedder == "fake" else None
            env = server_env(args.embedder, data_dir)
            try:
                with LocalServer(env, Path(scratch) / "server.log", workers=args.workers) as server:
                    store = "its Chroma server" if args.workers > 1 else "embedded Chroma"
                    url = server.url
                    server_name = f"started {server.url} (assistant.serve, {args.workers} worker(s), {store})"
                    runs = _measure(url, bodies, args, auth)
            except RuntimeError as error:
                print(f"load: {error}", file=sys.stderr)
                return 1
    from eval.bench import machine_info

    runs = [{"server": server_name, "embedder": embedder, **run} for run in runs]
    report = {"url": url, "server": server_name, "embedder": embedder, "dataset": str(args.dataset),
              "workers": args.workers if not args.url else None, "runs": runs,
              "met": all(run["target"]["met"] for run in runs), "machine": machine_info()}  # fmt: skip
    text = "\n\n".join(table(run) for run in runs)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        args.out.with_suffix(".md").write_text(text + "\n", encoding="utf-8")
    else:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    return 1 if args.check and not report["met"] else 0


def _measure(url: str, bodies: Sequence[dict[str, Any]], args: argparse.Namespace, auth: Any) -> list[dict[str, Any]]:
    warm_up(url, bodies, args.warmup, auth)
    runs = []
    for clients in args.clients:
        samples, wall = run_clients(url, bodies, clients, args.seconds, auth)
        runs.append(summarise(samples, wall, clients, args.seconds))
    return runs


def _auth_from_env() -> tuple[str, str] | None:
    """Basic-auth credentials for an app that requires them: XIHU_AUTH_USER and the password env var it names."""
    from assistant.settings import Settings

    settings = Settings.from_env()
    if not settings.auth_user:
        return None
    return settings.auth_user, os.environ.get(settings.auth_password_env, "")


if __name__ == "__main__":
    raise SystemExit(main())
