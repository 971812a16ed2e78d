"""HTTP hardening shared by every route: body size limit, JSON errors without stack traces, optional basic auth.

Error bodies have one shape everywhere: `{"detail": "<a sentence in Chinese for the user>"}`, plus
`"errors": [{"field": ..., "problem": ...}]` for a request of the wrong shape. The user's input is never
echoed back and no stack trace ever leaves the server; an unexpected error is logged here with an id that
the user is shown, so an operator can find the trace.

The guards are plain ASGI middlewares (not `BaseHTTPMiddleware`), so they also cover a Gradio UI mounted on
the same app, streaming responses included.
"""

from __future__ import annotations

import base64
import binascii
import http
import logging
import math
import os
import re
import secrets
import threading
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from assistant.settings import Settings

log = logging.getLogger(__name__)

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

UNAUTHORIZED = "需要登录：请输入用户名和密码。"
LOGGED_TEXT_CHARS = 200  # user text (paths, queries) in a log line is cut to this many characters
NOT_UTF8 = "请求内容不是有效的 UTF-8 文本，请用 UTF-8 编码发送 JSON。"
NOT_JSON = "请求内容不是有效的 JSON，请检查格式。"
LONE_SURROGATE = "请求内容含有无效的字符（不成对的 UTF-16 代理项，如 \\ud800），请检查文字后再发送。"
BAD_LENGTH = "请求头 Content-Length 无效。"
SERVER_ERROR = "服务器内部出错了，请稍后再试。如果一直出错，请联系管理员并提供编号 {error_id}。"
WHOLE_BODY = "请求内容"
HEALTH_PATHS = ("/healthz", "/readyz")  # load balancers probe without credentials; they reveal nothing


def headers_too_large_message(limit: int) -> str:
    return f"请求头太大（上限 {limit} 字节），请清除本站的 Cookie 后再试。"


def too_many_failures_message(seconds: int) -> str:
    return f"登录失败次数太多，请{seconds}秒后再试。"


def too_large_message(limit: int) -> str:
    return f"请求内容太大（上限 {limit} 字节），请缩短问题或对话记录后再试。"


# Default English reason phrases that Starlette puts in `detail` are replaced by these.
STATUS_MESSAGES = {
    400: "请求有误。",
    401: UNAUTHORIZED,
    403: "没有权限访问。",
    404: "找不到这个地址。",
    405: "这个地址不支持这种请求方法。",
    406: "无法提供所要求的格式。",
    413: "请求内容太大。",
    415: "不支持这种内容类型，请发送 JSON。",
    431: "请求头太大。",
    429: "请求太频繁，请稍后再试。",
    500: "服务器内部出错了，请稍后再试。",
    503: "服务暂时不可用，请稍后再试。",
}

# English details that FastAPI, Starlette or a mounted Gradio app put in error bodies themselves.
FRAMEWORK_MESSAGES = {
    "There was an error parsing the body": NOT_JSON,  # FastAPI: JSON too deeply nested, huge integers, ...
    **{http.HTTPStatus(code).phrase: message for code, message in STATUS_MESSAGES.items()},
}

# Pydantic error types -> what is wrong with the field, in Chinese.
PROBLEMS = {
    "missing": "缺少这个字段",
    "string_type": "应为文字",
    "string_too_long": "太长",
    "string_too_short": "不能为空",
    "list_type": "应为列表",
    "tuple_type": "应为列表",
    "dict_type": "应为对象",
    "model_type": "应为对象",
    "model_attributes_type": "应为 JSON 对象",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "float_type": "应为数字",
    "float_parsing": "应为数字",
    "finite_number": "应为有限的数字",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "literal_error": "取值不在允许的范围内",
    "enum": "取值不在允许的范围内",
    "greater_than": "数值太小",
    "greater_than_equal": "数值太小",
    "less_than": "数值太大",
    "less_than_equal": "数值太大",
    "too_long": "条目太多",
    "too_short": "条目太少",
    "extra_forbidden": "是不认识的字段",
    "json_invalid": "不是有效的 JSON",
}

SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
)
# JSON never needs to load anything; HTML (the Gradio UI) keeps its own policy apart from framing.
JSON_CSP = b"default-src 'none'; frame-ancestors 'none'"
HTML_CSP = b"frame-ancestors 'none'"


def install_guards(app: Any, settings: Settings) -> None:
    """Attach the middlewares and exception handlers to a FastAPI app (called by assistant.api.create_app).

    Outermost first: security headers, header size, basic auth (when `settings.auth_user` is set), body size
    and encoding checks, a 405 for a wrong method, then the catch-all that turns an unexpected exception into a JSON 500.
    Raises RuntimeError when auth is configured but its password env var is unset or empty.
    """
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException as StarletteHTTPException

    from assistant.answer import QuestionError

    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(QuestionError, _question_error)
    # add_middleware puts each new one outside the previous ones: add innermost first.
    app.add_middleware(CatchAllMiddleware)
    app.add_middleware(MethodGuardMiddleware)
    app.add_middleware(BodyGuardMiddleware, max_body_bytes=settings.max_body_bytes)
    if settings.auth_user:
        password = os.environ.get(settings.auth_password_env, "")
        if not password:
            raise RuntimeError(
                f"basic auth is on (auth_user is set) but the env var {settings.auth_password_env} holding "
                "the password is unset or empty"
            )
        failures = FailedLogins(settings.auth_max_failures, settings.auth_failure_window_s)
        app.add_middleware(BasicAuthMiddleware, user=settings.auth_user, password=password, failures=failures)
    app.add_middleware(HeaderGuardMiddleware, max_header_bytes=settings.max_header_bytes)
    app.add_middleware(ChineseErrorsMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    cut_user_text_in_access_logs()


# -- exposure ---------------------------------------------------------------------------------------
class ExposureError(RuntimeError):
    """The app was asked to listen on a non-loopback address without authentication."""


def check_exposure(settings: Settings) -> None:
    """ExposureError when `settings.host` is reachable from other machines, no basic auth is configured and
    `settings.allow_open` (XIHU_ALLOW_OPEN=1) does not say that is intended."""
    if settings.auth_user or settings.allow_open or is_loopback(settings.host):
        return
    raise ExposureError(
        f"refusing to serve on {settings.host}:{settings.port} without authentication: anyone who can reach this "
        "address could use the assistant and submit feedback. Set XIHU_AUTH_USER and the password in "
        f"{settings.auth_password_env} to require a login, bind to 127.0.0.1 (XIHU_HOST), or set XIHU_ALLOW_OPEN=1 "
        "if it is meant to be open (for example behind a proxy that authenticates)."
    )


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and localhost; the wildcard address and every other address or name are reachable."""
    import ipaddress

    name = host.strip().strip("[]").lower()
    if name in ("localhost", "localhost.localdomain", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


# -- logs -------------------------------------------------------------------------------------------
def cut(text: Any, limit: int = LOGGED_TEXT_CHARS) -> Any:
    """A string longer than `limit` as its head and how long it was; anything else as it is."""
    if isinstance(text, str) and len(text) > limit:
        return f"{text[:limit]}…(+{len(text) - limit} chars)"
    return text


class CutUserText(logging.Filter):
    """Cuts long arguments of a log record (uvicorn's access log puts the whole request path and query there:
    a 5,000-character article reference would be logged whole)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(cut(arg) for arg in record.args)
        elif isinstance(record.args, Mapping):
            record.args = {key: cut(value) for key, value in record.args.items()}
        record.msg = cut(record.msg, LOGGED_TEXT_CHARS * 5)
        return True


def cut_user_text_in_access_logs() -> None:
    """Install CutUserText on uvicorn's access logger once per process."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, CutUserText) for f in access.filters):
        access.addFilter(CutUserText())


# -- responses --------------------------------------------------------------------------------------
def error_response(status: int, message: str, headers: Mapping[str, str] | None = None, **extra: Any) -> Any:
    """The one error shape: {"detail": message, ...extra}, JSON, never cached."""
    from starlette.responses import JSONResponse

    return JSONResponse(
        {"detail": message, **extra}, status_code=status, headers={"cache-control": "no-store", **(headers or {})}
    )


async def _send_error(scope: Scope, receive: Receive, send: Send, status: int, message: str, **kw: Any) -> None:
    await error_response(status, message, **kw)(scope, receive, send)


async def _validation_error(request: Any, error: Any) -> Any:
    errors = describe_validation_errors(error.errors())
    if any(e["problem"] == PROBLEMS["json_invalid"] for e in errors):
        return error_response(400, NOT_JSON)
    return error_response(422, validation_message(errors), errors=errors)


async def _http_error(request: Any, error: Any) -> Any:
    detail = error.detail
    try:
        phrase = http.HTTPStatus(error.status_code).phrase
    except ValueError:
        phrase = ""
    if not isinstance(detail, str) or detail == phrase or detail in FRAMEWORK_MESSAGES:
        detail = FRAMEWORK_MESSAGES.get(detail) or STATUS_MESSAGES.get(error.status_code, "请求未能完成。")
    return error_response(error.status_code, detail, headers=getattr(error, "headers", None))


async def _question_error(request: Any, error: Any) -> Any:
    return error_response(422, error.message)


def describe_validation_errors(raw: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """[{"field": "history[0].role", "problem": "应为文字"}] from pydantic errors, without the input values."""
    described = []
    for item in raw:
        location = [str(p) for p in item.get("loc", ()) if p not in ("body", "query", "path", "header")]
        field = ""
        for part in location:
            field += f"[{part}]" if part.isdigit() else (f".{part}" if field else part)
        kind = str(item.get("type", ""))
        described.append({"field": field or WHOLE_BODY, "problem": PROBLEMS.get(kind, "格式不对")})
    return described


def validation_message(errors: Sequence[Mapping[str, str]]) -> str:
    """One sentence for the user: 请求格式有误：question 应为文字；history 应为列表。"""
    if not errors:
        return "请求格式有误。"
    parts = [e["field"] + ("" if e["field"] == WHOLE_BODY else " ") + e["problem"] for e in errors[:3]]
    more = f"等 {len(errors)} 处" if len(errors) > 3 else ""
    return "请求格式有误：" + "；".join(parts) + more + "。"


# -- middlewares ------------------------------------------------------------------------------------
class SecurityHeadersMiddleware:
    """Adds nosniff, no framing, no referrer and (for JSON) a deny-all CSP to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                content_type = next((v for n, v in headers if n.lower() == b"content-type"), b"")
                csp = JSON_CSP if b"json" in content_type else HTML_CSP
                for name, value in (*SECURITY_HEADERS, (b"content-security-policy", csp)):
                    if name not in present:
                        headers.append((name, value))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class ChineseErrorsMiddleware:
    """Replaces the English default details of small JSON error bodies ({"detail": "Not Found"}) with Chinese.

    Our own handlers already answer in Chinese; this catches the errors that never reach them, such as
    the 404 of the Gradio app mounted at "/" for an unknown path.
    """

    MAX_REWRITE_BYTES = 4096

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        held: Message | None = None
        body = bytearray()

        async def rewriting_send(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                headers = dict((k.lower(), v) for k, v in message.get("headers", []))
                if message["status"] >= 400 and b"json" in headers.get(b"content-type", b""):
                    held = message
                    return
            elif message["type"] == "http.response.body" and held is not None:
                body.extend(message.get("body", b""))
                if message.get("more_body", False) and len(body) <= self.MAX_REWRITE_BYTES:
                    return
                start, held = held, None
                await _send_translated(start, bytes(body), message.get("more_body", False), send)
                return
            await send(message)

        await self.app(scope, receive, rewriting_send)


async def _send_translated(start: Message, body: bytes, more_body: bool, send: Send) -> None:
    import json

    translated = None
    if not more_body:
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("detail"), str) and data["detail"] in FRAMEWORK_MESSAGES:
            data["detail"] = FRAMEWORK_MESSAGES[data["detail"]]
            translated = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    if translated is not None:
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(translated)).encode()))
        start, body = {**start, "headers": headers}, translated
    await send(start)
    await send({"type": "http.response.body", "body": body, "more_body": more_body})


class FailedLogins:
    """Failed logins per client within a sliding window, in bounded memory.

    A client with `limit` failures in the last `window_s` seconds must wait until the oldest of them leaves
    the window (a guesser gets `limit` tries per window instead of thousands a second). At most `max_clients`
    clients are remembered, the least recently seen forgotten first.
    """

    def __init__(
        self,
        limit: int,
        window_s: float,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = max(1, limit)
        self.window_s = window_s
        self.max_clients = max_clients
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def wait_s(self, client: str) -> float:
        """Seconds the client must wait before its next try; 0 when it may try now."""
        with self._lock:
            times = self._recent(client)
            if times is None or len(times) < self.limit:
                return 0.0
            return max(0.0, times[0] + self.window_s - self._clock())

    def failed(self, client: str) -> None:
        with self._lock:
            times = self._recent(client)
            if times is None:
                times = self._failures[client] = deque(maxlen=self.limit)
            times.append(self._clock())
            self._failures.move_to_end(client)
            while len(self._failures) > self.max_clients:
                self._failures.popitem(last=False)

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)

    def __len__(self) -> int:
        return len(self._failures)

    def _recent(self, client: str) -> deque[float] | None:
        times = self._failures.get(client)
        if times is None:
            return None
        horizon = self._clock() - self.window_s
        while times and times[0] <= horizon:
            times.popleft()
        if not times:
            del self._failures[client]
            return None
        return times


class BasicAuthMiddleware:
    """HTTP basic auth on every path except the health check; credentials compared in constant time.

    A client that keeps sending wrong credentials is slowed down (FailedLogins): 429 with Retry-After,
    without looking at what it sends, until its window has room again. A request without credentials (a
    browser's first request, before the login prompt) is no failed login.
    """

    def __init__(self, app: ASGIApp, user: str, password: str, failures: FailedLogins | None = None) -> None:
        self.app = app
        self._user = user.encode()
        self._password = password.encode()
        self._failures = failures or FailedLogins(5, 300.0)

    def __repr__(self) -> str:  # never show the password, even in a debugger or a log of the middleware stack
        return "BasicAuthMiddleware(user=***, password=***)"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope.get("path") in HEALTH_PATHS:
            await self.app(scope, receive, send)
            return
        client = _client(scope)
        wait = self._failures.wait_s(client)
        if wait > 0:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            seconds = math.ceil(wait)
            await _send_error(
                scope, receive, send, 429, too_many_failures_message(seconds), headers={"retry-after": str(seconds)}
            )
            return
        header = _header(scope, b"authorization")
        if self.authorised(header):
            self._failures.succeeded(client)
            await self.app(scope, receive, send)
            return
        if header.strip():
            self._failures.failed(client)
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        challenge = {"www-authenticate": 'Basic realm="xihu-assistant", charset="UTF-8"'}
        await _send_error(scope, receive, send, 401, UNAUTHORIZED, headers=challenge)

    def authorised(self, header: bytes) -> bool:
        scheme, _, encoded = header.partition(b" ")
        if scheme.lower() != b"basic":
            return False
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            return False
        user, sep, password = decoded.partition(b":")
        # Both comparisons always run, so timing does not tell which part was wrong.
        user_ok = secrets.compare_digest(user, self._user)
        password_ok = secrets.compare_digest(password, self._password)
        return bool(sep) and user_ok and password_ok


class HeaderGuardMiddleware:
    """431 for a request whose headers add up to more than `max_header_bytes` (1 MB cookies, giant tokens),
    before authentication or any route looks at them. (uvicorn's httptools parser sets no limit of its own.)"""

    def __init__(self, app: ASGIApp, max_header_bytes: int) -> None:
        self.app = app
        self.max_header_bytes = max_header_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            size = sum(len(name) + len(value) + 4 for name, value in scope.get("headers", []))
            if size > self.max_header_bytes:
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1009})
                    return
                await _send_error(scope, receive, send, 431, headers_too_large_message(self.max_header_bytes))
                return
        await self.app(scope, receive, send)


class BodyGuardMiddleware:
    """Rejects bodies over `max_body_bytes` (413) and JSON bodies that are not UTF-8 (400), before any route runs.

    A body within the limit is read whole and replayed to the app, so a chunked upload that lies about
    (or omits) its length is cut off at the limit too.
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        chunked = bool(_header(scope, b"transfer-encoding"))
        if declared:
            if not declared.strip().isdigit():
                await _send_error(scope, receive, send, 400, BAD_LENGTH)
                return
            if int(declared) > self.max_body_bytes:
                await _send_error(scope, receive, send, 413, too_large_message(self.max_body_bytes))
                return
        if not chunked and int(declared or 0) == 0:
            await self.app(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > self.max_body_bytes:
                await _send_error(scope, receive, send, 413, too_large_message(self.max_body_bytes))
                return
            if not message.get("more_body", False):
                break
        if _is_json(_header(scope, b"content-type")):
            try:
                text = bytes(body).decode("utf-8")
            except UnicodeDecodeError:
                await _send_error(scope, receive, send, 400, NOT_UTF8)
                return
            if has_lone_surrogate(text):
                await _send_error(scope, receive, send, 422, LONE_SURROGATE)
                return
        await self.app(scope, _replay(bytes(body), receive), send)


def has_lone_surrogate(text: str) -> bool:
    """Whether a JSON text holds a string with a lone surrogate ("\\ud800" escaped): such a string cannot be
    encoded as UTF-8, so it would fail wherever it is written, logged or echoed back. Invalid JSON is left to
    the route's own parser (which answers 400)."""
    import json

    if not _SURROGATE_ESCAPE.search(text):
        return False  # raw surrogates cannot be in valid UTF-8, so only an escape can make one
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return False
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


_SURROGATE = re.compile(r"[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")  # clients that escape all non-ASCII send \u4e00 a lot


class MethodGuardMiddleware:
    """405 (with Allow) for a path that one of the app's own routes serves, asked with another method.

    Without it the request falls through to the Gradio app mounted at "/", which answers 404.
    Routes are read at request time, so routes added after the guards are covered too.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or "app" not in scope:
            await self.app(scope, receive, send)
            return
        from starlette.routing import Match, Mount

        allowed: set[str] = set()
        for route in getattr(getattr(scope["app"], "router", None), "routes", ()):
            if isinstance(route, Mount):
                continue
            match, _ = route.matches(scope)
            if match is Match.FULL:
                allowed.clear()
                break
            if match is Match.PARTIAL:
                allowed |= set(getattr(route, "methods", None) or ())
        if not allowed:
            await self.app(scope, receive, send)
            return
        headers = {"allow": ", ".join(sorted(allowed))}
        await _send_error(scope, receive, send, 405, STATUS_MESSAGES[405], headers=headers)


class CatchAllMiddleware:
    """Turns any exception a route lets escape into a generic JSON 500; the trace goes to the server log only."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            error_id = uuid.uuid4().hex[:8]
            # Method and path only: query strings, headers and bodies may hold user data or credentials.
            log.exception("unhandled error %s on %s %s", error_id, scope.get("method"), cut(scope.get("path")))
            if started:  # too late for a clean error response; the server closes the connection
                raise
            await _send_error(scope, receive, send, 500, SERVER_ERROR.format(error_id=error_id), error_id=error_id)


def _client(scope: Scope) -> str:
    """The client's address as the server saw it (behind a proxy: the proxy's, unless the server is told to
    trust forwarded headers, e.g. uvicorn --proxy-headers)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def _header(scope: Scope, name: bytes) -> bytes:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value)
    return b""


def _is_json(content_type: bytes) -> bool:
    """FastAPI parses a body as JSON when there is no content type or it is application/json or */*+json."""
    media = content_type.split(b";")[0].strip().lower()
    return not media or media == b"application/json" or media.endswith(b"+json")


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
