"""Feedback store: 👍/👎 ratings with an optional comment, one row per vote, in a SQLite file (WAL mode).

A row holds only what the user saw or typed (question, answer, citations, rating, comment) plus the time
and the app version; no IP address, user agent or session id. Gradio runs handlers in worker threads, so
every call opens its own connection and commits its own row.
"""

from __future__ import annotations

import csv
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

RATINGS = ("up", "down")
COLUMNS = ("id", "created_at", "app_version", "question", "answer", "citations", "rating", "comment")
MAX_FIELD_CHARS = 20_000  # a runaway paste should not grow the file without bound
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
        """Store one vote and return its row id. `rating` is "up" or "down"; `citations` are chunk ids."""
        if rating not in RATINGS:
            raise ValueError(f"rating must be one of {RATINGS}, not {rating!r}")
        from assistant import __version__

        row = (
            datetime.now(UTC).isoformat(timespec="seconds"),
            __version__,
            str(question)[:MAX_FIELD_CHARS],
            str(answer)[:MAX_FIELD_CHARS],
            ",".join(str(c) for c in citations),
            rating,
            str(comment or "").strip()[:MAX_FIELD_CHARS],
        )
        with self._connect() as connection:
            cursor = connection.execute(
                "INSERT INTO feedback (created_at, app_version, question, answer, citations, rating, comment)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            connection.commit()
            return int(cursor.lastrowid or 0)

    def rows(self) -> list[dict[str, object]]:
        """Every vote, oldest first, as dicts keyed by COLUMNS."""
        if not self.path.exists():
            return []
        with self._connect() as connection:
            cursor = connection.execute(f"SELECT {', '.join(COLUMNS)} FROM feedback ORDER BY id")
            return [dict(zip(COLUMNS, values, strict=True)) for values in cursor.fetchall()]

    def export_csv(self, path: Path) -> int:
        """Write every vote to a UTF-8 CSV (with BOM, so Excel shows the Chinese) and return the row count."""
        rows = self.rows()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
        return len(rows)
