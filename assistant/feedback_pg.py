"""Feedback in PostgreSQL (XIHU_FEEDBACK_URL=postgresql://…): the same rows and contract as the SQLite store,
for several workers or machines writing one table. Through psycopg 3; one short connection per call.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from assistant.feedback import (
    COLUMNS,
    FULL_DISK,
    FULL_DISK_RETRY_S,
    READ_ONLY,
    STORE_DOWN,
    FeedbackError,
    _row,
    is_disk_full,
    write_csv,
)

log = logging.getLogger(__name__)
CONNECT_TIMEOUT_S = 5
DOWN_RETRY_S = 30
_SCHEMA_LOCK = 0x7869_6875  # any constant every worker of this app shares ("xihu")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id BIGSERIAL PRIMARY KEY,
    created_at TEXT NOT NULL,
    app_version TEXT NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    citations TEXT NOT NULL,
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    comment TEXT NOT NULL DEFAULT ''
)
"""


class PostgresFeedbackStore:
    """`add` a vote, read `rows`, `export_csv`, like FeedbackStore; the table is created on first use."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.disabled_reason = ""
        self._ready = False
        self._setup_lock = threading.Lock()

    @property
    def where(self) -> str:
        """The server and database, without the password."""
        from psycopg.conninfo import conninfo_to_dict

        info = conninfo_to_dict(self.url)
        return f"postgresql://{info.get('host', '')}:{info.get('port', 5432)}/{info.get('dbname', '')}"

    @contextmanager
    def _connect(self) -> Iterator[Any]:
        import psycopg

        with psycopg.connect(self.url, connect_timeout=CONNECT_TIMEOUT_S) as connection:
            if not self._ready:
                with self._setup_lock:
                    # Workers (processes) creating the table at once: CREATE … IF NOT EXISTS alone races (the
                    # loser fails on the table or its row type, and the vote it carried would be lost), so the
                    # creation is serialised by a transaction-scoped advisory lock on the server.
                    connection.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
                    connection.execute(_SCHEMA)
                    connection.commit()
                    self._ready = True
            yield connection

    def check_writable(self) -> bool:
        """Create the table now if the server answers; a server that is down only makes votes 503 until it is up."""
        try:
            with self._connect():
                return True
        except Exception as error:
            log.warning("feedback database %s not reachable at start-up (%s)", self.where, type(error).__name__)
            return False

    def ping(self) -> None:
        with self._connect() as connection:
            connection.execute("SELECT 1 FROM feedback LIMIT 1").fetchall()

    def add(self, question: str, answer: str, citations: Sequence[str], rating: str, comment: str = "") -> int:
        """Store one vote and return its row id; FeedbackError (503) when the server is down, full or read-only."""
        import psycopg

        row = tuple(_clean(value) for value in _row(question, answer, citations, rating, comment))
        try:
            with self._connect() as connection:
                cursor = connection.execute(
                    "INSERT INTO feedback (created_at, app_version, question, answer, citations, rating, comment)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
                    row,
                )
                (row_id,) = cursor.fetchone()
                connection.commit()
                return int(row_id)
        except psycopg.Error as error:
            if is_disk_full(error):
                log.error("feedback vote not stored: %s is out of disk space (%s)", self.where, error)
                raise FeedbackError(503, FULL_DISK, retry_after=FULL_DISK_RETRY_S) from error
            if getattr(error, "sqlstate", None) == "25006":  # read_only_sql_transaction: a standby
                log.error("feedback vote not stored: %s is read-only", self.where)
                raise FeedbackError(503, READ_ONLY) from error
            if isinstance(error, psycopg.OperationalError):
                log.error("feedback vote not stored: %s unreachable (%s)", self.where, type(error).__name__)
                raise FeedbackError(503, STORE_DOWN, retry_after=DOWN_RETRY_S) from error
            raise

    def rows(self) -> list[dict[str, object]]:
        """Every vote, oldest first, as dicts keyed by COLUMNS."""
        with self._connect() as connection:
            cursor = connection.execute(f"SELECT {', '.join(COLUMNS)} FROM feedback ORDER BY id")
            return [dict(zip(COLUMNS, values, strict=True)) for values in cursor.fetchall()]

    def export_csv(self, path: Path) -> int:
        """Write every vote to a UTF-8 CSV (with BOM), every cell spreadsheet-safe; return the row count."""
        return write_csv(self.rows(), path)


def _clean(text: str) -> str:
    """PostgreSQL text holds no NUL and only valid UTF-8 (SQLite takes both): drop NULs, replace surrogates."""
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
