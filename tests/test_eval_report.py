"""Unit tests for eval/report.py: the Markdown has every section, the chart is a PNG, cells are escaped."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from eval.metrics import Rate, score
from eval.report import (
    console_summary,
    draw_chart,
    failure_table,
    format_mean,
    format_rate,
    render_report,
    summary_table,
    write_report,
)
from eval.runner import load_cases, load_predictions

FIXTURES = Path(__file__).parent / "fixtures" / "eval"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def fixture_scores():
    return score(load_cases(FIXTURES / "cases.jsonl"), load_predictions(FIXTURES / "predictions.jsonl"))


@pytest.fixture(scope="module")
def baseline_scores():
    cases = load_cases(FIXTURES / "cases.jsonl")
    predictions = [
        replace(p, citations=(), refused=False, amount_yuan=None)
        for p in load_predictions(FIXTURES / "predictions.jsonl")
    ]
    return score(cases, predictions, "bm25-only")


def test_rates_show_percent_and_counts_or_n_a():
    assert format_rate(Rate(3, 7)) == "42.9% (3/7)"
    assert format_rate(Rate(0, 0)) == "n/a"
    assert format_mean(Rate(2.8333333, 5)) == "0.567 (n=5)"
    assert format_mean(Rate(0, 0)) == "n/a"


def test_summary_table_has_one_row_per_metric_and_one_column_per_system(fixture_scores, baseline_scores):
    table = summary_table([fixture_scores, baseline_scores])
    lines = table.splitlines()
    assert lines[0] == "| metric | assistant | bm25-only |"
    assert [line.split(" | ")[0].lstrip("| ") for line in lines[2:]] == [
        "cases scored",
        "pass rate",
        "hit@1",
        "hit@3",
        "MRR",
        "citation precision",
        "fact accuracy",
        "amount exact",
        "refusal precision",
        "refusal recall",
        "false-refusal rate",
        "confident-wrong",
        "abstained",
        "latency p50",
        "latency p95",
        "failures",
    ]
    assert "| pass rate | 42.9% (3/7) | 0.0% (0/7) |" in lines
    assert "| MRR | 0.567 (n=5) | 0.000 (n=5) |" in lines
    assert "| refusal precision | 50.0% (1/2) | n/a |" in lines
    assert "| latency p50 | 40.0 ms | 40.0 ms |" in lines


def test_the_report_has_every_section_and_embeds_the_chart_by_relative_path(fixture_scores):
    text = render_report(
        [fixture_scores],
        dataset="eval/datasets/dev.jsonl",
        chart="report.png",
        notes=["a note"],
        unlabelled=1,
        generated=datetime(2024, 6, 1, 8, 30, tzinfo=UTC),
    )
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert headings == [
        "# Evaluation report",
        "## Summary",
        "## Pass rate per kind",
        "## Notes",
        "## Definitions",
        "## Failures",
        "### assistant: 4 failure(s)",
    ]
    assert "- dataset: `eval/datasets/dev.jsonl`" in text
    assert "- generated: 2024-06-01 08:30 UTC" in text
    assert "![Pass rate per kind](report.png)" in text
    assert "| lookup | 0.0% (0/1) |" in text
    assert "**Pass.** An **answerable** case passes when" in text
    c7_row = "| c7 | lookup | abstained | 第十八条讲什么？ | false refusal; wrong article: no citation, expected A18/S2 | — | "
    assert c7_row + "抱歉，我无法回答。 |" in text.splitlines()


def test_baseline_failures_are_folded_and_a_clean_system_says_none(fixture_scores, baseline_scores):
    clean = replace(
        fixture_scores, system="perfect", results=tuple(replace(r, passed=True) for r in fixture_scores.results)
    )
    text = render_report([clean, baseline_scores], dataset="d.jsonl", chart=None)
    assert "### perfect: 0 failure(s)\n\nNone." in text
    assert "<details><summary>bm25-only: 7 failure(s)</summary>" in text
    assert "![" not in text


def test_table_cells_escape_pipes_and_newlines(fixture_scores):
    result = replace(
        fixture_scores.failures[0],
        case=replace(fixture_scores.failures[0].case, question="A|B\nC"),
        prediction=replace(fixture_scores.failures[0].prediction, answer="x" * 70),
    )
    row = failure_table([result]).splitlines()[2]
    assert row.startswith("| c2 | fact | **confident-wrong** | A\\|B C | ")
    assert row.endswith(" | A3 A2 | " + "x" * 60 + "… |")


def test_write_report_writes_markdown_and_a_png_beside_it(tmp_path, fixture_scores, baseline_scores):
    report_path, chart_path = write_report(
        [fixture_scores, baseline_scores], tmp_path / "out" / "dev-report.md", dataset="dev.jsonl"
    )
    assert chart_path == tmp_path / "out" / "dev-report.png"
    assert chart_path.read_bytes()[:8] == PNG_MAGIC
    assert "![Pass rate per kind](dev-report.png)" in report_path.read_text(encoding="utf-8")


def test_the_chart_draws_kinds_in_chinese_without_failing(tmp_path, fixture_scores):
    chinese = replace(fixture_scores, pass_by_kind={"计算": Rate(1, 2), "查条款": Rate(0, 1)})
    path = draw_chart([chinese], tmp_path / "c.png")
    assert path.read_bytes()[:8] == PNG_MAGIC


def test_console_summary_points_to_the_full_report(fixture_scores):
    text = console_summary([fixture_scores], Path("out.md"))
    assert text.startswith("Summary\n\n| metric | assistant |")
    assert text.endswith("Full report with every failure: out.md")
