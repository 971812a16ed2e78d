"""The optional LLM step with a queued fake chat model: prompts, the calculator tool loop, citations and the guard."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import pytest
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field

from assistant.answer import Assistant
from assistant.calc_tool import TOOL_NAME
from assistant.llm import LlmDraft, cited_ids, draft_answer, make_chat_model, shown_text, user_prompt
from assistant.records import Answer

HIGH_TECH = "高新技术企业首次认定奖励标准"  # fact route; retrieval returns A18 first
RD_SUBSIDY = "研发投入补助怎么算"  # fact route; retrieval returns A14 first


class QueuedChatModel(BaseChatModel):
    """Answers with queued AIMessages (or raises queued exceptions) and records every prompt it was sent."""

    replies: list[Any] = Field(default_factory=list)
    received: list[list[BaseMessage]] = Field(default_factory=list)
    tools: list[Any] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "queued-fake"

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        self.received.append(list(messages))
        reply = self.replies.pop(0)
        if isinstance(reply, BaseException):
            raise reply
        return ChatResult(generations=[ChatGeneration(message=reply)])

    def bind_tools(self, tools: Any, **kwargs: Any) -> QueuedChatModel:
        self.tools.extend(tools)
        return self


def queued(*replies: str | AIMessage | BaseException) -> QueuedChatModel:
    return QueuedChatModel(replies=[AIMessage(r) if isinstance(r, str) else r for r in replies])


def calculator_call(rule_id: str, inputs: dict[str, Any], call_id: str = "call_1") -> AIMessage:
    return AIMessage(
        "", tool_calls=[{"name": TOOL_NAME, "args": {"rule_id": rule_id, "inputs": inputs}, "id": call_id}]
    )


@pytest.fixture()
def with_model(fake_assistant):
    """An Assistant sharing the session's index and rules, answering through the given chat model."""

    def build(model: Any) -> Assistant:
        a = fake_assistant
        return Assistant(a.settings, a.retriever, a.rules, a.scope, chat_model=model)

    return build


# -- through the answer chain --------------------------------------------------------------------------------
def test_a_grounded_answer_from_the_model_is_used(fake_settings, fake_assistant):
    quote = "原文（第十八条）：“对首次认定的高新技术企业,给予最高20万元奖励”"
    model = queued(f"首次认定的高新技术企业最高可获20万元奖励 [A18]。\n\n{quote}")
    answer = Assistant.create(fake_settings, chat_model=model).ask(HIGH_TECH)

    assert answer.answer == f"首次认定的高新技术企业最高可获20万元奖励（第十八条）。\n\n{quote}"
    assert answer.citations == ("A18",)
    assert answer.notes == ("llm: used",)
    assert answer.evidence == fake_assistant.ask(HIGH_TECH).evidence
    assert answer.refused is False and answer.calculation is None and answer.amount_yuan is None


def test_the_prompt_holds_only_the_retrieved_articles_and_the_extractive_answer(with_model, fake_assistant):
    model = queued("首次认定的高新技术企业最高可获20万元奖励 [A18]。")
    with_model(model).ask(HIGH_TECH)

    [messages] = model.received
    system, user = messages
    assert isinstance(system, SystemMessage) and isinstance(user, HumanMessage)
    assert "只能根据下面提供的条款原文回答" in system.content and "保留“最高”" in system.content
    assert "英文" not in system.content
    assert user.content.startswith(
        f"问题：{HIGH_TECH}\n\n条款原文（只能依据这些条款回答）：\n[A18] 第十八条 (十八)健全科技企业梯度培育机制。"
    )
    retrieved = [h.chunk.id for h in fake_assistant.retriever.search(HIGH_TECH, k=fake_assistant.settings.top_k)]
    assert len(retrieved) == 5 and retrieved[0] == "A18"
    assert user.content.count("\n\n[") == len(retrieved) - 1  # one block per retrieved chunk, nothing else
    not_retrieved = next(c.id for c in fake_assistant.retriever.chunks if c.id not in retrieved)
    assert f"[{not_retrieved}]" not in user.content
    assert fake_assistant.ask(HIGH_TECH).answer in user.content
    assert "- high-tech-first（第十八条）：首次认定高新技术企业奖励" in user.content
    assert user.content.endswith("可以引用的编号：" + " ".join(f"[{cid}]" for cid in retrieved))
    assert [t.name for t in model.tools] == [TOOL_NAME]


def test_an_invented_amount_is_caught_by_the_guard(with_model, fake_assistant, caplog):
    model = queued("首次认定的高新技术企业最高可获80万元奖励 [A18]。")
    with caplog.at_level(logging.WARNING):
        answer = with_model(model).ask(HIGH_TECH)

    extractive = fake_assistant.ask(HIGH_TECH)
    assert answer.answer == extractive.answer
    assert answer.citations == ("A18",)
    assert answer.notes == (
        "llm: rejected by guard: unsupported ['800000 (yuan)'], unknown citations [], citations ['A18']",
    )
    assert "LLM answer rejected by the guard" in caplog.text


def test_citing_a_chunk_that_was_not_retrieved_is_rejected(with_model, fake_assistant):
    model = queued("首次认定的高新技术企业最高可获20万元奖励 [A18][A60]。")
    answer = with_model(model).ask(HIGH_TECH)

    assert answer.answer == fake_assistant.ask(HIGH_TECH).answer
    assert len(answer.notes) == 1
    assert answer.notes[0].startswith("llm: rejected by guard: ")
    assert "unknown citations ['A60']" in answer.notes[0]


def test_an_answer_without_citations_is_rejected(with_model, fake_assistant):
    answer = with_model(queued("首次认定的高新技术企业最高可获20万元奖励。")).ask(HIGH_TECH)

    assert answer.answer == fake_assistant.ask(HIGH_TECH).answer
    assert answer.notes == (
        "llm: rejected by guard: unsupported ['200000 (yuan)'], unknown citations [], citations []",
    )


def test_a_failing_model_falls_back_to_the_extractive_answer(with_model, fake_assistant, caplog):
    model = queued(TimeoutError("the model took too long"))
    with caplog.at_level(logging.WARNING):
        answer = with_model(model).ask(HIGH_TECH)

    assert answer.answer == fake_assistant.ask(HIGH_TECH).answer
    assert answer.notes == ("llm: failed (TimeoutError)",)
    assert "chat model failed (TimeoutError: the model took too long)" in caplog.text


def test_an_empty_reply_counts_as_a_failure(with_model):
    answer = with_model(queued("  ")).ask(HIGH_TECH)
    assert answer.notes == ("llm: failed (ValueError)",)


def test_an_amount_from_the_calculator_tool_passes_the_guard(with_model):
    model = queued(
        calculator_call("rd-subsidy-sme", {"rd_increase": "1200万元"}),
        "研发投入新增1200万元的科技型中小企业，按新增额5%计算最高可获60万元补助 [A14]。",
    )
    answer = with_model(model).ask(RD_SUBSIDY)

    assert answer.answer == "研发投入新增1200万元的科技型中小企业，按新增额5%计算最高可获60万元补助（第十四条）。"
    assert answer.notes == ("llm: used",)
    assert answer.citations == ("A14",)
    assert answer.calculation.rule_id == "rd-subsidy-sme"
    assert answer.amount_yuan == 600_000.0
    first, second = model.received
    tool_message = second[-1]
    assert isinstance(tool_message, ToolMessage) and tool_message.tool_call_id == "call_1"
    assert '"amount_text": "60万元"' in tool_message.content
    assert second[:-2] == first  # the same prompt, then the model's call and the calculator's result


def test_the_same_amount_without_the_calculator_is_rejected(with_model):
    model = queued("研发投入新增1200万元的科技型中小企业，按新增额5%计算最高可获60万元补助 [A14]。")
    answer = with_model(model).ask(RD_SUBSIDY)

    assert answer.notes == (
        "llm: rejected by guard: unsupported ['600000 (yuan)', '12000000 (yuan)'], unknown citations [], "
        "citations ['A14']",
    )
    assert answer.calculation is None


def test_the_model_must_answer_after_two_tool_rounds(with_model):
    call = calculator_call("rd-subsidy-sme", {"rd_increase": "1200万元"})
    model = queued(call, call, call)
    answer = with_model(model).ask(RD_SUBSIDY)

    assert answer.notes == ("llm: failed (RuntimeError)",)
    assert len(model.received) == 3


def test_a_refusal_is_never_sent_to_the_model(with_model):
    model = queued("上海的高企最高可获100万元 [A18]。")
    answer = with_model(model).ask("上海的高企奖励多少")

    assert answer.refused is True
    assert answer.notes == ("refused: other_region",)
    assert model.received == []


def test_an_english_question_asks_for_an_english_lead(with_model):
    model = queued("Newly certified high-tech enterprises can get up to 20万元 [A18].")
    answer = with_model(model).ask("How much is the award for a newly certified high-tech enterprise?")

    system = model.received[0][0].content
    assert "请先用一到两句英文直接回答" in system
    assert answer.answer == "Newly certified high-tech enterprises can get up to 20万元 (第十八条)."
    assert answer.notes == ("llm: used",)


# -- draft_answer and its helpers directly -------------------------------------------------------------------
def test_draft_answer_keeps_the_calculation_of_the_tool_call(fake_assistant):
    chunks = [h.chunk for h in fake_assistant.retriever.search(RD_SUBSIDY, k=5)]
    model = queued(
        calculator_call("no-such-rule", {}, "call_1"),
        calculator_call("rd-subsidy-sme", {"rd_increase": 12_000_000}, "call_2"),
        "最高可获60万元补助 [A14]。",
    )
    extractive = Answer(RD_SUBSIDY, "根据第十四条……", ("A14",))
    draft = draft_answer(model, RD_SUBSIDY, "zh", chunks, extractive, fake_assistant.rules)

    assert draft == LlmDraft("最高可获60万元补助（第十四条）。", ("A14",), draft.calculation)
    assert (draft.calculation.rule_id, draft.calculation.amount_yuan) == ("rd-subsidy-sme", 600_000)
    unknown_rule_reply = model.received[1][-1].content
    assert unknown_rule_reply.startswith('{"error": "未找到规则“no-such-rule”。"')


def test_draft_answer_works_without_rules_and_without_tool_support(fake_assistant):
    from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel

    chunks = [fake_assistant.retriever.by_id["A18"]]
    model = FakeMessagesListChatModel(responses=[AIMessage("最高20万元 [A18]")])  # bind_tools is not implemented
    extractive = Answer(HIGH_TECH, "根据第十八条……", ("A18",))

    assert draft_answer(model, HIGH_TECH, "zh", chunks, extractive, fake_assistant.rules) == LlmDraft(
        "最高20万元（第十八条）", ("A18",)
    )
    model = FakeMessagesListChatModel(responses=[AIMessage("最高20万元 [A18]")])
    assert draft_answer(model, HIGH_TECH, "zh", chunks, extractive, ()).citations == ("A18",)


def test_user_prompt_lists_extractive_citations_among_the_allowed_ids(fake_assistant):
    chunks = [fake_assistant.retriever.by_id["A40"]]
    extractive = Answer("区文创中心负责哪些条款？", "区文创中心负责……", ("A40", "A41"))
    prompt = user_prompt(extractive.question, chunks, extractive, ())
    assert prompt.endswith("可以引用的编号：[A40] [A41]")
    assert "计算器规则" not in prompt


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("最高20万元 [A18]。", ("A18",)),
        ("见[A18, S2]和［A19］，另见【PRE】[END]", ("A18", "S2", "A19", "PRE", "END")),
        ("第十八条规定……[A18]；第十三条[A13] 与 [A18]", ("A18", "A13")),
        ("依据第七十二条。", ("A72",)),
        ("[a18] [A] [B2] A18", ()),
        ("没有依据。", ()),
    ],
)
def test_cited_ids_are_in_order_of_first_appearance_without_repeats(text, ids):
    assert cited_ids(text) == ids


@pytest.mark.parametrize(
    ("text", "language", "shown"),
    [
        ("最高可获20万元奖励 [A18]。", "zh", "最高可获20万元奖励（第十八条）。"),
        ("第十八条规定最高20万元[A18]。", "zh", "第十八条规定最高20万元（第十八条）。"),
        ("依据第十八条[A18]，最高20万元。", "zh", "依据第十八条，最高20万元。"),
        ("（第十八条）[A18]", "zh", "（第十八条）"),
        ("见[A18, S2]。", "zh", "见（第十八条、第二部分）。"),
        ("第十八条、第二部分[A18, S2]", "zh", "第十八条、第二部分"),
        ("见[A18][A99]。", "zh", "见（第十八条）[A99]。"),
        ("Up to 20万元 [A18].", "en", "Up to 20万元 (第十八条)."),
    ],
)
def test_bracketed_ids_are_shown_as_labels(fake_assistant, text, language, shown):
    chunks = [fake_assistant.retriever.by_id[i] for i in ("A18", "S2")]
    assert shown_text(text, chunks, language) == shown


# -- the factory -------------------------------------------------------------------------------------------
def test_no_chat_model_without_a_base_url(fake_settings):
    assert fake_settings.llm_base_url == ""
    assert make_chat_model(fake_settings) is None


def test_chat_model_reads_its_key_from_the_named_env_var(fake_settings, monkeypatch):
    monkeypatch.setenv("XIHU_TEST_LLM_KEY", "sk-test-factory-0123")
    settings = replace(
        fake_settings,
        llm_base_url="http://127.0.0.1:11434/v1",
        llm_model="qwen2.5:7b",
        llm_api_key_env="XIHU_TEST_LLM_KEY",
        llm_timeout_s=7.5,
    )
    model = make_chat_model(settings)

    assert (model.openai_api_base, model.model_name, model.request_timeout) == (
        "http://127.0.0.1:11434/v1",
        "qwen2.5:7b",
        7.5,
    )
    assert (model.max_retries, model.temperature) == (0, 0)
    assert model.openai_api_key.get_secret_value() == "sk-test-factory-0123"
    assert "sk-test-factory-0123" not in repr(model)


def test_chat_model_without_a_key_still_builds_for_ollama(fake_settings, monkeypatch):
    monkeypatch.delenv("XIHU_TEST_LLM_KEY", raising=False)
    settings = replace(
        fake_settings,
        llm_base_url="http://127.0.0.1:11434/v1",
        llm_model="qwen2.5:7b",
        llm_api_key_env="XIHU_TEST_LLM_KEY",
    )
    assert make_chat_model(settings).openai_api_key.get_secret_value() == "not-needed"
