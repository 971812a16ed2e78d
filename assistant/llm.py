"""Optional chat model (off by default): one factory, and a drafting step whose output the answer chain guards.

Configure any OpenAI-compatible server with XIHU_LLM_BASE_URL and XIHU_LLM_MODEL; the API key is read from the
env var named by XIHU_LLM_API_KEY_ENV (default OPENAI_API_KEY) and is never stored in settings, logged or printed.
Ollama serves the same protocol: XIHU_LLM_BASE_URL=http://127.0.0.1:11434/v1 XIHU_LLM_MODEL=qwen2.5:7b (no key).

`draft_answer` shows the model only the retrieved chunks and the extractive answer, lets it call the award
calculator as a tool, and returns the text with the chunk ids it cites. It does not judge the draft: the caller
(`Assistant._with_llm`) checks every amount, percentage, date and citation, and falls back on any error.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from assistant.settings import Settings
from assistant.vocabulary import notice_facts

if TYPE_CHECKING:
    from assistant.calculator import Calculation
    from assistant.records import Answer, Chunk
    from assistant.rules import Rule

log = logging.getLogger(__name__)

MAX_TOOL_ROUNDS = 2  # calculator calls the model may make before it must answer
_ID = r"(?:A\d{1,2}|S\d|PRE|END)"
# [A18], [A18, S2], ［A18］, 【A18】: the citation form the prompt asks for.
_BRACKETED = re.compile(rf"\s*+[\[［【]\s*+({_ID}(?:\s*+[,，、;；]\s*+{_ID})*)\s*+[\]］】]")
# 第十八条: a citation by label, as people (and models that forget the brackets) write it.
_ARTICLE_LABEL = re.compile(r"第([零一二两三四五六七八九十百]+)条")

SYSTEM_PROMPT_ZH = """你是“西湖政策助手”，只依据{notice}回答问题。
规则：
1. 只能根据下面提供的条款原文回答，不得使用条款以外的知识，不得猜测。
2. 先用一到两句话直接回答（约200字以内），再引用支持答案的原文，并注明条款号。
3. 原文写“最高”的，答案中必须保留“最高”：最高额度是上限，不是承诺。
4. 每一处依据都用方括号注明条款编号，例如 [A18]；只能引用下面列出的编号。
5. 如果这些条款没有回答这个问题，直接说明政策原文没有规定，并建议拨打{hotline}或咨询责任单位。
6. 不要自己计算金额：需要计算时调用计算器工具，只使用工具返回的金额、计算过程和条款。
7. 金额、比例、日期必须与原文或计算器结果完全一致，不要换算单位，也不要写原文没有的数字。"""

ENGLISH_ZH = (
    "用户用英文提问：请先用一到两句英文直接回答（金额写成原文的中文形式，如“最高20万元”），再引用中文原文和条款编号。"
)


@dataclass(frozen=True)
class LlmDraft:
    """What the chat model proposes: the text shown to users, the chunk ids it cites, and any calculation it ran."""

    text: str
    citations: tuple[str, ...]
    calculation: Calculation | None = None


def make_chat_model(settings: Settings) -> Any:
    """None when no LLM is configured (the default: extractive answers); else a LangChain chat model.

    Any OpenAI-compatible endpoint works (OpenAI, vLLM, Ollama at http://127.0.0.1:11434/v1). No retries: a slow
    or failing model costs one time-out, then the extractive answer is used.
    """
    match settings.llm_base_url:
        case "":
            return None
        case base_url:
            from langchain_openai import ChatOpenAI
            from pydantic import SecretStr

            key = os.environ.get(settings.llm_api_key_env) or "not-needed"  # Ollama ignores the key
            return ChatOpenAI(
                base_url=base_url,
                model=settings.llm_model,
                api_key=SecretStr(key),
                timeout=settings.llm_timeout_s,
                max_retries=0,
                temperature=0,
            )


def draft_answer(
    chat_model: Any, question: str, language: str, chunks: Sequence[Chunk], extractive: Answer, rules: Sequence[Rule]
) -> LlmDraft:
    """Ask `chat_model` to answer `question` from `chunks` only, with the calculator as a tool.

    Runs at most MAX_TOOL_ROUNDS rounds of tool calls; the calculation of the last successful call is returned
    with the draft. Citations are the chunk ids in the final text ([A18] or 第十八条), in order of first
    appearance; in the text shown to users each [id] becomes its label, e.g. "（第十八条）".
    Errors and time-outs of the model propagate (the caller falls back to the extractive answer).
    """
    from langchain_core.messages import HumanMessage, SystemMessage

    tool = _calculator_tool(rules)
    model = _with_tool(chat_model, tool)
    facts = notice_facts()
    system = SYSTEM_PROMPT_ZH.format(notice=facts.full_name, hotline=facts.hotline)
    system += "\n" + ENGLISH_ZH if language == "en" else ""
    messages: list[Any] = [SystemMessage(system), HumanMessage(user_prompt(question, chunks, extractive, rules))]
    calculation: Calculation | None = None
    for _round in range(MAX_TOOL_ROUNDS + 1):
        reply = model.invoke(messages)
        messages.append(reply)
        if not reply.tool_calls:
            break
        if tool is None:
            raise RuntimeError("the chat model called a tool although none was offered")
        if _round == MAX_TOOL_ROUNDS:
            raise RuntimeError(f"the chat model still called tools after {MAX_TOOL_ROUNDS} rounds")
        for call in reply.tool_calls:
            result, calc = _run_calculator(tool, rules, call)
            messages.append(result)
            if calc is not None and (calculation is None or calc.amount_yuan is not None):
                calculation = calc
    text = reply.text.strip()
    if not text:
        raise ValueError("the chat model returned an empty answer")
    return LlmDraft(text=shown_text(text, chunks, language), citations=cited_ids(text), calculation=calculation)


def user_prompt(question: str, chunks: Sequence[Chunk], extractive: Answer, rules: Sequence[Rule]) -> str:
    """The question, the retrieved chunks as "[A18] 第十八条 …", the calculator rules for them, and the reference."""
    articles = "\n\n".join(f"[{c.id}] {c.label} {c.text.strip()}" for c in chunks)
    allowed = list(dict.fromkeys([c.id for c in chunks] + list(extractive.citations)))
    parts = [f"问题：{question}", f"条款原文（只能依据这些条款回答）：\n{articles}"]
    ids = {c.id for c in chunks}
    related = [r for r in rules if r.article in ids]
    if related:
        listing = "\n".join(f"- {r.id}（{r.article_label}）：{r.name}" for r in related)
        parts.append(f"与这些条款相关的计算器规则（rule_id）：\n{listing}")
    parts.append(
        f"参考答案（由检索系统从原文摘取，可改写得更直接，但不得加入原文没有的内容）：\n{extractive.answer.strip()}"
    )
    parts.append(f"可以引用的编号：{' '.join(f'[{i}]' for i in allowed)}")
    return "\n\n".join(parts)


def cited_ids(text: str) -> tuple[str, ...]:
    """Chunk ids a text cites, as [A18] / [A18, S2] or as 第十八条, in order of first appearance, without repeats."""
    from assistant.numerals import cn_to_int

    found: list[tuple[int, str]] = []
    for match in _BRACKETED.finditer(text):
        found += [(match.start(1), cid) for cid in re.findall(_ID, match.group(1))]
    for match in _ARTICLE_LABEL.finditer(text):
        try:
            found.append((match.start(), f"A{cn_to_int(match.group(1))}"))
        except ValueError:  # 第九九条 is no article label
            continue
    return tuple(dict.fromkeys(cid for _, cid in sorted(found, key=lambda item: item[0])))


def shown_text(text: str, chunks: Sequence[Chunk], language: str = "zh") -> str:
    """`text` with each [id] replaced by its label ("（第十八条）"); dropped where the label already stands just before.

    Ids that are not among `chunks` stay as written, so the guard (and a reader) still sees them.
    """
    labels = {c.id: _short_label(c) for c in chunks}

    def replace(match: re.Match[str]) -> str:
        ids = re.findall(_ID, match.group(1))
        if any(cid not in labels for cid in ids):
            return match.group(0)
        # "第十八条[A18]" or "（第十八条）[A18]": the label already stands right before the ids.
        shown = [labels[cid] for cid in ids]
        tail = text[: match.start()].rstrip(" )）")[-(len("、".join(shown)) + 1) :]
        missing = [label for label in shown if label not in tail]
        if not missing:
            return ""
        joined = "、".join(missing)
        return f" ({joined})" if language == "en" else f"（{joined}）"

    return _BRACKETED.sub(replace, text).strip()


def _short_label(chunk: Chunk) -> str:
    if chunk.kind == "section":
        return f"第{chunk.numeral}部分"
    return chunk.label


def _calculator_tool(rules: Sequence[Rule]) -> Any:
    if not rules:
        return None
    from assistant.calc_tool import make_calculator_tool

    return make_calculator_tool(rules)


def _with_tool(chat_model: Any, tool: Any) -> Any:
    """The model with the calculator bound; a model without tool support answers without it."""
    if tool is None:
        return chat_model
    try:
        return chat_model.bind_tools([tool])
    except NotImplementedError:
        log.info("chat model %s cannot call tools; drafting without the calculator", type(chat_model).__name__)
        return chat_model


def _run_calculator(tool: Any, rules: Sequence[Rule], call: dict[str, Any]) -> tuple[Any, Calculation | None]:
    """(ToolMessage for the model, the Calculation record) for one tool call; bad calls get an error message."""
    from langchain_core.messages import ToolMessage

    from assistant.calculator import calculate
    from assistant.rules import find_rule

    args = call.get("args") or {}
    if call.get("name") != tool.name:
        content = json.dumps({"error": f"unknown tool {call.get('name')!r}; use {tool.name}"}, ensure_ascii=False)
        return ToolMessage(content, tool_call_id=call["id"], status="error"), None
    try:
        message = tool.invoke(call)
    except Exception as error:  # malformed arguments: tell the model, it may try again
        content = json.dumps({"error": f"{type(error).__name__}: {str(error)[:300]}"}, ensure_ascii=False)
        return ToolMessage(content, tool_call_id=call["id"], status="error"), None
    rule = find_rule(rules, str(args.get("rule_id", "")).strip())
    # The tool returns JSON text for the model; the record comes from the same pure calculator on the same input.
    calc = calculate(rule, args.get("inputs") or {}) if rule is not None else None
    log.info("chat model called the calculator: %s -> %s", args.get("rule_id"), calc.amount_yuan if calc else None)
    return message, calc
