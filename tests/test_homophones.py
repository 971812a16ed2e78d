"""Homophone typos of voice and pinyin input read as the notice's words, and only those (assistant/homophones.py)."""

from __future__ import annotations

import pytest

from assistant.homophones import Homophones

NOTICE = "对首次认定的高新技术企业,给予最高20万元奖励。投入资金。企业核心技术。三十一个。对购置工业机器人的企业给予资助。紫金港科技城。科技企业孵化器。"


@pytest.fixture(scope="module")
def heard() -> Homophones:
    return Homophones([NOTICE])


@pytest.mark.parametrize(
    ("typed", "read_as"),
    [
        ("去年第一次被认定为高心技术企业今年又上规了", "高新技术企业"),
        ("买了工业机器仁有补贴吗", "机器人"),
        ("紫今港科技城的企业", "紫金港"),
        ("孵化气升级有奖励吗", "孵化器"),
    ],
)
def test_a_stretch_that_sounds_like_the_notice_is_read_as_the_notice(heard, typed, read_as):
    fixed, corrections = heard.correct(typed)
    assert read_as in fixed
    assert corrections and corrections[0].read_as in read_as and corrections[0].typed in typed


@pytest.mark.parametrize(
    "typed",
    [
        "首次认定的高新技术企业奖多少",  # already the notice's words
        "三十亿的项目",  # numerals are never changed ("三十一")
        "投入紫金港的钱",  # 紫金 is a word of the notice as typed: no 资金
        "企业和科技企业孵化器",  # a lone function character is no misheard word
        "有4家孵化企业通过了",  # 企业 stays: the stretch is judged in its sentence
    ],
)
def test_the_notice_own_words_and_ordinary_chinese_are_left_alone(heard, typed):
    assert heard.correct(typed) == (typed, ())


def test_the_answer_says_how_a_typo_was_read_and_answers_the_notice_word(fake_assistant):
    answer = fake_assistant.ask("去年第一次被认定为高心技术企业，能拿多少奖励？")
    assert answer.answer.startswith("（“高心技术")
    assert "按“高新技术" in answer.answer.splitlines()[0]
    assert answer.question == "去年第一次被认定为高心技术企业，能拿多少奖励？"  # the question as typed


@pytest.mark.parametrize(
    ("typed", "read_as"),
    [
        ("宝宝一岁多 想找个普会托育", "普惠托育"),
        ("专精特薪板挂牌企业今年目标几家", "专精特新板"),
        ("龙乌茶镇建设", "龙坞茶镇"),
    ],
)
def test_a_term_jieba_does_not_know_is_read_whole_when_the_typo_lies_inside_it(typed, read_as):
    homophones = Homophones([NOTICE], ["普惠托育", "专精特新板", "龙坞茶镇", "区文广旅体局"])
    fixed, corrections = homophones.correct(typed)
    assert read_as in fixed and corrections


def test_a_character_at_the_edge_of_a_term_may_be_a_word_of_its_own():
    # "去文广旅体局备案" is "went to the bureau to file", not a typed 区
    homophones = Homophones([NOTICE], ["区文广旅体局"])
    assert homophones.correct("赛前两个月去文广旅体局备案了")[1] == ()
