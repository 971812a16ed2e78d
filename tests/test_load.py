"""The load benchmark: its arithmetic (unit) and a short real run against an app it starts itself (integration)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest

from assistant.settings import PROJECT_ROOT
from eval.load import Sample, summarise, table


def samples(latencies: list[float], errors: dict[int, str] | None = None) -> list[Sample]:
    errors = errors or {}
    return [Sample(i * 0.1, ms, errors.get(i, "ok")) for i, ms in enumerate(latencies)]


def test_percentiles_are_nearest_rank_over_every_request():
    report = summarise(samples([float(ms) for ms in range(1, 101)]), wall_s=10.0, clients=4, seconds=10)
    assert report["latency_ms"] == {"p50": 50.0, "p95": 95.0, "p99": 99.0, "mean": 50.5, "max": 100.0}
    assert report["throughput_rps"] == 10.0
    assert report["requests"] == report["ok"] == 100
    assert report["target"]["met"] is True


def test_errors_are_counted_by_kind_and_miss_the_target():
    report = summarise(
        samples([10.0] * 6, {1: "HTTP 500", 2: "HTTP 500", 4: "ReadTimeout"}), wall_s=2.0, clients=2, seconds=2
    )
    assert report["errors"] == 3
    assert report["ok"] == 3
    assert report["error_kinds"] == {"HTTP 500": 2, "ReadTimeout": 1}
    assert report["target"]["met"] is False


def test_slow_p95_misses_the_target():
    report = summarise(samples([100.0] * 90 + [1500.0] * 10), wall_s=30.0, clients=16, seconds=30)
    assert report["latency_ms"]["p95"] == 1500.0
    assert report["target"]["met"] is False


def test_no_requests_is_not_a_met_target():
    report = summarise([], wall_s=1.0, clients=1, seconds=1)
    assert report["requests"] == 0
    assert report["latency_ms"]["p50"] is None
    assert report["target"]["met"] is False


def test_table_shows_the_numbers_a_reader_needs():
    report = summarise(samples([20.0, 30.0, 40.0], {2: "HTTP 503"}), wall_s=1.0, clients=3, seconds=1)
    text = table({**report, "server": "started http://127.0.0.1:1 (uvicorn, 1 process)", "embedder": "fake"})
    assert "| latency p50 / p95 / p99 | 30.0 / 40.0 / 40.0 ms |" in text
    assert "| errors | 1 (HTTP 503: 1) |" in text
    assert "| throughput | 3.0 req/s |" in text
    assert text.splitlines()[-1] == "| target: 0 errors, p95 < 1000 ms | MISSED |"


@pytest.mark.integration
def test_short_load_run_against_an_app_it_starts_has_no_errors(tmp_path):
    out = tmp_path / "load.json"
    run = subprocess.run(
        [sys.executable, "-m", "eval.load", *"--clients 4 --seconds 3 --embedder fake --out".split(), str(out)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["errors"] == 0
    assert report["requests"] > 0
    assert report["ok"] == report["requests"]
    assert report["clients"] == 4
    assert report["embedder"] == "fake"
    assert report["url"].startswith("http://127.0.0.1:")
    assert out.with_suffix(".md").read_text(encoding="utf-8") == run.stdout
    port = int(report["url"].rsplit(":", 1)[1])
    with pytest.raises(OSError):  # the server it started is stopped again
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
