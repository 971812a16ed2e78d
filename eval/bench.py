"""Speed benchmark (`make bench`): cold start, index build, warm latency, peak RSS, the answer time in the browser,
against the targets.

`python -m eval.bench --out bench.json` writes JSON and a Markdown table (bench.md beside it) and prints
the table. Targets are reported, never asserted: a miss does not fail the command, a phase that crashes does.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from eval.metrics import percentile

DEFAULT_DATASET = Path("eval/datasets/dev.jsonl")
COLD_QUESTION = "首次认定的高新技术企业奖励多少？"
COLD_TIMEOUT_S = 600

# (result key, what it measures, target, unit); every target is an upper bound.
TARGETS: tuple[tuple[str, str, float, str], ...] = (
    ("warm_p50_ms", "warm latency p50 (in-process, per question)", 25, "ms"),
    ("warm_p95_ms", "warm latency p95", 60, "ms"),
    ("cold_start_s", "cold start to first answer (new process)", 6, "s"),
    ("index_build_s", "index build from scratch (model load + parse + embed + store)", 15, "s"),
    ("peak_rss_mb", "peak RSS of the assistant process (cold start)", 1200, "MB"),
    ("browser_p95_ms", "question sent → whole answer visible in Chromium, p95 (answer computed before)", 300, "ms"),
)
BROWSER_QUESTIONS = 20  # dev questions timed in the browser, each asked twice: first time, then computed before


def cpu_model(cpuinfo: str) -> str:
    """The first `model name` of a /proc/cpuinfo text, or "" when there is none."""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name":
            return value.strip()
    return ""


def machine_info() -> dict[str, Any]:
    """nproc, CPU model, Python and OS, so numbers are read against the machine that produced them."""
    try:
        model = cpu_model(Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace"))
    except OSError:
        model = ""
    return {
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu_count": os.cpu_count(),
        "cpu_model": model or platform.processor() or "unknown",
        "python": platform.python_version(),
        "platform": platform.platform(),
        # Other work on the machine inflates every number: read them against the load they ran under.
        "load_average_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
    }


def _rss_mb(kib: int) -> float:
    """ru_maxrss is in KiB on Linux; MB here means 10^6 bytes."""
    return round(kib * 1024 / 1e6, 1)


def parse_json_output(stdout: str) -> dict[str, Any]:
    """The JSON object a `--json` command printed, tolerating log lines before it."""
    lines = stdout.splitlines()
    for i, line in enumerate(lines):
        if line.lstrip().startswith("{"):
            try:
                data = json.loads("\n".join(lines[i:]))
            except json.JSONDecodeError:
                continue
            if isinstance(data, dict):
                return data
    raise ValueError(f"no JSON object in the output: {stdout.strip()[:200]!r}")


def measure_cold_start(question: str = COLD_QUESTION) -> dict[str, Any]:
    """Wall time of a new `python -m assistant ask QUESTION --json` process, and whether it answered."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "assistant", "ask", question, "--json"],
        capture_output=True,
        text=True,
        timeout=COLD_TIMEOUT_S,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        last_line = next((line for line in reversed(done.stderr.splitlines()) if line.strip()), "")
        raise RuntimeError(f"exit code {done.returncode}: {last_line.strip()[:300]}")
    answer = parse_json_output(done.stdout)
    return {
        "cold_start_s": round(seconds, 3),
        "cold_start_answer": str(answer.get("answer", "")).split("\n", 1)[0][:80],
    }


def measure_index_build(settings: Any, embedder: Any = None) -> dict[str, Any]:
    """Load the passage embedder, parse the notice and build the index with force=True in a temporary data_dir.

    `index_build_s` is from scratch: model load + parse + embed + store; the model load alone is also
    reported (`embedder_load_s`). A given `embedder` (tests) skips the load.
    """
    import assistant.index as index_module
    from assistant.notice import load_chunks, load_everyday

    # The brief names it build_index; the module currently exposes open_index(..., force=True).
    build_index = getattr(index_module, "build_index", None) or index_module.open_index

    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="xihu-bench-") as tmp:
        scratch = replace(settings, data_dir=Path(tmp))
        if embedder is None:
            from assistant.embeddings import make_embedder

            load_started = time.perf_counter()
            embedder = make_embedder(scratch)
            embedder.dim  # noqa: B018 - sentence-transformers loads lazily: load it here, inside the timing
            result["embedder_load_s"] = round(time.perf_counter() - load_started, 3)
        else:
            load_started = time.perf_counter()
        chunks = load_chunks(scratch)
        everyday = load_everyday(scratch)  # the app's index holds the everyday entries too
        build_index(scratch, chunks, embedder, everyday=everyday, force=True)
        result["index_build_s"] = round(time.perf_counter() - load_started, 3)
        result["index_chunks"] = len(chunks)
        result["index_everyday_entries"] = sum(len(entries) for entries in everyday.values())
    return result


def measure_warm(assistant: Any, questions: Sequence[tuple[str, list[dict[str, str]] | None]]) -> dict[str, Any]:
    """Per-question wall time of `assistant.ask` after one warm-up question, nearest-rank p50 / p95 in ms."""
    assistant.ask(COLD_QUESTION)
    latencies = []
    for question, history in questions:
        started = time.perf_counter()
        assistant.ask(question, history=history)
        latencies.append((time.perf_counter() - started) * 1000)
    if not latencies:
        raise RuntimeError("no questions to time")
    return {
        "warm_questions": len(latencies),
        "warm_p50_ms": round(percentile(latencies, 50) or 0.0, 3),
        "warm_p95_ms": round(percentile(latencies, 95) or 0.0, 3),
        "warm_mean_ms": round(sum(latencies) / len(latencies), 3),
        "warm_max_ms": round(max(latencies), 3),
    }


def verdicts(results: dict[str, Any]) -> dict[str, bool | None]:
    """For each target: True when met, False when missed, None when the measure is missing."""
    return {key: (None if results.get(key) is None else results[key] <= target) for key, _, target, _ in TARGETS}


def markdown_table(report: dict[str, Any]) -> str:
    """The short table: measure, value, target, met; then the machine it ran on."""
    results, met = report["results"], report["met"]
    rows = ["| measure | value | target | met |", "|---|---|---|---|"]
    for key, label, target, unit in TARGETS:
        value = results.get(key)
        shown = "n/a" if value is None else f"{value:g} {unit}"
        mark = {True: "yes", False: "**no**", None: "n/a"}[met[key]]
        rows.append(f"| {label} | {shown} | ≤ {target:g} {unit} | {mark} |")
    machine = report["machine"]
    lines = [
        "# Speed benchmark",
        "",
        *rows,
        "",
        f"Machine: {machine['nproc']} CPU(s) usable ({machine['cpu_model']}), Python {machine['python']}, "
        f"{machine['platform']}; embedder `{report['embedder']}`."
        + (
            f" Load average (1 min) at the end: {load}." if (load := machine.get("load_average_1m")) is not None else ""
        ),
    ]
    extra = {k: v for k, v in results.items() if k not in {key for key, *_ in TARGETS}}
    if extra:
        lines += ["", "Also measured: " + ", ".join(f"{k} = {v}" for k, v in extra.items()) + "."]
    for phase, error in report["errors"].items():
        lines.append(f"\n**{phase} failed:** {error}")
    return "\n".join(lines) + "\n"


def _questions(dataset: Path, limit: int | None) -> list[tuple[str, list[dict[str, str]] | None]]:
    from eval.runner import load_cases

    cases = load_cases(dataset)[:limit] if limit else load_cases(dataset)
    return [(c.question, c.history_messages() or None) for c in cases]


def run_bench(
    settings: Any,
    *,
    dataset: Path,
    limit: int | None = None,
    cold: bool = True,
    index: bool = True,
    browser: bool = True,
) -> dict[str, Any]:
    """Warm latency first (this also builds the default index if it is missing, so the cold start that
    follows measures a start, not a build), then the cold start, then an index build from scratch."""
    results: dict[str, Any] = {}
    errors: dict[str, str] = {}
    try:
        from assistant.answer import Assistant

        started = time.perf_counter()
        assistant = Assistant.create(settings)
        results["in_process_create_s"] = round(time.perf_counter() - started, 3)
        results.update(measure_warm(assistant, _questions(dataset, limit)))
    except Exception as exc:  # noqa: BLE001 - report the phase, keep measuring the others
        errors["warm latency"] = f"{type(exc).__name__}: {exc}"
    if cold:
        try:
            results.update(measure_cold_start())
            results["peak_rss_mb"] = _rss_mb(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
        except Exception as exc:  # noqa: BLE001
            errors["cold start"] = f"{type(exc).__name__}: {exc}"
    if index:
        try:
            # The index is built with the passage embedder (make_embedder), not the query path's.
            results.update(measure_index_build(settings))
        except Exception as exc:  # noqa: BLE001
            errors["index build"] = f"{type(exc).__name__}: {exc}"
    if browser:
        try:
            questions = [question for question, history in _questions(dataset, None) if not history]
            from eval.browser import measure_browser

            results.update(measure_browser(questions[:BROWSER_QUESTIONS]))
        except Exception as exc:  # noqa: BLE001
            errors["browser"] = f"{type(exc).__name__}: {exc}"
    results["bench_process_rss_mb"] = _rss_mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    return {
        "machine": machine_info(),
        "embedder": settings.embedder,
        "results": results,
        "targets": {key: target for key, _, target, _ in TARGETS},
        "met": verdicts(results),
        "errors": errors,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("bench.json"), help="JSON results (default bench.json)")
    parser.add_argument("--markdown", type=Path, help="Markdown table (default: --out with .md)")
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET, help="questions timed warm")
    parser.add_argument("--limit", type=int, help="time only the first N questions")
    parser.add_argument("--skip-cold", action="store_true", help="skip the cold-start process")
    parser.add_argument("--skip-index", action="store_true", help="skip the index build")
    parser.add_argument("--skip-browser", action="store_true", help="skip the answer time in Chromium")
    args = parser.parse_args(argv)

    from assistant.settings import Settings

    report = run_bench(
        Settings.from_env(),
        dataset=args.dataset,
        limit=args.limit,
        cold=not args.skip_cold,
        index=not args.skip_index,
        browser=not args.skip_browser,
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    table = markdown_table(report)
    (args.markdown or args.out.with_suffix(".md")).write_text(table, encoding="utf-8")
    print(table)
    return 1 if report["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
