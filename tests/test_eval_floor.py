"""Eval tier: the real assistant over the dev (and held-out test) set stays at or above eval/floors.json.

Raise a floor (or lower a `confident_wrong_max` ceiling) when the assistant improves; never move one the other
way silently. The only skip is a missing dataset file.
Failure messages carry aggregates only, so the held-out test questions never reach CI logs; run
`python -m eval --dataset eval/datasets/dev.jsonl --predictions out/dev.jsonl` for the per-case report.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.metrics import score
from eval.runner import AssistantPredictor, load_cases, run_predictor

pytestmark = pytest.mark.eval

ROOT = Path(__file__).resolve().parent.parent
FLOORS = ROOT / "eval" / "floors.json"


@pytest.fixture(scope="module")
def real_assistant():
    from assistant.answer import Assistant
    from assistant.settings import Settings

    return Assistant.create(Settings.from_env())


@pytest.mark.parametrize("split", list(json.loads(FLOORS.read_text(encoding="utf-8"))))
def test_the_assistant_stays_above_its_floor(split, request):
    dataset = ROOT / "eval" / "datasets" / f"{split}.jsonl"
    if not dataset.exists():  # every set with a floor; a set without one is not scored here
        pytest.skip(f"{dataset.relative_to(ROOT)} is missing: the {split} set has not been written yet")
    floor = json.loads(FLOORS.read_text(encoding="utf-8"))[split]
    cases = load_cases(dataset)
    predictions = run_predictor(AssistantPredictor(request.getfixturevalue("real_assistant")), cases, progress=False)
    scores = score(cases, predictions)

    measured = {"pass_rate": scores.pass_rate.value or 0.0, "hit_at_1": scores.hit_at_1.value or 0.0}
    summary = ", ".join(f"{name} {value:.3f} (floor {floor[name]})" for name, value in measured.items())
    confident_wrong = scores.confident_wrong.value or 0.0
    summary += f", confident_wrong {confident_wrong:.3f} (ceiling {floor.get('confident_wrong_max', '-')})"
    assert measured["pass_rate"] >= floor["pass_rate"], f"{split}: {summary}"
    assert measured["hit_at_1"] >= floor["hit_at_1"], f"{split}: {summary}"
    # A ceiling, not a floor: the share of answers that are wrong yet stated as fact may only go down.
    assert confident_wrong <= floor.get("confident_wrong_max", 1.0), f"{split}: {summary}"
