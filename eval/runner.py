"""Read evaluation cases from JSONL, ask a predictor each question, write one prediction per line.

A case needs only `id` and `question`; `kind`, `history`, `gold`, `facts`, `amount_yuan` and
`answerable` are optional and, when present, make the case scorable (see `eval.metrics`).
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

# Fields that carry a gold label: a case with any of them is scored.
LABEL_FIELDS = ("gold", "facts", "amount_yuan", "answerable")


class DatasetError(ValueError):
    """A dataset or predictions file that cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class Case:
    """One evaluation question with its (optional) gold labels.

    `gold` and `facts` are None when the field is absent, which is different from an empty list.
    `history` holds earlier turns as (role, content) pairs.
    """

    id: str
    question: str
    kind: str = ""
    history: tuple[tuple[str, str], ...] = ()
    gold: tuple[str, ...] | None = None
    facts: tuple[tuple[str, ...], ...] | None = None
    amount_yuan: float | None = None
    answerable: bool | None = None
    labelled: bool = False

    @property
    def expects_refusal(self) -> bool:
        """True only when the case says `answerable: false`; a labelled case without the field is answerable."""
        return self.answerable is False

    def history_messages(self) -> list[dict[str, str]]:
        """History in the {role, content} shape `Assistant.ask` takes."""
        return [{"role": role, "content": content} for role, content in self.history]


@dataclass(frozen=True)
class Reply:
    """What a predictor says about one case, before the runner times it."""

    answer: str
    citations: tuple[str, ...] = ()
    amount_yuan: float | None = None
    refused: bool = False
    asked_back: bool = False  # the answer asks the user for what it is missing (route "clarify")


@dataclass(frozen=True)
class Prediction:
    """One line of the predictions file."""

    id: str
    question: str
    answer: str
    citations: tuple[str, ...]
    amount_yuan: float | None
    refused: bool
    latency_ms: float
    system: str = "assistant"
    error: str = ""  # set when the predictor raised; the case is then scored as a failure
    asked_back: bool = False  # asked the user back instead of answering: an abstention, never a pass

    def to_dict(self, *, with_system: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "question": self.question,
            "answer": self.answer,
            "citations": list(self.citations),
            "amount_yuan": self.amount_yuan,
            "refused": self.refused,
            "asked_back": self.asked_back,
            "latency_ms": self.latency_ms,
        }
        if with_system:
            data["system"] = self.system
        if self.error:
            data["error"] = self.error
        return data


class Predictor(Protocol):
    """Anything that answers a case: the assistant or a baseline."""

    name: str

    def reply(self, case: Case) -> Reply: ...


class AssistantPredictor:
    """Adapts `Assistant.ask(question, history)` (or any object with that method) to a Predictor."""

    def __init__(self, assistant: Any, name: str = "assistant") -> None:
        self.assistant = assistant
        self.name = name

    def reply(self, case: Case) -> Reply:
        answer = self.assistant.ask(case.question, history=case.history_messages() or None)
        data = answer.to_dict() if hasattr(answer, "to_dict") else dict(answer)
        amount = data.get("amount_yuan")
        return Reply(
            answer=str(data.get("answer") or ""),
            citations=tuple(str(c) for c in data.get("citations") or ()),
            amount_yuan=None if amount is None else float(amount),
            refused=bool(data.get("refused", False)),
            asked_back=data.get("route") == "clarify",
        )


def run_predictor(predictor: Predictor, cases: Sequence[Case], *, progress: bool = True) -> list[Prediction]:
    """Ask `predictor` every case in order, timing each call; a case that raises becomes an error prediction.

    The progress bar goes to stderr so that stdout stays clean for the summary. A predictor may define
    `prepare()` (e.g. to empty caches another system filled); it runs once, untimed, before the first case.
    """
    from tqdm import tqdm

    setup_error = ""
    prepare = getattr(predictor, "prepare", None)
    if callable(prepare):
        try:
            prepare()
        except Exception as exc:  # noqa: BLE001 - a broken predictor fails its cases, not the run
            setup_error = f"prepare failed: {type(exc).__name__}: {exc}"

    predictions = []
    for case in tqdm(cases, desc=predictor.name, unit="q", file=sys.stderr, disable=not progress, leave=True):
        started = time.perf_counter()
        reply, error = Reply(answer=""), setup_error
        if not setup_error:
            try:
                reply = predictor.reply(case)
            except Exception as exc:  # noqa: BLE001 - one bad case must not end the run; it is reported instead
                error = f"{type(exc).__name__}: {exc}"
        latency_ms = round((time.perf_counter() - started) * 1000, 3)
        predictions.append(
            Prediction(
                id=case.id,
                question=case.question,
                answer=reply.answer,
                citations=reply.citations,
                amount_yuan=reply.amount_yuan,
                refused=reply.refused,
                latency_ms=latency_ms,
                system=predictor.name,
                error=error,
                asked_back=reply.asked_back,
            )
        )
    return predictions


def _read_jsonl(path: Path) -> Iterable[tuple[int, dict[str, Any]]]:
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DatasetError(f"{path}:{number}: not valid JSON ({exc.msg})") from None
            if not isinstance(row, dict):
                raise DatasetError(f"{path}:{number}: expected a JSON object, got {type(row).__name__}")
            yield number, row


def _strings(value: Any, where: str, field: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DatasetError(f"{where}: `{field}` must be a list of strings")
    return tuple(value)


def _amount(value: Any, where: str, field: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise DatasetError(f"{where}: `{field}` must be a number or null")
    return float(value)


def case_from_dict(row: dict[str, Any], where: str = "case") -> Case:
    """Validate one dataset row into a Case; raises DatasetError naming `where` on a malformed field."""
    for required in ("id", "question"):
        if required not in row:
            raise DatasetError(f"{where}: missing `{required}`")
    if not isinstance(row["question"], str) or not row["question"].strip():
        raise DatasetError(f"{where}: `question` must be a non-empty string")
    history = []
    for turn in row.get("history") or []:
        if not isinstance(turn, dict) or not isinstance(turn.get("content"), str):
            raise DatasetError(f"{where}: each `history` turn must be an object with `role` and `content`")
        history.append((str(turn.get("role", "user")), turn["content"]))
    facts = None
    if row.get("facts") is not None:
        if not isinstance(row["facts"], list):
            raise DatasetError(f"{where}: `facts` must be a list of groups (lists of acceptable strings)")
        facts = tuple(_strings(group, where, "facts") for group in row["facts"])
        if any(not group for group in facts):
            raise DatasetError(f"{where}: a `facts` group is empty, so it could never be found")
    answerable = row.get("answerable")
    if answerable is not None and not isinstance(answerable, bool):
        raise DatasetError(f"{where}: `answerable` must be true or false")
    return Case(
        id=str(row["id"]),
        question=row["question"],
        kind=str(row.get("kind") or ""),
        history=tuple(history),
        gold=None if row.get("gold") is None else _strings(row["gold"], where, "gold"),
        facts=facts,
        amount_yuan=_amount(row.get("amount_yuan"), where, "amount_yuan"),
        answerable=answerable,
        labelled=any(name in row for name in LABEL_FIELDS),
    )


def load_cases(path: str | Path) -> list[Case]:
    """Cases of a JSONL file in file order; blank lines are skipped, duplicate ids are an error."""
    path = Path(path)
    cases: list[Case] = []
    seen: set[str] = set()
    for number, row in _read_jsonl(path):
        case = case_from_dict(row, f"{path}:{number}")
        if case.id in seen:
            raise DatasetError(f"{path}:{number}: duplicate id {case.id!r}")
        seen.add(case.id)
        cases.append(case)
    return cases


def prediction_from_dict(row: dict[str, Any], where: str = "prediction") -> Prediction:
    """Validate one predictions-file row; `system` defaults to "assistant"."""
    for required in ("id", "answer"):
        if required not in row:
            raise DatasetError(f"{where}: missing `{required}`")
    return Prediction(
        id=str(row["id"]),
        question=str(row.get("question", "")),
        answer=str(row["answer"] or ""),
        citations=_strings(row.get("citations") or [], where, "citations"),
        amount_yuan=_amount(row.get("amount_yuan"), where, "amount_yuan"),
        refused=bool(row.get("refused", False)),
        latency_ms=float(row.get("latency_ms") or 0.0),
        system=str(row.get("system") or "assistant"),
        error=str(row.get("error") or ""),
        asked_back=bool(row.get("asked_back", False)),
    )


def load_predictions(path: str | Path) -> list[Prediction]:
    """Predictions of a JSONL file written by `write_predictions` (or by hand, for tests)."""
    path = Path(path)
    return [prediction_from_dict(row, f"{path}:{number}") for number, row in _read_jsonl(path)]


def write_predictions(path: str | Path, predictions: Iterable[Prediction], *, with_system: bool = False) -> None:
    """One JSON object per line, UTF-8, Chinese kept readable (no \\u escapes)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for prediction in predictions:
            handle.write(json.dumps(prediction.to_dict(with_system=with_system), ensure_ascii=False) + "\n")
