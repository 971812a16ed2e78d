"""The asking part of a long question (assistant/asks.py) and questions about the notice itself found from words
(assistant/notice_asks.py)."""

from __future__ import annotations

import pytest

from assistant.asks import ask_focus, clauses, names_topic
from assistant.notice_asks import notice_aspects
from assistant.retrieve import topic_words
from assistant.scope import Scope
from assistant.settings import PROJECT_ROOT


def _words(clause: str) -> bool:
    """A stand-in topic test: a clause names a topic when it holds one of these words."""
    return any(word in clause for word in ("高企", "学位", "养老床位", "独居"))


def test_a_long_question_is_focused_on_its_asking_clause_and_the_topic_before_it():
    question = "我老家安徽的，来杭州十几年了，现在在西湖区三墩那边开了个小厂，今年第一次评上高企了，听说区里有奖励？最多奖多少啊"
    assert ask_focus(question, _words) == "今年第一次评上高企了，听说区里有奖励？最多奖多少啊"


def test_an_asking_clause_with_its_own_topic_is_the_whole_focus():
    question = "我妈今年72了，一个人住，我在外地工作照顾不了她，户口在西湖区。区里对这种独居的老年残疾人有啥帮扶吗"
    assert ask_focus(question, _words) == "区里对这种独居的老年残疾人有啥帮扶吗"


@pytest.mark.parametrize("question", ["高企奖多少", "今年第一次评上高企了，奖多少？", "高企，奖励，多少"])
def test_a_short_question_has_no_focus_of_its_own(question):
    assert ask_focus(question, _words) == ""


def test_clauses_keep_their_punctuation():
    assert clauses("我住余杭，在西湖区开店。奖多少？") == ["我住余杭，", "在西湖区开店。", "奖多少？"]


def test_only_the_kind_of_help_asked_for_names_no_topic():
    assert not names_topic(["听说", "奖励"])
    assert names_topic(["高企", "奖励"])


@pytest.fixture(scope="module")
def scope() -> Scope:
    return Scope.load(PROJECT_ROOT / "knowledge" / "scope.yaml")


@pytest.mark.parametrize(
    ("question", "focus", "reason"),
    [
        # another place in the story is background when the question names 西湖区 or a place in it
        (
            "我家住拱墅区，但我爸妈住在西湖区，想帮他们问下西湖区今年新增多少家老年食堂？",
            "想帮他们问下西湖区今年新增多少家老年食堂？",
            "",
        ),
        ("我住余杭，在西湖区新注册开了一家奶茶公司，今年社零1.2亿，一次性奖励多少？", "一次性奖励多少？", ""),
        # ... not when the question names none: the company is in 余杭
        ("我在余杭开了个厂，今年买了工业机器人，能补多少？", "能补多少？", "other_region"),
        # ... nor when the asking part itself is about the other place
        (
            "我们公司在西湖区，规模不大，想了解一下滨江区的人才政策有哪些",
            "想了解一下滨江区的人才政策有哪些",
            "other_region",
        ),
        # an everyday word in the story is background; in the asking part it is what is asked
        (
            "我妈今年72了，户口在西湖区，腿脚不好。区里对独居的老年残疾人有啥帮扶吗",
            "区里对独居的老年残疾人有啥帮扶吗",
            "",
        ),
        ("我在西湖区住了十年，孩子在这上学，想问问明天天气怎么样", "想问问明天天气怎么样", "off_topic"),
        # where the company applied decides 第四十一条's "通过西湖区申报": not background
        (
            "浙江文化艺术发展基金资助了我们40万，不过当时是在拱墅区申报的，西湖区的配套能拿多少？",
            "西湖区的配套能拿多少？",
            "other_region",
        ),
        # where it came from is
        ("我们公司原来在滨江注册，去年迁到西湖区，今年买了工业机器人，能补多少？", "能补多少？", ""),
    ],
)
def test_scope_judges_a_long_question_by_its_asking_part(scope, question, focus, reason):
    assert scope.refusal_reason(question, focus) == reason


def _article_topics(text: str) -> list[str]:
    """A stand-in for Retriever.article_topic_words: the words an article of the notice uses."""
    return [w for w in ("研发", "补助", "高新技术企业", "养老", "床位", "领域", "文件", "有效期") if w in text]


@pytest.mark.parametrize(
    ("question", "routes"),
    [
        ("这份文件一共涉及几个领域的政策？", ["document_sections"]),
        ("来电人问：这个文件是依据哪些上级文件出台的？", ["document_basis"]),
        ("这个政策是根据哪些上级文件制定的？", ["document_basis"]),
        ("这批政策区级财政一共安排了多少钱？有效期到什么时候？", ["document_total", "document_validity"]),
        ("这份政策有效期到什么时候？一共安排了多少钱？", ["document_validity", "document_total"]),
        ("这个文件最后是几号印发的？", ["document_date"]),
        ("这份政策总体讲的是什么，分了哪几个领域？", ["document_about"]),
        ("What is this policy about?", ["document_about"]),
        ("这个政策一共安排了多少钱？分成几个领域？", ["document_total", "document_sections"]),
        # English: the words around the aspects name no article topic of their own; the areas scope the total
        (
            "What is the total district-level funding for the seven policy areas, and for how long are the policies"
            " valid?",
            ["document_total", "document_validity"],
        ),
        ("Which provincial document is this Xihu District policy based on? I need the number.", ["document_basis"]),
        # a topic of an article of its own: about that topic, not the notice
        ("这个政策里研发补助什么时候申报？", []),
        ("这个政策的养老床位有多少张？", []),
        # no reference to the notice as a whole
        ("研发补助的有效期多久？", []),
    ],
)
def test_questions_about_the_notice_itself_are_found_from_their_words(question, routes):
    assert notice_aspects(question, _article_topics) == routes


def test_the_real_cutter_finds_no_article_topic_in_a_notice_question(fake_assistant):
    topics = fake_assistant.retriever.article_topic_words(
        "来电人想先大概了解：这份政策总体讲的是什么，分了哪几个领域？"
    )
    assert notice_aspects("来电人想先大概了解：这份政策总体讲的是什么，分了哪几个领域？", lambda _: topics) == [
        "document_about"
    ]
    assert topic_words("研发补助", fake_assistant.retriever.lexicon.topic_cutter)


def test_english_words_around_a_notice_question_name_no_article_topic(fake_assistant):
    question = (
        "Which provincial document is this Xihu District policy based on? I need the document number for my report."
    )
    topics = fake_assistant.retriever.article_topic_words
    assert notice_aspects(question, topics) == ["document_basis"]


def test_what_the_notice_says_about_a_topic_is_about_that_topic_not_the_notice(fake_assistant):
    answer = fake_assistant.ask("What does the notice say about meal services for the elderly?")
    assert answer.route != "document" and "PRE" not in answer.citations
    assert fake_assistant.ask("What is this policy about?").route == "document"
