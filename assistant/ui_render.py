"""How the UI shows things: escaped HTML for chat text, article cards with the supporting sentence marked,
read-out scripts, search results, the department directory, calculation and match cards.

Everything a user typed, and everything quoted from the notice, is escaped before it reaches the page
(`html.escape`); highlights are added after escaping, around spans found in the raw text. Pure functions,
tested without a browser.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from assistant.vocabulary import notice_facts

if TYPE_CHECKING:
    from assistant.answer import Assistant
    from assistant.records import Chunk

PANEL_HINT = '<div class="panel-hint">点击回答下方的引用条款，在这里查看政策原文，支持回答的句子会高亮显示。</div>'
STATUS_TEXT = {"met": "符合", "unmet": "不符合", "unknown": "待确认"}
STATUS_MARK = {"met": "✓", "unmet": "✗", "unknown": "?"}
SEARCH_HITS = 8  # articles listed for a keyword search
FALLBACK_EXAMPLES = ("首次认定的高新技术企业有什么奖励？", "第二十七条讲的是什么？")
FALLBACK_PROFILE: dict[str, Any] = {"scale": "sme", "rd_spend": "1200万元", "rd_spend_last_year": "400万元"}


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
    facts = notice_facts()
    units = units_text(chunk.responsible_units or chunk.lead_units)
    if chunk.kind != "article":
        return f"您好！根据{notice_facts().full_name}{chunk.label}：“{article_body(chunk)}”"
    section = (
        f"该条属于“{chunk.section_title}”部分，由{units_text(chunk.lead_units)}牵头实施，"
        if chunk.section_title
        else ""
    )
    return (
        f"您好！根据{facts.full_name}{chunk.label}“{chunk.title}”的规定：“{article_body(chunk)}”\n"
        f"{section}责任单位是{units}。如需办理或了解细则，请咨询{units}，或拨打{facts.hotline}。"
    )


def find_article(chunks: Sequence[Chunk], ref: str) -> Chunk | None:
    """The article (or chunk) named in any form: 27, 二十七, 第二十七条, A27, S2."""
    from assistant.notice import find_chunk

    return find_chunk(tuple(chunks), ref) if ref and ref.strip() else None


def search_articles(assistant: Assistant, query: str, limit: int = SEARCH_HITS) -> list[tuple[Chunk, list[str]]]:
    """The articles and sections the chat's retrieval ranks highest for the query (department names and
    everyday words work as in the chat: 高企, 奶茶, 区残联), after the article a number names (27, 二十七,
    A27), each with the words to mark in it: the query's words and the notice terms its everyday words
    stand for."""
    from assistant.retrieve import content_words

    if not query.strip():
        return []
    retriever = assistant.retriever
    named = find_article(retriever.chunks, query)
    hits = [named] if named is not None else []
    hits += [hit.chunk for hit in retriever.search(query, k=limit * 2)]
    candidates = [t for t in re.split(r"[\s,，、;；]+", query.strip()) if t]
    candidates += sorted(content_words(query)) + retriever.lexicon.terms_for(query)
    words = sorted(set(candidates), key=lambda w: (-len(w), w))  # overlapping marks are merged by mark_spans
    found = []
    for chunk in dict.fromkeys(hits):
        if chunk.kind in ("article", "section"):
            found.append((chunk, [w for w in words if w.lower() in chunk.text.lower()]))
    return found[:limit]


def search_results_html(results: list[tuple[Chunk, list[str]]], query: str) -> str:
    """The hits as a list: label, title, section, up to three sentences with the words marked, and a button
    that opens the article (ui.js turns its chunk-<id> class into a look-up)."""
    if not query.strip():
        return '<div class="empty-hint">请输入关键词，例如“研发投入”“高企”或“人才 住房”。</div>'
    if not results:
        return f'<div class="empty-hint">没有找到与“{html.escape(query)}”相关的条款。</div>'
    items = []
    for chunk, terms in results:
        text = chunk.text.strip()
        pieces = [s for s in re.split(r"(?<=[。；;])", text) if s.strip() and term_spans(s, terms)] or [text[:80]]
        snippet = " … ".join(mark_spans(s, term_spans(s, terms)) for s in pieces[:3])
        title = (
            f'{html.escape(chunk.title)}<span class="hit-section">（{html.escape(chunk.section_title)}）</span>'
            if chunk.kind == "article"
            else ""
        )
        items.append(
            f'<li class="search-hit"><button type="button" class="hit-open chunk-{html.escape(chunk.id)}">'
            f"{html.escape(chunk.label)}</button> {title}"
            f'<div class="hit-text">{snippet}</div></li>'
        )
    lead = f"与“{html.escape(query)}”最相关的{len(results)}条（点条号查看全文）："
    return f'<div class="search-lead">{lead}</div><ol class="search-hits">{"".join(items)}</ol>'


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
    errors = [str(e) for e in data.get("errors") or []]
    if errors:  # the calculator repeats an input error in its trace and its questions: show it once
        data["missing"] = [_without(str(m), errors) for m in data.get("missing") or []]
        data["missing"] = [m for m in data["missing"] if m]
    if data.get("trace") and not (errors and data["trace"].startswith("输入有误")):
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


def _without(text: str, errors: Sequence[str]) -> str:
    """The text with every error message it repeats taken out."""
    for error in errors:
        text = text.replace(error, "")
    return text.strip()


def rule_choices(rules: Sequence[Any]) -> list[tuple[str, str]]:
    """Dropdown choices: what a user reads (第十四条｜研发投入增量补助…) and the rule id as the value."""
    return [(f"{r.article_label}｜{r.name}", r.id) for r in rules]


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


def profile_doc(knowledge_dir: Path) -> dict[str, str]:
    """What each key of the example enterprise profile means (its `_doc`), for the matcher form's labels."""
    path = knowledge_dir / "examples" / "profile.example.json"
    raw = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    return {str(key): str(text) for key, text in raw.get("_doc", {}).items()}
