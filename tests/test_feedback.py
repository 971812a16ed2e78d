"""FeedbackStore: one row per vote in SQLite (WAL), nothing beyond what the user typed, CSV export."""

from __future__ import annotations

import csv
import errno
import sqlite3
import threading
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant import __version__
from assistant.feedback import COLUMNS, FeedbackError, FeedbackStore, RateLimiter
from assistant.settings import Settings


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


# -- the CSV export is safe to open in a spreadsheet (OWASP CSV injection) ---------------------------
def test_export_prefixes_cells_a_spreadsheet_would_run_as_formulas(store: FeedbackStore, tmp_path: Path) -> None:
    store.add('=HYPERLINK("http://x","点我")', "+1+2", ["A14"], "down", "@SUM(A1:A9)")
    store.add("-2+3", "\t=1+1", [], "up", "\r=cmd|' /C calc'!A0")
    store.add("研发补助多少？", "最高200万元 = 两百万", [], "up", "a-b")
    store.add("\r=1+1", "答", [], "up")
    target = tmp_path / "feedback.csv"
    store.export_csv(target)
    with target.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["question"], r["answer"], r["comment"]) for r in rows] == [
        ('\'=HYPERLINK("http://x","点我")', "'+1+2", "'@SUM(A1:A9)"),
        ("'-2+3", "'\t=1+1", "'=cmd|' /C calc'!A0"),  # the comment was stripped of its CR when stored
        ("研发补助多少？", "最高200万元 = 两百万", "a-b"),  # only a leading character is dangerous
        ("'\r=1+1", "答", ""),
    ]
    assert store.rows()[0]["question"] == '=HYPERLINK("http://x","点我")'  # the database keeps the text as typed


# -- a full disk: the vote is refused with a clear 503, never silently lost ----------------------------
def no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_vote_on_a_full_disk_raises_a_503_with_retry_after_and_the_next_one_is_stored(
    store: FeedbackStore, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    store.add("问一", "答一", [], "up")
    real_connect = sqlite3.connect
    monkeypatch.setattr("assistant.feedback.sqlite3.connect", no_space)
    with pytest.raises(FeedbackError) as raised:
        store.add("问二", "答二", [], "down")
    assert (raised.value.status, raised.value.message, raised.value.headers) == (
        503,
        "服务器存储空间已满，您的评价这次没有保存成功，请稍后再试。",
        {"Retry-After": "60"},
    )
    assert any("not stored: disk full" in r.getMessage() for r in caplog.records)
    monkeypatch.setattr("assistant.feedback.sqlite3.connect", real_connect)  # space is back
    assert store.add("问三", "答三", [], "up") == 2
    assert [r["question"] for r in store.rows()] == ["问一", "问三"]


def test_sqlite_reporting_database_or_disk_full_is_a_503_too(store: FeedbackStore, monkeypatch) -> None:
    store.add("问一", "答一", [], "up")
    real_connect = sqlite3.connect

    def tiny_disk(*args, **kwargs):  # SQLite's own SQLITE_FULL: the file may not grow by one page
        connection = real_connect(*args, **kwargs)
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        connection.execute(f"PRAGMA max_page_count = {pages}")
        return connection

    monkeypatch.setattr("assistant.feedback.sqlite3.connect", tiny_disk)
    with pytest.raises(FeedbackError) as raised:
        for i in range(200):
            store.add(f"问{i}", "答" * 4000, [], "up")
    assert raised.value.status == 503
    assert raised.value.retry_after == 60


def test_the_api_answers_a_vote_on_a_full_disk_with_503_retry_after_in_chinese(
    api: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert api.post("/api/feedback", json=VOTE).status_code == 200  # the database exists already
    monkeypatch.setattr("assistant.feedback.sqlite3.connect", no_space)
    response = api.post("/api/feedback", json=VOTE)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "60"
    assert response.json() == {"detail": "服务器存储空间已满，您的评价这次没有保存成功，请稍后再试。"}


# -- /api/feedback is bounded in size and rate ------------------------------------------------------
VOTE = {
    "question": "首次认定的高新技术企业奖励多少？",
    "answer": "20万元（第十八条）",
    "citations": ["A18"],
    "rating": "up",
}


@pytest.fixture()
def api(fake_assistant, tmp_path: Path) -> TestClient:
    from assistant.api import create_app

    settings = Settings.from_env(environ={}, embedder="fake", data_dir=tmp_path / "data", feedback_per_minute=3)
    return TestClient(create_app(settings, fake_assistant), client=("203.0.113.7", 50000))


def test_a_client_voting_more_than_the_limit_per_minute_gets_429_with_retry_after(api: TestClient) -> None:
    answers = [api.post("/api/feedback", json=VOTE) for _ in range(4)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    assert answers[3].json() == {"detail": "评价提交太频繁（每分钟最多 3 次），请 60 秒后再试。"}
    assert answers[3].headers["retry-after"] == "60"
    other = TestClient(api.app, client=("198.51.100.9", 50000))
    assert other.post("/api/feedback", json=VOTE).status_code == 200  # the limit is per client


def test_the_rate_limit_window_slides_after_a_minute() -> None:
    now = [1000.0]
    limiter = RateLimiter(2, clock=lambda: now[0])
    assert [limiter.wait_s("a"), limiter.wait_s("a"), limiter.wait_s("a")] == [0, 0, 60]
    now[0] += 45.5
    assert limiter.wait_s("a") == 15
    now[0] += 14.5
    assert limiter.wait_s("a") == 0


def test_the_rate_limiter_forgets_the_oldest_clients_beyond_its_bound() -> None:
    limiter = RateLimiter(1, clock=lambda: 0.0, max_keys=3)
    for key in "abcd":
        assert limiter.wait_s(key) == 0
    assert limiter.wait_s("d") == 60
    assert limiter.wait_s("a") == 0  # forgotten: memory stays bounded under many addresses


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("question", "问" * 1001, "问题（question）太长：最多 1000 个字，请缩短后再提交。"),
        ("answer", "答" * 8001, "回答（answer）太长：最多 8000 个字，请缩短后再提交。"),
        ("comment", "评" * 1001, "意见（comment）太长：最多 1000 个字，请缩短后再提交。"),
        ("citations", ["A1"] * 21, "引用条款（citations）不对：最多 20 个，每个是 A27、S2 这样的条款编号。"),
        ("citations", ["A" * 17], "引用条款（citations）不对：最多 20 个，每个是 A27、S2 这样的条款编号。"),
    ],
)
def test_an_oversized_vote_is_422_and_nothing_is_stored(api: TestClient, tmp_path: Path, field, value, message):
    response = api.post("/api/feedback", json={**VOTE, field: value})
    assert response.status_code == 422
    assert response.json() == {"detail": message}
    assert FeedbackStore(tmp_path / "data" / "feedback.sqlite3").rows() == []


def test_a_vote_at_every_size_limit_is_stored(api: TestClient, tmp_path: Path) -> None:
    vote = {**VOTE, "question": "问" * 1000, "answer": "答" * 8000, "comment": "评" * 1000, "citations": ["A1"] * 20}
    assert api.post("/api/feedback", json=vote).status_code == 200
    assert FeedbackStore(tmp_path / "data" / "feedback.sqlite3").rows()[0]["answer"] == "答" * 8000


def test_the_settings_listing_hides_the_password_of_the_feedback_database_url() -> None:
    settings = Settings.from_env(environ={"XIHU_FEEDBACK_URL": "postgresql://xihu:s3cret@10.0.0.6:5432/feedback"})
    rows = {env: value for env, value, _ in settings.describe()}
    assert rows["XIHU_FEEDBACK_URL"] == "postgresql://xihu:***@10.0.0.6:5432/feedback"
    assert settings.feedback_url == "postgresql://xihu:s3cret@10.0.0.6:5432/feedback"  # only the listing hides it
