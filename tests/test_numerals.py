"""Chinese numerals and article references in every form people type."""

from __future__ import annotations

import pytest

from assistant.numerals import cn_to_int, find_article_refs, int_to_cn, parse_article_number


@pytest.mark.parametrize(
    ("numeral", "number"), [("一", 1), ("十", 10), ("十八", 18), ("二十七", 27), ("七十二", 72), ("一百零五", 105)]
)
def test_cn_to_int(numeral, number):
    assert cn_to_int(numeral) == number


def test_int_to_cn_round_trips_for_every_article():
    assert all(cn_to_int(int_to_cn(n)) == n for n in range(1, 100))
    assert int_to_cn(27) == "二十七"


@pytest.mark.parametrize(
    "question",
    [
        "第十八条讲什么",
        "（十八）的内容",
        "(十八)",
        "第18条",
        "第 18 条是什么",
        "18条",
        "article 18",
        "Article 18?",
        "查A18",
        "第１８条",
        "No.18是什么政策",
        "#18讲啥",
    ],
)
def test_article_18_is_found_in_every_form(question):
    assert find_article_refs(question) == [18]


@pytest.mark.parametrize(
    "question",
    [
        "新认定的高企奖多少",
        "研发投入1200万能拿多少",
        "2024年目标",
        "民营经济32.5万",
        "Is there no 50% cap?",
        "no 5 yuan",
    ],
)
def test_questions_without_article_references(question):
    assert find_article_refs(question) == []


@pytest.mark.parametrize("typed", ["27", "二十七", "第二十七条", "（二十七）", "A27", "article 27", "第27条"])
def test_parse_article_number_accepts_27_in_every_form(typed):
    assert parse_article_number(typed) == 27


@pytest.mark.parametrize("typed", ["", "abc", "第条"])
def test_parse_article_number_rejects_non_numbers(typed):
    assert parse_article_number(typed) is None


@pytest.mark.parametrize(
    ("question", "sections"),
    [
        ("第二部分讲什么", [2]),
        ("第7部分和第三个领域", [7, 3]),
        ("section 5", [5]),
        ("第二条", []),
        ("文件第六大块政策主要管哪方面", [6]),
        ("第三板块讲什么", [3]),
    ],
)
def test_find_section_refs(question, sections):
    from assistant.numerals import find_section_refs

    assert find_section_refs(question) == sections


@pytest.mark.parametrize(
    ("question", "refs", "other"),
    [
        ("浙江“民营经济32条”第5条讲什么", [], True),
        ("《浙江省重大建设项目管理办法》第三条", [], True),
        ("民营经济32条是什么", [], False),
        ("第18条", [18], False),
    ],
)
def test_articles_of_other_documents_are_not_ours(question, refs, other):
    from assistant.numerals import cites_other_document

    assert (find_article_refs(question), cites_other_document(question)) == (refs, other)


@pytest.mark.parametrize("numeral", ["九九", "十十", "百", "一百五", "两十", "二十两", "零五", "十一十"])
def test_numerals_that_are_not_written_that_way_are_no_numbers(numeral):
    with pytest.raises(ValueError):
        cn_to_int(numeral)


@pytest.mark.parametrize(("numeral", "number"), [("两", 2), ("一十八", 18), ("一百一十", 110), ("两百", 200)])
def test_numerals_written_the_long_way_are_read(numeral, number):
    assert cn_to_int(numeral) == number


@pytest.mark.parametrize("typed", ["第九九条", "十十", "²", "①", "第³条", "9" * 5000, "٢٧", "1234"])
def test_parse_article_number_rejects_what_is_no_article_number(typed):
    assert parse_article_number(typed) is None


def test_references_with_a_malformed_numeral_are_skipped():
    assert find_article_refs("第九九条和第十八条") == [18]
