"""Baselines scored beside the assistant, on the same cases in the same run.

- `bm25-only` and `dense-only`: the project's own retriever in one mode; answer = the top chunk's text.
- `langchain-recipe`: the LangChain RAG tutorial (RecursiveCharacterTextSplitter 1000/200 over the whole
  notice, a Chroma vector store, similarity top-4, answer = the top split), using our embedder.

No baseline refuses, states an amount or reads the conversation history: they are what a user would get
from plain retrieval. Each cites its ranked retrieval list so that hit@k and MRR can be compared.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from eval.runner import Case, Predictor, Reply

BASELINE_K = 4  # the tutorial's similarity top-4, used for every baseline so they are comparable
SPLIT_SIZE = 1000
SPLIT_OVERLAP = 200


class RetrieverBaseline:
    """One retrieval mode of `assistant.retriever` ("bm25" or "dense"); answer = top chunk text, no refusal."""

    def __init__(self, retriever: Any, mode: str, k: int = BASELINE_K) -> None:
        self.retriever = retriever
        self.mode = mode
        self.k = k
        self.name = f"{mode}-only"

    def prepare(self) -> None:
        """Empty the retriever's memoised queries (lru_cache'd methods), filled by the system that ran before,
        so this baseline's latency includes its own embedding work."""
        for attribute in vars(type(self.retriever)).values():
            cache_clear = getattr(attribute, "cache_clear", None)
            if callable(cache_clear):
                cache_clear()

    def reply(self, case: Case) -> Reply:
        hits = self.retriever.search(case.question, k=self.k, mode=self.mode)
        return Reply(
            answer=hits[0].chunk.text if hits else "",
            citations=tuple(dict.fromkeys(hit.chunk.id for hit in hits)),
        )


def locate_chunks(text: str, chunks: Sequence[Any]) -> dict[str, tuple[int, int]]:
    """Character span of every chunk inside `text` (the whole notice file, lede included).

    Chunks are verbatim and in order, so each is found after the previous one; a chunk that cannot be
    found keeps its own start/end shifted by the offset of the first chunk that was found.
    """
    spans: dict[str, tuple[int, int]] = {}
    cursor = 0
    shift: int | None = None
    missing = []
    for chunk in sorted(chunks, key=lambda c: c.start):
        found = text.find(chunk.text, cursor) if chunk.text else -1
        if found == -1:
            missing.append(chunk)
            continue
        spans[chunk.id] = (found, found + len(chunk.text))
        cursor = found + len(chunk.text)
        if shift is None:
            shift = found - chunk.start
    for chunk in missing:
        spans[chunk.id] = (chunk.start + (shift or 0), chunk.end + (shift or 0))
    return spans


def chunk_ids_overlapping(start: int, end: int, spans: dict[str, tuple[int, int]]) -> list[str]:
    """Ids of the chunks a text span [start, end) overlaps, largest overlap first (ties: earlier chunk first)."""
    overlaps = []
    for chunk_id, (c_start, c_end) in spans.items():
        shared = min(end, c_end) - max(start, c_start)
        if shared > 0:
            overlaps.append((-shared, c_start, chunk_id))
    return [chunk_id for _, _, chunk_id in sorted(overlaps)]


def as_langchain_embeddings(embedder: Any) -> Any:
    """Wrap our Embedder (e5 prompts applied inside) as a LangChain `Embeddings`."""
    from langchain_core.embeddings import Embeddings

    class EmbedderEmbeddings(Embeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return embedder.embed_passages(list(texts)).tolist()

        def embed_query(self, text: str) -> list[float]:
            return embedder.embed_queries([text])[0].tolist()

    return EmbedderEmbeddings()


class LangChainRecipeBaseline:
    """The LangChain tutorial recipe in an ephemeral in-memory Chroma collection.

    Each retrieved split is cited as the chunk ids it overlaps (largest overlap first), splits in rank
    order, duplicates dropped.
    """

    name = "langchain-recipe"

    def __init__(self, notice_text: str, chunks: Sequence[Any], embedder: Any, k: int = BASELINE_K) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from langchain_chroma import Chroma
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        self.k = k
        splitter = RecursiveCharacterTextSplitter(
            chunk_size=SPLIT_SIZE, chunk_overlap=SPLIT_OVERLAP, add_start_index=True
        )
        documents = splitter.create_documents([notice_text])
        spans = locate_chunks(notice_text, chunks)
        for document in documents:
            start = int(document.metadata["start_index"])
            ids = chunk_ids_overlapping(start, start + len(document.page_content), spans)
            document.metadata["chunk_ids"] = ",".join(ids)
        self.splits = len(documents)
        client = chromadb.EphemeralClient(settings=ChromaSettings(anonymized_telemetry=False))
        # An explicit embedding function: never Chroma's default model (it would download one).
        self.store = Chroma(
            collection_name=f"eval_langchain_{uuid.uuid4().hex[:12]}",
            embedding_function=as_langchain_embeddings(embedder),
            client=client,
            collection_metadata={"hnsw:space": "cosine"},
        )
        self.store.add_documents(documents)

    def reply(self, case: Case) -> Reply:
        documents = self.store.similarity_search(case.question, k=self.k)
        cited: list[str] = []
        for document in documents:
            cited += [i for i in str(document.metadata.get("chunk_ids", "")).split(",") if i]
        return Reply(
            answer=documents[0].page_content if documents else "",
            citations=tuple(dict.fromkeys(cited)),
        )

    def close(self) -> None:
        """Drop the temporary collection."""
        try:
            self.store.delete_collection()
        except Exception:  # noqa: BLE001 - cleanup of an in-memory collection must not fail the run
            pass


def make_baselines(assistant: Any, settings: Any) -> tuple[list[Predictor], list[str]]:
    """Every baseline that can be built, and a note for each one that could not (a baseline never crashes the run).

    Chunks and the embedder come from `assistant.retriever` when it exposes them (no second model load),
    else from `assistant.notice.load_chunks(settings)` and `assistant.embeddings.make_embedder(settings)`.
    """
    baselines: list[Predictor] = []
    notes: list[str] = []
    retriever = getattr(assistant, "retriever", None)
    for mode in ("bm25", "dense"):
        if retriever is None or not hasattr(retriever, "search"):
            notes.append(f"{mode}-only baseline skipped: the assistant has no `retriever.search`")
        else:
            baselines.append(RetrieverBaseline(retriever, mode))
    try:
        chunks = getattr(retriever, "chunks", None)
        if not chunks:
            from assistant.notice import load_chunks

            chunks = load_chunks(settings)
        embedder = getattr(retriever, "embedder", None)
        if embedder is None:
            from assistant.embeddings import make_embedder

            embedder = make_embedder(settings)
        notice_text = settings.notice_path.read_text(encoding="utf-8")
        recipe = LangChainRecipeBaseline(notice_text, chunks, embedder)
        baselines.append(recipe)
        notes.append(
            f"langchain-recipe: {recipe.splits} splits of ≤{SPLIT_SIZE} characters (overlap {SPLIT_OVERLAP}) "
            f"embedded with `{getattr(embedder, 'name', type(embedder).__name__)}`, top-{recipe.k}"
        )
    except Exception as exc:  # noqa: BLE001 - a missing optional dependency or module skips the baseline
        notes.append(f"langchain-recipe baseline skipped: {type(exc).__name__}: {exc}")
    return baselines, notes
