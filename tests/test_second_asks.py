"""dev44's classes, on the fake embedder: a second ask in its own sentence without a value word of its own, windows
that stop on a subject or open on a part, sums in dollars, which departments are asked as "哪几个单位"."""

from __future__ import annotations

from decimal import Decimal

import pytest

from assistant.amounts import find_amounts
from assistant.answer import _asks
from assistant.calc_inputs import find_words
from assistant.calc_intent import plan_calculation
from assistant.extract import _completed, extend_to_value
from assistant.figures import with_registration_years, with_unit_prices, year_window
from assistant.phrasing import _date_en, _en_values


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
    lead = answer.answer.splitlines()[0]
    assert lead.startswith("云栖小镇新引进企业房租补助的标准（第三十五条）：") and "第1—2年按年房租额的100%" in lead
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


@pytest.mark.parametrize("rough", ["两三百万", "三四十万", "五六千元", "七八亿", "三五万", "一二十万"])
def test_a_rough_chinese_number_is_no_figure_to_calculate_with(rough):
    # "一年也就两三百万营业额" is about 200万 to 300万, never 2300万
    assert [a for a in find_amounts(f"一年也就{rough}营业额") if a.kind == "money"] == []


@pytest.mark.parametrize(
    ("exact", "yuan"), [("一千二百万", 12_000_000), ("二十三万", 230_000), ("两百三十万", 2_300_000)]
)
def test_exact_chinese_numbers_are_still_read(exact, yuan):
    assert [a.value for a in find_amounts(exact)] == [yuan]


def test_a_negation_before_from_where_still_negates_the_word(fake_assistant):
    question = (
        "我们是今年在西湖区新注册成立的餐饮企业（不是从本地企业拆分出来的），全年纳统社零额刚好10亿元，一次性奖励多少？"
    )
    outcome = plan_calculation(question, fake_assistant.rules)
    assert outcome.inputs["newly_registered"] is True and outcome.calculation.amount_yuan == 3_000_000


def test_a_threshold_asked_with_a_rough_figure_is_answered_with_the_standard(fake_assistant):
    answer = fake_assistant.ask(
        "I am biotech startup in Zijingang, registered 2 years. We buy lab equipment. "
        "What is minimum total investment to apply the 4% subsidy?"
    )
    assert answer.route == "rule" and "500万元以上" in answer.answer.splitlines()[0]


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("把紫金港科技城技改项目的申报表格发我一份，要word版的。", "forms"),
        ("Can you send me the application form for the robot subsidy?", "forms"),
        ("你帮我判断一下杭州云深处科技有限公司今年能不能拿到紫金港的技改资助？", "judgement"),
    ],
)
def test_forms_and_judgements_on_a_named_company_are_kinds_the_notice_never_gives(fake_assistant, question, kind):
    answer = fake_assistant.ask(question)
    assert answer.refused and answer.amount_yuan is None
    assert fake_assistant.scope.unstated_asked(question)[0].name == kind


def test_our_own_company_named_in_full_with_its_figures_is_still_computed(fake_assistant):
    answer = fake_assistant.ask("我们杭州某某科技有限公司今年研发投入比去年新增了300万，研发补助能拿多少？")
    assert answer.route == "calculation" and answer.amount_yuan == 150_000


def test_a_sum_stated_before_the_clause_answers_how_much_but_not_how_much_per_unit():
    sentence = (
        "区级每年安排资金1000万元,开展全域统防统治无人机植保飞防、茶园实施有机肥施用补贴、茶园全域布设杀虫灯等绿色防控"
    )
    window = "开展全域统防统治无人机植保飞防、茶园实施有机肥施用补贴"
    assert extend_to_value(window, sentence, "amount", forward=False).startswith("区级每年安排资金1000万元,")
    # another subject's award before the window is not carried over
    other = "对首次认定的高新技术企业给予最高20万元奖励,对重新认定通过的高新技术企业,加强培育"
    assert extend_to_value("加强培育", other, "amount", forward=False) == "加强培育"


def test_the_per_unit_question_about_a_programme_budget_states_no_figure(fake_assistant):
    answer = fake_assistant.ask("龙坞茶园有机肥施用补贴每亩补多少钱？")
    assert "1000万" not in answer.answer.splitlines()[0]


@pytest.mark.parametrize(
    "question",
    [
        "Our factory is in Zijingang Science City. This year we buy 2 imported industry robot, each one 1 million "
        "yuan, and 3 domestic robot, each 400 thousand yuan. How much subsidy total we can get?",
    ],
)
def test_english_imported_and_domestic_robots_are_summed(fake_assistant, question):
    assert plan_calculation(question, fake_assistant.rules).calculation.amount_yuan == 220_000


@pytest.mark.parametrize(
    "question", ["Who publish this policy and on which date?", "Which date was the notice issued?"]
)
def test_non_native_english_about_the_notice_itself_is_answered_from_the_preamble(fake_assistant, question):
    answer = fake_assistant.ask(question)
    assert answer.citations[:1] == ("PRE",) and "2024年5月29日" in answer.answer


def test_english_verb_forms_of_a_lexicon_word_are_one(fake_assistant):
    terms = fake_assistant.retriever.lexicon.terms_for("And if re-recognize pass, how much?")
    assert "重新认定" in terms


def test_an_english_lead_gives_the_date_in_english_with_the_notices_own():
    assert _date_en("2023年6月1日") == "1 June 2023"
    assert _date_en("5月底") == "5月底"


def test_the_whole_set_of_policies_total_is_the_closing_paragraphs(fake_assistant):
    answer = fake_assistant.ask("这一整套政策，区里一共准备花多少钱？")
    assert answer.citations[:1] == ("END",) and "150亿元" in answer.answer.splitlines()[0]


@pytest.mark.parametrize(
    ("question", "rule_id", "amount"),
    [
        (
            "我们是一家做空天信息软件开发的公司，总部新引进到云栖小镇，市场估值10亿元，引进上年度营业收入5亿元。"
            "总部一次性奖励是多少？",
            "yunqi-space-hq-award",
            2_000_000,
        ),
        (
            "去年来西湖区云栖小镇开了家做卫星数据应用的软件公司，今年营业收入第一次突破1个亿了，区里有没有奖励？",
            "yunqi-space-revenue-milestone",
            1_000_000,
        ),
    ],
)
def test_the_fields_a_headquarters_award_names_do_not_make_it_the_revenue_award(
    fake_assistant, question, rule_id, amount
):
    outcome = plan_calculation(question, fake_assistant.rules)
    assert outcome.rule.id == rule_id and outcome.calculation.amount_yuan == amount


def test_the_asking_part_of_a_long_story_chooses_the_passage(fake_assistant):
    answer = fake_assistant.ask(
        "我是做直播带货的，就我和我对象两个人，在家里播卖点茶叶和农产品，一个月流水也就几万块。看到新闻说西湖区出了一堆"
        "政策，有没有给我们这种小主播、做电商的补贴？"
    )
    assert answer.citations[:1] in (("A45",), ("A48",))


def test_a_scale_said_to_be_exceeded_in_everyday_words_is_the_larger_one(fake_assistant):
    question = (
        "我们早就不是什么小微企业了哈，规模早超了科技型中小企业那个认定标准，今年研发投入大概7个亿，"
        "听说有个不用算直接给的补助？给多少"
    )
    outcome = plan_calculation(question, fake_assistant.rules)
    assert outcome.inputs["scale"] == "above_sme" and outcome.calculation.amount_yuan == 3_000_000


def test_a_british_spelling_finds_the_american_rule_word():
    found = find_words("a newly recognised high-tech enterprise", ["newly recognized high-tech"])
    assert [(start, end) for start, end, _ in found] == [(2, 28)]


@pytest.mark.parametrize(
    "question",
    [
        "What is the award for a newly recognised high-tech enterprise? And if that same company also reaches "
        "designated size (上规模) for the first time, what's the total it can get?",
        "新认定的高新技术企业奖多少？ 如果同一家公司今年也首次上规模了，一共能拿多少？",
    ],
)
def test_a_follow_up_adding_the_first_above_scale_award_sums_it_with_the_first_recognition(fake_assistant, question):
    assert plan_calculation(question, fake_assistant.rules).calculation.amount_yuan == 500_000


def test_the_criteria_of_a_recognition_granted_elsewhere_are_never_stated(fake_assistant):
    answer = fake_assistant.ask("浙江省科技型中小企业的认定条件具体是什么？")
    assert answer.refused and answer.route == "unstated"


def test_a_validity_the_question_names_as_a_condition_is_no_question_about_the_notice(fake_assistant):
    answer = fake_assistant.ask("我们有首台套产品在推广目录有效期内 亩均评价会被列D类吗")
    assert answer.citations[:1] == ("A31",) and not answer.refused


def test_robots_of_one_origin_said_not_to_be_of_the_other_are_computed(fake_assistant):
    question = (
        "我们在紫金港科技城，今年一口气买了12台国产工业机器人，每台50万元，没有买进口的。机器人购置资助能拿多少？"
    )
    assert plan_calculation(question, fake_assistant.rules).calculation.amount_yuan == 500_000


def test_an_english_clause_asking_the_same_again_after_a_comma_is_a_second_ask():
    question = "What's the maximum district award for a first certificate, and what would a re-certification bring?"
    assert [(kind, parallel) for _, kind, parallel in _asks(question)] == [("amount", False), ("", False)]


@pytest.mark.parametrize(
    ("question", "kinds"),
    [
        (
            "Investment consultant here. What is Xihu's 2024 target for fixed-asset investment, and how many "
            "provincial major projects will the district deliver?",
            ["", "count"],
        ),
        (
            "Under the section on the five industrial ecosystems, which bureau leads implementation, and what growth "
            "rate is targeted for value added of industry above designated size?",
            ["department", "percent"],
        ),
        ("我们公司在紫金港，买机器人能补多少？", ["amount"]),
    ],
)
def test_english_asks_joined_by_and_a_question_word_are_each_answered(question, kinds):
    assert [kind for _, kind, _ in _asks(question)] == kinds


def test_no_rival_clauses_are_listed_when_the_chosen_one_holds_none_of_the_questions_words():
    from assistant.extract import rival_windows
    from assistant.records import Chunk

    text = "(十八)健全培育机制。对首次认定的企业,给予最高20万元奖励;对重新认定的企业,给予最高10万元奖励。"
    chunk = Chunk("A18", "article", 18, "十八", "健全培育机制", text, 0, len(text))
    assert rival_windows({"optics": 1.0}, chunk, "给予最高20万元奖励", chunk.text, "amount") == []


def test_the_status_of_our_application_is_never_stated(fake_assistant):
    answer = fake_assistant.ask("Can you check the status of the subsidy application our company submitted last March?")
    assert answer.refused and answer.route == "unstated"


@pytest.mark.parametrize(
    ("question", "amount"),
    [
        (
            "We're a tech SME that meets the national tech-based SME scale criteria. Our annual R&D investment was "
            "RMB 8 million in 2023 and RMB 11 million in 2024. What's the maximum R&D input subsidy?",
            150_000,
        ),
        (
            "Large listed manufacturer, far beyond SME size. Our R&D spending was RMB 480 million last year and "
            "RMB 520 million this year. What R&D subsidy applies to us?",
            3_000_000,
        ),
    ],
)
def test_english_figures_dated_after_them_and_a_scale_said_to_be_beyond_are_read(fake_assistant, question, amount):
    assert plan_calculation(question, fake_assistant.rules).calculation.amount_yuan == amount


def test_an_english_year_of_a_schedule_written_as_a_word_is_that_year():
    assert year_window("what would the subsidy be in year three?", Decimal(4)) == (Decimal(3), None)


def test_tickets_counted_in_english_multiply_their_price():
    found, products = with_unit_prices(
        "we bought two round-trip economy-class tickets at ¥12,000 each",
        find_amounts("we bought two round-trip economy-class tickets at ¥12,000 each"),
    )
    assert [a.value for a in found if a.kind == "money"] == [24_000]


@pytest.mark.parametrize(
    "question",
    [
        "What was the total budget of Xihu District's 2023 economic support policy package?",
        "We submitted our R&D subsidy application in March. Has it been approved yet, and when will the money arrive?",
    ],
)
def test_english_questions_about_another_years_package_or_an_applications_progress_are_refused(
    fake_assistant, question
):
    assert fake_assistant.ask(question).refused
