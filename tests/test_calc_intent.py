"""Questions to calculations: detection, rule choice, slot filling, follow-ups, ambiguity and missing facts.

The questions are phrased the way people ask, not copied from the rules (Chinese and English)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from assistant.calc_intent import extract_inputs, is_calculation_request, plan_calculation
from assistant.rules import find_rule, load_rules
from assistant.settings import PROJECT_ROOT

W = 10_000
RULES = load_rules(PROJECT_ROOT / "knowledge" / "awards.yaml")

# (question, rule id, amount in yuan: 0 means "not eligible")
QUESTIONS = [
    # the examples
    ("紫金港企业技术改造总投资800万元能资助多少？", "zijingang-tech-renovation", 32 * W),
    ("超过科技型中小企业规模、年研发投入6亿元", "rd-subsidy-large-direct", 300 * W),
    ("新注册零售企业全年社零额1.5亿元", "retail-catering-new", 30 * W),
    ("紫金港的生物医药企业注册已6年，购置设备600万元", "zijingang-biomed-equipment", 0),
    ("我们公司研发投入比去年多了1200万，能拿多少？", "rd-subsidy-sme", 60 * W),
    # other phrasings
    ("公司在紫金港科技城，准备投1500万做技改，政府能给多少钱？", "zijingang-tech-renovation", 60 * W),
    ("紫金港科技城的技改项目投资3亿元，资助有多少？", "zijingang-tech-renovation", 1000 * W),
    ("我们在紫金港，技改项目投了400万，有补助吗？", "zijingang-tech-renovation", 0),
    ("紫金港一家药企成立3年，采购仪器设备花了2000万，可以补贴多少？", "zijingang-biomed-equipment", 80 * W),
    ("紫金港生物医药企业，成立两年，买设备花了两千万，立项金额3000万，能补贴多少？", "zijingang-biomed-equipment", 0),
    ("紫金港的芯片设计公司新注册，每年房租80万，租房补贴能拿多少？", "zijingang-ic-rent", 120 * W),
    ("集成电路企业在紫金港租办公室每年60万，补贴多少？", "zijingang-ic-rent", 90 * W),
    ("紫金港的公司要建一个生物医药公共服务平台，总投资1亿，能资助多少？", "zijingang-biomed-platform", 2000 * W),
    ("紫金港买国产工业机器人5台共200万有什么补贴？", "zijingang-robot-domestic", 20 * W),
    ("云栖小镇新引进的企业，年房租200万，面积2000平米，能补多少房租？", "yunqi-rent", 600 * W),
    ("在云栖小镇租了5000平方米办公室，年租金120万，房租补助有多少？", "yunqi-rent", 216 * W),
    ("云栖小镇空天信息制造企业，落户半年内买设备投了8000万，能补贴多少？", "yunqi-space-fixed-asset", 1600 * W),
    ("我们是云栖小镇的空天信息总部企业，估值20亿，营收5亿，能奖励多少？", "yunqi-space-hq-award", 500 * W),
    ("云栖的卫星数据公司今年营收首次突破1亿，奖励多少？", "yunqi-space-revenue-milestone", 100 * W),
    ("云栖小镇卫星制造企业年产值首次突破2亿元，有多少奖励？", "yunqi-space-output-milestone", 100 * W),
    (
        "请帮我算一下：云栖小镇的软件企业，营收从4000万增长到了6000万，有什么奖励？",
        "yunqi-space-revenue-milestone",
        50 * W,
    ),
    ("开了一家奶茶店，今年社零额2亿，能拿多少奖励？", "retail-catering-new", 40 * W),
    ("一家新开的火锅店社零额做到了12亿元，能奖励多少？", "retail-catering-new", 360 * W),
    ("新注册的超市社零额5000万，有奖励吗？", "retail-catering-new", 0),
    ("新注册零售企业社零额40亿，能拿多少？", "retail-catering-new", 1500 * W),
    ("4S店社零额2亿能拿奖励吗", "retail-catering-new", 0),
    ("奶茶店一年流水2000万有补贴吗", "retail-catering-new", 0),
    ("研发投入新增300万，能拿多少研发补助？", "rd-subsidy-sme", 15 * W),
    ("研发投入增加了一千二百万元，能补贴多少？", "rd-subsidy-sme", 60 * W),
    ("我们是科技型中小企业，去年研发投入800万，今年1500万，补助多少？", "rd-subsidy-sme", 35 * W),
    ("今年研发投入3200万，去年2000万，我们是科技型中小企业，能补多少？", "rd-subsidy-sme", 60 * W),
    ("我们是大企业，研发投入增加了8000万元，能补多少？", "rd-subsidy-large", 300 * W),
    ("年研发投入1.2亿的科技型中小企业能直接拿多少？", "rd-subsidy-sme-direct", 200 * W),
    ("新引进的研发总部今年研发投入2000万元，奖励多少？", "rd-headquarters", 100 * W),
    ("承担国家重点科研任务，国家到账补助资金800万元，区里配套多少？", "key-tech-national-task", 200 * W),
    ("竞争类重点科研项目实际投入500万，最多补多少？", "key-tech-competitive-project", 100 * W),
    ("买科技保险花了30万保费，补贴多少？", "tech-insurance-premium", 15 * W),
    ("出口信用保险保费交了100万，能补多少？", "export-credit-insurance", 60 * W),
    ("我们是制造业企业，出口信用保险保费交了1000万，能补多少？", "export-credit-insurance", 500 * W),
    ("去境外参展，展位费20万，机票5万，能补多少？", "trade-fair-overseas", 175_000),
    ("融资担保1200万，担保费最多多少？", "guarantee-fee", 8 * W),
    ("担保1000万，费用最多多少", "guarantee-fee", 8 * W),
    ("融资担保500万元，期限2年，担保费多少？", "guarantee-fee", 0),
    ("首次认定高企能拿多少奖励？", "high-tech-first", 20 * W),
    ("首次上规纳统的工业企业奖励多少？", "first-above-scale-industrial", 20 * W),
    ("孵化器今年有3家在孵企业通过高企认定，能拿多少绩效奖励？", "incubator-graduate-award", 45 * W),
    ("新设立国家级博士后工作站有多少补助？", "postdoc-workstation", 100 * W),
    ("新认定为国家级制造业单项冠军能拿多少？", "manufacturing-champion", 200 * W),
    ("A类人才项目能拿多少创业启动资金？", "talent-project-startup-fund", 1000 * W),
    ("获得红点奖的原创工业设计作品奖励多少？", "design-award", 30 * W),
    ("首次认定为省重点文化企业奖励多少？", "culture-enterprise-recognition", 20 * W),
    ("获得浙江文化艺术发展基金资助100万元，配套多少？", "culture-fund-matching", 30 * W),
    ("电视剧获得飞天奖能奖励多少？", "film-award", 30 * W),
    ("5A景区能拿多少奖励？", "scenic-area-rating", 50 * W),
    ("乡村旅游提升改造项目审计金额500万，补助多少？", "rural-tourism-project", 80 * W),
    ("乡村旅游智慧建设项目投入60万，资助多少？", "rural-tourism-smart", 12 * W),
    ("承办省级体育赛事最多能补多少？", "sports-event-hosting", 80 * W),
    ("承办一场市级马拉松比赛，能补多少？", "sports-event-hosting", 60 * W),
    ("我们收购了8吨西湖龙井毛茶，能拿多少奖励？", "longjing-tea-purchase", 30 * W),
    ("西湖龙井手工炒制大师有奖励吗", "longjing-frying-master", 1 * W),
    ("当年新认证有机食品奖励多少？", "green-certification-new", 5 * W),
    ("评上省级农业龙头企业奖励多少？", "agri-leading-enterprise", 15 * W),
    ("参加省外农业展会有什么补助？", "agri-expo-out-of-province", 3000),
    # English
    (
        "How much subsidy can a Zijingang company get for a technical renovation investment of 8 million yuan?",
        "zijingang-tech-renovation",
        32 * W,
    ),
    (
        "Our R&D spending increased by 12 million yuan compared with last year. How much subsidy can we get as an SME?",
        "rd-subsidy-sme",
        60 * W,
    ),
    (
        "How much can a large company get if its R&D investment increased by 20 million yuan?",
        "rd-subsidy-large",
        100 * W,
    ),
    (
        "How much is the award for a newly registered restaurant with annual retail sales of 1.5 billion yuan?",
        "retail-catering-new",
        450 * W,
    ),
    (
        "We are a newly registered supermarket with retail sales of 300 million yuan, what award can we get?",
        "retail-catering-new",
        60 * W,
    ),
    (
        "We are a biomedical company in Zijingang registered 2 years ago and bought equipment worth 10 million yuan. "
        "How much subsidy?",
        "zijingang-biomed-equipment",
        40 * W,
    ),
    (
        "We bought imported industrial robots for RMB 3 million in Zijingang, how much can we get?",
        "zijingang-robot-imported",
        15 * W,
    ),
    (
        "How much rent subsidy can an IC company newly registered in Zijingang get with annual rent of 1 million yuan?",
        "zijingang-ic-rent",
        150 * W,
    ),
    (
        "Export credit insurance premium of 2 million yuan, we are a manufacturer. How much support?",
        "export-credit-insurance",
        130 * W,
    ),
    ("What award does a company get for first-time high-tech enterprise recognition?", "high-tech-first", 20 * W),
    ("What subsidy does a 4A scenic area get?", "scenic-area-rating", 30 * W),
]


@pytest.mark.parametrize(("question", "rule_id", "amount"), QUESTIONS, ids=[q[0][:24] for q in QUESTIONS])
def test_question_is_turned_into_the_right_calculation(question, rule_id, amount):
    outcome = plan_calculation(question, RULES)
    assert outcome is not None
    assert outcome.rule is not None and outcome.rule.id == rule_id
    assert outcome.calculation.amount_yuan == Decimal(amount)
    assert outcome.calculation.status == ("ineligible" if amount == 0 else "eligible")
    assert outcome.clarification is None


def test_there_are_enough_questions_in_both_languages():
    english = [q for q, _, _ in QUESTIONS if q.isascii()]
    assert len(QUESTIONS) >= 30 and len(english) >= 8


def test_later_mentions_override_earlier_ones_in_a_follow_up():
    outcome = plan_calculation("紫金港买国产工业机器人5台共200万有什么补贴？ 那进口的呢？", RULES)
    assert outcome.rule.id == "zijingang-robot-imported"
    assert outcome.inputs == {"location": "zijingang", "robot_origin": "imported", "robot_purchase": Decimal(2_000_000)}
    assert outcome.calculation.trace == "200万元 × 5% = 10万元，未超过上限50万元，资助10万元"


def test_a_follow_up_amount_replaces_the_earlier_one():
    outcome = plan_calculation("紫金港企业技术改造投资800万能补多少？ 那1500万呢？", RULES)
    assert (outcome.rule.id, outcome.calculation.amount_yuan) == ("zijingang-tech-renovation", 60 * W)


def test_a_stray_amount_without_a_cue_does_not_replace_a_stated_one():
    outcome = plan_calculation("紫金港企业技术改造投资800万能补多少？我们有1000万的订单", RULES)
    assert (outcome.rule.id, outcome.calculation.amount_yuan) == ("zijingang-tech-renovation", 32 * W)


def test_a_later_scale_overrides_the_default_assumption():
    outcome = plan_calculation("我们公司研发投入比去年多了1200万 能拿多少？ 我们超过科技型中小企业规模了", RULES)
    assert (outcome.rule.id, outcome.calculation.amount_yuan, outcome.calculation.assumptions) == (
        "rd-subsidy-large",
        60 * W,
        (),
    )


def test_unknown_scale_states_the_assumption_and_the_other_case():
    calc = plan_calculation("我们公司研发投入比去年多了1200万，能拿多少？", RULES).calculation
    assert calc.assumptions == ("按经营规模符合国家科技型中小企业认定标准计算",)
    assert calc.alternatives == (
        ("若超过科技型中小企业认定标准（第十四条，研发投入增量补助（超过科技型中小企业规模））", Decimal(60 * W)),
    )


def test_the_other_case_may_be_not_eligible_and_says_why():
    calc = plan_calculation("研发投入新增300万，能拿多少研发补助？", RULES).calculation
    assert calc.alternatives == (
        (
            "若超过科技型中小企业认定标准（第十四条，研发投入增量补助（超过科技型中小企业规模））："
            "不符合条件（年度研发投入新增额需要 ≥500万元，实际 300万元）",
            Decimal(0),
        ),
    )


def test_missing_location_is_asked_with_the_conditional_amount():
    outcome = plan_calculation("技术改造投资800万能补多少？", RULES)
    assert outcome.rule.id == "zijingang-tech-renovation"
    assert outcome.calculation.amount_yuan is None
    assert outcome.clarification == "请问贵公司（项目）是否位于紫金港科技城？"
    assert outcome.calculation.alternatives == (("若满足：紫金港科技城", Decimal(32 * W)),)


def test_missing_amount_is_asked_for():
    outcome = plan_calculation("紫金港的芯片公司租房补贴能拿多少？", RULES)
    assert outcome.rule.id == "zijingang-ic-rent"
    assert outcome.clarification == "请问办公用房每年的房租（实际承租金额）是多少？"


def test_manufacturer_unknown_is_assumed_with_the_alternative():
    calc = plan_calculation("出口信用保险保费交了100万，能补多少？", RULES).calculation
    assert calc.alternatives == (("若为符合条件的制造业企业（资助比例上限65%）", Decimal(65 * W)),)


def test_ambiguous_question_asks_which_rule():
    outcome = plan_calculation("保费100万能补多少？", RULES)
    assert (outcome.rule, outcome.calculation) == (None, None)
    assert outcome.candidates == ("tech-insurance-premium", "export-credit-insurance")
    assert (
        outcome.clarification
        == "请问您想计算的是哪一项：科技保险保费补贴（第十六条）、短期出口信用保险保费资助（第四十六条）？"
    )


@pytest.mark.parametrize(
    ("hints", "rule_id"), [(["A46", "A16"], "export-credit-insurance"), (["A16"], "tech-insurance-premium")]
)
def test_article_hints_from_retrieval_break_ties(hints, rule_id):
    assert plan_calculation("保费100万能补多少？", RULES, hints).rule.id == rule_id


def test_an_article_named_in_the_question_chooses_among_rules():
    outcome = plan_calculation("第三十五条的房租补助，年租金100万，能补多少？", RULES)
    assert outcome.rule.id == "yunqi-rent"
    assert outcome.clarification == "请问贵公司是否新引进（或新设立）落地云栖小镇？"


def test_hints_do_not_override_clear_keywords():
    outcome = plan_calculation("紫金港企业技术改造总投资800万元能资助多少？", RULES, ["A14", "A47"])
    assert outcome.rule.id == "zijingang-tech-renovation"


@pytest.mark.parametrize(
    "question",
    [
        "第十四条讲了什么？",
        "研发投入补助由哪个部门负责？",
        "2024年全区研发投入强度目标是多少？",
        "区财政今年安排了多少资金？",
        "政策什么时候开始实施？",
        "What does article 34 say?",
        "",
    ],
)
def test_questions_that_are_not_calculations_give_none(question):
    assert plan_calculation(question, RULES) is None


@pytest.mark.parametrize(
    "question",
    [
        "首次认定高企能拿多少奖励？",
        "技改能补多少",
        "研发投入1200万有什么补贴",
        "有奖励吗",
        "帮我算算",
        "新注册零售企业全年社零额1.5亿元",
        "How much can we get?",
        "Are we eligible for the robot subsidy?",
        "Please calculate the rent subsidy",
    ],
)
def test_calculation_requests_are_detected(question):
    assert is_calculation_request(question) is True


@pytest.mark.parametrize(
    "question",
    [
        "第十四条讲了什么？",
        "研发投入补助由哪个部门负责？",
        "2024年全区研发投入强度目标是多少？",
        "What does article 34 say?",
        "紫金港科技城在哪里",
    ],
)
def test_other_questions_are_not_calculation_requests(question):
    assert is_calculation_request(question) is False


def test_amounts_go_to_the_slot_their_cue_names():
    rule = find_rule(RULES, "yunqi-rd-award")
    found = extract_inputs(
        rule, "云栖小镇规上企业，营收5000万，复合增长率40%，最近一年增长35%，连续3年正增长，研发费用800万"
    )
    assert {name: item.value for name, item in found.items()} == {
        "location": "yunqi",
        "above_designated_size": True,
        "revenue": Decimal(50_000_000),
        "revenue_cagr_3y": Decimal("0.4"),
        "revenue_growth_latest": Decimal("0.35"),
        "revenue_positive_growth_years": Decimal(3),
        "rd_spend": Decimal(8_000_000),
    }


def test_full_growth_question_is_computed():
    outcome = plan_calculation(
        "云栖小镇规上企业，上年营收5000万，复合增长率40%，最近一年增长35%，连续3年正增长，研发费用800万，能奖励多少？",
        RULES,
    )
    assert (outcome.rule.id, outcome.calculation.amount_yuan) == ("yunqi-rd-award", 240 * W)
