"""Parsing the notice into PRE, S1..S7, A1..A72 and END chunks."""

from __future__ import annotations

import pytest

from assistant.notice import notice_body, parse_notice, responsible_units


def test_exactly_72_articles_numbered_1_to_72(chunks):
    articles = [c for c in chunks if c.kind == "article"]
    assert [c.number for c in articles] == list(range(1, 73))
    assert [c.id for c in articles] == [f"A{n}" for n in range(1, 73)]


def test_chunk_ids_in_reading_order(chunks):
    ids = [c.id for c in chunks]
    assert ids[:3] == ["PRE", "S1", "A1"]
    assert ids[-1] == "END"
    assert [i for i in ids if i.startswith("S")] == [f"S{n}" for n in range(1, 8)]
    assert len(ids) == 81


def test_every_character_of_the_body_belongs_to_exactly_one_chunk(notice_text, chunks):
    body, _ = notice_body(notice_text)
    assert "".join(body[c.start : c.end] for c in chunks) == body
    assert all(c.text == body[c.start : c.end] for c in chunks)
    assert all(a.end == b.start for a, b in zip(chunks, chunks[1:], strict=False))


def test_body_starts_at_the_title_after_the_news_lede(notice_text):
    body, offset = notice_body(notice_text)
    assert body.startswith("杭州市西湖区人民政府印发关于进一步推动经济高质量发展的若干政策的通知")
    assert notice_text[:offset].startswith("6月6日")


def test_units_are_parsed_for_all_72_articles(chunks):
    assert all(c.responsible_units for c in chunks if c.kind == "article")


def test_article_27_units_are_parsed_without_label(chunks):
    a27 = next(c for c in chunks if c.id == "A27")
    assert a27.responsible_units == ("市规划资源局西湖分局", "区发改经信局")
    assert a27.title == "强化工业用地供应服务保障"


def test_article_fields_for_article_18(chunks):
    a18 = next(c for c in chunks if c.id == "A18")
    assert (a18.numeral, a18.label, a18.title) == ("十八", "第十八条", "健全科技企业梯度培育机制")
    assert (a18.section, a18.section_title, a18.lead_units) == (2, "科技创新政策", ("区科技局",))
    assert a18.responsible_units == ("区科技局",)
    assert "给予最高20万元奖励" in a18.text


def test_sections_have_titles_and_lead_departments(chunks):
    sections = {c.id: c for c in chunks if c.kind == "section"}
    assert sections["S1"].title == "扩大有效投资政策"
    assert sections["S5"].lead_units == ("区商务局", "区投促局")
    assert sections["S7"].lead_units == ("区人社局",)
    assert "500亿元以上" in sections["S1"].text


def test_preamble_and_closing_paragraph(chunks):
    pre, end = chunks[0], chunks[-1]
    assert "2024年5月29日" in pre.text and "各镇人民政府" in pre.text
    assert "150亿元" in end.text and "2024年全年实施有效" in end.text
    assert "(责任单位" not in end.text


def test_mini_notice_with_fullwidth_colon_and_bare_units(mini_notice_text):
    chunks = parse_notice(mini_notice_text)
    assert [c.id for c in chunks] == ["PRE", "S1", "A1", "A2", "S2", "A3", "A4", "END"]
    by_id = {c.id: c for c in chunks}
    assert by_id["A2"].responsible_units == ("区商务局", "区财政局")
    assert by_id["A3"].responsible_units == ("市规划资源局西湖分局", "区发改经信局")
    assert by_id["A3"].section == 2 and by_id["A3"].lead_units == ("区商务局", "区投促局")
    assert by_id["END"].text.startswith("上述政策")


@pytest.mark.parametrize(
    ("text", "units"),
    [
        ("……。(责任单位:区科技局)", ("区科技局",)),
        ("……。（责任单位：区商务局、区财政局）", ("区商务局", "区财政局")),
        ("……。(市规划资源局西湖分局、区发改经信局)", ("市规划资源局西湖分局", "区发改经信局")),
        ("……基金(REITs)等方式。", ()),
    ],
)
def test_responsible_units_in_ascii_and_fullwidth_forms(text, units):
    assert responsible_units(text) == units
