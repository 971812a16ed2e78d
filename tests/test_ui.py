"""The UI's pure helpers (assistant/ui_render.py, ui_chat.py, ui_calc.py): escaping, highlighting, read-out
scripts, search, cards, the conversation record, the calculator forms. No browser."""

from __future__ import annotations

import pytest

from assistant import ui_calc, ui_chat
from assistant import ui_render as ui

XSS = "<img src=x onerror=alert(1)>"
A18_QUOTE = "对首次认定的高新技术企业,给予最高20万元奖励"


def test_chat_html_escapes_markup_and_keeps_line_breaks() -> None:
    assert ui.chat_html(f"{XSS}\n第二行 & <b>") == "&lt;img src=x onerror=alert(1)&gt;<br>第二行 &amp; &lt;b&gt;"


def test_mark_spans_escapes_around_and_inside_the_marks() -> None:
    assert ui.mark_spans("a<b>c&d", [(1, 4)]) == "a<mark>&lt;b&gt;</mark>c&amp;d"


def test_overlapping_spans_are_merged_into_one_mark() -> None:
    assert ui.mark_spans("研发投入补助", [(0, 4), (2, 6)]) == "<mark>研发投入补助</mark>"


def test_a_quote_found_verbatim_is_one_span() -> None:
    assert ui.quote_spans("甲。乙丙。丁", "乙丙") == [(2, 4)]


def test_a_quote_with_changed_punctuation_is_marked_clause_by_clause() -> None:
    # phrasing.sentences() turns a section's line break into 。, so the quote is not a verbatim substring.
    text = "二、科技创新政策(由区科技局牵头实施)\n深入实施创新深化"
    assert ui.quote_spans(text, "二、科技创新政策(由区科技局牵头实施)。深入实施创新深化") == [(0, 19), (20, 28)]


def test_an_empty_quote_marks_nothing() -> None:
    assert ui.quote_spans("正文", "") == []


def test_term_spans_find_every_case_insensitive_occurrence() -> None:
    assert ui.term_spans("AI产业和ai芯片", ["ai"]) == [(0, 2), (5, 7)]


def test_article_html_highlights_the_supporting_sentence(chunks) -> None:
    a18 = next(c for c in chunks if c.id == "A18")
    page = ui.article_html(a18, quote=A18_QUOTE)
    assert f"<mark>{A18_QUOTE}</mark>" in page
    assert page.count("<mark>") == 1
    assert '<div class="article-head">第十八条 · 健全科技企业梯度培育机制</div>' in page
    assert "所属部分：科技创新政策<br>牵头单位：区科技局<br>责任单位：区科技局" in page


def test_article_html_escapes_the_text(chunks) -> None:
    from dataclasses import replace

    a1 = replace(next(c for c in chunks if c.id == "A1"), text=f"正文{XSS}")
    assert "&lt;img src=x onerror=alert(1)&gt;" in ui.article_html(a1, quote=XSS)
    assert "<img" not in ui.article_html(a1, quote=XSS)


def test_the_read_out_script_cites_quotes_and_names_the_units(chunks) -> None:
    a27 = next(c for c in chunks if c.id == "A27")
    script = ui.read_out_script(a27)
    assert script.startswith(
        "您好！根据杭州市西湖区人民政府《关于进一步推动经济高质量发展的若干政策》第二十七条“强化工业用地供应服务保障”的规定："
        "“强化工业用地供应服务保障。加大工业用地出让规模"
    )
    assert "不结算土地出让价款。”\n" in script  # the quote ends before the units note
    assert script.endswith(
        "该条属于“五大产业生态圈建设培育政策”部分，由区发改经信局牵头实施，责任单位是市规划资源局西湖分局、区发改经信局。"
        "如需办理或了解细则，请咨询市规划资源局西湖分局、区发改经信局，或拨打12345政务服务热线。"
    )


def test_find_article_accepts_every_form_of_the_number(chunks) -> None:
    assert [ui.find_article(chunks, ref).id for ref in ("27", "二十七", "第二十七条", "A27", " 第27条 ")] == ["A27"] * 5
    assert ui.find_article(chunks, "第七十三条") is None
    assert ui.find_article(chunks, "") is None


def test_the_department_directory_lists_each_units_articles(chunks) -> None:
    directory = ui.department_directory(chunks)
    assert [c.id for c in directory["区科技局"]] == [
        "A10", "A11", "A12", "A13", "A14", "A15", "A16", "A17", "A18", "A19", "A20", "A21", "A24", "A28", "A32",
        "A38", "A51",
    ]  # fmt: skip
    assert max(len(items) for items in directory.values()) == 24  # 区发改经信局
    assert "<td><b>区残联</b>（1条）</td><td>第七十二条支持推进“弱有众扶”</td>" in ui.directory_html(directory)


def test_the_calculation_card_shows_amount_trace_conditions_and_clause(fake_assistant) -> None:
    from assistant.calculator import calculate
    from assistant.rules import find_rule

    calc = calculate(find_rule(fake_assistant.rules, "rd-subsidy-sme"), {"scale": "sme", "rd_increase": "800万元"})
    card = ui.calculation_html(calc)
    assert '<div class="calc-head">第十四条 · 研发投入增量补助（科技型中小企业规模）</div>' in card
    assert '<div class="calc-amount">补助：最高40万元</div>' in card
    assert "<div><b>计算：</b>800万元 × 5% = 40万元，未超过上限200万元，补助40万元</div>" in card
    assert "<div><b>标准（含封顶）：</b>按年度研发投入新增额的不超过5%计算，最高200万元</div>" in card
    assert '<li class="met">✓ 年度研发投入新增额：需要 ≥200万元，实际 800万元（符合）</li>' in card
    assert "依据第十四条：“对经营规模符合国家科技型中小企业认定标准且年度研发投入额新增200万元以上的企业" in card


def test_the_calculation_card_says_why_an_award_is_not_due(fake_assistant) -> None:
    from assistant.calculator import calculate
    from assistant.rules import find_rule

    calc = calculate(find_rule(fake_assistant.rules, "rd-subsidy-sme"), {"scale": "sme", "rd_increase": "100万元"})
    card = ui.calculation_html(calc)
    assert '<div class="calc-amount ineligible">不符合补助条件</div>' in card
    assert '<li class="unmet">✗ 年度研发投入新增额：需要 ≥200万元，实际 100万元（不符合）</li>' in card


def test_the_match_card_shows_the_total_and_one_row_per_rule(fake_assistant) -> None:
    from assistant.matcher import match_profile

    result = match_profile({"name": XSS, "scale": "sme", "rd_increase": "800万元"}, fake_assistant.rules)
    card = ui.match_html(result)
    assert '<div class="calc-amount" id="match-total">可申报1项，合计约40万元</div>' in card
    assert "<td>第十四条</td><td>研发投入增量补助（科技型中小企业规模）</td><td>可申报</td><td>最高40万元</td>" in card
    assert "政策匹配结果：&lt;img src=x onerror=alert(1)&gt;" in card


def test_examples_come_from_the_knowledge_folder(fake_settings) -> None:
    questions, profile = ui.load_examples(fake_settings.knowledge_dir)
    assert questions[:2] == ["首次认定的高新技术企业有什么奖励？", "第二十七条讲的是什么？"]
    assert profile["name"] == "示例智造科技有限公司"
    assert not any(key.startswith("_") for key in profile)


# -- keyword search (the chat's retrieval) --------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "first", "marked"),
    [
        ("高企", "A18", ["高新技术企业"]),  # an everyday word the chat knows
        ("奶茶", "A47", ["零售和餐饮企业"]),
        ("区残联", "A72", ["区残联", "残联"]),  # a department
        ("27", "A27", []),  # a number names its article
        ("第二十七条", "A27", []),
    ],
)
def test_keyword_search_finds_what_the_chat_finds(fake_assistant, query, first, marked) -> None:
    results = ui.search_articles(fake_assistant, query)
    assert (results[0][0].id, results[0][1]) == (first, marked)
    assert len(results) == ui.SEARCH_HITS


def test_a_search_hit_opens_its_article_and_marks_the_words(fake_assistant) -> None:
    page = ui.search_results_html(ui.search_articles(fake_assistant, "奶茶")[:1], "奶茶")
    assert page.startswith('<div class="search-lead">与“奶茶”最相关的1条（点条号查看全文）：</div>')
    assert '<button type="button" class="hit-open chunk-A47">第四十七条</button> 激发消费潜能' in page
    assert "的<mark>零售和餐饮企业</mark>(汽车销售除外)" in page


def test_keyword_search_result_pages_escape_the_query(fake_assistant) -> None:
    page = ui.search_results_html(ui.search_articles(fake_assistant, XSS), XSS)
    assert "<img" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_an_empty_search_gets_a_hint(fake_assistant) -> None:
    assert ui.search_articles(fake_assistant, "  ") == []
    assert "请输入关键词" in ui.search_results_html([], "")


# -- calculator ------------------------------------------------------------------------------------------
def test_an_input_error_is_shown_once(fake_assistant) -> None:
    from assistant.calculator import calculate
    from assistant.rules import find_rule

    calc = calculate(find_rule(fake_assistant.rules, "rd-subsidy-sme"), {"scale": "sme", "rd_increase": "abc"})
    card = ui.calculation_html(calc)
    assert card.count("无法识别“abc”") == 1
    assert "<div><b>还需确认：</b>请问贵公司本年度研发投入比上一年度新增了多少？</div>" in card


def test_rule_choices_show_the_article_and_name_not_the_internal_id(fake_assistant) -> None:
    choices = dict((value, label) for label, value in ui.rule_choices(fake_assistant.rules))
    assert choices["zijingang-robot-imported"] == "第三十四条｜紫金港科技城购置进口工业机器人资助"
    assert not any("zijingang" in label or "-" in label for label in choices.values())


def test_each_field_label_says_its_unit(fake_assistant) -> None:
    from assistant.rules import find_rule

    rule = find_rule(fake_assistant.rules, "zijingang-robot-imported")
    assert [ui_calc.field_label(slot) for slot in rule.inputs if slot.kind == "money"] == [
        "工业机器人设备购置额（单位：元，可写“800万元”）",
        "已获得的本项资助（计入总额上限）（单位：元，可写“800万元”）",
    ]


@pytest.mark.parametrize(
    ("value", "question"),
    [
        ("1200", "“年度研发投入新增额”填的是1200元还是1200万元？请写上单位，例如“1200万元”。"),
        (" 800 ", "“年度研发投入新增额”填的是800元还是800万元？请写上单位，例如“800万元”。"),
        ("1200万元", None),  # a unit is given
        ("9999.5", "“年度研发投入新增额”填的是9999.5元还是9999.5万元？请写上单位，例如“9999.5万元”。"),
        ("10000", None),  # 1万元 and more are plausible sums in 元
        ("3000000", None),
        ("", None),
    ],
)
def test_a_bare_number_under_1万_beside_a_clause_in_万元_gets_a_question(fake_assistant, value, question) -> None:
    from assistant.rules import find_rule

    rule = find_rule(fake_assistant.rules, "rd-subsidy-sme")
    assert ui_calc.scale_question(rule, rule.input("rd_increase"), value) == question


def test_form_inputs_leave_out_empty_fields_and_read_flags(fake_assistant) -> None:
    from assistant.rules import find_rule

    rule = find_rule(fake_assistant.rules, "retail-catering-new")
    assert [s.name for s in rule.inputs] == ["industry", "newly_registered", "retail_sales"]
    assert ui_calc.form_inputs(rule, ["catering", "是", ""]) == {"industry": "catering", "newly_registered": True}


def test_the_matcher_form_is_labelled_from_the_rules_and_the_documented_profile(fake_assistant, fake_settings) -> None:
    form = ui_calc.profile_form(fake_assistant.rules, ui.profile_doc(fake_settings.knowledge_dir))
    assert form.amounts["robot_purchase_imported"] == "购置进口工业机器人金额（单位：元，可写“800万元”）"
    assert form.amounts["area"] == "承租面积（单位：平方米）"
    assert form.flags == {"is_manufacturer": "是否制造业企业", "above_designated_size": "是否规上企业", "newly_registered": "是否新注册成立"}  # fmt: skip
    assert form.choices["location"][0] == "所在区域"
    assert {"首次认定高新技术企业", "国家级博士后工作站"} <= set(form.recognitions)


def test_the_filled_matcher_form_is_the_example_profile(fake_assistant, fake_settings) -> None:
    from assistant.matcher import match_profile

    form = ui_calc.profile_form(fake_assistant.rules, ui.profile_doc(fake_settings.knowledge_dir))
    _, example = ui.load_examples(fake_settings.knowledge_dir)
    filled = ui_calc.form_defaults(form, example)
    profile = ui_calc.profile_from_form(
        form,
        filled["name"],
        filled["choices"],
        filled["industries"],
        filled["flags"],
        filled["recognitions"],
        filled["amounts"],
    )
    assert (
        match_profile(profile, fake_assistant.rules).to_dict() == match_profile(example, fake_assistant.rules).to_dict()
    )


def test_an_empty_matcher_form_is_an_empty_profile(fake_assistant, fake_settings) -> None:
    form = ui_calc.profile_form(fake_assistant.rules, ui.profile_doc(fake_settings.knowledge_dir))
    empty = ui_calc.profile_from_form(form, " ", [None, None], [], [], [], [""] * len(form.amounts))
    assert empty == {}


# -- the conversation ----------------------------------------------------------------------------------
HIGH_TECH = "首次认定的高新技术企业有什么奖励？"


@pytest.fixture(scope="module")
def high_tech_turn(fake_assistant):
    return ui_chat.turn_record(fake_assistant.ask(HIGH_TECH), HIGH_TECH)


def test_a_turn_keeps_question_answer_citations_and_quotes(high_tech_turn) -> None:
    assert {k: v for k, v in high_tech_turn.items() if k not in ("answer", "markdown")} == {
        "question": HIGH_TECH,
        "citations": ["A18"],
        "labels": ["第十八条"],
        "quotes": [A18_QUOTE],
        "route": "calculation",
        "refused": False,
        "rule": "high-tech-first",
    }


def test_the_answer_bubble_marks_the_quotation_and_carries_a_chip_per_citation(high_tech_turn) -> None:
    assert ui_chat.answer_html(high_tech_turn) == (
        '<div class="answer"><div class="answer-text">'
        "<p>最高可获20万元奖励（第十八条，首次认定高新技术企业奖励）。</p><p>计算：最高20万元奖励</p>"
        '<blockquote class="evidence"><span class="sr-only">引用原文：</span>'
        f"依据：第十八条：“{A18_QUOTE}”</blockquote></div>"
        '<div class="answer-sources"><button type="button" class="cite-chip chunk-A18">'
        '<span class="sr-only">查看</span>📄 第十八条<span class="sr-only">原文</span>'
        f'<span class="chip-quote">{A18_QUOTE}</span></button></div>'
        '<div class="answer-tools"><button type="button" class="copy-answer">复制<span class="sr-only">这条回答</span>'
        "</button></div></div>"
    )


def test_the_bubble_escapes_the_question_and_the_answer() -> None:
    turn = {"question": XSS, "answer": f"答{XSS}", "citations": [], "labels": [], "quotes": []}
    user, bot = ui_chat.turn_messages(turn)
    assert user == {"role": "user", "content": "&lt;img src=x onerror=alert(1)&gt;"}
    assert "<img" not in bot["content"] and "答&lt;img src=x onerror=alert(1)&gt;" in bot["content"]


def test_a_long_conversation_sends_only_the_last_few_turns() -> None:
    turns = [{"question": f"问{i}", "answer": f"答{i}"} for i in range(150)]
    sent = ui_chat.history_messages(turns)
    assert len(sent) == 2 * ui_chat.HISTORY_TURNS == 8
    assert sent[:2] == [{"role": "user", "content": "问146"}, {"role": "assistant", "content": "答146"}]
    assert sent[-1] == {"role": "assistant", "content": "答149"}
    assert ui_chat.history_messages([]) == []


def test_a_turn_exports_as_markdown_with_its_citations(high_tech_turn) -> None:
    assert high_tech_turn["markdown"] == (
        f"**问：** {HIGH_TECH}\n\n"
        "**答：** 最高可获20万元奖励（第十八条，首次认定高新技术企业奖励）。\n计算：最高20万元奖励\n"
        f"> 依据：第十八条：“{A18_QUOTE}”\n\n"
        f"引用条款：\n- 第十八条（A18）：“{A18_QUOTE}”"
    )
    exported = ui_chat.conversation_markdown([high_tech_turn, high_tech_turn], "对话")
    assert exported == f"# 对话\n\n{high_tech_turn['markdown']}\n\n---\n\n{high_tech_turn['markdown']}\n"


def test_suggested_questions_come_from_the_same_articles_other_awards(fake_assistant, high_tech_turn) -> None:
    assert ui_chat.suggested_questions(high_tech_turn, fake_assistant.retriever.by_id, fake_assistant.rules) == [
        "首次认定新雏鹰企业奖励是多少？",
        "重新认定高新技术企业奖励是多少？",
        "高新技术企业首次上规模奖励是多少？",
    ]


def test_an_article_without_awards_suggests_its_other_clauses(fake_assistant) -> None:
    turn = ui_chat.turn_record(fake_assistant.ask("第二十七条讲的是什么？"), "第二十七条讲的是什么？")
    assert ui_chat.suggested_questions(turn, fake_assistant.retriever.by_id, fake_assistant.rules) == [
        "第二十七条中“加大工业用地出让规模”是怎么规定的？",
        "第二十七条中“支持“415X”先进制造业、五大产业生态”是怎么规定的？",
        "第二十七条中“落实工业用地长期租赁、先租后让、弹性年期”是怎么规定的？",
    ]


def test_a_refusal_suggests_nothing(fake_assistant) -> None:
    turn = ui_chat.turn_record(fake_assistant.ask("今天天气怎么样？"), "今天天气怎么样？")
    assert turn["refused"] is True
    assert ui_chat.suggested_questions(turn, fake_assistant.retriever.by_id, fake_assistant.rules) == []


def test_the_rule_form_pool_has_as_many_fields_as_the_largest_rule_needs(fake_assistant) -> None:
    assert ui_calc.pool_sizes(fake_assistant.rules) == {"choice": 2, "flag": 1, "number": 5}


def test_switching_rules_relabels_and_empties_every_field(fake_assistant) -> None:
    from assistant.rules import find_rule

    sizes = ui_calc.pool_sizes(fake_assistant.rules)
    updates = ui_calc.field_updates(find_rule(fake_assistant.rules, "zijingang-robot-imported"), sizes)
    assert len(updates) == 8
    assert [u["visible"] for u in updates] == [True, True, False, True, True, False, False, False]
    assert [u["value"] for u in updates] == [None, None, None, "", "", "", "", ""]  # nothing carried over
    assert [u.get("label") for u in updates[3:5]] == [
        "工业机器人设备购置额（单位：元，可写“800万元”）",
        "已获得的本项资助（计入总额上限）（单位：元，可写“800万元”）",
    ]
    assert updates[1]["choices"] == [("进口机器人", "imported"), ("国产机器人", "domestic")]
    assert all(not u["visible"] for u in ui_calc.field_updates(None, sizes))


def test_pooled_values_are_read_back_in_the_rules_order(fake_assistant) -> None:
    from assistant.rules import find_rule

    sizes = ui_calc.pool_sizes(fake_assistant.rules)
    rule = find_rule(
        fake_assistant.rules, "retail-catering-new"
    )  # industry (choice), newly_registered (flag), retail_sales
    pooled = ["catering", None, "是", "2亿元", "", "", "", ""]
    assert ui_calc.values_in_rule_order(rule, pooled, sizes) == ["catering", "是", "2亿元"]
    assert ui_calc.form_inputs(rule, ui_calc.values_in_rule_order(rule, pooled, sizes)) == {
        "industry": "catering",
        "newly_registered": True,
        "retail_sales": "2亿元",
    }
