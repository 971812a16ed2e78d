"""The HTTP app: a JSON API for other systems (/api/...) with the Gradio UI (assistant/ui.py) mounted at "/".

Routes (all JSON; errors are {"detail": "<Chinese message>"}):
  POST /api/ask            {question, history}  -> Answer.to_dict() (with `reading` and `joined_to`;
                                                  history turns may carry the `reading` returned for them)
  GET  /api/articles/{ref} A27, 27, 二十七, 第二十七条 (or S2, PRE, END) -> the chunk
  GET  /api/rules                                -> the award rules with their inputs (for forms)
  POST /api/calc           {rule_id, inputs}     -> Calculation.to_dict()
  POST /api/match          {profile}             -> MatchResult.to_dict()
  POST /api/feedback       {question, answer, citations, rating, comment} -> {"id": row id}
  GET  /healthz                                  -> {"status": "ok", ...}
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Literal

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field

from assistant import __version__
from assistant.feedback import FeedbackStore
from assistant.http_guards import install_guards
from assistant.settings import Settings

if TYPE_CHECKING:
    from assistant.answer import Assistant
    from assistant.records import Answer, Chunk

MAX_HISTORY_TURNS = 20  # a follow-up only needs the last few turns; the rest is ignored


class Turn(BaseModel):
    """One earlier message of the conversation, in the OpenAI style the Assistant takes."""

    role: Literal["user", "assistant", "system"]
    content: str = ""
    # for a user turn: the `reading` the API returned for it (a follow-up joined to the turn before), so the
    # conversation is read as it was shown; optional, read again from the earlier turns when missing
    reading: str = ""


class AskRequest(BaseModel):
    # Defaults instead of required fields: an empty or missing question gets the Assistant's own Chinese
    # message ("请输入您的问题。") rather than a generic schema error.
    question: Any = ""
    history: list[Turn] = Field(default_factory=list)


class CalcRequest(BaseModel):
    rule_id: str = ""
    inputs: dict[str, Any] = Field(default_factory=dict)


class MatchRequest(BaseModel):
    profile: dict[str, Any] = Field(default_factory=dict)


class FeedbackRequest(BaseModel):
    question: str = ""
    answer: str = ""
    citations: list[str] = Field(default_factory=list)
    rating: str = ""
    comment: str = ""


class Answering:
    """The Assistant with one budget of concurrent answers shared by the API and the UI.

    Answering is CPU-bound (embedding + BM25 over 2 cores): running more than `settings.concurrency`
    at once only makes every answer slower, so extra requests wait here instead of piling onto the CPU.
    """

    def __init__(self, settings: Settings, assistant: Assistant) -> None:
        self.settings = settings
        self.assistant = assistant
        self._slots = threading.BoundedSemaphore(max(1, settings.concurrency))

    def ask(self, question: Any, history: list[dict[str, str]] | None = None) -> Answer:
        """Assistant.ask under the concurrency budget; raises QuestionError for unusable questions."""
        with self._slots:
            return self.assistant.ask(question, history)


def find_chunk(chunks: list[Chunk] | tuple[Chunk, ...], ref: str) -> Chunk | None:
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


def chunk_json(chunk: Chunk) -> dict[str, Any]:
    """The JSON shape of a chunk for /api/articles."""
    return {
        "id": chunk.id,
        "kind": chunk.kind,
        "number": chunk.number,
        "label": chunk.label,
        "title": chunk.title,
        "section": chunk.section,
        "section_title": chunk.section_title,
        "lead_units": list(chunk.lead_units),
        "responsible_units": list(chunk.responsible_units),
        "text": chunk.text,
    }


def rule_json(rule: Any) -> dict[str, Any]:
    """A rule as a form needs it: id, article, name, who it is for, clause and the inputs with units."""
    return {
        "id": rule.id,
        "article": rule.article,
        "article_label": rule.article_label,
        "name": rule.name,
        "applies_to": rule.applies_to,
        "payout": rule.payout,
        "is_maximum": rule.is_maximum,
        "clause": rule.clause,
        "inputs": [
            {
                "name": slot.name,
                "label": slot.label,
                "kind": slot.kind,
                "unit": slot.unit,
                "question": slot.question,
                "options": [{"key": o.key, "label": o.label} for o in slot.options],
            }
            for slot in rule.inputs
        ],
    }


def create_app(settings: Settings, assistant: Assistant | None = None) -> FastAPI:
    """The FastAPI app with the JSON API and the Gradio UI at "/". Builds the Assistant now if not given,
    so the model is loaded before the first request rather than during it."""
    import gradio as gr

    from assistant.answer import Assistant, QuestionError
    from assistant.ui import UI_CSS, build_ui

    if assistant is None:
        assistant = Assistant.create(settings)
    answering = Answering(settings, assistant)
    feedback = FeedbackStore(settings.feedback_db)
    chunks = assistant.retriever.chunks

    app = FastAPI(
        title="西湖政策助手 API",
        version=__version__,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    install_guards(app, settings)

    # Routes first: Gradio is mounted at "/" and would otherwise catch every path.
    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        return {"status": "ok", "version": __version__, "chunks": len(chunks), "rules": len(assistant.rules)}

    @app.post("/api/ask")
    def ask(request: AskRequest) -> dict[str, Any]:
        history = [turn.model_dump() for turn in request.history][-MAX_HISTORY_TURNS:]
        try:
            answer = answering.ask(request.question, history)
        except QuestionError as error:
            raise HTTPException(status_code=422, detail=error.message) from None
        return answer.to_dict()

    @app.get("/api/articles/{ref}")
    def article(ref: str) -> dict[str, Any]:
        chunk = find_chunk(chunks, ref)
        if chunk is None:
            raise HTTPException(
                status_code=404,
                detail=f"没有找到“{ref[:40]}”：本政策共72条，请输入1–72、二十七、第二十七条或A27这样的条号。",
            )
        return chunk_json(chunk)

    @app.get("/api/rules")
    def rules() -> list[dict[str, Any]]:
        return [rule_json(rule) for rule in assistant.rules]

    @app.post("/api/calc")
    def calc(request: CalcRequest) -> dict[str, Any]:
        from assistant.calculator import calculate
        from assistant.rules import close_rule_ids, find_rule

        rule = find_rule(assistant.rules, request.rule_id.strip())
        if rule is None:
            close = close_rule_ids(assistant.rules, request.rule_id)
            hint = f"相近的规则：{'、'.join(close)}。" if close else "可用的规则见 GET /api/rules。"
            raise HTTPException(status_code=404, detail=f"没有找到规则“{request.rule_id[:60]}”。{hint}")
        unknown = [name for name in request.inputs if not rule.has_input(name)]
        if unknown:
            names = "、".join(f"{slot.name}（{slot.label}）" for slot in rule.inputs)
            raise HTTPException(
                status_code=422,
                detail=f"规则 {rule.id} 没有输入“{'、'.join(unknown)[:80]}”。可用的输入：{names}。",
            )
        return calculate(rule, request.inputs).to_dict()

    @app.post("/api/match")
    def match(request: MatchRequest) -> dict[str, Any]:
        from assistant.matcher import match_profile

        if not request.profile:
            raise HTTPException(
                status_code=422, detail='请提供企业情况（profile），例如 {"profile": {"industry": "ic"}}。'
            )
        return match_profile(request.profile, assistant.rules).to_dict()

    @app.post("/api/feedback")
    def add_feedback(request: FeedbackRequest) -> dict[str, Any]:
        if request.rating not in ("up", "down"):
            raise HTTPException(status_code=422, detail="评价（rating）只能是 up（有帮助）或 down（没帮助）。")
        if not request.question.strip() or not request.answer.strip():
            raise HTTPException(status_code=422, detail="请同时提供问题（question）和回答（answer）。")
        row = feedback.add(request.question, request.answer, request.citations, request.rating, request.comment)
        return {"id": row}

    demo = build_ui(assistant, answering.ask, feedback)
    # One queue slot per core would idle the CPU while a handler waits on I/O (streaming, SQLite), and many
    # slots only make every answer slower on 2 cores; settings.concurrency (4 by default) sits in between.
    # Answers additionally share the Answering budget with the API, so the total stays bounded.
    demo.queue(default_concurrency_limit=settings.concurrency)
    return gr.mount_gradio_app(
        app,
        demo,
        path="/",
        server_name=settings.host,
        server_port=settings.port,
        css=UI_CSS,
        footer_links=[],
        run_history=False,  # the browser would keep every question asked; we promise to keep nothing
        show_error=False,  # tracebacks stay in the server log
        ssr_mode=False,
    )
