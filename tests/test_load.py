"""The load benchmark: its arithmetic (unit) and a short real run against an app it starts itself (integration)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest

from assistant.settings import PROJECT_ROOT
from eval.load import SHED, Sample, summarise, table


def samples(latencies: list[float], errors: dict[int, str] | None = None) -> list[Sample]:
    errors = errors or {}
    return [Sample(i * 0.1, ms, errors.get(i, "ok")) for i, ms in enumerate(latencies)]


def test_percentiles_are_nearest_rank_over_every_request():
    report = summarise(samples([float(ms) for ms in range(1, 101)]), wall_s=10.0, clients=4, seconds=10)
    assert report["latency_ms"] == {"p50": 50.0, "p95": 95.0, "p99": 99.0, "mean": 50.5, "max": 100.0}
    assert report["answered_latency_ms"] == report["latency_ms"]
    assert report["throughput_rps"] == 10.0
    assert report["requests"] == report["ok"] == 100
    assert report["target"] == {
        "p95_ms": 300.0,
        "p95_of": "every request",
        "errors": 0,
        "shed_allowed": False,
        "met": True,
    }


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
    text = table({**report, "server": "started http://127.0.0.1:1 (assistant.serve, 2 workers)", "embedder": "fake"})
    assert "| latency p50 / p95 / p99 | 30.0 / 40.0 / 40.0 ms |" in text
    assert "| answered p50 / p95 / p99 | 20.0 / 30.0 / 30.0 ms |" in text
    assert "| errors | 1 (HTTP 503: 1) |" in text  # a 503 without Retry-After is an error
    assert "| throughput (answered) | 3.0 req/s (2.0 req/s) |" in text
    assert text.splitlines()[-1] == "| target: 0 errors, no 503, p95 < 300 ms | MISSED |"


def test_above_16_clients_503s_with_retry_after_are_shed_not_errors_and_p95_is_of_the_answered():
    latencies = [100.0] * 80 + [5.0] * 20
    report = summarise(samples(latencies, {i: SHED for i in range(80, 100)}), wall_s=10.0, clients=64, seconds=10)
    assert (report["ok"], report["shed_503_retry_after"], report["errors"]) == (80, 20, 0)
    assert report["answered_latency_ms"]["p95"] == 100.0
    assert report["target"]["met"] is True
    text = table({**report, "server": "s", "embedder": "fake"})
    assert "| 503 + Retry-After (shed) | 20 |" in text
    assert text.splitlines()[-1] == "| target: 0 errors besides 503 + Retry-After, p95 of answered < 1000 ms | met |"


def test_at_16_clients_a_shed_request_misses_the_target():
    report = summarise(samples([10.0] * 10, {3: SHED}), wall_s=1.0, clients=16, seconds=1)
    assert report["errors"] == 0
    assert report["target"]["met"] is False


@pytest.mark.integration
def test_short_load_run_against_two_workers_it_starts_has_no_errors(tmp_path):
    out = tmp_path / "load.json"
    options = "--clients 4,20 --workers 2 --seconds 3 --embedder fake --out".split()
    run = subprocess.run(
        [sys.executable, "-m", "eval.load", *options, str(out)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(out.read_text(encoding="utf-8"))
    assert [run["clients"] for run in report["runs"]] == [4, 20]
    assert [run["errors"] for run in report["runs"]] == [0, 0]  # 503 + Retry-After is counted apart
    assert all(run["ok"] > 0 for run in report["runs"])
    assert report["workers"] == 2
    assert report["embedder"] == "fake"
    assert "2 worker(s), its Chroma server" in report["server"]
    assert report["url"].startswith("http://127.0.0.1:")
    assert out.with_suffix(".md").read_text(encoding="utf-8") == run.stdout
    port = int(report["url"].rsplit(":", 1)[1])
    with pytest.raises(OSError):  # the server it started is stopped again
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
