"""The HTTP app: a JSON API for other systems (/api/...) with the Gradio UI (assistant/ui.py) mounted at "/".

Routes (all JSON; errors are {"detail": "<Chinese message>"}):
  POST /api/ask            {question, history}  -> Answer.to_dict() (with `reading` and `joined_to`;
                                                  history turns may carry the `reading` returned for them)
  GET  /api/articles/{ref} A27, 27, 二十七, 第二十七条 (or S2, PRE, END) -> the chunk
  GET  /api/rules                                -> the award rules with their inputs (for forms)
  POST /api/calc           {rule_id, inputs}     -> Calculation.to_dict()
  POST /api/match          {profile}             -> MatchResult.to_dict()
  POST /api/feedback       {question, answer, citations, rating, comment} -> {"id": row id}
  GET  /healthz                                  -> {"status": "ok", ...} (liveness: the process answers)
  GET  /readyz                                   -> 200 {"status": "ready", "checks": {...}} or 503 (store,
                                                    index fingerprint, feedback database), for a load balancer
A vector store that cannot answer (down, or being rebuilt) gives 503 with Retry-After, not 500.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Literal, cast

from fastapi import FastAPI, HTTPException, Request
from pydantic import BaseModel, Field

from assistant import __version__
from assistant.feedback import FeedbackBackend, FeedbackError, FeedbackIntake, FeedbackStore, make_feedback_store
from assistant.http_guards import error_response, install_guards
from assistant.index import StoreUnavailable
from assistant.languages import detect_language
from assistant.notice import find_chunk
from assistant.records import Answer, Chunk
from assistant.settings import Settings
from assistant.vocabulary import notice_facts

if TYPE_CHECKING:
    from assistant.answer import Assistant


class Turn(BaseModel):
    """One earlier message of the conversation, in the OpenAI style the Assistant takes."""

    role: Literal["user", "assistant", "system"]
    content: str = ""
    # for a user turn: the `reading` the API returned for it (a follow-up joined to the turn before), so the
    # conversation is read as it was shown; optional, read again from the earlier turns when missing
    reading: str = ""


def check_history(question: Any, history: list[Turn], settings: Settings) -> None:
    """HTTPException 422 (in the question's language) when the history is beyond what a follow-up needs.

    Every text that reaches the model is bounded: the number of turns, each turn (an earlier question like a
    question, an earlier answer by `max_turn_chars`), and the history in all; so the question joined to an
    earlier one stays within twice `max_question_chars`. Checked before the request waits for an answer slot,
    so a request that would hold the embedder for seconds is turned away in microseconds.
    """
    english = isinstance(question, str) and detect_language(question) == "en"

    def refuse(zh: str, en: str) -> HTTPException:
        return HTTPException(status_code=422, detail=en if english else zh)

    if len(history) > settings.max_history_turns:
        raise refuse(
            f"对话记录太长了（{len(history)}条），请最多附带最近的{settings.max_history_turns}条。",
            f"The conversation history is too long ({len(history)} turns); send at most the last "
            f"{settings.max_history_turns}.",
        )
    for number, turn in enumerate(history, start=1):
        asked = turn.role == "user"
        limit = settings.max_question_chars if asked else settings.max_turn_chars
        if len(turn.content) > limit:
            raise refuse(
                f"对话记录第{number}条（{'提问' if asked else '回答'}）太长了（{len(turn.content)}字），"
                f"每条{'提问' if asked else '回答'}请控制在{limit}字以内。",
                f"Turn {number} of the history ({'a question' if asked else 'an answer'}) is too long "
                f"({len(turn.content)} characters); keep each {'question' if asked else 'answer'} under {limit}.",
            )
    total = sum(len(turn.content) for turn in history)
    if total > settings.max_history_chars:
        raise refuse(
            f"对话记录总共太长了（{total}字），请控制在{settings.max_history_chars}字以内，或只附带最近几条。",
            f"The conversation history is too long ({total} characters in all); keep it under "
            f"{settings.max_history_chars} or send only the last few turns.",
        )


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
        # Answering plus waiting: beyond this a request is turned away at once (503 + Retry-After) rather
        # than queued, so latency stays bounded when more clients come than the CPU can serve.
        self._admitted = threading.BoundedSemaphore(max(1, settings.concurrency) + max(0, settings.max_queue))

    def ask(self, question: Any, history: list[dict[str, str]] | None = None) -> Answer:
        """Assistant.ask under the concurrency budget; raises QuestionError for unusable questions and
        Overloaded when the queue is full or no slot frees up within settings.max_wait_s."""
        if not self._admitted.acquire(blocking=False):
            raise Overloaded()
        try:
            # A bounded wait too: on a CPU slower than expected (or shared) a full queue would still mean
            # seconds of waiting; past max_wait_s the client is better told to come back.
            if not self._slots.acquire(timeout=max(0.0, self.settings.max_wait_s)):
                raise Overloaded()
            try:
                return self.assistant.ask(question, history)
            finally:
                self._slots.release()
        finally:
            self._admitted.release()


class Overloaded(Exception):
    """Every answer slot and queue place of this worker is taken: answered 503 with Retry-After."""

    message = "现在提问的人太多，请稍后再试。"
    retry_after = 1


class AdmissionMiddleware:
    """Turns a POST /api/ask away with 503 + Retry-After when `limit` are already in flight in this worker.

    Answering bounds the requests that reached it; this also bounds those still waiting for a thread of the
    server's pool (40 by default), where a burst of clients would otherwise queue without limit.

    With several workers sharing a port (`rebalance_above` > 0), an answer or a 503 leaving a worker that holds more
    than `rebalance_above` requests closes its connection (`Connection: close`): a keep-alive client is otherwise
    pinned to the worker that happened to accept it, and the workers accept connections in bursts (measured: 16
    clients connecting at once split 13/3 between 2 workers), so one worker's queue grew while the other's core
    idled. The client's next connection goes to whichever worker accepts first, usually the less busy one.
    """

    def __init__(self, app: Any, limit: int, rebalance_above: int = 0) -> None:
        self.app = app
        self.limit = max(1, limit)
        self.rebalance_above = rebalance_above
        self.in_flight = 0  # only touched on the event loop: no lock needed

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("path") != "/api/ask" or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        if self.rebalance_above > 0:
            send = self._closing_when_busy(send)
        if self.in_flight >= self.limit:
            response = error_response(503, Overloaded.message, headers={"Retry-After": str(Overloaded.retry_after)})
            await response(scope, receive, send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1

    def _closing_when_busy(self, send: Any) -> Any:
        async def send_closing(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start" and self.in_flight > self.rebalance_above:
                message = {**message, "headers": [*message.get("headers", []), (b"connection", b"close")]}
            await send(message)

        return send_closing


def index_readiness(assistant: Assistant) -> dict[str, str]:
    """The store and index checks of /readyz (see IndexHandle.readiness)."""
    collection = assistant.retriever.collection
    if hasattr(collection, "readiness"):
        return dict(collection.readiness())
    try:
        collection.count()
    except Exception as error:  # a collection not opened through open_index: reachable or not is all we know
        return {"store": type(error).__name__, "index": "未检查"}
    return {"store": "ok", "index": "ok"}


def feedback_readiness(feedback: FeedbackBackend) -> str:
    """ "ok", "disabled: …" when votes are switched off on purpose (read-only data dir), or what failed."""
    if feedback.disabled_reason:
        return f"disabled: {feedback.disabled_reason}"
    try:
        feedback.ping()
    except Exception as error:
        return f"反馈数据库不可用（{type(error).__name__}）"
    return "ok"


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


def create_app(settings: Settings, assistant: Assistant | None = None, *, ui: bool = True) -> FastAPI:
    """The FastAPI app with the JSON API and the Gradio UI at "/" (unless `ui` is False: API workers of
    assistant.serve, since Gradio keeps its queue in one process). Builds the Assistant now if not given,
    so the model is loaded before the first request rather than during it."""
    import gradio as gr

    from assistant.answer import Assistant, QuestionError
    from assistant.http_guards import check_exposure
    from assistant.ui import UI_CSS, build_ui

    check_exposure(settings)  # before the model loads: a refused start should be quick
    if assistant is None:
        assistant = Assistant.create(settings)
    answering = Answering(settings, assistant)
    feedback = make_feedback_store(settings)  # SQLite in data_dir, or PostgreSQL (XIHU_FEEDBACK_URL)
    feedback.check_writable()  # a read-only data dir still serves answers; votes are refused, said once in the log
    intake = FeedbackIntake(feedback, per_minute=settings.feedback_per_minute)
    chunks = assistant.retriever.chunks

    app = FastAPI(
        title="西湖政策助手 API",
        version=__version__,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    # Added first, so it runs inside the guards (auth, size limits, security headers apply to its 503 too).
    app.add_middleware(
        AdmissionMiddleware,
        limit=max(1, settings.concurrency) + max(0, settings.max_queue),
        rebalance_above=max(1, settings.concurrency) if settings.workers > 1 else 0,
    )
    install_guards(app, settings)

    @app.exception_handler(StoreUnavailable)
    @app.exception_handler(Overloaded)
    async def unavailable(request: Request, error: StoreUnavailable | Overloaded) -> Any:
        return error_response(503, error.message, headers={"Retry-After": str(error.retry_after)})

    # Routes first: Gradio is mounted at "/" and would otherwise catch every path.
    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        return {"status": "ok", "version": __version__, "chunks": len(chunks), "rules": len(assistant.rules)}

    @app.get("/readyz")
    def readyz() -> Any:
        checks = {**index_readiness(assistant), "feedback": feedback_readiness(feedback)}
        if all(value == "ok" or value.startswith("disabled") for value in checks.values()):
            return {"status": "ready", "checks": checks}
        return error_response(503, "服务尚未就绪，请稍后再试。", headers={"Retry-After": "5"}, checks=checks)

    @app.post("/api/ask")
    def ask(request: AskRequest) -> dict[str, Any]:
        check_history(request.question, request.history, settings)
        history = [turn.model_dump() for turn in request.history]
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
                detail=f"没有找到“{ref[:40]}”：本政策共{notice_facts().article_count}条，请输入1–{notice_facts().article_count}、二十七、第二十七条或A27这样的条号。",
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
        calculation = calculate(rule, request.inputs)
        if calculation.errors:
            raise HTTPException(status_code=422, detail="输入有误：" + "".join(calculation.errors))
        return calculation.to_dict()

    @app.post("/api/match")
    def match(request: MatchRequest) -> dict[str, Any]:
        from assistant.matcher import match_profile

        if not request.profile:
            raise HTTPException(
                status_code=422, detail='请提供企业情况（profile），例如 {"profile": {"industry": "ic"}}。'
            )
        return match_profile(request.profile, assistant.rules).to_dict()

    @app.post("/api/feedback")
    def add_feedback(request: FeedbackRequest, http: Request) -> dict[str, Any]:
        if request.rating not in ("up", "down"):
            raise HTTPException(status_code=422, detail="评价（rating）只能是 up（有帮助）或 down（没帮助）。")
        if not request.question.strip() or not request.answer.strip():
            raise HTTPException(status_code=422, detail="请同时提供问题（question）和回答（answer）。")
        client = http.client.host if http.client else "unknown"
        try:
            row = intake.submit(
                client, request.question, request.answer, request.citations, request.rating, request.comment
            )
        except FeedbackError as error:  # too big, too often, disk full, read-only: the user is told which
            raise HTTPException(status_code=error.status, detail=error.message, headers=error.headers) from None
        return {"id": row}

    if not ui:
        return app
    demo = build_ui(assistant, answering.ask, cast(FeedbackStore, feedback))  # either store has its add()
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
