"""dev44's classes, on the fake embedder: a second ask in its own sentence without a value word of its own, windows
that stop on a subject or open on a part, sums in dollars, which departments are asked as "哪几个单位"."""

from __future__ import annotations

import pytest

from assistant.amounts import find_amounts
from assistant.answer import _asks
from assistant.extract import _completed
from assistant.figures import with_registration_years
from assistant.phrasing import _en_values


def test_a_later_sentence_asking_which_is_an_ask_of_its_own():
    asks = _asks("美丽乡村建设方面，2024年要完成几个省级未来乡村创建认定？市级特色村建设推进的是哪个村？")
    assert [(kind, parallel) for _, kind, parallel in asks] == [("count", False), ("", False)]


def test_a_later_sentence_asking_the_same_again_takes_the_kind_of_the_one_before():
    asks = _asks(
        "How much is the award for a newly recognised high-tech enterprise? And for one that passes re-recognition?"
    )
    assert [(kind, parallel) for _, kind, parallel in asks] == [("amount", False), ("amount", True)]


def test_a_sentence_that_asks_nothing_after_an_ask_is_no_ask():
    assert len(_asks("高新技术企业首次认定奖多少？我们公司在紫金港。")) == 1


def test_both_asks_of_two_sentences_are_answered_each_from_its_clause(fake_assistant):
    answer = fake_assistant.ask(
        "How much is the award for a newly recognised high-tech enterprise in Xihu District? "
        "And for one that passes re-recognition?"
    )
    lead = answer.answer[:300]
    assert "200,000" in lead and "100,000" in lead and answer.citations[0] == "A18"


def test_a_window_ending_on_a_subject_takes_what_the_subject_gets():
    sentence = "加快算力产业发展,打造西湖区公共算力服务平台,对通过平台使用智算算力的企业,发放“算力券”。"
    assert _completed("打造西湖区公共算力服务平台,对通过平台使用智算算力的企业,", sentence).endswith("发放“算力券”。")


def test_a_window_opening_on_a_part_takes_its_total():
    sentence = "实际利用外资7.9亿美元,其中制造业实际利用外资1.58亿美元。"
    assert _completed("其中制造业实际利用外资1.58亿美元。", sentence).startswith("实际利用外资7.9亿美元,")


def test_dollar_targets_are_not_read_out_as_yuan():
    values = _en_values("实际利用外资7.9亿美元,其中制造业实际利用外资1.58亿美元")
    assert values == "790,000,000 US dollars (7.9亿美元), 158,000,000 US dollars (1.58亿美元)"
    assert _en_values("给予最高20万元奖励") == "up to 200,000 yuan (20万元)"


def test_which_several_units_are_responsible_is_a_department_question(fake_assistant):
    answer = fake_assistant.ask("龙坞茶镇建设是哪几个单位负责的？")
    assert answer.route == "department" and "区农业农村局" in answer.answer.splitlines()[0]


def test_a_rate_asked_without_any_figure_is_answered_with_the_standard_not_asked_back(fake_assistant):
    answer = fake_assistant.ask("云栖小镇新引进企业前两年房租能补多少？")
    assert answer.route == "rule" and answer.amount_yuan is None
    assert answer.answer.startswith("云栖小镇新引进企业房租补助的标准（第三十五条）：第1—2年按年房租额的100%")
    assert "计算方法：" not in answer.answer  # said once, in the lead


def test_the_same_question_with_a_figure_but_without_the_rent_still_asks_for_it(fake_assistant):
    answer = fake_assistant.ask("云栖小镇新引进企业，租了2000平方米，前两年房租能补多少？")
    assert answer.route == "clarify"


@pytest.mark.parametrize(
    ("said", "years"),
    [
        ("我们是去年在紫金港科技城注册的生物医药企业", 1),
        ("我们是2022年在紫金港科技城注册的生物医药企业", 2),
        ("We are a biomedical firm registered in Zijingang last year.", 1),
    ],
)
def test_a_year_of_registration_said_with_its_place_or_as_a_relative_year_is_read(said, years):
    text = said
    found, notes = with_registration_years(text, find_amounts(text))
    assert [a.value for a in found if a.kind == "years"] == [years] and notes
