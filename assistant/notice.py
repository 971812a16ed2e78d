"""Parse the notice into chunks that tile its body: PRE, S1..S7 (section introductions), A1..An (articles), END."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from assistant.numerals import cn_to_int
from assistant.records import Chunk
from assistant.settings import Settings

CHUNKER_VERSION = "article-v1"

# The published text starts with a two-line news lede; the notice proper starts at its title line.
_BODY_START = re.compile(r"^.*印发.*的通知\s*$", re.M)
_SECTION = re.compile(r"^([一二三四五六七八九十]+)、(.+?)[(（]由(.+?)牵头实施[)）]\s*$")
_ARTICLE = re.compile(r"^[(（]([一二三四五六七八九十]+)[)）]")
_UNITS_LABELLED = re.compile(r"[(（]\s*责任单位\s*[:：](.+?)[)）]\s*$")
_UNITS_BARE = re.compile(r"[(（]([^()（）]+?)[)）]\s*$")  # article 二十七: "(市规划资源局西湖分局、区发改经信局)"
_UNIT_SPLIT = re.compile(r"[、,，;；]\s*")
_UNIT_SUFFIX = re.compile(r"(局|办|委|会|中心|集团|投|城投|云创|分局|小镇|科技城|国企|团区委|残联)$")


def notice_body(text: str) -> tuple[str, int]:
    """The notice as issued (from its title line on) and the offset where it starts in the file."""
    match = _BODY_START.search(text)
    offset = match.start() if match else 0
    return text[offset:], offset


def split_units(raw: str) -> tuple[str, ...]:
    return tuple(u.strip() for u in _UNIT_SPLIT.split(raw) if u.strip())


def responsible_units(article_text: str) -> tuple[str, ...]:
    """责任单位 from the trailing "(责任单位:…)", or from a bare trailing list of unit names (article 二十七)."""
    text = article_text.rstrip()
    if labelled := _UNITS_LABELLED.search(text):
        return split_units(labelled.group(1))
    if bare := _UNITS_BARE.search(text):
        units = split_units(bare.group(1))
        if units and all(_UNIT_SUFFIX.search(u) for u in units):
            return units
    return ()


def _title(article_line: str) -> str:
    head = _ARTICLE.sub("", article_line, count=1)
    return head.split("。", 1)[0].strip()


def parse_notice(text: str) -> list[Chunk]:
    """Split the notice into chunks, in reading order; offsets are relative to `notice_body(text)`.

    Every character of the body lands in exactly one chunk: lines before the first section are PRE,
    a section heading and its introduction are S<n>, an article line and any continuation lines
    are A<n>, and the paragraphs after the last article are END.
    """
    body, _ = notice_body(text)
    lines = body.splitlines(keepends=True)
    # Group lines into (kind, header match, start, end).
    blocks: list[dict] = []
    pos = 0
    for line in lines:
        stripped = line.strip()
        section = _SECTION.match(stripped)
        article = _ARTICLE.match(stripped)
        if section:
            blocks.append({"kind": "section", "match": section, "start": pos, "lines": [line]})
        elif article:
            blocks.append({"kind": "article", "match": article, "start": pos, "lines": [line]})
        elif not blocks:
            blocks.append({"kind": "preamble", "match": None, "start": pos, "lines": [line]})
        else:
            blocks[-1]["lines"].append(line)
        pos += len(line)

    # Paragraphs after the last article's own line form the closing chunk.
    last_article = max((i for i, b in enumerate(blocks) if b["kind"] == "article"), default=None)
    if last_article is not None and len(blocks[last_article]["lines"]) > 1:
        block = blocks[last_article]
        closing_lines = block["lines"][1:]
        block["lines"] = block["lines"][:1]
        blocks.append(
            {"kind": "closing", "match": None, "start": block["start"] + len(block["lines"][0]), "lines": closing_lines}
        )

    chunks: list[Chunk] = []
    section_no: int | None = None
    section_title = ""
    lead: tuple[str, ...] = ()
    for block in blocks:
        chunk_text = "".join(block["lines"])
        start, end = block["start"], block["start"] + len(chunk_text)
        match = block["match"]
        if block["kind"] == "section":
            numeral = match.group(1)
            section_no, section_title, lead = cn_to_int(numeral), match.group(2).strip(), split_units(match.group(3))
            chunks.append(
                Chunk(
                    id=f"S{section_no}",
                    kind="section",
                    number=section_no,
                    numeral=numeral,
                    title=section_title,
                    text=chunk_text,
                    start=start,
                    end=end,
                    section=section_no,
                    section_title=section_title,
                    lead_units=lead,
                )
            )
        elif block["kind"] == "article":
            numeral = match.group(1)
            number = cn_to_int(numeral)
            chunks.append(
                Chunk(
                    id=f"A{number}",
                    kind="article",
                    number=number,
                    numeral=numeral,
                    title=_title(block["lines"][0]),
                    text=chunk_text,
                    start=start,
                    end=end,
                    section=section_no,
                    section_title=section_title,
                    lead_units=lead,
                    responsible_units=responsible_units(block["lines"][0]),
                )
            )
        else:
            kind = block["kind"]
            first_line = chunk_text.strip().splitlines()[0] if chunk_text.strip() else ""
            chunks.append(
                Chunk(
                    id="PRE" if kind == "preamble" else "END",
                    kind=kind,
                    number=None,
                    numeral="",
                    title=first_line if kind == "preamble" else "结语",
                    text=chunk_text,
                    start=start,
                    end=end,
                )
            )
    return chunks


def read_notice(settings: Settings) -> str:
    return Path(settings.notice_path).read_text(encoding="utf-8")


@cache
def _load_chunks_cached(path: str, mtime_ns: int) -> tuple[Chunk, ...]:
    return tuple(parse_notice(Path(path).read_text(encoding="utf-8")))


def load_chunks(settings: Settings) -> list[Chunk]:
    """Chunks of the notice named by the settings (parsed once per file version)."""
    path = Path(settings.notice_path)
    return list(_load_chunks_cached(str(path), path.stat().st_mtime_ns))


EVERYDAY_FILE = "everyday.yaml"


def load_everyday(settings: Settings) -> dict[str, tuple[str, ...]]:
    """Everyday words and questions per chunk id (关联问题, knowledge/everyday.yaml); {} when the file is absent."""
    path = Path(settings.knowledge_dir) / EVERYDAY_FILE
    return dict(_load_everyday_cached(str(path), path.stat().st_mtime_ns if path.exists() else 0))


@cache
def _load_everyday_cached(path: str, mtime_ns: int) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not mtime_ns:
        return ()
    import yaml

    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return tuple(
        (str(cid), tuple(dict.fromkeys(str(e).strip() for e in entries or () if str(e).strip())))
        for cid, entries in raw.items()
    )


def notice_fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def chunk_by_id(chunks: list[Chunk]) -> dict[str, Chunk]:
    return {c.id: c for c in chunks}


def find_chunk(chunks: Sequence[Chunk], ref: str) -> Chunk | None:
    """The chunk a user names: an id (A27, S2, PRE, END, any case) or an article number in any form."""
    from assistant.numerals import parse_article_number

    wanted = ref.strip()
    by_id = {c.id.upper(): c for c in chunks}
    if wanted.upper() in by_id:
        return by_id[wanted.upper()]
    number = parse_article_number(wanted)
    if number is None:
        return None
    return next((c for c in chunks if c.kind == "article" and c.number == number), None)
