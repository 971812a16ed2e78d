"""The sixth session's classes (dev48, dev51, dev52), on the fake embedder: figures that are no money are not read
out as yuan, "how much land" asks a quantity, English asks answered each, background places, turns pointing back."""

from __future__ import annotations

from assistant.answer import _asks, _asks_figure_too, wanted_value
from assistant.phrasing import _en_values


def test_a_bare_wan_followed_by_another_unit_is_no_money():
    assert _en_values("2024年新开工保障性住房不少于11万平方米") == ""
    assert _en_values("城镇职工基本养老保险新增参保1万人") == ""
    # a bare 万 standing alone is still money ("分别给予1万、0.8万、0.5万的一次性奖励")
    assert _en_values("分别给予1万、0.8万的一次性奖励") == "10,000 yuan (1万), 8,000 yuan (0.8万)"


def test_how_much_land_asks_a_quantity_and_how_much_funding_asks_money():
    assert wanted_value("How much forest land will be guaranteed for construction projects?") == "count"
    assert wanted_value("How much new construction land quota does Xihu plan to obtain?") == "count"
    assert wanted_value("How much does the government industry fund plan to invest externally?") == "amount"


def test_a_figure_asked_besides_the_department_makes_two_asks():
    question = (
        "In the people's livelihood section, what share of general public budget expenditure has to go to "
        "livelihood, and which bureau leads that section?"
    )
    assert [kind for _, kind, _ in _asks(question)] == ["amount", "department"]
    assert _asks_figure_too(question)
    assert not _asks_figure_too("Which bureau leads the people's livelihood section?")


def test_the_department_and_the_figure_are_both_answered(fake_assistant):
    answer = fake_assistant.ask(
        "In the people's livelihood section, what share of general public budget expenditure has to go to "
        "livelihood, and which bureau leads that section?"
    )
    lead = answer.answer.split("\n\n", 1)[0]
    assert "三分之二" in lead and "区人社局" in lead and answer.citations[0] == "S7"


def test_a_range_is_read_out_as_a_range():
    assert _en_values("区级给予6-30万元奖励") == "60,000 to 300,000 yuan (6-30万元)"


def test_places_in_the_story_are_background(fake_assistant):
    scope = fake_assistant.scope
    for question in (
        "We're a chip design company moving from Binjiang into Zijingang Sci-Tech City. Is there rent support?",
        "my cousin in yuhang told me they got help to redo their house. we live in xihu, does xihu have that?",
        "请问省外农业展会参展补助多少钱 我们合作社下个月要去上海参加一个农博会",
    ):
        assert scope.refusal_reason(question) == "", question
    # asking about the other place's policy still refuses
    assert scope.refusal_reason("What subsidies does Binjiang District offer for AI startups?") == "other_region"
    assert scope.refusal_reason("上海参展补贴政策是什么") == "other_region"


def test_english_topic_words_are_whole_words(fake_assistant):
    # "it" is inside "city" and "credit" but names no topic; "documents … based on" asks the notice's basis
    assert "it" not in fake_assistant.retriever.article_topic_words("does the package say it is based on")
    answer = fake_assistant.ask(
        "Which provincial and city documents does the Xihu package say it is based on? I need the document numbers."
    )
    assert answer.citations[:1] == ("PRE",) and "浙政发〔2024〕4号" in answer.answer


def test_an_english_ask_without_a_topic_of_its_own_asks_of_the_article_before(fake_assistant):
    assert not fake_assistant._names_own_topic("And is there a yearly cap per company?")
    assert fake_assistant._names_own_topic("And how many new elderly canteens or meal points?")


def test_an_english_count_ask_is_answered_by_a_clause_stating_a_count(fake_assistant):
    answer = fake_assistant.ask(
        "Who leads the science & technology innovation section, and how many new national high-tech enterprises "
        "are they targeting this year?"
    )
    lead = answer.answer.split("\n\n", 1)[0]
    assert "区科技局" in lead and "200家" in lead


def test_a_turn_opening_on_this_and_what_to_do_with_it_points_back():
    from assistant.conversation import points_back

    assert points_back("这个找哪个部门申请？")
    assert points_back("那这个要交什么材料")
    assert not points_back("这个政策什么时候到期？")


def test_a_result_put_up_to_be_checked_is_no_input():
    from tests.test_calc_intent import _plan

    outcome = _plan("紫金港科技城的厂，今年上了40台国产工业机器人，每台20万，补10%的话就是80万对吧？")
    assert outcome.calculation is not None and outcome.calculation.amount_yuan == 500000  # 800万 × 10%, capped
    outcome = _plan("我们在紫金港科技城新建一条智能产线，总投资3个亿，技改资助按4%算就是1200万吧？")
    assert outcome.calculation is not None and outcome.calculation.amount_yuan == 10000000


def test_a_scale_said_to_exceed_the_sme_standard_is_no_contradiction():
    from tests.test_calc_intent import _plan

    outcome = _plan("规模超过科技型中小企业标准的大企业，研发投入从去年2个亿涨到今年3个亿，研发投入补助能拿多少？")
    assert outcome.calculation is not None and outcome.calculation.amount_yuan == 3000000
    # still asked back when the words deny the scale read
    assert _plan("我们已经不算科技型中小企业了，研发投入去年1亿今年1.5亿").calculation is None


def test_english_people_count_a_price_each_and_a_sum_is_no_count():
    from tests.test_calc_intent import _plan

    outcome = _plan(
        "Foreign trade company: we exhibited at a professional trade fair in Dubai in February 2024. Booth fee was "
        "¥80,000 and two staff flew economy return at ¥6,000 each. What's the most we can get back?"
    )
    # 70% of the booth fee (80,000) and of two return tickets (2 × 6,000); "000 and two staff" is no count of 000
    assert outcome.calculation is not None and outcome.calculation.amount_yuan == 64400


def test_a_turn_in_the_other_language_whose_topic_the_earlier_article_lacks_starts_afresh():
    from assistant.conversation import read_turn
    from tests.test_conversation import TableJudge, _user

    robots = "紫金港科技城的厂，今年上了40台国产工业机器人，每台20万，能补多少？"
    house = "my cousin got help to redo her house for her wheelchair. does xihu have something like that?"
    section = "Who leads the innovation section, and how many high-tech enterprises are targeted?"
    total = "And if we also set up a provincial postdoctoral workstation, what's the total?"
    postdoc = "企业拿到博士后独立招收资格，有奖励吗？"
    judge = TableJudge(
        own={house: 1.0, section: 0.64, total: 1.0},
        carried={(section, robots): 0.13, (total, postdoc): 1.0},
        gap={(section, robots): 0.0},
    )
    # "that" points inside the turn; the embedding gap across languages says little
    assert read_turn(house, _user(robots), judge).why == "own_topic"
    assert read_turn(section, _user(robots), judge).why == "own_topic"
    # in English after English too, when the earlier article holds none of its topic
    assert read_turn(house, _user(section), judge).why == "own_topic"
    # ... but "that" points back when the earlier article holds some of it
    bought = "my company bought 40 domestic robots in Zijingang"
    judge.carried[(house, bought)] = 0.3
    assert read_turn(house, _user(bought), judge).joined
    # a cross-language follow-up on the earlier article, and one without a topic of its own, stay joined
    assert read_turn(total, _user(postdoc), judge).joined
    assert read_turn("What about imported ones?", _user(robots), judge).joined


def test_a_visual_design_adopted_by_a_contest_is_not_the_design_award():
    from tests.test_calc_intent import _plan

    outcome = _plan("原创视觉设计作品被国际大赛采用了有奖励吗")
    assert outcome.rule is not None and outcome.rule.id == "visual-design-adopted"
    # joined to an earlier 世界设计大奖 question, the two rules are asked between, not the award computed again
    outcome = _plan("原创工业设计拿了世界设计大奖有奖励吗 那视觉设计被国际大赛采用了呢")
    assert outcome.calculation is None and "被重大赛事采用" in outcome.clarification


def test_how_long_the_notice_holds_asked_with_a_later_year_is_no_other_year(fake_assistant):
    scope = fake_assistant.scope
    assert scope.refusal_reason("请问这批政策到2025年还能用吗，有效期到什么时候") == ""
    assert scope.refusal_reason("2025年高新技术企业认定奖励是多少") == "other_year"


def test_a_threshold_is_read_out_as_what_must_be_reached():
    assert _en_values("总投资额超过500万元的技术改造项目,最高不超过1000万元") == (
        "over 5,000,000 yuan (500万元), up to 10,000,000 yuan (1000万元)"
    )
    assert _en_values("社零额达到1亿元以上的") == "at least 100,000,000 yuan (1亿元)"
