"""FeedbackStore: one row per vote in SQLite (WAL), nothing beyond what the user typed, CSV export."""

from __future__ import annotations

import csv
import sqlite3
import threading
from datetime import datetime
from pathlib import Path

import pytest

from assistant import __version__
from assistant.feedback import COLUMNS, FeedbackStore


@pytest.fixture()
def store(tmp_path: Path) -> FeedbackStore:
    return FeedbackStore(tmp_path / "nested" / "feedback.sqlite3")


def test_a_vote_is_stored_with_time_and_version_and_nothing_else(store: FeedbackStore) -> None:
    row_id = store.add("研发补助多少？", "最高200万元（第十四条）", ["A14", "S2"], "down", "  没说清楚条件 ")
    rows = store.rows()
    assert row_id == 1
    assert len(rows) == 1
    row = rows[0]
    assert tuple(row) == COLUMNS
    assert (row["id"], row["question"], row["answer"], row["citations"], row["rating"], row["comment"]) == (
        1,
        "研发补助多少？",
        "最高200万元（第十四条）",
        "A14,S2",
        "down",
        "没说清楚条件",
    )
    assert row["app_version"] == __version__
    assert abs((datetime.now().astimezone() - datetime.fromisoformat(str(row["created_at"]))).total_seconds()) < 60


def test_row_ids_increase_and_rows_come_oldest_first(store: FeedbackStore) -> None:
    first = store.add("问一", "答一", [], "up")
    second = store.add("问二", "答二", ["A1"], "down", "")
    assert (first, second) == (1, 2)
    assert [(r["question"], r["rating"], r["comment"]) for r in store.rows()] == [
        ("问一", "up", ""),
        ("问二", "down", ""),
    ]


@pytest.mark.parametrize("rating", ["", "like", "UP", "👍"])
def test_a_rating_other_than_up_or_down_is_refused_and_nothing_is_written(store: FeedbackStore, rating: str) -> None:
    with pytest.raises(ValueError, match="rating must be one of"):
        store.add("问", "答", [], rating)
    assert store.rows() == []


def test_the_database_is_in_wal_mode(store: FeedbackStore) -> None:
    store.add("问", "答", [], "up")
    with sqlite3.connect(store.path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_rows_of_a_store_never_written_is_empty_and_creates_no_file(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "none.sqlite3")
    assert store.rows() == []
    assert not store.path.exists()


def test_votes_from_many_threads_are_all_stored(store: FeedbackStore) -> None:
    def vote(n: int) -> None:
        for i in range(10):
            store.add(f"问题{n}-{i}", "答", ["A1"], "up" if i % 2 else "down")

    threads = [threading.Thread(target=vote, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rows = store.rows()
    assert len(rows) == 80
    assert sorted(r["id"] for r in rows) == list(range(1, 81))
    assert {r["question"] for r in rows} == {f"问题{n}-{i}" for n in range(8) for i in range(10)}


def test_stores_set_up_at_once_on_a_new_file_all_write(tmp_path: Path) -> None:
    # Switching a new file to WAL does not wait for a lock; unguarded, this failed with "database is locked".
    for trial in range(20):
        path = tmp_path / f"trial{trial}.sqlite3"
        start = threading.Barrier(6)
        errors: list[Exception] = []

        def vote(n: int, path: Path = path, start: threading.Barrier = start, errors: list = errors) -> None:
            store = FeedbackStore(path)
            start.wait()
            try:
                store.add(f"问题{n}", "答", [], "up")
            except Exception as error:  # collected: an exception in a thread would not fail the test
                errors.append(error)

        threads = [threading.Thread(target=vote, args=(n,)) for n in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert len(FeedbackStore(path).rows()) == 6


def test_html_and_quotes_are_stored_verbatim(store: FeedbackStore) -> None:
    store.add("<img src=x onerror=alert(1)>", "答", [], "down", "'; DROP TABLE feedback; --")
    row = store.rows()[0]
    assert (row["question"], row["comment"]) == ("<img src=x onerror=alert(1)>", "'; DROP TABLE feedback; --")


def test_export_csv_writes_a_header_and_every_row(store: FeedbackStore, tmp_path: Path) -> None:
    store.add("研发补助多少？", "最高200万元", ["A14"], "up", "")
    store.add("第二十七条？", "工业用地", ["A27"], "down", "太长, 看不完")
    target = tmp_path / "out" / "feedback.csv"
    assert store.export_csv(target) == 2
    assert target.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel opens the Chinese correctly
    with target.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == list(COLUMNS)
    assert [(r["id"], r["question"], r["citations"], r["rating"], r["comment"]) for r in rows] == [
        ("1", "研发补助多少？", "A14", "up", ""),
        ("2", "第二十七条？", "A27", "down", "太长, 看不完"),
    ]


def test_export_of_an_empty_store_writes_only_the_header(tmp_path: Path) -> None:
    target = tmp_path / "empty.csv"
    assert FeedbackStore(tmp_path / "none.sqlite3").export_csv(target) == 0
    assert target.read_text(encoding="utf-8-sig").splitlines() == [",".join(COLUMNS)]


def test_the_cli_exports_the_feedback_database(tmp_path: Path) -> None:
    from assistant.cli import main
    from assistant.settings import Settings

    settings = Settings.from_env(environ={}, embedder="fake", data_dir=tmp_path)
    FeedbackStore(settings.feedback_db).add("问", "答", ["A1"], "up", "好")
    target = tmp_path / "feedback.csv"
    assert main(["feedback", "export", str(target)], settings=settings) == 0
    assert target.read_text(encoding="utf-8-sig").splitlines()[1].endswith(",问,答,A1,up,好")
