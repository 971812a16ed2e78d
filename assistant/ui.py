"""The Gradio UI (Chinese): 政策问答 for the public, 条款查询 for call-center staff, 奖补计算 for enterprises.

This module lays the three tabs out and wires their events; what they show is rendered by ui_render.py
(cards, search results), ui_chat.py (the conversation) and ui_calc.py (the calculator forms), and what
Gradio has no component for (chip previews, the phone drawer, copy buttons) is ui_static/ui.js.

The conversation lives in the browser (gr.BrowserState): a question is sent with the last few turns only,
and the answer comes back as one new turn that the page appends itself, so a reply costs the same at the
150th turn as at the first.
"""

from __future__ import annotations

import html
import itertools
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from assistant.ui_calc import (
    field_updates,
    form_defaults,
    form_inputs,
    pool_sizes,
    profile_form,
    profile_from_form,
    scale_question,
    values_in_rule_order,
)
from assistant.ui_chat import (
    HISTORY_TURNS,
    SUGGESTIONS,
    display_messages,
    history_messages,
    suggested_questions,
    turn_messages,
    turn_record,
)
from assistant.ui_render import (
    PANEL_HINT,
    article_choices,
    article_html,
    calculation_html,
    department_directory,
    directory_html,
    find_article,
    load_examples,
    match_html,
    profile_doc,
    read_out_script,
    rule_choices,
    rule_intro_html,
    search_articles,
    search_results_html,
)
from assistant.vocabulary import notice_facts

if TYPE_CHECKING:
    from assistant.answer import Assistant
    from assistant.feedback import FeedbackStore
    from assistant.records import Answer

log = logging.getLogger(__name__)

Ask = Callable[[Any, list[dict[str, str]]], "Answer"]

STATIC = Path(__file__).with_name("ui_static")
UI_CSS = (STATIC / "ui.css").read_text(encoding="utf-8")
UI_JS = (STATIC / "ui.js").read_text(encoding="utf-8")
BEHAVIOUR_HTML = (
    '<div class="chip-preview" role="tooltip" hidden></div>'
    '<div class="source-drawer" role="dialog" aria-modal="true" aria-label="政策原文" hidden>'
    '<button type="button" class="drawer-close" aria-label="关闭政策原文">关闭</button>'
    '<div class="drawer-body"></div></div>'
)
# Client-side steps of a question (Gradio runs `js` in the browser before, or instead of, the Python function).
SEND_RECENT_JS = f"(question, turns) => [question, (turns || []).slice(-{HISTORY_TURNS})]"
APPEND_TURN_JS = """(chat, turns, reply) => reply
  ? [[...(chat || []), ...reply.messages], [...(turns || []), reply.turn], null]
  : [chat, turns, null]"""
EXPORT_JS = """(turns) => {
  if (!turns || !turns.length) return [];
  const text = %s + turns.map((t) => t.markdown).join("\\n\\n---\\n\\n") + "\\n";
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([text], { type: "text/markdown;charset=utf-8" }));
  link.download = "西湖政策助手对话.md";
  document.body.appendChild(link);
  link.click();
  link.remove();
  return [];
}"""
EXPORT_TITLE = "西湖政策助手对话记录"


def panel_body(inner: str, serial: int) -> str:
    """The source panel's content; `serial` makes each answer's panel differ from the last, so that the page
    replaces what a chip click put there even when two answers cite the same article."""
    return f'<div class="panel-body" data-answer="{serial}">{inner}</div>'


def build_ui(assistant: Assistant, ask: Ask, feedback: FeedbackStore) -> gr.Blocks:
    """The three tabs. `ask(question, history) -> Answer` is the (rate-limited) Assistant.ask."""
    from assistant.answer import QuestionError

    settings = assistant.settings
    facts = notice_facts()
    chunks = list(assistant.retriever.chunks)
    by_id = {c.id: c for c in chunks}
    sections = [c for c in chunks if c.kind == "section"]
    directory = department_directory(chunks)
    rules = list(assistant.rules)
    rules_by_id = {r.id: r for r in rules}
    examples, example_profile = load_examples(settings.knowledge_dir)
    matcher_form = profile_form(rules, profile_doc(settings.knowledge_dir))
    defaults = form_defaults(matcher_form, example_profile)
    serials = itertools.count(1)
    sizes = pool_sizes(rules)

    # -- handlers: 政策问答 ----------------------------------------------------------------------
    def respond(question: str, recent: list[dict[str, Any]] | None) -> tuple[Any, ...]:
        """One question with the last few turns -> the new turn (appended by the page), the source panel,
        the calculation card and the suggested next questions."""
        from assistant.answer import validate_question

        unchanged = (gr.skip(),) * (5 + SUGGESTIONS)
        try:
            cleaned = validate_question(question, settings)
            answer = ask(cleaned, history_messages(recent or []))
        except QuestionError as error:
            gr.Warning(error.message)
            return (None, *unchanged)
        except Exception:  # the page must stay usable; the log has the details
            log.exception("answering failed")
            gr.Warning(f"抱歉，系统暂时无法回答，请稍后再试，或拨打{facts.hotline}咨询。")
            return (None, *unchanged)
        turn = turn_record(answer, cleaned)
        messages: list[Any] = turn_messages(turn)
        reply = {"messages": chatbot.postprocess(messages).model_dump(), "turn": turn}
        card = gr.update(value="", visible=False)
        if answer.calculation is not None:
            card = gr.update(value=calculation_html(answer.calculation), visible=True)
        serial = next(serials)
        if answer.citations and answer.citations[0] in by_id:
            quote = next((c.quote for c in answer.evidence if c.chunk_id == answer.citations[0]), "")
            panel_value = panel_body(article_html(by_id[answer.citations[0]], quote=quote), serial)
        else:
            panel_value = panel_body('<div class="panel-hint">这条回答没有引用政策条款。</div>', serial)
        asked_next = suggested_questions(turn, by_id, rules)
        buttons = [
            gr.update(value=asked_next[i], visible=True) if i < len(asked_next) else gr.update(visible=False)
            for i in range(SUGGESTIONS)
        ]
        return (reply, "", card, panel_value, "", *buttons)

    def restore(turns: list[dict[str, Any]] | None) -> Any:
        """The conversation kept in the browser, shown again after a reload, with its 👍/👎."""
        turns = turns or []
        votes = [{"up": "Like", "down": "Dislike"}.get(t.get("vote") or "") for t in turns]
        return gr.update(value=display_messages(turns), feedback_value=votes)

    def use_example(event: gr.SelectData) -> str:
        return str(event.value.get("text", "")) if isinstance(event.value, dict) else str(event.value)

    def vote(turns: list[dict[str, Any]] | None, comment: str, event: gr.LikeData) -> tuple[Any, Any, Any]:
        """👍/👎 on any answer: one feedback row per answer, with the optional comment."""
        turns = list(turns or [])
        index = event.index if isinstance(event.index, int) else event.index[0]
        position = index // 2  # messages alternate question, answer
        if not 0 <= position < len(turns) or event.liked not in (True, False):
            return gr.skip(), gr.skip(), gr.skip()
        turn = turns[position]
        if turn.get("vote"):  # one row per answer: a second click would count the same answer twice
            return "这条回答您已经评价过了，谢谢！", gr.skip(), gr.skip()
        rating = "up" if event.liked else "down"
        row = feedback.add(turn["question"], turn["answer"], turn["citations"], rating, comment or "")
        log.info("feedback row %s (%s)", row, rating)
        turns[position] = {**turn, "vote": rating}
        thanks = "感谢您的肯定！" if rating == "up" else "感谢反馈，我们会据此改进。"
        return f"{thanks}（已记录）", "", turns

    def clear() -> tuple[Any, ...]:
        hidden = [gr.update(visible=False)] * SUGGESTIONS
        return ([], [], gr.update(value="", visible=False), panel_body(PANEL_HINT, next(serials)), "", *hidden)

    def preview(request: list[str]) -> str:
        """The article card a citation chip previews, its supporting sentence marked: ui.js calls
        server.preview([chunk id, quote]) (Gradio passes a server function's arguments as one list)."""
        chunk_id, quote = (list(request) + ["", ""])[:2] if isinstance(request, list) else (str(request), "")
        chunk = by_id.get(str(chunk_id))
        return article_html(chunk, quote=str(quote or "")) if chunk else PANEL_HINT

    # -- handlers: 条款查询 ----------------------------------------------------------------------
    def show_article(ref: str) -> tuple[str, str]:
        chunk = by_id.get((ref or "").strip()) or find_article(chunks, ref or "")
        if chunk is None:
            shown = html.escape((ref or "").strip()[:40])
            hint = (
                f"没有找到“{shown}”：本政策共{facts.article_count}条，"
                f"请输入1–{facts.article_count}、二十七或第二十七条这样的条号。"
            )
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
        return search_results_html(search_articles(assistant, query or ""), query or "")

    def browse_department(unit: str) -> Any:
        items = directory.get(unit, [])
        return gr.update(choices=article_choices(items), value=None, label=f"{unit}负责的条款（{len(items)}条）")

    # -- handlers: 奖补计算 ----------------------------------------------------------------------
    def choose_rule(rule_id: str | None) -> tuple[Any, ...]:
        """A new rule: its intro, an empty result, and the pool of fields relabelled and emptied for it."""
        chosen = rules_by_id.get(rule_id or "")
        updates = [gr.update(**update) for update in field_updates(chosen, sizes)]
        if chosen is None:
            return ("", "", gr.update(visible=True), gr.update(visible=False), *updates)
        return (rule_intro_html(chosen), "", gr.update(visible=False), gr.update(visible=True), *updates)

    def compute(rule_id: str, *pooled: Any) -> str:
        from assistant.calculator import calculate

        rule = rules_by_id.get(rule_id)
        if rule is None:
            return '<div class="empty-hint">请先选择奖补项目。</div>'
        values = values_in_rule_order(rule, pooled, sizes)
        questions = [q for slot, v in zip(rule.inputs, values, strict=False) if (q := scale_question(rule, slot, v))]
        if questions:
            asked = "".join(f"<div>{html.escape(q)}</div>" for q in questions)
            return f'<div class="calc-card"><div class="calc-amount incomplete">请确认金额单位</div>{asked}</div>'
        return calculation_html(calculate(rule, form_inputs(rule, values)))

    def match(name: str, *values: Any) -> str:
        from assistant.matcher import match_profile

        choices = values[: len(matcher_form.choices)]
        industries, flags, recognitions, *amounts = values[len(matcher_form.choices) :]
        profile = profile_from_form(matcher_form, name, choices, industries, flags, recognitions, amounts)
        if not profile:
            return '<div class="empty-hint">请至少填写一项企业情况。</div>'
        return match_html(match_profile(profile, rules))

    # -- layout ----------------------------------------------------------------------------------
    # No telemetry: Gradio would otherwise call api.gradio.app and huggingface.co at start.
    with gr.Blocks(title="西湖政策助手", analytics_enabled=False) as demo:
        gr.Markdown(
            f"## 西湖政策助手\n依据{facts.full_name}（{facts.issued_zh}印发）解答问题，回答均注明条款出处。"
            f"内容仅供参考，具体以责任单位解释为准；也可拨打{facts.hotline}。"
        )
        with gr.Tabs():
            with gr.Tab("政策问答", id="chat", elem_id="tab-chat"):
                conversation = gr.BrowserState([], storage_key="xihu-conversation")
                reply = gr.BrowserState(None, storage_key="xihu-reply")
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        # A heading above the chat, not Gradio's label: that floats over the messages (on a phone
                        # it hid a question's first words). ui.js names the chat log by this heading.
                        gr.Markdown("#### 政策问答", elem_id="chat-heading")
                        chatbot = gr.Chatbot(
                            label="政策问答",
                            show_label=False,
                            elem_id="chatbot",
                            height=460,
                            latex_delimiters=[],
                            render_markdown=False,  # answers are rendered by ui_chat.answer_html, all escaped
                            buttons=[],  # Gradio's copy would copy the bubble's HTML: each answer has its own
                            feedback_options=("Like", "Dislike"),
                            placeholder="您好！请提问西湖区经济高质量发展政策的问题，或点击下面的示例问题。",
                            examples=[{"text": q, "display_text": q} for q in examples],
                        )
                        with gr.Row(elem_id="suggestions"):
                            suggestions = [
                                gr.Button(visible=False, size="sm", elem_id=f"suggest-{i}", elem_classes=["suggest"])
                                for i in range(SUGGESTIONS)
                            ]
                        card = gr.HTML("", visible=False, elem_id="calc-card")
                        with gr.Row():
                            question = gr.Textbox(
                                label="您的问题",
                                show_label=False,
                                placeholder="请输入您的问题，例如：首次认定的高新技术企业有什么奖励？",
                                scale=5,
                                container=False,
                                elem_id="question",
                                autofocus=True,
                            )
                            send = gr.Button("发送", variant="primary", scale=1, elem_id="send")
                        with gr.Row():
                            comment = gr.Textbox(
                                label="补充意见（可选，点回答下的 👍/👎 时一并提交）",
                                show_label=False,
                                placeholder="补充意见（可选，点回答下的 👍/👎 时一并提交）",
                                scale=3,
                                container=False,
                                elem_id="feedback-comment",
                            )
                            export = gr.Button("导出对话", size="sm", elem_id="export", scale=0, min_width=96)
                            clear_button = gr.Button("清空对话", size="sm", elem_id="clear", scale=0, min_width=96)
                        status = gr.Markdown("", elem_id="feedback-status")
                    with gr.Column(scale=2):
                        gr.Markdown("#### 政策原文")
                        panel = gr.HTML(panel_body(PANEL_HINT, 0), elem_id="article-panel")

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
                        with gr.Row():
                            keyword = gr.Textbox(
                                label="关键词搜索", placeholder="如：研发投入、高企、奶茶", scale=3, elem_id="keyword"
                            )
                            find = gr.Button("搜索", scale=1, elem_id="keyword-search")
                        results = gr.HTML("", elem_id="search-results")
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
                    with gr.Column(scale=3):
                        article_view = gr.HTML(
                            '<div class="empty-hint">输入条号、搜索关键词，或按部分、责任单位浏览。</div>',
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

                        with gr.Group(elem_id="rule-form"):
                            empty_form = field_updates(None, sizes)
                            fields = [
                                gr.Dropdown([], elem_id=f"calc-choice-{i}", **empty_form[i])
                                if i < sizes["choice"]
                                else gr.Radio(["是", "否"], elem_id=f"calc-flag-{i}", **empty_form[i])
                                if i < sizes["choice"] + sizes["flag"]
                                else gr.Textbox(
                                    elem_classes=["calc-input"], elem_id=f"calc-number-{i}", **empty_form[i]
                                )
                                for i in range(len(empty_form))
                            ]
                        form_hint = gr.Markdown("请先选择一个奖补项目，然后填写企业情况。", elem_id="rule-hint")
                        run = gr.Button("计算", variant="primary", elem_id="calc-run", visible=False)
                        calc_result = gr.HTML("", elem_id="calc-result")
                    with gr.Column(scale=3):
                        gr.Markdown(
                            "#### 企业情况匹配\n勾选、填写企业情况，列出可能适用的奖补及合计；不知道的可以不填。"
                        )
                        name = gr.Textbox(label="企业名称", value=defaults["name"], elem_id="profile-name")
                        choice_fields = [
                            gr.Dropdown(options, label=label, value=value, elem_id=f"profile-{key}")
                            for (key, (label, options)), value in zip(
                                matcher_form.choices.items(), defaults["choices"], strict=True
                            )
                        ]
                        industries = gr.CheckboxGroup(
                            matcher_form.industries,
                            label="所属行业",
                            value=defaults["industries"],
                            elem_id="profile-industry",
                        )
                        flags = gr.CheckboxGroup(
                            [(label, key) for key, label in matcher_form.flags.items()],
                            label="企业类型",
                            value=defaults["flags"],
                            elem_id="profile-flags",
                        )
                        recognitions = gr.CheckboxGroup(
                            matcher_form.recognitions,
                            label="本年度新获认定或荣誉",
                            value=defaults["recognitions"],
                            elem_id="profile-recognitions",
                        )
                        with gr.Accordion("金额与年限", open=True):
                            amount_fields = [
                                gr.Textbox(label=label, value=value, elem_id=f"profile-{key}")
                                for (key, label), value in zip(
                                    matcher_form.amounts.items(), defaults["amounts"], strict=True
                                )
                            ]
                        match_button = gr.Button("匹配奖补", variant="primary", elem_id="match-run")
                        match_result = gr.HTML("", elem_id="match-result")

        gr.HTML(BEHAVIOUR_HTML, js_on_load=UI_JS, server_functions=[preview], elem_id="ui-behaviour", padding=False)

        # -- events --------------------------------------------------------------------------------
        answer_outputs = [reply, question, card, panel, status, *suggestions]
        append: dict[str, Any] = {
            "fn": None,  # runs in the browser only: the new turn is appended there
            "inputs": [chatbot, conversation, reply],
            "outputs": [chatbot, conversation, reply],
            "js": APPEND_TURN_JS,
        }
        for trigger in (question.submit, send.click):
            trigger(respond, [question, conversation], answer_outputs, js=SEND_RECENT_JS).then(**append)
        for suggestion in suggestions:
            suggestion.click(respond, [suggestion, conversation], answer_outputs, js=SEND_RECENT_JS).then(**append)
        chatbot.example_select(use_example, None, question).then(
            respond, [question, conversation], answer_outputs, js=SEND_RECENT_JS
        ).then(**append)
        chatbot.like(vote, [conversation, comment], [status, comment, conversation])
        clear_outputs = [chatbot, conversation, card, panel, status, *suggestions]
        clear_button.click(clear, None, clear_outputs)
        chatbot.clear(clear, None, clear_outputs)
        export.click(None, [conversation], None, js=EXPORT_JS % json.dumps(f"# {EXPORT_TITLE}\n\n"))
        demo.load(restore, [conversation], [chatbot])

        jump.click(show_article, number, [article_view, script])
        number.submit(show_article, number, [article_view, script])
        section.change(browse_section, section, [listing, article_view, script])
        department.change(browse_department, department, listing)
        listing.change(
            lambda ref: show_article(ref) if ref else (gr.skip(), gr.skip()), listing, [article_view, script]
        )
        find.click(search, keyword, results)
        keyword.submit(search, keyword, results)

        rule.change(choose_rule, rule, [rule_intro, calc_result, form_hint, run, *fields])
        run.click(compute, [rule, *fields], calc_result)
        match_button.click(match, [name, *choice_fields, industries, flags, recognitions, *amount_fields], match_result)
    return demo
