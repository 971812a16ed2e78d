"""Answers to the classes blind sets showed (dev27-dev31), on the fake embedder: questions about the notice itself,
requests the notice cannot serve, staged awards asked with their total, a second item left out of a sum."""

from __future__ import annotations

import pytest

from assistant.calc_intent import plan_calculation


def test_the_number_of_policy_areas_is_answered_from_the_closing_paragraph(fake_assistant):
    answer = fake_assistant.ask("这份文件一共涵盖几个领域的政策？")
    assert answer.citations[0] == "END"
    assert "共7个领域的政策、72条：扩大有效投资政策、科技创新政策" in answer.answer
    assert "上述7个领域政策" in answer.answer


def test_two_asks_about_the_notice_are_both_answered_in_the_order_asked(fake_assistant):
    answer = fake_assistant.ask("这批政策区级财政一共安排了多少钱？有效期到什么时候？")
    lead = answer.answer.split("\n\n")[0]
    assert lead.index("150亿元") < lead.index("2024年全年实施有效")


def test_the_basis_of_the_notice_is_answered_from_the_preamble(fake_assistant):
    answer = fake_assistant.ask("来电人问：这个文件是依据哪些上级文件出台的？")
    assert answer.citations == ("PRE",)
    assert "浙政发〔2024〕4号" in answer.answer and "杭政函〔2024〕16号" in answer.answer


@pytest.mark.parametrize(
    "question", ["帮我写一篇龙坞茶文化节开幕式上的领导致辞，500字左右。", "帮我写一份高新技术企业认定申报书，3000字"]
)
def test_a_writing_task_is_refused_by_its_measure_or_length(fake_assistant, question):
    answer = fake_assistant.ask(question)
    assert answer.refused and not answer.citations and "不能代写材料" in answer.answer


def test_ones_own_application_status_is_not_answered_from_an_article(fake_assistant):
    answer = fake_assistant.ask("我上个月提交的研发补助申请审核到哪一步了？")
    assert answer.refused
    assert answer.answer.startswith("《关于进一步推动经济高质量发展的若干政策》没有写个人申报的审核进度和结果。")
    assert answer.amount_yuan is None


def test_how_to_apply_for_a_named_award_states_no_amount(fake_assistant):
    answer = fake_assistant.ask("首次认定高企的20万奖励具体怎么申请？要交哪些材料、去哪里交？")
    assert answer.refused and answer.amount_yuan is None
    assert "没有写申报材料和办理流程" in answer.answer


def test_a_which_article_question_names_the_article_with_its_title(fake_assistant):
    answer = fake_assistant.ask("托育、生育补助这块是哪条？")
    assert answer.answer.startswith("根据第六十七条（支持推进“幼有善育”），")


def _plan(question: str, fake_assistant):
    return plan_calculation(question, fake_assistant.rules, ["A35", "A34"])


@pytest.mark.parametrize(
    ("question", "amount"),
    [
        (
            "空天信息制造类企业，新引进云栖小镇，迁入后12个月内设备投入6000万，固定资产补贴多少？其中多少要等达产升规后才拨？",
            12_000_000,
        ),
        (
            "新引进到云栖的空天信息制造企业，迁入后12个月内设备投入5000万，固定资产补贴一共多少？先拿多少，后面什么时候拿？",
            10_000_000,
        ),
        ("新引进云栖的空天信息制造企业，设备投入3000万，达产升规前能先拿多少？", 3_000_000),
    ],
)
def test_a_staged_award_asked_with_its_total_answers_the_total(fake_assistant, question, amount):
    outcome = _plan(question, fake_assistant)
    assert outcome.clarification is None
    assert outcome.calculation.amount_yuan == amount
    assert "达产升规后拨付" in outcome.calculation.trace


def test_a_sum_given_for_the_other_option_is_added_not_left_out(fake_assistant):
    question = (
        "Our company in Zijingang Science City bought 2 imported industrial robots at 1,000,000 yuan each and "
        "3 domestic ones at 400,000 yuan each. How much subsidy can we get in total?"
    )
    outcome = _plan(question, fake_assistant)
    # 10万元 for the imported robots alone was once stated as the total; then it was asked about; now both are read
    assert outcome.calculation.amount_yuan == 220_000
    assert "3 × 40万元 = 120万元" in outcome.calculation.trace


def test_a_sum_for_the_other_option_said_without_its_count_is_added_too(fake_assistant):
    question = "紫金港科技城的企业，买了2台进口工业机器人，每台100万元，国产的那边也花了40万，一共能补多少？"
    assert _plan(question, fake_assistant).calculation.amount_yuan == 140_000  # 200万 × 5% + 40万 × 10%


def test_a_hedged_price_per_unit_is_multiplied_by_its_count(fake_assistant):
    outcome = _plan("紫金港科技城企业，国产工业机器人买了6台每台大概30万，能补多少钱", fake_assistant)
    assert outcome.calculation.amount_yuan == 180_000


def test_a_total_and_a_part_of_it_are_both_answered(fake_assistant):
    answer = fake_assistant.ask("乡村振兴区财政安排了多少预算？其中给西湖龙井茶产业发展与保护的是多少？")
    lead = answer.answer.split("\n\n")[0]
    assert answer.citations[0] == "A52"
    assert "9979万元" in lead and "989万元" in lead


def test_a_calculation_that_still_needs_a_figure_asks_back(fake_assistant):
    answer = fake_assistant.ask(
        "去年我们研发投入1500万，今年比去年增长了40%，公司规模已经超过科技型中小企业认定标准。今年研发投入补助最多多少？"
    )
    assert answer.amount_yuan is None
    assert answer.route == "clarify"  # no amount stated as an answer: the benchmark counts it as asking back


def test_a_sum_for_what_the_clause_leaves_out_asks_back(fake_assistant):
    # beside the total, not said to be inside it (其中: then it is taken off, tests/test_parts_and_sums.py)
    outcome = _plan(
        "生物医药公司在紫金港科技城注册满两年。今年技改买仪器设备花了1250万，空调、电脑这些办公设备30万，"
        "实际投资和立项金额一致。设备补贴最多多少？",
        fake_assistant,
    )
    assert outcome.calculation is None  # not 50万元 on the whole 1250万
    assert "(不含空调、电脑等办公类设备)" in outcome.clarification and "30万" in outcome.clarification


def test_the_users_own_guess_of_the_award_is_no_input(fake_assistant):
    outcome = _plan(
        "我们厂在紫金港科技城，今年一口气上了12台国产工业机器人，每台50万元，按10%算应该有60万吧？实际能拿多少？",
        fake_assistant,
    )
    assert outcome.calculation.amount_yuan == 500_000  # 12台 × 50万元 × 10% = 60万元, over the 50万元 cap


@pytest.mark.parametrize(
    "question",
    ["西湖区2023年那一版政策里，首次上规纳统的奖励是多少？", "西湖区2023年那版政策里，研发投入补助的比例是多少？"],
)
def test_another_years_version_is_refused(fake_assistant, question):
    answer = fake_assistant.ask(question)
    assert answer.refused and answer.amount_yuan is None


def test_a_turn_that_says_the_topic_changes_is_read_alone(fake_assistant):
    history = [
        {"role": "user", "content": "首次认定的新雏鹰企业奖励多少"},
        {"role": "assistant", "content": "最高可获50万元奖励（第十八条）。"},
    ]
    answer = fake_assistant.ask("说点别的，我外婆是残疾人，今年72岁，一个人住，文件里对她这种情况有什么？", history)
    assert answer.joined_to == "" and answer.amount_yuan is None
    assert "A18" not in answer.citations


def test_a_long_question_asks_in_its_asking_part_not_in_its_story(fake_assistant):
    answer = fake_assistant.ask(
        "我爸前年中风以后就瘫在床上了，评了一级残疾，家里是老房子，卫生间门槛很高，轮椅推不进去，我一个人又要上班又要照顾他，"
        "真的很累。社区的人说可以申请什么改造，我也不知道找谁。想问问这个文件里有没有说给重度残疾人家庭做无障碍改造的？"
    )
    assert answer.route == "fact" and answer.citations[0] == "A72"
    assert "无障碍改造" in answer.answer.split("\n\n")[0]
