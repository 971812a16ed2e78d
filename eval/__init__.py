"""Evaluation benchmark: run the assistant (and baselines) over a JSONL of questions, score it, report it.

Stages: `runner` (cases in, predictions out), `metrics` (predictions scored against gold),
`report` (Markdown + chart), `baselines` (what a user would otherwise pick), `bench` (speed).
`python -m eval --help` is the front door.
"""
