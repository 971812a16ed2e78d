"""Render scores as a Markdown report with a PNG chart of per-kind pass rates (systems side by side)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from eval.metrics import (
    FACT_MATCHING,
    METRIC_DEFINITIONS,
    OUTCOME_DEFINITION,
    PASS_DEFINITION,
    CaseResult,
    Rate,
    Scores,
)

ANSWER_PREVIEW = 60  # characters of the answer shown in the failure table


def format_rate(rate: Rate) -> str:
    """`62.5% (5/8)`, or `n/a` when no case counted."""
    if rate.value is None:
        return "n/a"
    return f"{rate.value:.1%} ({rate.numerator:g}/{rate.denominator})"


def format_mean(rate: Rate) -> str:
    """`0.833 (n=4)` for a mean such as MRR, or `n/a`."""
    if rate.value is None:
        return "n/a"
    return f"{rate.value:.3f} (n={rate.denominator})"


def format_ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} ms"


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ").strip()


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(_cell(h) for h in header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def summary_table(scores: Sequence[Scores]) -> str:
    """Metric rows, one column per system."""
    rows: list[tuple[str, list[str]]] = [
        ("cases scored", [str(s.pass_rate.denominator) for s in scores]),
        ("pass rate", [format_rate(s.pass_rate) for s in scores]),
        ("hit@1", [format_rate(s.hit_at_1) for s in scores]),
        ("hit@3", [format_rate(s.hit_at_3) for s in scores]),
        ("MRR", [format_mean(s.mrr) for s in scores]),
        ("citation precision", [format_rate(s.citation_precision) for s in scores]),
        ("fact accuracy", [format_rate(s.fact_accuracy) for s in scores]),
        ("amount exact", [format_rate(s.amount_exact) for s in scores]),
        ("refusal precision", [format_rate(s.refusal_precision) for s in scores]),
        ("refusal recall", [format_rate(s.refusal_recall) for s in scores]),
        ("false-refusal rate", [format_rate(s.false_refusal_rate) for s in scores]),
        ("confident-wrong", [format_rate(s.confident_wrong) for s in scores]),
        ("abstained", [format_rate(s.abstained) for s in scores]),
        ("latency p50", [format_ms(s.latency_p50_ms) for s in scores]),
        ("latency p95", [format_ms(s.latency_p95_ms) for s in scores]),
        ("failures", [str(len(s.failures)) for s in scores]),
    ]
    return _table(["metric", *[s.system for s in scores]], [[name, *values] for name, values in rows])


def kinds_in_order(scores: Sequence[Scores]) -> list[str]:
    """Every kind, in the order it first appears in the dataset."""
    return list(dict.fromkeys(kind for s in scores for kind in s.pass_by_kind))


def kind_table(scores: Sequence[Scores]) -> str:
    """Pass rate, confident-wrong and abstained per kind: three columns per system."""
    rows = []
    for kind in kinds_in_order(scores):
        cells = []
        for s in scores:
            cells += [
                format_rate(s.pass_by_kind.get(kind, Rate(0, 0))),
                format_rate(s.confident_wrong_by_kind.get(kind, Rate(0, 0))),
                format_rate(s.abstained_by_kind.get(kind, Rate(0, 0))),
            ]
        rows.append([kind, *cells])
    header = [f"{s.system} {column}" for s in scores for column in ("pass", "confident-wrong", "abstained")]
    return _table(["kind", *header], rows)


OUTCOME_LABELS = {"confident_wrong": "**confident-wrong**", "abstained": "abstained", "error": "error"}


def failure_table(failures: Sequence[CaseResult]) -> str:
    """Every failed case with its outcome (confident-wrong first), reasons, what it cited and how its answer starts."""
    failures = sorted(failures, key=lambda r: r.outcome != "confident_wrong")
    rows = []
    for r in failures:
        answer = r.prediction.answer
        preview = answer[:ANSWER_PREVIEW] + ("…" if len(answer) > ANSWER_PREVIEW else "")
        rows.append(
            [
                r.case.id,
                r.case.kind,
                OUTCOME_LABELS.get(r.outcome, r.outcome),
                r.case.question,
                "; ".join(r.reasons),
                " ".join(r.prediction.citations) or "—",
                preview or "—",
            ]
        )
    return _table(["id", "kind", "outcome", "question", "reason(s)", "cited", "answer starts"], rows)


def draw_chart(scores: Sequence[Scores], path: str | Path) -> Path:
    """Grouped bar chart of pass rate per kind, one bar colour per system; written as PNG with the Agg backend."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # kinds in Chinese lack glyphs in the default font; boxes are acceptable
        return _draw_chart(scores, Path(path))


def _draw_chart(scores: Sequence[Scores], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    kinds = kinds_in_order(scores) + ["overall"]
    counts = [scores[0].pass_by_kind.get(k, Rate(0, 0)).denominator for k in kinds[:-1]]
    counts.append(scores[0].pass_rate.denominator)
    labels = [f"{kind}\n(n={n})" for kind, n in zip(kinds, counts, strict=True)]
    width = 0.8 / max(1, len(scores))
    fig, ax = plt.subplots(figsize=(min(16.0, max(6.0, 0.35 * len(kinds) * len(scores) + 3.5)), 4.8))
    for i, s in enumerate(scores):
        values = [(s.pass_by_kind.get(k, Rate(0, 0)).value or 0.0) * 100 for k in kinds[:-1]]
        values.append((s.pass_rate.value or 0.0) * 100)
        positions = [x + (i - (len(scores) - 1) / 2) * width for x in range(len(kinds))]
        bars = ax.bar(positions, values, width=width, label=s.system)
        ax.bar_label(bars, fmt="%.0f", fontsize=7, padding=1)
    ax.set_xticks(range(len(kinds)))
    ax.set_xticklabels(labels, rotation=30, ha="right", fontsize=8)
    ax.set_ylim(0, 108)
    ax.set_ylabel("pass rate (%)")
    ax.set_title("Pass rate per kind")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def render_report(
    scores: Sequence[Scores],
    *,
    dataset: str,
    chart: str | None,
    notes: Sequence[str] = (),
    unlabelled: int = 0,
    generated: datetime | None = None,
) -> str:
    """The whole Markdown report; `chart` is the PNG path relative to the report (None leaves it out)."""
    generated = generated or datetime.now(UTC)
    systems = ", ".join(s.system for s in scores)
    parts = [
        "# Evaluation report",
        "",
        f"- dataset: `{dataset}`",
        f"- systems: {systems}",
        f"- generated: {generated.strftime('%Y-%m-%d %H:%M UTC')}",
    ]
    if unlabelled:
        parts.append(f"- {unlabelled} case(s) without gold fields were answered but not scored")
    parts += ["", "## Summary", "", summary_table(scores), "", "## Pass rate per kind", "", kind_table(scores), ""]
    if chart:
        parts += [f"![Pass rate per kind]({chart})", ""]
    if notes:
        parts += ["## Notes", "", *[f"- {note}" for note in notes], ""]
    parts += ["## Definitions", "", "**Pass.** " + PASS_DEFINITION, "", "**Outcomes.** " + OUTCOME_DEFINITION, ""]
    parts += ["**Fact matching.** " + FACT_MATCHING, ""]
    parts += [_table(["metric", "definition"], [list(row) for row in METRIC_DEFINITIONS]), ""]
    parts += ["## Failures", ""]
    for i, s in enumerate(scores):
        failures = s.failures
        title = f"{s.system}: {len(failures)} failure(s)"
        if not failures:
            parts += [f"### {title}", "", "None.", ""]
        elif i == 0:
            parts += [f"### {title}", "", failure_table(failures), ""]
        else:  # baselines fail by design on calculations and refusals; fold them away
            parts += [f"<details><summary>{title}</summary>", "", failure_table(failures), "", "</details>", ""]
    return "\n".join(parts).rstrip() + "\n"


def write_report(
    scores: Sequence[Scores], report_path: str | Path, *, dataset: str, notes: Sequence[str] = (), unlabelled: int = 0
) -> tuple[Path, Path]:
    """Write the Markdown report and its chart (same name, .png) side by side; returns both paths."""
    report_path = Path(report_path)
    chart_path = draw_chart(scores, report_path.with_suffix(".png"))
    text = render_report(scores, dataset=dataset, chart=chart_path.name, notes=notes, unlabelled=unlabelled)
    report_path.parent.mkdir(parents=True, exist_ok=True)
    report_path.write_text(text, encoding="utf-8")
    return report_path, chart_path


def console_summary(scores: Sequence[Scores], report_path: Path | None = None) -> str:
    """What the CLI prints: the summary and per-kind tables, and where the full report is."""
    lines = ["Summary", "", summary_table(scores), "", "Pass rate per kind", "", kind_table(scores), ""]
    if report_path is not None:
        lines.append(f"Full report with every failure: {report_path}")
    return "\n".join(lines)
