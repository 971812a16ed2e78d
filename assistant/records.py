"""Records that cross stage boundaries: Chunk (notice.py), Hit (retrieve.py), Citation and Answer (answer.py)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.calculator import Calculation


@dataclass(frozen=True)
class Chunk:
    """One retrievable unit of the notice: PRE, S1..S7, A1..An (one per article) or END.

    `text` is verbatim; `start`/`end` are offsets into the notice body so that
    the chunks tile the body exactly (no character lost, none counted twice).
    """

    id: str
    kind: str  # preamble | section | article | closing
    number: int | None  # 18 for A18, 2 for S2, None for PRE/END
    numeral: str  # Chinese numeral: 十八 (articles), 二 (sections), "" otherwise
    title: str  # article: text before the first 。; section: its title
    text: str
    start: int
    end: int
    section: int | None = None  # section number (1..7) of an article or section
    section_title: str = ""
    lead_units: tuple[str, ...] = ()  # 牵头单位 of the section
    responsible_units: tuple[str, ...] = ()  # 责任单位 of the article

    @property
    def label(self) -> str:
        """How people cite it: 第十八条, 第二部分（科技创新政策）, 序言, 结语."""
        if self.kind == "article":
            return f"第{self.numeral}条"
        if self.kind == "section":
            return f"第{self.numeral}部分（{self.title}）"
        return {"preamble": "序言", "closing": "结语"}.get(self.kind, self.id)

    def metadata(self) -> dict[str, Any]:
        """Flat metadata for the vector store (Chroma accepts str/int/float/bool only)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "number": self.number or 0,
            "numeral": self.numeral,
            "title": self.title,
            "label": self.label,
            "section": self.section or 0,
            "section_title": self.section_title,
            "lead_units": "、".join(self.lead_units),
            "responsible_units": "、".join(self.responsible_units),
        }


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its fused score and where the match came from."""

    chunk: Chunk
    score: float
    source: str  # lookup | department | hybrid | bm25 | dense


@dataclass(frozen=True)
class Citation:
    """A chunk the answer relies on and the exact sentence(s) that support it."""

    chunk_id: str
    label: str
    quote: str


@dataclass(frozen=True)
class Answer:
    """What `assistant.ask` returns; `to_dict()` is the JSON shape of the CLI, the API and the benchmark."""

    question: str
    answer: str
    citations: tuple[str, ...] = ()
    evidence: tuple[Citation, ...] = ()
    calculation: Calculation | None = None
    amount_yuan: float | None = None
    refused: bool = False
    route: str = ""  # lookup | department | calculation | rule (a standard, nothing to compute) | fact | out_of_scope | clarify | ...
    language: str = "zh"
    notes: tuple[str, ...] = field(default=())  # why a guard fell back, what was assumed
    reading: str = ""  # what was answered: the question alone, or joined to the earlier turn it depends on
    joined_to: str = ""  # the earlier turn's reading the question was joined to ('' when it stood alone)

    def to_dict(self) -> dict[str, Any]:
        data = {
            "question": self.question,
            "answer": self.answer,
            "citations": list(self.citations),
            "evidence": [asdict(c) for c in self.evidence],
            "calculation": self.calculation.to_dict() if self.calculation is not None else None,
            "amount_yuan": self.amount_yuan,
            "refused": self.refused,
            "route": self.route,
            "language": self.language,
            "notes": list(self.notes),
            "reading": self.reading or self.question,
            "joined_to": self.joined_to,
        }
        return data
