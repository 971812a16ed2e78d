"""The UI's pure helpers (assistant/ui.py): escaping, highlighting, read-out scripts, search, cards. No browser."""

from __future__ import annotations

import pytest

from assistant import ui

XSS = "<img src=x onerror=alert(1)>"
A18_QUOTE = "对首次认定的高新技术企业,给予最高20万元奖励"


def test_chat_html_escapes_markup_and_keeps_line_breaks() -> None:
    assert ui.chat_html(f"{XSS}\n第二行 & <b>") == "&lt;img src=x onerror=alert(1)&gt;<br>第二行 &amp; &lt;b&gt;"


def test_display_messages_escape_every_turn() -> None:
    history = [{"role": "user", "content": XSS}, {"role": "assistant", "content": "答<script>"}]
    assert ui.display_messages(history) == [
        {"role": "user", "content": "&lt;img src=x onerror=alert(1)&gt;"},
        {"role": "assistant", "content": "答&lt;script&gt;"},
    ]


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


def test_keyword_search_lists_articles_holding_every_word_most_hits_first(fake_assistant) -> None:
    results, exact = ui.search_articles(fake_assistant, "研发投入")
    assert exact is True
    assert [c.id for c, _ in results] == ["A14", "A15", "A39", "S2", "A22", "A24"]
    page = ui.search_results_html(results, exact, "研发投入")
    assert page.startswith('<div class="search-lead">共6条包含“研发投入”：</div>')
    assert page.count("<mark>研发投入</mark>") == 11  # up to three sentences per article


def test_keyword_search_falls_back_to_related_articles(fake_assistant) -> None:
    results, exact = ui.search_articles(fake_assistant, "人才住房")
    assert exact is False
    assert ("A32", ["人才", "住房"]) in [(c.id, terms) for c, terms in results]


def test_keyword_search_result_pages_escape_the_query(fake_assistant) -> None:
    results, exact = ui.search_articles(fake_assistant, XSS)
    page = ui.search_results_html(results, exact, XSS)
    assert "<img" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


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


@pytest.mark.parametrize(("length", "pieces"), [(0, 1), (3, 1), (400, 40), (1000, 40)])
def test_streaming_grows_to_the_whole_answer(length: int, pieces: int) -> None:
    text = "答" * length
    shown = list(ui.stream_pieces(text))
    assert shown[-1] == text
    assert len(shown) == pieces
    assert all(later.startswith(earlier) for earlier, later in zip(shown, shown[1:], strict=False))


def test_examples_come_from_the_knowledge_folder(fake_settings) -> None:
    questions, profile = ui.load_examples(fake_settings.knowledge_dir)
    assert questions[:2] == ["首次认定的高新技术企业有什么奖励？", "第二十七条讲的是什么？"]
    assert profile["name"] == "示例智造科技有限公司"
    assert not any(key.startswith("_") for key in profile)
