"""The Chroma index: one document per chunk, embedded by our own embedder, rebuilt whenever its fingerprint changes.

Embedded persistent store under `settings.chroma_dir` by default; a Chroma server when
`settings.chroma_host` is set — the same code path after the client is made.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import sys
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from assistant.embeddings import Embedder
from assistant.notice import CHUNKER_VERSION, read_notice
from assistant.records import Chunk
from assistant.settings import Settings

log = logging.getLogger(__name__)
BATCH = 16


class ChromaEmbeddingFunction:
    """Adapts our Embedder to chromadb's EmbeddingFunction, so chromadb never falls back to its default
    (which downloads a model and fails offline). Documents are passages; `embed_query` embeds queries."""

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder

    def __call__(self, input: Sequence[str]) -> list[Any]:  # noqa: A002 - chromadb's parameter name
        return list(self._embedder.embed_passages(list(input)))

    def embed_query(self, input: Sequence[str]) -> list[Any]:  # noqa: A002
        return list(self._embedder.embed_queries(list(input)))

    @staticmethod
    def name() -> str:
        return "xihu-assistant-embedder"

    def is_legacy(self) -> bool:
        return True


EVERYDAY_SEPARATOR = "~"  # an everyday entry's id: <chunk id>~<n>, e.g. A18~3


def everyday_entries(everyday: Mapping[str, Sequence[str]]) -> list[tuple[str, str, str]]:
    """(entry id, chunk id, text) of every everyday entry, in file order: the extra vectors that point to a chunk."""
    return [
        (f"{cid}{EVERYDAY_SEPARATOR}{n}", cid, text) for cid, texts in everyday.items() for n, text in enumerate(texts)
    ]


def parent_id(entry_id: str) -> str:
    """The chunk an index row stands for: itself, or the chunk an everyday entry points to."""
    return entry_id.split(EVERYDAY_SEPARATOR, 1)[0]


def index_fingerprint(notice_text: str, embedder_name: str, everyday: Mapping[str, Sequence[str]] | None = None) -> str:
    """Changes whenever the notice text, the everyday entries, the embedding model or the chunker changes."""
    parts = [hashlib.sha256(notice_text.encode()).hexdigest(), embedder_name, CHUNKER_VERSION]
    if everyday:
        parts.append(hashlib.sha256(repr(everyday_entries(everyday)).encode()).hexdigest())
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]


def make_client(settings: Settings) -> Any:
    """A Chroma client: HTTP when a server is configured, else the embedded persistent store."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_host:
        return chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
    settings.chroma_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)


def _lock(settings: Settings) -> Any:
    from filelock import FileLock

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return FileLock(str(settings.data_dir / "index.lock"), timeout=600)


def _current(collection: Any, fingerprint: str, expected: int) -> bool:
    meta = collection.metadata or {}
    return meta.get("fingerprint") == fingerprint and collection.count() == expected


def open_index(
    settings: Settings,
    chunks: Sequence[Chunk],
    embedder: Embedder,
    *,
    everyday: Mapping[str, Sequence[str]] | None = None,
    force: bool = False,
    progress: bool = False,
) -> Any:
    """Return the Chroma collection for these chunks (and their everyday entries, each an extra row pointing to
    its chunk), (re)building it when missing, stale, corrupt or forced.

    A file lock in data_dir makes concurrent builders wait for one build instead of racing.
    """
    everyday = {cid: texts for cid, texts in (everyday or {}).items() if any(c.id == cid for c in chunks)}
    fingerprint = index_fingerprint(read_notice(settings), embedder.name, everyday)
    expected = len(chunks) + len(everyday_entries(everyday))
    with _lock(settings), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            if not settings.chroma_host:
                _check_embedded_store(settings)
            client = make_client(settings)
            collection = _get_collection(client, collection_name(settings, fingerprint), embedder)
            if collection is not None and not force and _current(collection, fingerprint, expected):
                return collection
        except Exception as error:  # a corrupt embedded store: start over rather than serve from it
            if settings.chroma_host:
                raise
            log.warning("index at %s is unreadable (%s); deleting and rebuilding", settings.chroma_dir, error)
            _forget_embedded_store(settings)
            shutil.rmtree(settings.chroma_dir, ignore_errors=True)
            client = make_client(settings)
            collection = None
        reason = (
            "forced" if force else ("missing" if collection is None else "stale (notice, model or chunker changed)")
        )
        log.warning("building index %s: %s", settings.collection, reason)
        return _build(client, settings, chunks, everyday, embedder, fingerprint, progress)


def _check_embedded_store(settings: Settings) -> None:
    """Raise when the store's sqlite file is damaged; chromadb itself may not notice until a query fails."""
    import sqlite3
    from contextlib import closing

    db = settings.chroma_dir / "chroma.sqlite3"
    if not db.exists():
        # Deleted under us: chromadb would keep serving its cached handle to the unlinked file.
        _forget_embedded_store(settings)
        return
    with closing(sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)) as connection:
        result = connection.execute("PRAGMA quick_check").fetchone()[0]
    if result != "ok":
        raise RuntimeError(f"sqlite quick_check of {db.name}: {result}")


def _forget_embedded_store(settings: Settings) -> None:
    """Drop chromadb's per-process cached store for chroma_dir, so the next client opens the files afresh.

    chromadb keeps one store per path for the whole process (and keeps a half-started one after a failed
    open), so without this a rebuild in the same process would write into the old, deleted or broken files.
    """
    from chromadb.api.shared_system_client import SharedSystemClient

    identifier = str(settings.chroma_dir)
    system = SharedSystemClient._identifier_to_system.pop(identifier, None)
    SharedSystemClient._identifier_to_refcount.pop(identifier, None)
    if system is not None:
        try:
            system.stop()
        except Exception:  # a store that failed to start has nothing to stop
            pass


def collection_name(settings: Settings, fingerprint: str) -> str:
    """The embedded store has one collection, rebuilt in place under the file lock. On a shared server each
    fingerprint gets its own collection, so replicas (or two model versions) never delete each other's index
    while building: concurrent builders upsert the same rows into the same collection."""
    return f"{settings.collection}-{fingerprint[:12]}" if settings.chroma_host else settings.collection


def _get_collection(client: Any, name: str, embedder: Embedder) -> Any:
    try:
        return client.get_collection(name, embedding_function=ChromaEmbeddingFunction(embedder))
    except Exception as error:
        if "does not exist" in str(error) or "not found" in str(error).lower():
            return None
        raise


def _build(
    client: Any,
    settings: Settings,
    chunks: Sequence[Chunk],
    everyday: Mapping[str, Sequence[str]],
    embedder: Embedder,
    fingerprint: str,
    progress: bool,
) -> Any:
    name = collection_name(settings, fingerprint)
    if not settings.chroma_host:
        try:
            client.delete_collection(name)
        except Exception:  # not there yet
            pass
    collection = client.get_or_create_collection(
        name,
        embedding_function=ChromaEmbeddingFunction(embedder),
        metadata={"fingerprint": "building", "embedder": embedder.name},
        configuration={"hnsw": {"space": "cosine"}},
    )
    entries = everyday_entries(everyday)
    bar = _progress_bar(len(chunks) + len(entries), progress)
    # Similar lengths in a batch waste less padding: sort by length before batching.
    ordered = sorted(chunks, key=lambda c: len(c.text))
    for i in range(0, len(ordered), BATCH):
        batch = ordered[i : i + BATCH]
        vectors = embedder.embed_passages([c.text.strip() for c in batch])
        collection.upsert(
            ids=[c.id for c in batch],
            documents=[c.text for c in batch],
            metadatas=[c.metadata() for c in batch],
            embeddings=[list(map(float, v)) for v in vectors],
        )
        bar(len(batch))
    # Everyday entries are questions, so they are embedded as queries: question-to-question similarity.
    for i in range(0, len(entries), BATCH * 4):
        rows = entries[i : i + BATCH * 4]
        vectors = embedder.embed_queries([text for _, _, text in rows])
        collection.upsert(
            ids=[entry_id for entry_id, _, _ in rows],
            documents=[text for _, _, text in rows],
            metadatas=[{"id": entry_id, "kind": "everyday", "parent": cid} for entry_id, cid, _ in rows],
            embeddings=[list(map(float, v)) for v in vectors],
        )
        bar(len(rows))
    # The fingerprint is written last: an interrupted build is never mistaken for a current one.
    collection.modify(metadata={"fingerprint": fingerprint, "embedder": embedder.name})
    return collection


def _progress_bar(total: int, enabled: bool) -> Any:
    if not enabled:
        return lambda n: None
    from tqdm import tqdm

    bar = tqdm(total=total, desc="indexing", unit="chunk", file=sys.stderr)
    return bar.update
