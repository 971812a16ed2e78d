"""Questions typed in a hurry on a phone (dev35's classes), on the fake embedder: spaces for commas, a typo'd or
vague topic word that fits several clauses of one article, the user's own guess, conditions vouched for as a whole,
a company elsewhere setting up here."""

from __future__ import annotations

import pytest

from assistant.calc_intent import plan_calculation
from assistant.figures import phone_commas


def _plan(question: str, fake_assistant):
    return plan_calculation(question, fake_assistant.rules, ["A14", "A34", "A35"])


def test_a_space_between_chinese_words_is_a_comma_and_nothing_else():
    assert phone_commas("早就不是小微企业了 规模超过科小标准") == "早就不是小微企业了，规模超过科小标准"
    assert phone_commas("研发投入1000 万元, rd 5 million") == "研发投入1000 万元, rd 5 million"


def test_a_negation_in_one_typed_stretch_does_not_contradict_the_next(fake_assistant):
    outcome = _plan(
        "我们早就不是小微企业了 规模超过科技型中小企业标准 研发去年1.2亿 今年1.4亿 研发补助能拿多少", fake_assistant
    )
    assert outcome.clarification is None
    assert outcome.calculation.amount_yuan == 1_000_000  # (1.4亿 − 1.2亿) × 5%


def test_items_separated_by_spaces_are_summed(fake_assistant):
    outcome = _plan("紫金港科技城的 买机器人:进口2台每台150万 国产5台每台60万 一共能补多少", fake_assistant)
    assert outcome.calculation.amount_yuan == 450_000  # 300万 × 5% + 300万 × 10%


@pytest.mark.parametrize(
    ("question", "amount"),
    [
        ("国产机器人买了10台 每台80万 厂在紫金港 能补80万不", 500_000),  # 800万 × 10% = 80万, over the 50万 cap
        ("规模已经超过科小标准了 研发投入从3亿涨到3.8亿 按5%是不是能拿400万", 3_000_000),
    ],
)
def test_the_users_guess_after_can_i_get_is_no_input(fake_assistant, question, amount):
    outcome = _plan(question, fake_assistant)
    assert outcome.calculation.amount_yuan == amount


def test_conditions_vouched_for_as_a_whole_are_computed_as_met_and_said_so(fake_assistant):
    question = "云栖小镇的规上企业，上年营收5000万，那几个增长条件都满足，研发费用2000万，能拿多少"
    outcome = _plan(question, fake_assistant)
    assert outcome.calculation.amount_yuan == 6_000_000
    assert any(a.startswith("按您所说已满足") for a in outcome.calculation.assumptions)
    denied = _plan(question.replace("都满足", "都不满足"), fake_assistant)
    assert denied.calculation is None or denied.calculation.amount_yuan is None


def test_two_fixed_awards_of_one_article_asked_together_are_added(fake_assistant):
    answer = fake_assistant.ask("第一次认定高企 同年又首次上规模 两项加一起多少")
    assert answer.amount_yuan == 500_000 and answer.citations[0] == "A18"


def test_a_total_and_its_part_typed_with_a_space_are_both_answered(fake_assistant):
    answer = fake_assistant.ask("乡村振兴区财政一共安排多少 其中龙井茶的多少")
    lead = answer.answer.split("\n\n")[0]
    assert "9979万元" in lead and "989万元" in lead


def test_a_topic_word_that_fits_several_clauses_lists_them_instead_of_picking(fake_assistant):
    answer = fake_assistant.ask("高心企业 第一次认定 给多少钱啊 急")
    lead = answer.answer.split("\n\n")[0]
    assert answer.citations[0] == "A18"
    assert "20万元" in lead and "50万元" in lead and "哪一种" in lead


def test_a_topic_word_that_tells_the_clauses_apart_gets_one_answer(fake_assistant):
    answer = fake_assistant.ask("新认定的高企奖多少")
    lead = answer.answer.split("\n\n")[0]
    assert "20万元" in lead and "50万元" not in lead and "哪一种" not in lead


def test_a_window_stating_the_value_keeps_it_over_a_nearby_figure(fake_assistant):
    from assistant.extract import best_passage

    a59 = fake_assistant.retriever.by_id["A59"]
    grams = {"西湖": 3.0, "湖龙": 2.5, "龙井": 5.0, "奖励": 2.7, "hand-roasting": 6.5}
    _chunk, window, _sentence = best_passage(grams, [a59], "amount")
    assert window == "对评上西湖龙井手工炒制大师的给予1万元奖励"


def test_a_company_elsewhere_setting_up_here_is_in_scope(fake_assistant):
    answer = fake_assistant.ask("我在上海有家公司 打算在云栖小镇新设一家 房租补贴咋算的")
    assert not answer.refused and answer.citations[0] == "A35"
    assert fake_assistant.ask("拱墅区和西湖区的高企奖励有什么区别").refused


def test_the_notices_expiry_asked_in_passing_is_answered_from_the_closing_paragraph(fake_assistant):
    answer = fake_assistant.ask("话说这文件啥时候到期啊")
    assert answer.citations == ("END",) and "2024年全年实施有效" in answer.answer


def test_asking_for_the_conditions_of_something_the_notice_never_names_is_refused(fake_assistant):
    answer = fake_assistant.ask("杭州现在还限购吗 买二套要啥条件")
    assert answer.refused and not answer.citations


def test_a_condition_failed_only_on_a_figure_read_by_its_kind_asks_instead_of_saying_not_eligible(fake_assistant):
    outcome = _plan("云栖小镇的规上企业，上一年度营收8000万元，研发费用总额2500万元，一年最多奖多少？", fake_assistant)
    assert outcome.calculation is None  # not "不符合…保持正增长的年数需要≥2年，实际1年"
    assert "营业收入保持正增长的年数 = 1年，但这个数字不一定是指它" in outcome.clarification


def test_a_joined_turn_naming_its_own_topic_is_answered_from_a_window_holding_it(fake_assistant):
    history = [
        {"role": "user", "content": "集成电路企业迁到紫金港科技城有租房补贴吗？"},
        {
            "role": "assistant",
            "content": "有。根据第三十四条，按实际承租办公用房金额的50%给予三年租房补贴，累计不超过150万元。",
        },
    ]
    answer = fake_assistant.ask("流片补贴一年最多多少？", history)
    lead = answer.answer.split("\n\n")[0].split("\n")[-1]  # after the note of how the turns were read
    assert answer.citations[0] == "A34"
    assert "流片补贴" in lead and "300万元" in lead and "租房补贴" not in lead


def test_the_words_saying_the_topic_changes_are_not_retrieved():
    from assistant.conversation import without_switch

    assert (
        without_switch("换个问题，我女儿明年上小学，区里今年新增多少学位？")
        == "我女儿明年上小学，区里今年新增多少学位？"
    )
    assert without_switch("Different question: how large is the charity trust?") == "how large is the charity trust?"
    assert without_switch("高企奖多少") == "高企奖多少"


def test_a_new_question_after_a_switch_phrase_is_answered_from_its_own_article(fake_assistant):
    history = [{"role": "user", "content": "高企奖多少"}, {"role": "assistant", "content": "第十八条：最高20万元。"}]
    answer = fake_assistant.ask("换个问题，我女儿明年上小学，区里今年新增多少学位？", history)
    assert not answer.refused and answer.citations[0] == "A68" and "5010个" in answer.answer
