"""The Chroma index: one document per chunk, embedded by our own embedder, rebuilt whenever its fingerprint changes.

Embedded persistent store under `settings.chroma_dir` by default; a Chroma server when
`settings.chroma_host` is set — the same code path after the client is made.

`open_index` returns an `IndexHandle`: the collection, re-opened (and rebuilt) when the store lost it — a
Chroma server restarted on an empty volume — and raising `StoreUnavailable` (HTTP 503 + Retry-After) while
the store cannot be reached or is being rebuilt, instead of an error on every request until a restart.
A read-only data folder holding a current index is opened without the build lock.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import sys
import tempfile
import threading
import warnings
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from assistant.embeddings import Embedder
from assistant.notice import CHUNKER_VERSION, read_notice
from assistant.records import Chunk
from assistant.settings import Settings

log = logging.getLogger(__name__)
BATCH = 16
RETRY_AFTER_S = 5
STORE_DOWN = "检索服务暂时连接不上，请稍后再试。"
STORE_REBUILDING = "检索索引正在重建，请稍后再试。"
_SEGMENT_DIR = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class StoreUnavailable(Exception):
    """The vector store cannot answer now (unreachable, or its index is being rebuilt): retry later (503)."""

    def __init__(self, message: str = STORE_DOWN, retry_after: int = RETRY_AFTER_S) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


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
    """The build lock in data_dir; OSError when the folder cannot be written (read-only data dir)."""
    from filelock import FileLock

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if not writable(settings.data_dir):
        raise PermissionError(f"{settings.data_dir} is not writable")
    return FileLock(str(settings.data_dir / "index.lock"), timeout=600)


def writable(folder: Path) -> bool:
    """Whether a file can be created in `folder` (tried for real: root passes os.access on a read-only mount)."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


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
) -> IndexHandle:
    """Return the Chroma collection for these chunks (and their everyday entries, each an extra row pointing to
    its chunk), (re)building it when missing, stale, corrupt or forced.

    A file lock in data_dir makes concurrent builders wait for one build instead of racing. The result is
    an IndexHandle, which behaves as the collection and re-opens it when the store loses it.
    """
    everyday = {cid: texts for cid, texts in (everyday or {}).items() if any(c.id == cid for c in chunks)}
    fingerprint = index_fingerprint(read_notice(settings), embedder.name, everyday)
    expected = len(chunks) + len(everyday_entries(everyday))

    def reopen(force: bool = False, progress: bool = False) -> Any:
        return _open_collection(
            settings, chunks, everyday, embedder, fingerprint, expected, force=force, progress=progress
        )

    return IndexHandle(reopen(force=force, progress=progress), fingerprint, expected, reopen)


def _open_collection(
    settings: Settings,
    chunks: Sequence[Chunk],
    everyday: Mapping[str, Sequence[str]],
    embedder: Embedder,
    fingerprint: str,
    expected: int,
    *,
    force: bool = False,
    progress: bool = False,
) -> Any:
    try:
        lock = _lock(settings)
    except OSError:
        if force:
            raise
        # A read-only data folder (a read-only volume or image): serve the index it holds, build nothing here.
        # (On a shared server the lock is per host anyway; replicas building at once upsert the same rows.)
        lock = None
    read_only_store = lock is None and not settings.chroma_host
    if read_only_store:
        settings = _read_only_copy(settings)
    with lock or nullcontext(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            if not settings.chroma_host:
                _check_embedded_store(settings)
            client = make_client(settings)
            collection = _get_collection(client, collection_name(settings, fingerprint), embedder)
            if collection is not None and not force and _current(collection, fingerprint, expected):
                if lock is not None and not settings.chroma_host:
                    remove_orphan_segments(settings)
                return collection
        except Exception as error:  # a corrupt embedded store: start over rather than serve from it
            if settings.chroma_host or read_only_store:
                raise
            log.warning("index at %s is unreadable (%s); deleting and rebuilding", settings.chroma_dir, error)
            _forget_embedded_store(settings)
            shutil.rmtree(settings.chroma_dir, ignore_errors=True)
            client = make_client(settings)
            collection = None
        if read_only_store:
            raise RuntimeError(
                "the index in the read-only data dir is missing or stale: build it "
                "(`python -m assistant index`) where the folder is writable"
            )
        reason = (
            "forced" if force else ("missing" if collection is None else "stale (notice, model or chunker changed)")
        )
        log.warning("building index %s: %s", settings.collection, reason)
        built = _build(client, settings, chunks, everyday, embedder, fingerprint, progress)
        if lock is not None and not settings.chroma_host:
            remove_orphan_segments(settings)
        return built


def _read_only_copy(settings: Settings) -> Settings:
    """Settings pointing at a private copy of a read-only data dir's embedded store (chromadb writes to its
    sqlite file even to read it); the copy lives in the temp folder and goes when the process exits."""
    import atexit
    from dataclasses import replace

    if not (settings.chroma_dir / "chroma.sqlite3").is_file():
        raise RuntimeError(
            f"the data dir {settings.data_dir} is read-only and holds no index: build it "
            "(`python -m assistant index`) where the folder is writable"
        )
    scratch = Path(tempfile.mkdtemp(prefix="xihu-index-"))
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)
    copy = replace(settings, data_dir=scratch)
    for source in settings.chroma_dir.rglob("*"):  # contents only: the copy must be writable, the source is not
        target = copy.chroma_dir / source.relative_to(settings.chroma_dir)
        if source.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    log.warning("data dir %s is read-only: serving a copy of its index from %s", settings.data_dir, scratch)
    return copy


class IndexHandle:
    """The collection as the retriever uses it (attributes and methods are the collection's), plus recovery:

    - the store lost the collection (a Chroma server restarted on an empty volume, a deleted store): the
      first call to notice re-opens it, rebuilding when needed, and retries once; calls arriving meanwhile
      get StoreUnavailable(STORE_REBUILDING) at once rather than queueing behind the build;
    - the store cannot be reached: StoreUnavailable(STORE_DOWN).
    """

    def __init__(self, collection: Any, fingerprint: str, expected: int, reopen: Callable[[], Any]) -> None:
        self._collection = collection
        self.fingerprint = fingerprint
        self.expected = expected
        self._reopen = reopen
        self._rebuilding = threading.Lock()

    @property
    def collection(self) -> Any:
        """The Chroma collection currently served."""
        return self._collection

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # never for our own fields (copy/pickle probe them before __init__ ran)
            raise AttributeError(name)
        value = getattr(self._collection, name)
        if not callable(value):
            return value

        def guarded(*args: Any, **kwargs: Any) -> Any:
            return self._call(name, args, kwargs)

        return guarded

    def _call(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        served = self._collection
        try:
            return getattr(served, name)(*args, **kwargs)
        except Exception as error:
            if is_outage(error):
                raise StoreUnavailable(STORE_DOWN) from error
            if not is_missing(error):
                raise
        self.recover(served)
        try:
            return getattr(self._collection, name)(*args, **kwargs)
        except Exception as error:
            if is_outage(error) or is_missing(error):
                raise StoreUnavailable(STORE_DOWN) from error
            raise

    def recover(self, lost: Any) -> None:
        """Re-open (rebuild) the collection that `lost` was; another thread already doing it means 503 now."""
        if not self._rebuilding.acquire(blocking=False):
            raise StoreUnavailable(STORE_REBUILDING)
        try:
            if self._collection is not lost:  # someone else recovered it while we failed
                return
            log.warning("index collection %s is gone from the store; re-opening it", getattr(lost, "name", "?"))
            try:
                self._collection = self._reopen()
            except Exception as error:
                if is_outage(error):
                    raise StoreUnavailable(STORE_DOWN) from error
                raise
        finally:
            self._rebuilding.release()

    def readiness(self) -> dict[str, str]:
        """{"store": ..., "index": ...}, each "ok" or what is wrong (for /readyz); a collection the store
        lost is re-opened on the way, so a probe also heals."""
        try:
            count = self.count()
            stored = (self._collection.metadata or {}).get("fingerprint")
        except StoreUnavailable as error:
            return {"store": error.message, "index": "未检查"}
        if stored != self.fingerprint:
            return {"store": "ok", "index": f"索引版本不符（{stored}，应为 {self.fingerprint}）"}
        if count != self.expected:
            return {"store": "ok", "index": f"索引条目数不符（{count}，应为 {self.expected}）"}
        return {"store": "ok", "index": "ok"}


def is_outage(error: BaseException) -> bool:
    """True when the store could not be reached (connection refused or reset, timeout)."""
    try:
        import httpx
    except ImportError:  # pragma: no cover - httpx comes with chromadb
        return isinstance(error, ConnectionError | TimeoutError)
    return isinstance(error, httpx.TransportError | ConnectionError | TimeoutError)


def is_missing(error: BaseException) -> bool:
    """True when the store answered that the collection does not exist (it lost its data)."""
    text = str(error)
    return type(error).__name__ == "NotFoundError" or "does not exist" in text


def remove_orphan_segments(settings: Settings) -> list[str]:
    """Delete segment folders of the embedded store that no segment row names (a killed or replaced build's
    vectors); return their names. Runs under the build lock."""
    import sqlite3
    from contextlib import closing

    db = settings.chroma_dir / "chroma.sqlite3"
    if not db.exists():
        return []
    with closing(sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)) as connection:
        known = {str(row[0]) for row in connection.execute("SELECT id FROM segments")}
    orphans = [
        entry
        for entry in settings.chroma_dir.iterdir()
        if entry.is_dir() and _SEGMENT_DIR.match(entry.name) and entry.name not in known
    ]
    for entry in orphans:
        log.warning("removing orphan index segment folder %s", entry)
        shutil.rmtree(entry, ignore_errors=True)
    return sorted(entry.name for entry in orphans)


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
