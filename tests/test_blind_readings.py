"""How the assistant reads the classes the seventh session's blind sets (dev55, dev56) found, on the fake embedder:
a user's guessed result after a rate is no input, an A-not-A question is no negation, English scale and count
phrasings, a range read out as the notice writes it, days asked, places to eat, the notice's own sections."""

from __future__ import annotations

from decimal import Decimal

import pytest

from assistant.amounts import format_money_range
from assistant.answer import wanted_value
from tests.test_calc_intent import _plan

W = 10_000


@pytest.mark.parametrize(
    ("question", "amount"),
    [
        # the user's own arithmetic after the rate: 400万 is the 5% they worked out, not the increase
        (
            "集团规模的企业（肯定超过科技型中小企业标准了），研发投入从去年2亿涨到今年2.8亿，按新增额5%算是400万吧？能拿这么多吗",
            300 * W,
        ),
        ("我们零售连锁在西湖区新注册的（不是拆分的），全年纳统社零40个亿，按0.5%应该2000万吧？", 1500 * W),
    ],
)
def test_a_result_guessed_after_the_rate_is_no_input(question, amount):
    outcome = _plan(question)
    assert outcome.calculation is not None and outcome.calculation.amount_yuan == amount


def test_an_a_not_a_question_negates_nothing():
    # "是不是研发补助就没份了" asks; it does not deny the 研发补助 (was asked back about "不是研发补助")
    outcome = _plan(
        "我们是大企业，超过科技型中小企业认定标准的那种。今年研发投入6个亿，不过比去年只多了300万，新增没到500万，是不是研发补助就没份了？"
    )
    assert outcome.calculation is not None and outcome.calculation.amount_yuan == 300 * W
    assert outcome.clarification is None


def test_way_past_the_sme_size_is_the_larger_scale():
    outcome = _plan(
        "we are way past the 科技型中小企业 size limit. R&D went up by 8 million rmb vs last year, how much subsidy?"
    )
    assert outcome.inputs.get("scale") == "above_sme"
    # and a plain "small tech company" is the SME scale
    outcome = _plan("We are a small tech company, R&D went up by 3 million rmb vs last year, how much subsidy?")
    assert outcome.inputs.get("scale") == "sme"


def test_an_english_count_may_carry_a_chinese_gloss_and_buying_asks_a_calculation():
    outcome = _plan(
        "We plan to buy 20 domestic (国产) industrial robots at 400,000 yuan each for our plant in Zijingang. "
        "What's the robot purchase subsidy?"
    )
    assert outcome.calculation is not None
    assert outcome.inputs["robot_purchase"] == Decimal(800 * W)
    assert outcome.calculation.amount_yuan == 50 * W  # 800万 × 10% = 80万, over the 50万 cap


def test_a_range_is_written_as_the_notice_writes_it():
    assert format_money_range(Decimal(6 * W), Decimal(30 * W)) == "6-30万元"
    assert format_money_range(Decimal(5000), Decimal(2 * W)) == "5000元-2万元"


def test_the_english_lead_of_a_range_names_both_ends(fake_assistant):
    answer = fake_assistant.ask(
        "My cousin runs a tea processing company in Longwu. He bought 8 tons of Longjing maocha from Xihu tea "
        "farmers last year, all recorded in the digital management system. How much is the reward?"
    )
    assert answer.citations[0] == "A59"
    assert answer.answer.startswith("RMB 60,000 to RMB 300,000 (6-30万元)")


@pytest.mark.parametrize("question", ["赛前要提前几天备案？", "how many days before the event must we register?"])
def test_days_are_asked_as_a_date(question):
    assert wanted_value(question) == "date"


def test_days_asked_are_answered_from_the_clause_that_states_them(fake_assistant):
    answer = fake_assistant.ask(
        "If a private company funds and hosts a sports event for a government department, which bureau do we "
        "register (备案) with, and how many days before the event?"
    )
    assert answer.citations[0] == "A43" and answer.route == "fact"
    assert "30日" in answer.answer[:250] and "区文广旅体局" in answer.answer[:250]


@pytest.mark.parametrize(
    "question", ["Recommend a good restaurant near West Lake for Longjing shrimp.", "推荐一家西湖边好吃的杭帮菜餐馆"]
)
def test_a_place_to_eat_is_not_recommended(fake_assistant, question):
    assert fake_assistant.ask(question).refused


def test_a_fair_recommended_by_the_district_is_no_restaurant(fake_assistant):
    answer = fake_assistant.ask(
        "Our tea cooperative was recommended by the district agriculture office to exhibit at an agricultural fair "
        "outside Zhejiang. Is there any subsidy for that?"
    )
    assert not answer.refused  # (which article it cites is the real embedder's: the fake one finds 第四十六条's fairs)


def test_the_document_s_sections_asked_without_this(fake_assistant):
    answer = fake_assistant.ask("文件一共分几个领域的政策")
    assert answer.citations == ("END",) and "7个领域" in answer.answer[:120]


@pytest.mark.parametrize(
    ("question", "amount"),
    [
        # a ticket price written without 元 after 每人 / 每张, times the people who went
        (
            "我们是外贸公司，今年2月份去德国参加了一个国际专业展会，展位费6万，去了2个人，往返经济舱机票每人8000，按政策最多能补多少钱？",
            53200,
        ),
        ("今年1月去日本参展，展位费3万，机票每张5000，去了3个人，能补多少", 31500),
    ],
)
def test_a_price_per_person_without_yuan_is_read_as_yuan(question, amount):
    outcome = _plan(question)
    assert outcome.calculation is not None and outcome.calculation.amount_yuan == amount


def test_a_bare_number_without_a_per_unit_word_is_no_price():
    outcome = _plan("我们公司2024年3月去境外参展，编号12345，能补多少")
    # asked for the booth fee and the tickets: 12345 is nobody's price
    assert outcome.clarification is not None and "booth_fee" not in outcome.inputs and "airfare" not in outcome.inputs


def test_incubated_companies_said_in_english_earn_the_incubator_their_award():
    outcome = _plan(
        "Our city-level tech incubator got a five-star annual rating. Also 3 companies we incubate passed high-tech "
        "enterprise 备案 while still in the incubator. What's the most we can receive in total?"
    )
    assert outcome.calculation is not None and outcome.calculation.amount_yuan == 75 * W  # 30万 + 3 × 15万


def test_a_date_put_up_to_be_checked_is_asked_not_the_topic(fake_assistant):
    history = [
        {"role": "user", "content": "出国参展展位费能补多少"},
        {"role": "assistant", "content": "第四十六条：给予不超过70%的展位费补助和不超过70%的往返经济舱机票补助。"},
    ]
    assert wanted_value("这个是全年都能申请吗") == "date"
    answer = fake_assistant.ask("这个是全年都能申请吗", history)
    # the booth-fee clause and its 一季度, not "全年组织不少于40个外贸团组"
    assert answer.citations[0] == "A46" and "一季度" in answer.answer[:200] and "外贸团组" not in answer.answer[:200]


def test_a_total_the_user_names_frames_the_ask_after_it(fake_assistant):
    from assistant.asks import ask_focus

    question = "区财政2024年预算安排的75.9亿里，民生保障类项目有多少？"
    assert ask_focus(question, lambda clause: True) == "民生保障类项目有多少？"
    answer = fake_assistant.ask(question)
    assert answer.citations[0] == "A2" and "31.04亿元" in answer.answer[:150]


def test_what_follows_first_entering_the_statistics_is_the_sustained_growth_award():
    outcome = _plan("上规以后还有后续奖励吗")
    assert outcome.rule.id == "above-scale-sustained-growth"


def test_a_question_typed_partly_in_pinyin_is_judged_by_its_chinese(fake_assistant):
    from assistant.retrieve import topic_words

    question = "women shi ruanjian gongsi，第一次入选国家鼓励的重点软件企业，jiangli duoshao?"
    words = topic_words(question, fake_assistant.retriever.lexicon.topic_cutter)
    assert not {"women", "ruanjian", "gongsi", "jiangli", "duoshao"} & set(words)
    assert "软件企业" in "".join(words)
    # an English word in a Chinese question is still a topic of its own ("iphone" is no pinyin)
    assert "iphone" in topic_words("iPhone手机在西湖区买有补贴吗", fake_assistant.retriever.lexicon.topic_cutter)


@pytest.mark.parametrize(
    ("question", "inside"),
    [
        ("杭政函〔2024〕16号市里那个文件里，高新技术企业奖励是多少", True),  # another document's content
        ("浙政发〔2024〕4号文里讲了什么", True),
        ("这个政策是根据杭政函〔2024〕16号制定的吗", False),  # the notice's basis: answered from PRE
    ],
)
def test_a_described_document_named_by_its_number_is_another_document(question, inside):
    from assistant.scope import asks_inside_other_document

    assert asks_inside_other_document(question) is inside


def test_an_english_grant_question_gets_the_clause_with_its_amount(fake_assistant):
    answer = fake_assistant.ask("Is there a grant for a proof-of-concept centre that gets onto the creation list?")
    assert answer.citations[0] == "A16" and "50万元" in answer.answer[:200]


def test_office_goods_bought_apart_are_left_out_of_the_equipment_base(fake_assistant):
    question = "我们是生物医药公司，在紫金港科技城注册第三年。技改项目立项1500万，实际买仪器设备花了1200万，另外还买了电脑和空调50万。这个补贴最多多少？"
    outcome = _plan(question)
    assert outcome.calculation is not None and outcome.calculation.amount_yuan == 48 * W  # 1200万 × 4%
    answer = fake_assistant.ask(question).answer
    assert "50万元：原文不含，不计入" in answer  # the user sees the 50万 was read and left out
    # given without 另外 or 其中 it may be inside the 600万: still asked
    asked = _plan("紫金港生物医药企业注册两年，购买仪器设备600万，电脑空调80万，能补多少")
    assert asked.calculation is None and "是否已包含" in asked.clarification


@pytest.mark.parametrize(
    ("question", "rules", "amount"),
    [
        # first recognition said in English, with the first year above designated size: both awards of 第十八条
        (
            "This year we were recognised as a high-tech enterprise (高企) for the first time, and it's also our first "
            "year reaching 规模 (above designated size). What's the total max award from Xihu for these two?",
            "high-tech-first",
            50 * W,
        ),
        ("We were re-recognized as a high-tech enterprise this year, how much?", "high-tech-renewal", 10 * W),
        ("We were recognized as a high-tech enterprise again after the review, how much?", "high-tech-renewal", 10 * W),
    ],
)
def test_english_recognition_of_a_high_tech_enterprise_first_or_again(question, rules, amount):
    outcome = _plan(question)
    assert outcome.rule.id == rules and outcome.calculation.amount_yuan == amount


@pytest.mark.parametrize(
    "question",
    [
        "What does Gongshu District pay for a newly recognised high-tech enterprise? We're choosing between Gongshu and "
        "Xihu for our office.",
        "Write a full business plan for my new milk-tea shop on Wensan Road, including a 3-year financial forecast.",
        "Recommend a nice Longjing tea house near West Lake to take some investors to on Friday.",
    ],
)
def test_english_requests_the_notice_does_not_cover_are_refused(fake_assistant, question):
    assert fake_assistant.ask(question).refused


@pytest.mark.parametrize(
    "question",
    [
        "Used to run a VR studio in Shanghai, now relocating to Hangzhou — thinking about the Wensan Digital Life Street "
        "in Xihu. We do metaverse / AR stuff. Any rent support there and how is it paid out?",
        "我们以前在上海开过工作室，现在搬到西湖区，元宇宙企业房租有补助吗",
    ],
)
def test_a_place_the_asker_worked_before_is_background(fake_assistant, question):
    assert fake_assistant.scope.refusal_reason(question) == ""


def test_an_english_stop_before_a_space_ends_a_clause_but_a_decimal_point_does_not():
    from assistant.asks import clauses

    assert clauses("We do AR stuff. Any rent support there?") == ["We do AR stuff.", " Any rent support there?"]
    assert clauses("about 1.5 million yuan, ok") == ["about 1.5 million yuan,", " ok"]


@pytest.mark.parametrize(
    ("question", "amount"),
    [
        # no high-tech word: 第三十一条's first entry plus the individual business turned company, not 第十八条
        (
            "we used to be a getihu like an individual business then we became a proper company um limited company "
            "making packaging and this year we got into the above scale stats for the first time what do we get",
            30 * W,
        ),
        (
            "We're a software company (not industrial). In 2024 we were recognised as a high-tech enterprise for the "
            "first time and also crossed the above-scale threshold for the first time. Under the high-tech enterprise "
            "article, what's the maximum total?",
            50 * W,
        ),
    ],
)
def test_above_scale_in_english_belongs_to_the_article_its_company_names(question, amount):
    assert _plan(question).calculation.amount_yuan == amount


@pytest.mark.parametrize(
    ("question", "route"),
    [
        (
            'Who actually issued this Xihu "high-quality development" policy document, and what date is on it?',
            "document_issuer",
        ),
        ("这个政策是谁出台的", "document_issuer"),
        ("What is the official title of this policy document?", "document_date"),
        ("这个文件的全称叫什么", "document_date"),
    ],
)
def test_who_issued_and_the_title_are_asked_of_the_notice(fake_assistant, question, route):
    assert route in fake_assistant._document(question).split("+")


@pytest.mark.parametrize(
    ("question", "route"),
    [
        ("麻烦把第三十四条里工业机器人那句原文念一下", "fact"),  # that sentence of the article
        ("Article 34 - read me the sentence on industrial robots", "fact"),
        ("第18条高企那句怎么说的", "fact"),  # 高企 stands for 高新技术企业
        ("第二十七条讲的是什么？", "lookup"),  # the article as a whole
        ("第十四条研发投入补助 第一句原文读一下", "lookup"),  # named by its own title
    ],
)
def test_an_article_named_with_a_topic_inside_it_is_answered_with_that_sentence(fake_assistant, question, route):
    answer = fake_assistant.ask(question)
    assert answer.route == route
    if "机器人" in question or "robots" in question:
        assert answer.citations[0] == "A34" and "工业机器人" in answer.answer[:120]


def test_a_scale_passed_long_ago_is_the_larger_scale():
    outcome = _plan("我们早就过了科技型中小企业的规模标准了 今年研发比去年多投了400万 能申请研发投入补助吗")
    assert outcome.inputs.get("scale") == "above_sme"
    # 通过 is no 过了: "通过了科技型中小企业评价" is the SME scale
    assert _plan("我们通过了科技型中小企业评价，研发投入比去年多了300万，能拿多少").inputs.get("scale") == "sme"


def test_these_two_parts_are_no_sum_of_money():
    from assistant.amounts import find_amounts

    assert [a.text for a in find_amounts("这两块最多能补多少钱？")] == []  # 这两块: these two parts, not 2块 (yuan)
    assert [a.value for a in find_amounts("这3000万是设备投入") if a.kind == "money"] == [Decimal(3000 * W)]
    outcome = _plan(
        "我们是外贸企业，2024年一季度去德国参加了一个国际专业展，展位费10万，两个人往返经济舱机票一共2.4万，这两块最多能补多少钱？"
    )
    assert outcome.calculation.amount_yuan == Decimal(
        86800
    )  # (10万 + 2.4万) × 70%; was 86801.4 with a booth fee of 2元
