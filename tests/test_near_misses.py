"""Requests that look close to the notice but that it cannot serve, and English or spoken figures (dev38's classes),
on the fake embedder."""

from __future__ import annotations

import pytest

from assistant.calc_intent import plan_calculation


def _plan(question: str, fake_assistant):
    return plan_calculation(question, fake_assistant.rules, ["A14", "A17", "A35", "A46"])


@pytest.mark.parametrize(
    "question",
    [
        "Write a 300-word promotional article about Longwu Tea Town for our WeChat account.",
        "Has the 2025 version of the Xihu District high-quality development policy been released yet?",
        "杭州市级的政策(杭政函〔2024〕16号)里，对首次认定高企奖励多少？",
    ],
)
def test_a_request_near_the_notice_that_it_cannot_serve_is_refused(fake_assistant, question):
    answer = fake_assistant.ask(question)
    assert answer.refused and not answer.citations and answer.amount_yuan is None


def test_the_notices_own_year_in_english_is_not_another_version(fake_assistant):
    assert not fake_assistant.ask(
        "In the 2024 policy, what is the district target for total fixed-asset investment?"
    ).refused


def test_a_choice_between_two_figures_the_notice_never_states_says_it_states_none(fake_assistant):
    answer = fake_assistant.ask("研发费用加计扣除比例到底是100%还是120%？我们财务账该怎么做才能多扣一点？")
    assert answer.route == "no_value" and "没有规定具体比例" in answer.answer


def test_a_price_per_person_with_its_item_named_is_multiplied_by_the_head_count(fake_assistant):
    outcome = _plan(
        "我们外贸公司2024年一季度去德国参加国际专业展会，展位费10万元，去了3个人，每人往返经济舱机票2万元。"
        "展位费和机票补助最多一共多少？",
        fake_assistant,
    )
    assert outcome.calculation.amount_yuan == 112_000  # (10万 + 3 × 2万) × 70%


def test_far_above_the_sme_standard_is_above_it(fake_assistant):
    outcome = _plan(
        "我们早就不是小微企业了，经营规模远超国家科技型中小企业认定标准。研发投入从去年的2.2亿增加到今年的3亿，最多能拿多少？",
        fake_assistant,
    )
    assert outcome.rule.id == "rd-subsidy-large" and outcome.calculation.amount_yuan == 3_000_000


@pytest.mark.parametrize(
    ("question", "amount"),
    [
        (
            "A new aerospace-information headquarters company moved to Yunqi Town. Market valuation is RMB 3.5 billion "
            "and revenue in the year before introduction was RMB 600 million. Which reward tier applies and how much?",
            5_000_000,  # 35亿 > 15亿 and 6亿 > 4亿, not 8亿: the third tier, not summed with the star-rated HQ award
        ),
        (
            "Our municipal-level incubator was upgraded to provincial level, and later from provincial to national "
            "level. How much in total could we get for both upgrades at most?",
            1_000_000,
        ),
    ],
)
def test_english_awards_are_read_as_their_chinese_counterparts(fake_assistant, question, amount):
    outcome = _plan(question, fake_assistant)
    assert outcome.calculation.amount_yuan == amount


def test_an_english_question_for_the_cap_asks_for_an_amount():
    from assistant.answer import wanted_value

    assert wanted_value("what is the annual cap per company?") == "amount"
    assert wanted_value("what is the funding ceiling for the platform?") == "amount"
