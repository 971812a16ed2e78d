"""eval.sets: every dataset through one assistant into one table; the held-out set's cases are never printed."""

from __future__ import annotations

import json
from pathlib import Path

from eval.sets import main


class AnswersA18:
    """Answers every question with article 18 and 20万元."""

    def ask(self, question, history=None):
        return {"answer": "20万元（第十八条）", "citations": ["A18"], "amount_yuan": 200000.0, "refused": False}


def _write(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def test_one_row_per_set_in_numeric_order_with_confident_wrong_and_no_report_for_the_held_out_set(tmp_path, capsys):
    datasets = tmp_path / "datasets"
    datasets.mkdir()
    right = {"question": "高企奖多少", "gold": ["A18"], "amount_yuan": 200000}
    wrong = {"question": "技改补多少", "gold": ["A34"], "amount_yuan": 300000}
    _write(datasets / "dev10.jsonl", [{"id": "a", **right}])
    _write(datasets / "dev2.jsonl", [{"id": "b", **right}, {"id": "c", **wrong}])
    _write(datasets / "test.jsonl", [{"id": "d", **wrong}])
    out, reports = tmp_path / "sets.md", tmp_path / "reports"

    assert (
        main(["--datasets", str(datasets), "--out", str(out), "--reports", str(reports)], assistant=AnswersA18()) == 0
    )

    rows = out.read_text(encoding="utf-8").splitlines()
    assert [row.split(" | ")[0] for row in rows[2:]] == ["| dev2", "| dev10", "| test"]
    assert rows[2] == "| dev2 | 2 | 50.0% (1/2) | 50.0% (1/2) | 50.0% (1/2) | 50.0% (1/2) | 0.0% (0/2) |"
    assert sorted(p.name for p in reports.glob("*.md")) == ["dev10.md", "dev2.md"]
    assert "技改补多少" not in capsys.readouterr().out
