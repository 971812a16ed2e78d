"""The chat tab's conversation: one record per turn (kept in the browser), the answer bubble with its
quotation and citation chips, the bounded history sent with a question, Markdown export and suggested
next questions.

A turn is a plain JSON dict so that it can live in the browser's storage (gr.BrowserState):
question, answer, citations (chunk ids), labels, quotes (the supporting sentence per citation), route,
refused, rule (the calculator rule used, if any), markdown (the turn as exported).
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from assistant.ui_render import chat_html

if TYPE_CHECKING:
    from assistant.records import Answer, Chunk

HISTORY_TURNS = 4  # earlier question/answer pairs sent with a question: follow-ups refer to the last one or two
MAX_CHIPS = 30  # citation chips under an answer; 区发改经信局 is cited by 27 chunks, the most of any unit
SUGGESTIONS = 3
# Lines of an answer that quote the notice (phrasing.py writes 原文（第十八条）：“…”, the calculator 依据：…).
QUOTATION = re.compile(r"^(原文（|依据[:：]|依据第)")


def turn_record(answer: Answer, question: str) -> dict[str, Any]:
    """What the browser keeps of one turn."""
    labels = {c.chunk_id: c.label for c in answer.evidence}
    quotes = {c.chunk_id: c.quote for c in answer.evidence}
    turn: dict[str, Any] = {
        "question": question,
        "answer": answer.answer,
        "citations": list(answer.citations),
        "labels": [labels.get(cid, cid) for cid in answer.citations],
        "quotes": [quotes.get(cid, "") for cid in answer.citations],
        "route": answer.route,
        "refused": answer.refused,
        "rule": getattr(answer.calculation, "rule_id", "") if answer.calculation is not None else "",
    }
    turn["markdown"] = turn_markdown(turn)
    return turn


def history_messages(turns: Sequence[dict[str, Any]], limit: int = HISTORY_TURNS) -> list[dict[str, str]]:
    """The last `limit` turns as role/content messages for Assistant.ask: follow-ups need no more, and a long
    conversation must not make every reply slower."""
    messages: list[dict[str, str]] = []
    for turn in list(turns)[-limit:] if limit else []:
        messages += [
            {"role": "user", "content": str(turn["question"])},
            {"role": "assistant", "content": turn["answer"]},
        ]
    return messages


def answer_html(turn: dict[str, Any]) -> str:
    """The answer bubble: its text (quoted lines as a blockquote marked 引用原文), a chip per citation that
    carries the chunk id and the supporting sentence for the preview, and a copy button."""
    lines = []
    for line in str(turn["answer"]).split("\n"):
        if not line.strip():
            continue
        if QUOTATION.match(line):
            lines.append(
                f'<blockquote class="evidence"><span class="sr-only">引用原文：</span>{chat_html(line)}</blockquote>'
            )
        else:
            lines.append(f"<p>{chat_html(line)}</p>")
    # Gradio's sanitizer keeps classes but drops data-* and aria-* attributes: the chip names its chunk in a
    # class and carries the supporting sentence in a hidden span (ui.js reads both).
    chips = "".join(
        f'<button type="button" class="cite-chip chunk-{html.escape(cid)}"><span class="sr-only">查看</span>'
        f'📄 {html.escape(label)}<span class="sr-only">原文</span>'
        f'<span class="chip-quote">{html.escape(quote)}</span></button>'
        for cid, label, quote in list(zip(turn["citations"], turn["labels"], turn["quotes"], strict=False))[:MAX_CHIPS]
    )
    sources = f'<div class="answer-sources">{chips}</div>' if chips else ""
    tools = '<div class="answer-tools"><button type="button" class="copy-answer">复制<span class="sr-only">这条回答</span></button></div>'
    return f'<div class="answer"><div class="answer-text">{"".join(lines)}</div>{sources}{tools}</div>'


def turn_messages(turn: dict[str, Any]) -> list[dict[str, str]]:
    """The user's question (escaped) and the answer bubble, as Chatbot messages."""
    return [
        {"role": "user", "content": chat_html(turn["question"])},
        {"role": "assistant", "content": answer_html(turn)},
    ]


def display_messages(turns: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    """The whole conversation as Chatbot messages (on page load, when it is restored from the browser)."""
    return [message for turn in turns for message in turn_messages(turn)]


def turn_markdown(turn: dict[str, Any]) -> str:
    """One turn as Markdown: the question, the answer, then each citation with its supporting sentence."""
    answer = "\n".join(f"> {line}" if QUOTATION.match(line) else line for line in str(turn["answer"]).split("\n"))
    parts = [f"**问：** {turn['question']}", "", f"**答：** {answer}"]
    cited = [
        f"- {label}（{cid}）" + (f"：“{quote}”" if quote else "")
        for cid, label, quote in zip(turn["citations"], turn["labels"], turn["quotes"], strict=False)
    ]
    if cited:
        parts += ["", "引用条款：", *cited]
    return "\n".join(parts)


def conversation_markdown(turns: Sequence[dict[str, Any]], title: str) -> str:
    """The exported conversation: a title, then every turn, separated by rules (ui.js writes the same
    text from the turns' `markdown` fields, so the export needs no server round trip)."""
    return f"# {title}\n\n" + "\n\n---\n\n".join(str(turn["markdown"]) for turn in turns) + "\n"


def suggested_questions(turn: dict[str, Any], chunks: dict[str, Chunk], rules: Sequence[Any]) -> list[str]:
    """Two or three next questions from the cited article's other clauses: its other awards (by the rule
    names of knowledge/awards.yaml), else its other sentences. None after a refusal."""
    from assistant.extract import sentences

    if turn["refused"] or not turn["citations"]:
        return []
    chunk = chunks.get(turn["citations"][0])
    if chunk is None or chunk.kind != "article":
        return []
    quote = turn["quotes"][0] if turn["quotes"] else ""
    asked = str(turn["question"])
    found: list[str] = []
    for rule in rules:
        if rule.article != chunk.id or rule.id == turn.get("rule") or (quote and rule.clause in quote):
            continue
        found.append(f"{rule.name}是多少？")
    if not found:
        for sentence in sentences(chunk):
            head = re.split(r"[,，;；:：。]", sentence.strip())[0].strip()
            if len(head) < 4 or head == chunk.title or (turn["route"] != "lookup" and head in quote):
                continue
            found.append(f"{chunk.label}中“{head[:20]}”是怎么规定的？")
    return [q for q in dict.fromkeys(found) if q != asked][:SUGGESTIONS]
