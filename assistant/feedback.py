"""Feedback store: 👍/👎 ratings with an optional comment, one row per vote, in a SQLite file (WAL mode).

A row holds only what the user saw or typed (question, answer, citations, rating, comment) plus the time
and the app version; no IP address, user agent or session id. Gradio runs handlers in worker threads, so
every call opens its own connection and commits its own row.

A vote that cannot be stored is never dropped silently: `add` raises `FeedbackError` (HTTP status, a
Chinese sentence the API and the UI show) when the disk is full or the data folder is read-only.
`FeedbackIntake` is what the HTTP API calls: field sizes and a per-client rate limit before the store.
"""

from __future__ import annotations

import csv
import errno
import logging
import sqlite3
import tempfile
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from assistant.settings import Settings

log = logging.getLogger(__name__)

RATINGS = ("up", "down")
COLUMNS = ("id", "created_at", "app_version", "question", "answer", "citations", "rating", "comment")
MAX_FIELD_CHARS = 20_000  # a runaway paste should not grow the file without bound
# What one vote over HTTP may hold. An answer of the assistant is at most a few thousand characters (the
# longest article is ~800) and a question at most settings.max_question_chars; a vote beyond these is no vote.
FIELD_LIMITS = {"question": 1_000, "answer": 8_000, "comment": 1_000}
FIELD_NAMES = {"question": "问题（question）", "answer": "回答（answer）", "comment": "意见（comment）"}
MAX_CITATIONS = 20
MAX_CITATION_CHARS = 16
VOTES_PER_MINUTE = 10  # per client: a person votes once per answer
FULL_DISK_RETRY_S = 60
FULL_DISK = "服务器存储空间已满，您的评价这次没有保存成功，请稍后再试。"
READ_ONLY = "评价功能暂时关闭：服务器的数据目录是只读的，评价无法保存。"
STORE_DOWN = "评价暂时无法保存（反馈数据库连接不上），请稍后再试。"
# Cells a spreadsheet would run as a formula (OWASP "CSV injection"): these leading characters get a "'".
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class FeedbackError(Exception):
    """A vote that was not stored: the HTTP status, the sentence the user is shown, and when to retry."""

    def __init__(self, status: int, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str] | None:
        return {"Retry-After": str(self.retry_after)} if self.retry_after else None


def csv_cell(value: object) -> object:
    """A value safe to open in a spreadsheet: text starting with = + - @ tab or CR is prefixed with "'"."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def is_disk_full(error: BaseException) -> bool:
    """True for ENOSPC/EDQUOT, SQLite's SQLITE_FULL and PostgreSQL's disk_full (SQLSTATE 53100)."""
    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    if getattr(error, "sqlite_errorcode", None) == getattr(sqlite3, "SQLITE_FULL", 13):
        return True
    if getattr(error, "sqlstate", None) == "53100":
        return True
    return "database or disk is full" in str(error)


def is_read_only(error: BaseException) -> bool:
    """True when the error says the database or its folder cannot be written."""
    if isinstance(error, OSError) and error.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return True
    text = str(error).lower()
    return "readonly database" in text or "read-only" in text or "unable to open database file" in text


# Switching a new file to WAL needs an exclusive lock and does not wait for one: two threads setting up the
# same file at once get "database is locked". Setup is therefore done once, under this lock.
_SETUP_LOCK = threading.Lock()

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    app_version TEXT NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    citations TEXT NOT NULL,
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    comment TEXT NOT NULL DEFAULT ''
)
"""


class FeedbackStore:
    """`add` a vote, read `rows`, `export_csv`. The file and its folder are created on first use."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._ready = False
        self.disabled_reason = ""  # set by check_writable when votes cannot be stored at all

    @property
    def where(self) -> str:
        return str(self.path)

    def check_writable(self) -> bool:
        """Probe once at start-up whether votes can be stored; when not, say so once in the log and refuse
        every vote with READ_ONLY (a read-only data folder still serves answers)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=self.path.parent):
                pass
            self._set_up()
        except (OSError, sqlite3.Error) as error:
            if not is_read_only(error):
                raise
            self.disabled_reason = READ_ONLY
            log.warning("feedback disabled: %s is not writable (%s); votes will be refused", self.path, error)
            return False
        return True

    def ping(self) -> None:
        """Raise unless the database answers a query (for /readyz)."""
        if self.disabled_reason:
            raise FeedbackError(503, self.disabled_reason)
        with self._connect() as connection:
            connection.execute("SELECT 1 FROM feedback LIMIT 1").fetchall()

    def _set_up(self) -> None:
        """Create the folder, the table and switch the file to WAL (readers such as an export then run while
        a vote is written; the mode is stored in the file)."""
        with _SETUP_LOCK:
            if self._ready:
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=10.0)
            try:
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute(_SCHEMA)
                connection.commit()
            finally:
                connection.close()
            self._ready = True

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        if not self._ready:
            self._set_up()
        connection = sqlite3.connect(self.path, timeout=10.0)
        try:
            yield connection
        finally:
            connection.close()

    def add(self, question: str, answer: str, citations: Sequence[str], rating: str, comment: str = "") -> int:
        """Store one vote and return its row id. `rating` is "up" or "down"; `citations` are chunk ids.

        Raises FeedbackError (503) when the vote cannot be written: a full disk or a read-only data folder.
        """
        row = _row(question, answer, citations, rating, comment)
        if self.disabled_reason:
            raise FeedbackError(503, self.disabled_reason)
        try:
            with self._connect() as connection:
                cursor = connection.execute(
                    "INSERT INTO feedback (created_at, app_version, question, answer, citations, rating, comment)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    row,
                )
                connection.commit()
                return int(cursor.lastrowid or 0)
        except (OSError, sqlite3.Error) as error:
            raise _unstored(error, self.path) from error

    def rows(self) -> list[dict[str, object]]:
        """Every vote, oldest first, as dicts keyed by COLUMNS."""
        if not self.path.exists():
            return []
        with self._connect() as connection:
            cursor = connection.execute(f"SELECT {', '.join(COLUMNS)} FROM feedback ORDER BY id")
            return [dict(zip(COLUMNS, values, strict=True)) for values in cursor.fetchall()]

    def export_csv(self, path: Path) -> int:
        """Write every vote to a UTF-8 CSV (with BOM, so Excel shows the Chinese) and return the row count."""
        return write_csv(self.rows(), path)


def _row(
    question: str, answer: str, citations: Sequence[str], rating: str, comment: str
) -> tuple[str, str, str, str, str, str, str]:
    if rating not in RATINGS:
        raise ValueError(f"rating must be one of {RATINGS}, not {rating!r}")
    from assistant import __version__

    return (
        datetime.now(UTC).isoformat(timespec="seconds"),
        __version__,
        str(question)[:MAX_FIELD_CHARS],
        str(answer)[:MAX_FIELD_CHARS],
        ",".join(str(c) for c in citations),
        rating,
        str(comment or "").strip()[:MAX_FIELD_CHARS],
    )


def _unstored(error: BaseException, where: object) -> BaseException:
    """The FeedbackError for a failed write (logged: the vote is lost, the user is told), else the error itself."""
    if is_disk_full(error):
        log.error("feedback vote not stored: disk full at %s (%s)", where, error)
        return FeedbackError(503, FULL_DISK, retry_after=FULL_DISK_RETRY_S)
    if is_read_only(error):
        log.error("feedback vote not stored: %s is read-only (%s)", where, error)
        return FeedbackError(503, READ_ONLY)
    return error


def write_csv(rows: Sequence[dict[str, object]], path: Path) -> int:
    """Rows keyed by COLUMNS to a UTF-8 CSV with BOM, every cell spreadsheet-safe (csv_cell)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows({key: csv_cell(value) for key, value in row.items()} for row in rows)
    return len(rows)


class FeedbackBackend(Protocol):
    """What the API, the UI and the CLI need of a feedback store (SQLite here, PostgreSQL in feedback_pg)."""

    disabled_reason: str

    @property
    def where(self) -> str: ...

    def add(self, question: str, answer: str, citations: Sequence[str], rating: str, comment: str = "") -> int: ...

    def check_writable(self) -> bool: ...

    def ping(self) -> None: ...

    def rows(self) -> list[dict[str, object]]: ...

    def export_csv(self, path: Path) -> int: ...


def make_feedback_store(settings: Settings) -> FeedbackBackend:
    """SQLite in data_dir by default; PostgreSQL when settings.feedback_url is postgresql://…"""
    url = settings.feedback_url.strip()
    scheme = url.split("://", 1)[0].lower() if url else ""
    match scheme:
        case "":
            return FeedbackStore(settings.feedback_db)
        case "postgresql" | "postgres":
            from assistant.feedback_pg import PostgresFeedbackStore

            return PostgresFeedbackStore(url)
        case _:  # the URL itself may hold a password: name only its scheme
            raise ValueError(f"XIHU_FEEDBACK_URL must be empty or postgresql://…, not {scheme}://…")


class RateLimiter:
    """At most `per_minute` events per key in any 60 s window; remembers at most `max_keys` keys (oldest go)."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic, max_keys: int = 10_000) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._max_keys = max_keys
        self._events: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def wait_s(self, key: str) -> int:
        """0 and the event is counted, or the whole seconds until `key` may try again (nothing counted)."""
        now = self._clock()
        with self._lock:
            events = self._events.pop(key, None) or deque()
            while events and now - events[0] >= 60.0:
                events.popleft()
            self._events[key] = events
            while len(self._events) > self._max_keys:
                self._events.popitem(last=False)
            if len(events) >= self.per_minute:
                return max(1, int(60.0 - (now - events[0]) + 0.999))
            events.append(now)
            return 0


class FeedbackIntake:
    """A vote over HTTP: its sizes checked, the client's rate limited, then stored. Raises FeedbackError."""

    def __init__(self, store: Any, per_minute: int = VOTES_PER_MINUTE, clock: Callable[[], float] = time.monotonic):
        self.store = store
        self.limiter = RateLimiter(per_minute, clock)

    def submit(
        self, client: str, question: str, answer: str, citations: Sequence[str], rating: str, comment: str = ""
    ) -> int:
        """Store one vote from `client` (its address; kept in memory only, never stored) and return its row id."""
        check_sizes(question, answer, citations, comment)
        wait = self.limiter.wait_s(client)
        if wait:
            raise FeedbackError(
                429, f"评价提交太频繁（每分钟最多 {self.limiter.per_minute} 次），请 {wait} 秒后再试。", wait
            )
        return int(self.store.add(question, answer, citations, rating, comment))


def check_sizes(question: str, answer: str, citations: Sequence[str], comment: str) -> None:
    """Raise FeedbackError(422) naming the first field over its limit."""
    for field, text in (("question", question), ("answer", answer), ("comment", comment)):
        limit = FIELD_LIMITS[field]
        if len(text) > limit:
            raise FeedbackError(422, f"{FIELD_NAMES[field]}太长：最多 {limit} 个字，请缩短后再提交。")
    if len(citations) > MAX_CITATIONS or any(len(c) > MAX_CITATION_CHARS for c in citations):
        raise FeedbackError(422, f"引用条款（citations）不对：最多 {MAX_CITATIONS} 个，每个是 A27、S2 这样的条款编号。")
