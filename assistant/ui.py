"""The Gradio UI (Chinese): 政策问答 for the public, 条款查询 for call-center staff, 奖补计算 for enterprises.

Everything a user typed, and everything quoted from the notice, is escaped before it reaches the page:
chat messages through `chat_html`, HTML panels through `html.escape` (highlights are added after
escaping, around spans found in the raw text). The helpers below are pure and tested without a browser.
"""

from __future__ import annotations

import html
import json
import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr
import yaml

if TYPE_CHECKING:
    from assistant.answer import Assistant
    from assistant.feedback import FeedbackStore
    from assistant.records import Answer, Chunk

log = logging.getLogger(__name__)

Ask = Callable[[Any, list[dict[str, str]]], "Answer"]

MAX_CHIPS = 30  # citation chips under an answer; 区发改经信局 is cited by 27 chunks, the most of any unit
HISTORY_TURNS = 12  # earlier messages passed to the Assistant for follow-ups
STREAM_STEPS = 40  # an answer appears in about this many pieces
STREAM_DELAY_S = 0.015
NOTICE = "杭州市西湖区人民政府《关于进一步推动经济高质量发展的若干政策》"
HOTLINE = "12345政务服务热线"
PANEL_HINT = '<div class="panel-hint">点击回答下方的引用条款，在这里查看政策原文，支持回答的句子会高亮显示。</div>'
STATUS_TEXT = {"met": "符合", "unmet": "不符合", "unknown": "待确认"}
STATUS_MARK = {"met": "✓", "unmet": "✗", "unknown": "?"}
UNIT_HINTS = {
    "money": "单位：元，可写“800万元”",
    "percent": "单位：%，如 30",
    "area": "单位：平方米",
    "years": "单位：年",
    "days": "单位：日",
    "weight": "单位：吨",
    "count": "单位：家/个",
}
FALLBACK_EXAMPLES = ("首次认定的高新技术企业有什么奖励？", "第二十七条讲的是什么？")
FALLBACK_PROFILE: dict[str, Any] = {"scale": "sme", "rd_spend": "1200万元", "rd_spend_last_year": "400万元"}

UI_CSS = """
#citation-chips { gap: 6px; flex-wrap: wrap; }
button.cite-chip { flex: 0 0 auto !important; width: auto !important; min-width: fit-content !important;
  white-space: nowrap; border-radius: 999px !important; padding: 2px 12px !important; }
.article-card { line-height: 1.7; }
.article-card .article-head { font-size: 1.1em; font-weight: 600; margin-bottom: 4px; }
.article-card .article-meta { color: var(--body-text-color-subdued); font-size: 0.92em; margin-bottom: 8px; }
.article-card .article-text, .hit-text { white-space: pre-wrap; }
.article-card mark, .hit-text mark, .calc-card mark { background: #fde68a; color: inherit; padding: 0 1px; }
.panel-hint, .empty-hint { color: var(--body-text-color-subdued); padding: 12px 4px; }
.calc-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 12px 16px; line-height: 1.7; }
.calc-card .calc-head { font-weight: 600; }
.calc-card .calc-amount { font-size: 1.5em; font-weight: 700; margin: 4px 0; }
.calc-card .calc-amount.ineligible { color: #b91c1c; font-size: 1.2em; }
.calc-card .calc-amount.incomplete { color: #92400e; font-size: 1.2em; }
.calc-card ul { margin: 4px 0 4px 1.2em; padding: 0; }
.calc-card li.met::marker { color: #15803d; }
.calc-card li.unmet { color: #b91c1c; }
.calc-card li.unknown { color: #92400e; }
.calc-card .calc-clause { color: var(--body-text-color-subdued); font-size: 0.92em; border-left: 3px solid
  var(--border-color-primary); padding-left: 8px; margin-top: 6px; }
.search-hit { border-bottom: 1px solid var(--border-color-primary); padding: 6px 0; }
.directory td, .match-table td { vertical-align: top; padding: 2px 8px; }
.match-table { width: 100%; font-size: 0.92em; }
.match-table td:nth-child(1), .match-table td:nth-child(3), .match-table td:nth-child(4) { white-space: nowrap; }
.match-table th { text-align: left; padding: 2px 8px; }
.match-table tr.ineligible { color: var(--body-text-color-subdued); }
"""


# -- escaping and highlighting ---------------------------------------------------------------------
def chat_html(text: str) -> str:
    """A chat message shown verbatim: the Chatbot renders HTML (Markdown is off), so escape it all and keep
    the line breaks as <br>."""
    return html.escape(str(text), quote=False).replace("\n", "<br>")


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def mark_spans(text: str, spans: list[tuple[int, int]]) -> str:
    """HTML of `text` with each (start, end) span wrapped in <mark>; every piece is escaped on its own."""
    out: list[str] = []
    cursor = 0
    for start, end in _merge(spans):
        out.append(html.escape(text[cursor:start]))
        out.append(f"<mark>{html.escape(text[start:end])}</mark>")
        cursor = end
    out.append(html.escape(text[cursor:]))
    return "".join(out)


def quote_spans(text: str, quote: str) -> list[tuple[int, int]]:
    """Where the supporting quote sits in the text: the whole quote, else each of its clauses that occurs."""
    quote = quote.strip()
    if not quote:
        return []
    at = text.find(quote)
    if at >= 0:
        return [(at, at + len(quote))]
    spans = []
    for part in re.split(r"[。；;\n]", quote):
        part = part.strip(" 。；;,，")
        if len(part) >= 2:
            at = text.find(part)
            if at >= 0:
                spans.append((at, at + len(part)))
    return spans


def term_spans(text: str, terms: Sequence[str]) -> list[tuple[int, int]]:
    """Every case-insensitive occurrence of each term."""
    spans = []
    lowered = text.lower()
    for term in terms:
        term = term.lower()
        if not term:
            continue
        start = lowered.find(term)
        while start >= 0:
            spans.append((start, start + len(term)))
            start = lowered.find(term, start + len(term))
    return spans


# -- articles ----------------------------------------------------------------------------------------
def units_text(units: Sequence[str]) -> str:
    return "、".join(units) or "—"


def article_body(chunk: Chunk) -> str:
    """The article's words without its (二十七) marker and the trailing (责任单位:...) note."""
    from assistant.extract import sentences

    if chunk.kind != "article":
        return chunk.text.strip()
    return "".join(sentences(chunk)).strip()


def article_html(chunk: Chunk, quote: str = "", terms: Sequence[str] = ()) -> str:
    """An article card: label and title, section and lead department, 责任单位, and the verbatim text with
    the supporting quote (or the search terms) highlighted."""
    text = chunk.text.strip()
    spans = quote_spans(text, quote) + term_spans(text, terms)
    meta = []
    if chunk.section_title:
        meta.append(f"所属部分：{html.escape(chunk.section_title)}")
    if chunk.lead_units:
        meta.append(f"牵头单位：{html.escape(units_text(chunk.lead_units))}")
    if chunk.kind == "article":
        meta.append(f"责任单位：{html.escape(units_text(chunk.responsible_units))}")
    head = (
        f"{html.escape(chunk.label)} · {html.escape(chunk.title)}"
        if chunk.kind == "article"
        else html.escape(chunk.label)
    )
    return (
        f'<div class="article-card" data-chunk="{html.escape(chunk.id)}">'
        f'<div class="article-head">{head}</div>'
        f'<div class="article-meta">{"<br>".join(meta)}</div>'
        f'<div class="article-text">{mark_spans(text, spans)}</div></div>'
    )


def read_out_script(chunk: Chunk) -> str:
    """What a call-center agent reads out: the citation, the quoted article, who is responsible."""
    units = units_text(chunk.responsible_units or chunk.lead_units)
    if chunk.kind != "article":
        return f"您好！根据{NOTICE}{chunk.label}：“{article_body(chunk)}”"
    section = (
        f"该条属于“{chunk.section_title}”部分，由{units_text(chunk.lead_units)}牵头实施，"
        if chunk.section_title
        else ""
    )
    return (
        f"您好！根据{NOTICE}{chunk.label}“{chunk.title}”的规定：“{article_body(chunk)}”\n"
        f"{section}责任单位是{units}。如需办理或了解细则，请咨询{units}，或拨打{HOTLINE}。"
    )


def find_article(chunks: Sequence[Chunk], ref: str) -> Chunk | None:
    """The article (or chunk) named in any form: 27, 二十七, 第二十七条, A27, S2."""
    from assistant.api import find_chunk

    return find_chunk(tuple(chunks), ref) if ref and ref.strip() else None


def search_articles(assistant: Assistant, query: str, limit: int = 10) -> tuple[list[tuple[Chunk, list[str]]], bool]:
    """Articles holding every word of the query (most occurrences first) with the words to highlight;
    when none holds them all, the keyword ranking's best chunks. The flag says which of the two it was."""
    from assistant.retrieve import tokenize

    terms = [t for t in re.split(r"[\s,，、;；]+", query.strip()) if t]
    if not terms:
        return [], True
    chunks = [c for c in assistant.retriever.chunks if c.kind in ("article", "section")]
    exact = [c for c in chunks if all(t.lower() in c.text.lower() for t in terms)]
    if exact:
        exact.sort(key=lambda c: -sum(c.text.lower().count(t.lower()) for t in terms))
        return [(c, terms) for c in exact[:limit]], True
    words = sorted({t for t in tokenize(query) if len(t) >= 2}, key=lambda w: (-len(w), w))
    hits = assistant.retriever.search(query, k=limit, mode="bm25")
    found = [(h.chunk, [w for w in words if w in h.chunk.text]) for h in hits if h.chunk.kind in ("article", "section")]
    return [(chunk, shown) for chunk, shown in found if shown][: max(1, limit // 2)], False


def search_results_html(results: list[tuple[Chunk, list[str]]], exact: bool, query: str) -> str:
    if not query.strip():
        return '<div class="empty-hint">请输入关键词，例如“研发投入”或“人才 住房”。</div>'
    if not results:
        return f'<div class="empty-hint">没有找到包含“{html.escape(query)}”的条款。</div>'
    lead = (
        f"共{len(results)}条包含“{html.escape(query)}”："
        if exact
        else f"没有条款同时包含全部关键词，以下是与“{html.escape(query)}”最相关的条款："
    )
    items = []
    for chunk, terms in results:
        text = chunk.text.strip()
        pieces = [s for s in re.split(r"(?<=[。；;])", text) if s.strip() and term_spans(s, terms)] or [text[:80]]
        snippet = " … ".join(mark_spans(s, term_spans(s, terms)) for s in pieces[:3])
        where = f'{html.escape(chunk.title)}<span class="article-meta">（{html.escape(chunk.section_title)}）</span>'
        items.append(
            f'<div class="search-hit"><b>{html.escape(chunk.label)}</b> {where if chunk.kind == "article" else ""}'
            f'<div class="hit-text">{snippet}</div></div>'
        )
    return f'<div class="search-lead">{lead}</div>' + "".join(items)


def department_directory(chunks: Sequence[Chunk]) -> dict[str, list[Chunk]]:
    """Department -> the articles it is a 责任单位 of, in notice order; departments in order of first mention."""
    directory: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        if chunk.kind == "article":
            for unit in chunk.responsible_units:
                directory.setdefault(unit, []).append(chunk)
    return directory


def directory_html(directory: dict[str, list[Chunk]]) -> str:
    rows = "".join(
        f"<tr><td><b>{html.escape(unit)}</b>（{len(items)}条）</td>"
        f"<td>{'、'.join(html.escape(f'{c.label}{c.title}') for c in items)}</td></tr>"
        for unit, items in directory.items()
    )
    return f'<table class="directory">{rows}</table>'


def article_choices(chunks: Sequence[Chunk]) -> list[tuple[str, str]]:
    return [(f"{c.label} {c.title}", c.id) for c in chunks]


# -- calculations ------------------------------------------------------------------------------------
def calculation_html(calc: Any) -> str:
    """A calculation card: rule and article, the amount (or why none), trace, conditions, the clause."""
    data = calc.to_dict()
    status = data.get("status", "")
    amount_text = data.get("amount_text") or ""
    payout = data.get("payout") or "奖补"
    if status == "eligible":
        prefix = "最高" if data.get("is_maximum") else ""
        per_year = "（每年）" if data.get("per_year") else ""
        if data.get("amount_min_yuan") is not None and data["amount_min_yuan"] != data.get("amount_yuan"):
            prefix = "最高"
        amount = f'<div class="calc-amount">{payout}：{prefix}{html.escape(amount_text)}{per_year}</div>'
    elif status == "ineligible":
        amount = f'<div class="calc-amount ineligible">不符合{html.escape(payout)}条件</div>'
    else:
        amount = '<div class="calc-amount incomplete">还需补充信息才能计算</div>'
    label, name, clause = (html.escape(str(data.get(key) or "")) for key in ("article_label", "rule_name", "clause"))
    parts = ['<div class="calc-card">', f'<div class="calc-head">{label} · {name}</div>', amount]
    if data.get("trace"):
        parts.append(f"<div><b>计算：</b>{html.escape(data['trace'])}</div>")
    if data.get("formula"):
        parts.append(f"<div><b>标准（含封顶）：</b>{html.escape(data['formula'])}</div>")
    if data.get("applies_to"):
        parts.append(f"<div><b>适用对象：</b>{html.escape(data['applies_to'])}</div>")
    conditions = data.get("conditions") or []
    if conditions:
        items = "".join(
            f'<li class="{html.escape(c["status"])}">{STATUS_MARK.get(c["status"], "")} {html.escape(c["name"])}：'
            f"{html.escape(c['detail'])}（{STATUS_TEXT.get(c['status'], c['status'])}）</li>"
            for c in conditions
        )
        parts.append(f"<div><b>条件：</b><ul>{items}</ul></div>")
    for key, title in (("assumptions", "假设"), ("missing", "还需确认"), ("errors", "输入有误"), ("notes", "说明")):
        values = data.get(key) or []
        if values:
            parts.append(f"<div><b>{title}：</b>{html.escape('；'.join(str(v) for v in values))}</div>")
    alternatives = data.get("alternatives") or []
    if alternatives:
        items = "".join(
            f"<li>{html.escape(a['description'])}：{html.escape(a.get('amount_text') or '')}</li>" for a in alternatives
        )
        parts.append(f"<div><b>其他情形：</b><ul>{items}</ul></div>")
    parts.append(f'<div class="calc-clause">依据{label}：“{clause}”</div>')
    parts.append("</div>")
    return "".join(parts)


def rule_choices(rules: Sequence[Any]) -> list[tuple[str, str]]:
    return [(f"{r.article_label}｜{r.name}（{r.id}）", r.id) for r in rules]


def rule_intro_html(rule: Any) -> str:
    from assistant.calculator import describe_formula

    return (
        '<div class="calc-card">'
        f'<div class="calc-head">{html.escape(rule.article_label)} · {html.escape(rule.name)}</div>'
        f"<div><b>适用对象：</b>{html.escape(rule.applies_to)}</div>"
        f"<div><b>标准：</b>{html.escape(describe_formula(rule))}</div>"
        f'<div class="calc-clause">原文：“{html.escape(rule.clause)}”</div></div>'
    )


MATCH_STATUS = {"eligible": "可申报", "possible": "需补充信息", "ineligible": "不符合"}


def match_html(result: Any) -> str:
    """The profile matcher's result: total of the awards that can be claimed, then one row per rule with its
    status, amount and why (the trace, what is missing, or the unmet condition)."""
    data = result.to_dict()
    rows = []
    for item in data["items"]:
        calc = item["calculation"]
        if item["status"] == "eligible":
            why = calc.get("trace") or ""
            if item.get("assumptions"):
                why += "（假设：" + "；".join(item["assumptions"]) + "）"
        elif item["status"] == "possible":
            why = "；".join(calc.get("missing", [])[:2]) or "；".join(item.get("unknown", []))
        else:
            why = "；".join(item.get("unmet", []))
        if item.get("note"):
            why += f"（{item['note']}）"
        amount = ""
        if item["status"] == "eligible" and calc.get("amount_text"):
            amount = ("最高" if item.get("is_maximum") else "") + calc["amount_text"]
        rows.append(
            f'<tr class="{html.escape(item["status"])}"><td>{html.escape(item["article_label"])}</td>'
            f"<td>{html.escape(item['rule_name'])}</td><td>{MATCH_STATUS.get(item['status'], item['status'])}</td>"
            f"<td>{html.escape(amount)}</td><td>{html.escape(why)}</td></tr>"
        )
    eligible = sum(1 for item in data["items"] if item["status"] == "eligible")
    notes = "".join(f"<div>注：{html.escape(note)}</div>" for note in data.get("notes", []))
    table = (
        '<table class="match-table"><tr><th>条款</th><th>奖补项目</th><th>状态</th><th>金额</th><th>说明</th></tr>'
        + "".join(rows)
        + "</table>"
        if rows
        else '<div class="empty-hint">没有匹配到相关政策，请补充企业情况（行业、区域、研发投入、认定荣誉等）。</div>'
    )
    return (
        '<div class="calc-card">'
        f'<div class="calc-head">政策匹配结果：{html.escape(data["profile_name"])}</div>'
        f'<div class="calc-amount" id="match-total">可申报{eligible}项，合计约{html.escape(data["total_text"])}</div>'
        f"{table}{notes}"
        '<div class="calc-clause">以上为按政策条款测算的估算，标“最高”的为上限，最终以主管部门审核为准。</div></div>'
    )


def load_examples(knowledge_dir: Path) -> tuple[list[str], dict[str, Any]]:
    """Example questions (knowledge/examples.yaml) and an example enterprise profile for the matcher."""
    path = knowledge_dir / "examples.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
    questions = [str(q) for q in (raw or {}).get("chat", [])] or list(FALLBACK_EXAMPLES)
    profile_path = knowledge_dir / "examples" / "profile.example.json"
    profile = json.loads(profile_path.read_text(encoding="utf-8")) if profile_path.exists() else FALLBACK_PROFILE
    return questions, {key: value for key, value in profile.items() if not key.startswith("_")}


# -- chat --------------------------------------------------------------------------------------------
def display_messages(history: Sequence[dict[str, str]]) -> list[dict[str, str]]:
    """The raw conversation as Chatbot messages, every one escaped (the Chatbot renders HTML)."""
    return [{"role": turn["role"], "content": chat_html(turn["content"])} for turn in history]


def stream_pieces(text: str, steps: int = STREAM_STEPS) -> Iterator[str]:
    """Growing prefixes of the text, ending with the whole text."""
    size = max(4, -(-len(text) // steps))
    for end in range(size, len(text), size):
        yield text[:end]
    yield text


def chip_updates(answer: Answer | None) -> list[Any]:
    labels = []
    if answer is not None:
        by_id = {c.chunk_id: c.label for c in answer.evidence}
        labels = [by_id.get(cid, cid) for cid in answer.citations]
    return [
        gr.update(value=f"📄 {labels[i]}", visible=True) if i < len(labels) else gr.update(value="", visible=False)
        for i in range(MAX_CHIPS)
    ]


def build_ui(assistant: Assistant, ask: Ask, feedback: FeedbackStore) -> gr.Blocks:
    """The three tabs. `ask(question, history) -> Answer` is the (rate-limited) Assistant.ask."""
    from assistant.answer import QuestionError

    settings = assistant.settings
    chunks = list(assistant.retriever.chunks)
    by_id = {c.id: c for c in chunks}
    sections = [c for c in chunks if c.kind == "section"]
    directory = department_directory(chunks)
    rules = list(assistant.rules)
    rules_by_id = {r.id: r for r in rules}
    examples, example_profile = load_examples(settings.knowledge_dir)

    # -- handlers: 政策问答 ----------------------------------------------------------------------
    def outputs(**changed: Any) -> tuple[Any, ...]:
        """One value per chat output, in order; outputs not named stay as they are."""
        chip_values = changed.pop("chips", [gr.skip()] * MAX_CHIPS)
        names = ("chatbot", "question", "history", "last", "card", "status", "panel")
        return (*(changed.get(name, gr.skip()) for name in names), *chip_values)

    def respond(question: str, history: list[dict[str, str]]) -> Iterator[tuple[Any, ...]]:
        from assistant.answer import validate_question

        history = list(history or [])
        try:
            cleaned = validate_question(question, settings)
        except QuestionError as error:
            gr.Warning(error.message)
            yield outputs()
            return
        pending = [*history, {"role": "user", "content": cleaned}]
        waiting = display_messages(pending) + [{"role": "assistant", "content": "正在查阅政策原文…"}]
        hidden = gr.update(value="", visible=False)
        yield outputs(chatbot=waiting, question="", card=hidden, status="", chips=[hidden] * MAX_CHIPS)
        try:
            answer = ask(cleaned, history[-HISTORY_TURNS:])
        except QuestionError as error:  # the Assistant's own checks, should they differ from validate_question
            gr.Warning(error.message)
            yield outputs(chatbot=display_messages(history), question=cleaned)
            return
        except Exception:  # the page must stay usable; the log has the details
            log.exception("answering failed")
            sorry = f"抱歉，系统暂时无法回答，请稍后再试，或拨打{HOTLINE}咨询。"
            yield outputs(chatbot=display_messages(pending) + [{"role": "assistant", "content": chat_html(sorry)}])
            return
        for piece in stream_pieces(answer.answer):
            yield outputs(chatbot=display_messages(pending) + [{"role": "assistant", "content": chat_html(piece)}])
            time.sleep(STREAM_DELAY_S)
        finished = [*pending, {"role": "assistant", "content": answer.answer}]
        remembered = {
            "question": cleaned,
            "answer": answer.answer,
            "citations": list(answer.citations),
            "quotes": {c.chunk_id: c.quote for c in answer.evidence},
        }
        card_update = hidden
        if answer.calculation is not None:
            card_update = gr.update(value=calculation_html(answer.calculation), visible=True)
        yield outputs(
            chatbot=display_messages(finished),
            history=finished,
            last=remembered,
            card=card_update,
            chips=chip_updates(answer),
        )

    def use_example(event: gr.SelectData) -> str:
        return str(event.value.get("text", "")) if isinstance(event.value, dict) else str(event.value)

    def open_citation(index: int) -> Callable[[dict[str, Any] | None], str]:
        def handler(last: dict[str, Any] | None) -> str:
            if not last or index >= len(last["citations"]):
                return PANEL_HINT
            chunk_id = last["citations"][index]
            chunk = by_id.get(chunk_id)
            if chunk is None:
                return PANEL_HINT
            return article_html(chunk, quote=last["quotes"].get(chunk_id, ""))

        return handler

    def vote(rating: str) -> Callable[[dict[str, Any] | None, str], tuple[Any, Any, Any]]:
        def handler(last: dict[str, Any] | None, comment: str) -> tuple[Any, Any, Any]:
            if not last:
                return "请先提问，再对回答进行评价。", gr.skip(), gr.skip()
            if last.get("voted"):  # one row per answer: a second click would count the same answer twice
                return "这条回答您已经评价过了，谢谢！", gr.skip(), gr.skip()
            row = feedback.add(last["question"], last["answer"], last["citations"], rating, comment or "")
            log.info("feedback row %s (%s)", row, rating)
            thanks = "感谢您的肯定！" if rating == "up" else "感谢反馈，我们会据此改进。"
            return f"{thanks}（已记录）", "", {**last, "voted": True}

        return handler

    def clear() -> tuple[Any, ...]:
        hidden = [gr.update(value="", visible=False)] * MAX_CHIPS
        return ([], "", [], None, gr.update(value="", visible=False), "", PANEL_HINT, *hidden)

    # -- handlers: 条款查询 ----------------------------------------------------------------------
    def show_article(ref: str) -> tuple[str, str]:
        chunk = by_id.get(ref) or find_article(chunks, ref or "")
        if chunk is None:
            shown = html.escape((ref or "").strip()[:40])
            hint = f"没有找到“{shown}”：本政策共72条，请输入1–72、二十七或第二十七条这样的条号。"
            return f'<div class="empty-hint">{hint}</div>', ""
        return article_html(chunk), read_out_script(chunk)

    def browse_section(section_id: str) -> tuple[Any, Any, Any]:
        chosen = by_id.get(section_id or "")
        if chosen is None:
            return gr.skip(), gr.skip(), gr.skip()
        items = [c for c in chunks if c.kind == "article" and c.section == chosen.number]
        listing = gr.update(choices=article_choices(items), value=None, label=f"{chosen.label}的条款（{len(items)}条）")
        return listing, article_html(chosen), read_out_script(chosen)

    def search(query: str) -> str:
        results, exact = search_articles(assistant, query or "")
        return search_results_html(results, exact, query or "")

    def browse_department(unit: str) -> Any:
        items = directory.get(unit, [])
        return gr.update(choices=article_choices(items), value=None, label=f"{unit}负责的条款（{len(items)}条）")

    # -- handlers: 奖补计算 ----------------------------------------------------------------------
    def compute(rule_id: str, *values: Any) -> str:
        from assistant.calculator import calculate

        rule = rules_by_id.get(rule_id)
        if rule is None:
            return '<div class="empty-hint">请先选择奖补项目。</div>'
        inputs = {slot.name: value for slot, value in zip(rule.inputs, values, strict=False) if value not in (None, "")}
        return calculation_html(calculate(rule, inputs))

    def match(profile_text: str) -> str:
        from assistant.matcher import match_profile

        try:
            profile = json.loads(profile_text or "{}")
        except json.JSONDecodeError as error:
            where = f"第{error.lineno}行第{error.colno}列"
            return f'<div class="empty-hint">企业情况不是有效的 JSON（{where}）：{html.escape(error.msg)}</div>'
        if not isinstance(profile, dict) or not profile:
            return '<div class="empty-hint">请按示例填写企业情况（一个 JSON 对象）。</div>'
        return match_html(match_profile(profile, rules))

    # -- layout ----------------------------------------------------------------------------------
    # No telemetry: Gradio would otherwise call api.gradio.app and huggingface.co at start.
    with gr.Blocks(title="西湖政策助手", analytics_enabled=False) as demo:
        gr.Markdown(
            f"## 西湖政策助手\n依据{NOTICE}（2024年5月29日印发）解答问题，回答均注明条款出处。"
            f"内容仅供参考，具体以责任单位解释为准；也可拨打{HOTLINE}。"
        )
        with gr.Tabs():
            with gr.Tab("政策问答", id="chat", elem_id="tab-chat"):
                history = gr.State([])
                last = gr.State(None)
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        chatbot = gr.Chatbot(
                            label="政策问答",
                            elem_id="chatbot",
                            height=460,
                            latex_delimiters=[],
                            render_markdown=False,  # answers are plain text; chat_html escapes them for HTML
                            buttons=[],
                            placeholder="您好！请提问西湖区经济高质量发展政策的问题，或点击下面的示例问题。",
                            examples=[{"text": q, "display_text": q} for q in examples],
                        )
                        with gr.Row(elem_id="citation-chips"):
                            chips = [
                                gr.Button(
                                    "",
                                    visible=False,
                                    size="sm",
                                    scale=0,
                                    elem_classes=["cite-chip"],
                                    elem_id=f"chip-{i}",
                                )
                                for i in range(MAX_CHIPS)
                            ]
                        card = gr.HTML("", visible=False, elem_id="calc-card")
                        with gr.Row():
                            question = gr.Textbox(
                                show_label=False,
                                placeholder="请输入您的问题，例如：首次认定的高新技术企业有什么奖励？",
                                scale=5,
                                container=False,
                                elem_id="question",
                                autofocus=True,
                            )
                            send = gr.Button("发送", variant="primary", scale=1, elem_id="send")
                        with gr.Row():
                            up = gr.Button("👍 有帮助", size="sm", elem_id="vote-up", scale=0, min_width=96)
                            down = gr.Button("👎 没帮助", size="sm", elem_id="vote-down", scale=0, min_width=96)
                            comment = gr.Textbox(
                                show_label=False,
                                placeholder="补充意见（可选），点 👍/👎 时一并提交",
                                scale=3,
                                container=False,
                                elem_id="feedback-comment",
                            )
                            clear_button = gr.Button("清空对话", size="sm", elem_id="clear", scale=0, min_width=96)
                        status = gr.Markdown("", elem_id="feedback-status")
                    with gr.Column(scale=2):
                        gr.Markdown("#### 政策原文")
                        panel = gr.HTML(PANEL_HINT, elem_id="article-panel")

            with gr.Tab("条款查询", id="articles", elem_id="tab-articles"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=2):
                        with gr.Row():
                            number = gr.Textbox(
                                label="按条号查看",
                                placeholder="27、二十七 或 第二十七条",
                                scale=3,
                                elem_id="article-number",
                            )
                            jump = gr.Button("查看", scale=1, elem_id="article-jump")
                        section = gr.Dropdown(
                            choices=[(c.label, c.id) for c in sections],
                            label="按部分浏览",
                            value=None,
                            elem_id="section",
                        )
                        department = gr.Dropdown(
                            choices=[(f"{unit}（{len(items)}条）", unit) for unit, items in directory.items()],
                            label="按责任单位浏览",
                            value=None,
                            elem_id="department",
                        )
                        listing = gr.Radio(choices=[], label="条款", elem_id="article-list")
                        with gr.Row():
                            keyword = gr.Textbox(
                                label="关键词搜索", placeholder="如：研发投入、人才 住房", scale=3, elem_id="keyword"
                            )
                            find = gr.Button("搜索", scale=1, elem_id="keyword-search")
                        results = gr.HTML("", elem_id="search-results")
                    with gr.Column(scale=3):
                        article_view = gr.HTML(
                            '<div class="empty-hint">输入条号、按部分或责任单位浏览，或搜索关键词。</div>',
                            elem_id="article-view",
                        )
                        script = gr.Textbox(
                            label="读稿（引用+原文，可一键复制）",
                            lines=6,
                            max_lines=14,
                            interactive=False,
                            buttons=["copy"],
                            elem_id="read-script",
                        )
                        with gr.Accordion("部门目录（责任单位 → 条款）", open=False):
                            gr.HTML(directory_html(directory), elem_id="directory")

            with gr.Tab("奖补计算", id="calc", elem_id="tab-calc"):
                calc_result = gr.HTML("", elem_id="calc-result", render=False)
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        rule = gr.Dropdown(
                            choices=rule_choices(rules),
                            label="选择奖补项目",
                            value=None,
                            elem_id="rule",
                            filterable=True,
                        )
                        rule_intro = gr.HTML("", elem_id="rule-intro")

                        @gr.render(inputs=rule)
                        def rule_form(rule_id: str | None) -> None:
                            chosen = rules_by_id.get(rule_id or "")
                            if chosen is None:
                                gr.Markdown("请先选择一个奖补项目，然后填写企业情况。")
                                return
                            fields: list[Any] = []
                            with gr.Group():
                                for slot in chosen.inputs:
                                    if slot.kind == "flag":
                                        fields.append(gr.Radio(["是", "否"], label=slot.label, info=slot.question))
                                    elif slot.kind == "choice":
                                        fields.append(
                                            gr.Dropdown(
                                                [(o.label, o.key) for o in slot.options],
                                                label=slot.label,
                                                info=slot.question,
                                                value=None,
                                            )
                                        )
                                    else:
                                        fields.append(
                                            gr.Textbox(
                                                label=f"{slot.label}（{UNIT_HINTS.get(slot.kind, slot.unit)}）",
                                                placeholder=slot.question,
                                                elem_classes=["calc-input"],
                                            )
                                        )
                            run = gr.Button("计算", variant="primary", elem_id="calc-run")
                            run.click(compute, [rule, *fields], calc_result)

                        calc_result.render()
                    with gr.Column(scale=3):
                        gr.Markdown(
                            "#### 企业情况匹配\n填写企业情况（JSON，字段名同计算表单），列出可能适用的奖补及合计。"
                        )
                        profile = gr.Code(
                            json.dumps(example_profile, ensure_ascii=False, indent=2),
                            language="json",
                            label="企业情况",
                            elem_id="profile",
                        )
                        match_button = gr.Button("匹配奖补", variant="primary", elem_id="match-run")
                        match_result = gr.HTML("", elem_id="match-result")

        # -- events --------------------------------------------------------------------------------
        chat_outputs = [chatbot, question, history, last, card, status, panel, *chips]
        question.submit(respond, [question, history], chat_outputs)
        send.click(respond, [question, history], chat_outputs)
        chatbot.example_select(use_example, None, question).then(respond, [question, history], chat_outputs)
        for index, chip in enumerate(chips):
            chip.click(open_citation(index), [last], panel)
        up.click(vote("up"), [last, comment], [status, comment, last])
        down.click(vote("down"), [last, comment], [status, comment, last])
        clear_button.click(clear, None, chat_outputs)
        chatbot.clear(clear, None, chat_outputs)

        jump.click(show_article, number, [article_view, script])
        number.submit(show_article, number, [article_view, script])
        section.change(browse_section, section, [listing, article_view, script])
        department.change(browse_department, department, listing)
        listing.change(
            lambda ref: show_article(ref) if ref else (gr.skip(), gr.skip()), listing, [article_view, script]
        )
        find.click(search, keyword, results)
        keyword.submit(search, keyword, results)

        rule.change(lambda rid: rule_intro_html(rules_by_id[rid]) if rid in rules_by_id else "", rule, rule_intro)
        rule.change(lambda _rid: "", rule, calc_result)
        match_button.click(match, profile, match_result)
    return demo
