"""Every dataset in one run: one assistant, one table of pass rate, confident-wrong and abstained per set.

    python -m eval.sets [--datasets eval/datasets] [--out eval/out/sets.md] [--reports eval/out/sets]

Each set also gets its full per-case report (as `python -m eval` writes it) under --reports, except the held-out
`test` set, whose cases are never printed: only its aggregates appear in the table.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eval.metrics import Scores, score
from eval.report import format_rate, write_report
from eval.runner import AssistantPredictor, load_cases, run_predictor

HELD_OUT = "test"


def _order(path: Path) -> tuple[int, int, str]:
    """dev, dev2, dev3 … dev30, then test: numeric order, the held-out set last."""
    name = path.stem
    if name == HELD_OUT:
        return (1, 0, name)
    digits = name.removeprefix("dev")
    return (0, int(digits) if digits.isdigit() else 1, name)


def summary_rows(results: Sequence[tuple[str, Scores]]) -> str:
    """The Markdown table of every set's aggregates."""
    lines = [
        "| set | cases | pass | hit@1 | amount exact | confident-wrong | abstained |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, s in results:
        lines.append(
            f"| {name} | {s.pass_rate.denominator} | {format_rate(s.pass_rate)} | {format_rate(s.hit_at_1)} "
            f"| {format_rate(s.amount_exact)} | {format_rate(s.confident_wrong)} | {format_rate(s.abstained)} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None, *, assistant: Any = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.sets", description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=Path("eval/datasets"))
    parser.add_argument("--out", type=Path, default=Path("eval/out/sets.md"))
    parser.add_argument("--reports", type=Path, default=Path("eval/out/sets"))
    args = parser.parse_args(argv)
    if assistant is None:
        from assistant.answer import Assistant

        assistant = Assistant.create()
    results: list[tuple[str, Scores]] = []
    for path in sorted(args.datasets.glob("*.jsonl"), key=_order):
        cases = load_cases(path)
        predictions = run_predictor(AssistantPredictor(assistant), cases, progress=False)
        scores = score(cases, predictions)
        results.append((path.stem, scores))
        if path.stem != HELD_OUT:
            write_report([scores], args.reports / f"{path.stem}.md", dataset=str(path))
        print(
            f"{path.stem}: pass {format_rate(scores.pass_rate)}, confident-wrong {format_rate(scores.confident_wrong)}",
            file=sys.stderr,
        )
    table = summary_rows(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(table + "\n", encoding="utf-8")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
