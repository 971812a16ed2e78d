"""`python -m eval --dataset FILE --predictions OUT.jsonl [--report OUT.md] [--compare] [--limit N]`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from eval.runner import (
    AssistantPredictor,
    DatasetError,
    Prediction,
    Predictor,
    load_cases,
    run_predictor,
    write_predictions,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m eval",
        description="Ask the assistant every question of a JSONL dataset, write predictions, and score them "
        "when the dataset has gold fields.",
    )
    parser.add_argument("--dataset", required=True, type=Path, help="JSONL with at least `id` and `question` per line")
    parser.add_argument("--predictions", required=True, type=Path, help="where to write one prediction per line")
    parser.add_argument(
        "--report",
        type=Path,
        help="Markdown report path (its chart is written beside it as .png); "
        "default: the predictions path with .md, written only when the dataset has gold fields",
    )
    parser.add_argument(
        "--compare", action="store_true", help="also run the BM25-only, dense-only and LangChain-recipe baselines"
    )
    parser.add_argument("--limit", type=int, help="only the first N cases")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    return parser


def _default_assistant(settings: Any) -> Any:
    from assistant.answer import Assistant

    return Assistant.create(settings)


def _error_notes(predictions: Sequence[Prediction]) -> list[str]:
    errors = [p for p in predictions if p.error]
    if not errors:
        return []
    return [f"{errors[0].system}: {len(errors)} case(s) raised an error (first, {errors[0].id}: {errors[0].error})"]


def main(
    argv: Sequence[str] | None = None,
    *,
    settings: Any = None,
    make_assistant: Callable[[Any], Any] | None = None,
) -> int:
    """Run the evaluation; `settings` and `make_assistant` are injectable so tests can use a fake assistant."""
    args = build_parser().parse_args(argv)
    try:
        cases = load_cases(args.dataset)
    except (OSError, DatasetError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.limit is not None:
        cases = cases[: max(0, args.limit)]
    if settings is None:
        from assistant.settings import Settings

        settings = Settings.from_env()
    assistant = (make_assistant or _default_assistant)(settings)

    predictors: list[Predictor] = [AssistantPredictor(assistant)]
    notes: list[str] = []
    if args.compare:
        from eval.baselines import make_baselines

        baselines, notes = make_baselines(assistant, settings)
        predictors += baselines

    runs: list[list[Prediction]] = []
    try:
        for predictor in predictors:
            runs.append(run_predictor(predictor, cases, progress=not args.no_progress))
    finally:
        for predictor in predictors:
            close = getattr(predictor, "close", None)
            if callable(close):
                close()
    write_predictions(args.predictions, [p for run in runs for p in run], with_system=args.compare)
    print(f"wrote {sum(len(run) for run in runs)} prediction(s) to {args.predictions}", file=sys.stderr)

    labelled = [c for c in cases if c.labelled]
    if not labelled:
        print("the dataset has no gold fields: predictions written, no report", file=sys.stderr)
        return 0

    from eval.metrics import score
    from eval.report import console_summary, write_report

    for run in runs:
        notes += _error_notes(run)
    scores = [score(cases, run, predictor.name) for predictor, run in zip(predictors, runs, strict=True)]
    report_path = args.report or args.predictions.with_suffix(".md")
    report_path, _ = write_report(
        scores, report_path, dataset=str(args.dataset), notes=notes, unlabelled=len(cases) - len(labelled)
    )
    print(console_summary(scores, report_path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
