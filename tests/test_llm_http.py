"""The real ChatOpenAI client against an OpenAI-compatible stub on 127.0.0.1: the prompt, tool calls and the guard."""

from __future__ import annotations

import http.server
import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from assistant.answer import Assistant
from assistant.calc_tool import TOOL_NAME
from assistant.settings import Settings

QUESTION = "新认定的高企奖多少"
API_KEY_ENV = "XIHU_TEST_STUB_LLM_KEY"
API_KEY = "sk-stub-9f8e7d6c5b4a39281706"


class StubChatServer(http.server.ThreadingHTTPServer):
    """POST /v1/chat/completions answers with the queued assistant messages and records each request.

    An empty queue answers 500; a queued {"sleep": s} waits s seconds first (to run into the client's time-out).
    """

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), StubChatHandler)
        self.replies: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.authorizations: list[str] = []


class StubChatHandler(http.server.BaseHTTPRequestHandler):
    server: StubChatServer

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
        self.server.requests.append(body)
        self.server.authorizations.append(self.headers.get("authorization", ""))
        if self.path != "/v1/chat/completions" or not self.server.replies:
            self.send_response(500)
            self.end_headers()
            return
        message = self.server.replies.pop(0)
        if "sleep" in message:
            time.sleep(message["sleep"])
            return
        completion = {
            "id": f"chatcmpl-{len(self.server.requests)}",
            "object": "chat.completion",
            "created": 1717000000,
            "model": body["model"],
            "choices": [
                {"index": 0, "message": message, "finish_reason": "tool_calls" if message.get("tool_calls") else "stop"}
            ],
            "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
        }
        payload = json.dumps(completion, ensure_ascii=False).encode("utf-8")
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def stub() -> Iterator[StubChatServer]:
    server = StubChatServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture()
def stub_settings(stub, fake_settings, monkeypatch) -> Settings:
    """Settings for the real ChatOpenAI client pointed at the stub (fake embedder, the session's index)."""
    stub.replies.clear()
    stub.requests.clear()
    stub.authorizations.clear()
    monkeypatch.setenv(API_KEY_ENV, API_KEY)
    return replace(
        fake_settings,
        llm_base_url=f"http://127.0.0.1:{stub.server_address[1]}/v1",
        llm_model="stub",
        llm_api_key_env=API_KEY_ENV,
        llm_timeout_s=10.0,
    )


@pytest.fixture()
def stub_assistant(stub_settings) -> Assistant:
    return Assistant.create(stub_settings)


def says(content: str) -> dict[str, Any]:
    return {"role": "assistant", "content": content}


def test_the_real_client_sends_the_retrieved_articles_and_the_stubs_answer_is_used(stub, stub_assistant):
    stub.replies.append(says("首次认定的高新技术企业最高可获20万元奖励 [A18]。"))
    answer = stub_assistant.ask(QUESTION)

    assert answer.answer == "首次认定的高新技术企业最高可获20万元奖励（第十八条）。"
    assert answer.citations == ("A18",)
    assert answer.notes == ("llm: used",)
    [request] = stub.requests
    assert (request["model"], request["temperature"]) == ("stub", 0)
    system, user = request["messages"]
    assert system["role"] == "system" and "只能根据下面提供的条款原文回答" in system["content"]
    assert user["role"] == "user"
    assert "[A18] 第十八条 (十八)健全科技企业梯度培育机制。" in user["content"]
    assert "对首次认定的高新技术企业,给予最高20万元奖励" in user["content"]
    assert [t["function"]["name"] for t in request["tools"]] == [TOOL_NAME]
    assert stub.authorizations == [f"Bearer {API_KEY}"]


def test_an_invented_amount_from_the_stub_falls_back_to_the_extractive_answer(stub, stub_assistant, fake_assistant):
    stub.replies.append(says("首次认定的高新技术企业最高可获80万元奖励 [A18]。"))
    answer = stub_assistant.ask(QUESTION)

    assert answer.answer == fake_assistant.ask(QUESTION).answer
    assert answer.notes == (
        "llm: rejected by guard: unsupported ['800000 (yuan)'], unknown citations [], citations ['A18']",
    )


def test_a_tool_call_goes_through_the_real_protocol(stub, stub_assistant):
    arguments = json.dumps({"rule_id": "rd-subsidy-sme", "inputs": {"rd_increase": "1200万元"}}, ensure_ascii=False)
    stub.replies += [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "call_7", "type": "function", "function": {"name": TOOL_NAME, "arguments": arguments}}
            ],
        },
        says("研发投入新增1200万元的科技型中小企业，按新增额5%计算最高可获60万元补助 [A14]。"),
    ]
    answer = stub_assistant.ask("研发投入补助怎么算")

    assert answer.answer == "研发投入新增1200万元的科技型中小企业，按新增额5%计算最高可获60万元补助（第十四条）。"
    assert answer.notes == ("llm: used",)
    assert (answer.calculation.rule_id, answer.amount_yuan) == ("rd-subsidy-sme", 600_000.0)
    first, second = stub.requests
    *prompt, call, result = second["messages"]
    assert prompt == first["messages"]
    assert call["tool_calls"][0]["id"] == "call_7"
    assert (result["role"], result["tool_call_id"]) == ("tool", "call_7")
    assert json.loads(result["content"])["amount_text"] == "60万元"


def test_a_server_error_falls_back_and_the_key_never_reaches_logs(stub, stub_assistant, fake_assistant, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    answer = stub_assistant.ask(QUESTION)  # no reply queued: the stub answers 500

    assert answer.answer == fake_assistant.ask(QUESTION).answer
    # langchain-openai re-raises openai.InternalServerError as its subclass OpenAIAPIError
    assert answer.notes == ("llm: failed (OpenAIAPIError)",)
    assert stub.authorizations == [f"Bearer {API_KEY}"]  # the key was really sent
    out, err = capfd.readouterr()
    settings = stub_assistant.settings
    for text in (caplog.text, out, err, repr(settings), str(settings.describe()), repr(stub_assistant.chat_model)):
        assert API_KEY not in text
    assert "chat model failed (OpenAIAPIError: Error code: 500" in caplog.text


def test_a_slow_model_times_out_and_falls_back(stub, stub_settings, fake_assistant):
    slow = Assistant.create(replace(stub_settings, llm_timeout_s=0.5))
    stub.replies.append({"sleep": 2.0})
    started = time.monotonic()
    answer = slow.ask(QUESTION)

    assert time.monotonic() - started < 2.0
    assert answer.answer == fake_assistant.ask(QUESTION).answer
    assert answer.notes == ("llm: failed (OpenAITimeoutError)",)  # openai.APITimeoutError
