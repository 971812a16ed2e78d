"""Questions to calculations: detection, rule choice, slot filling, follow-ups, ambiguity and missing facts.

The questions are phrased the way people ask, not copied from the rules (Chinese and English)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from assistant.calc_inputs import cue_occurrences, extract_inputs, find_words, follow_up_start, word_key
from assistant.calc_intent import is_calculation_request, plan_calculation
from assistant.calculator import format_calculation
from assistant.figures import notice_year, year_window
from assistant.retrieve import normalise_question
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
    # rules of one article told apart by the award the question names (绩效奖励, not 运营资助)
    (
        "三星市级科技企业孵化器，有4家在孵企业通过了高新技术企业备案，最多能拿多少绩效奖励？",
        "incubator-graduate-award",
        60 * W,
    ),
    ("我们是四星市级科技企业孵化器，运营资助有多少", "incubator-operation", 20 * W),
    # told apart by the word only one rule has (众创空间), not by the award both pay (运营资助)
    ("我们运营的众创空间今年年度绩效考核结果是良好,能拿多少运营资助?", "maker-space-operation", 20 * W),
    # 晋档补差: an award already received ("已经领了50万") is deducted from the higher tier's
    (
        "我们是云栖小镇做软件开发的空天信息企业,营收首次突破5000万时已经领了50万奖励,今年营收1.3亿元,这次还能拿多少?",
        "yunqi-space-revenue-milestone",
        50 * W,
    ),
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


def test_a_missing_place_is_assumed_when_the_rule_exists_only_there():
    # Was: asked "是否位于紫金港科技城" and gave 32万 only as a conditional amount. 第三十四条's technical renovation
    # subsidy exists only in 紫金港科技城, so the place is now assumed and said (issue 4 policy).
    outcome = plan_calculation("技术改造投资800万能补多少？", RULES)
    assert outcome.rule.id == "zijingang-tech-renovation"
    assert outcome.calculation.amount_yuan == Decimal(32 * W)
    assert outcome.clarification is None
    assert outcome.calculation.assumptions == ("按位于紫金港科技城计算（本项政策仅适用于紫金港科技城）",)
    assert ("所在区域", "unknown", "需要 紫金港科技城，未提供（按符合计算）") in [
        (c.name, c.status, c.detail) for c in outcome.calculation.conditions
    ]


def test_another_place_is_not_eligible_and_other_unknown_facts_are_still_asked():
    assert plan_calculation("云栖小镇的企业做技改，投资800万能补多少？", RULES).calculation.amount_yuan == 0
    outcome = plan_calculation("紫金港的公司租房补贴，年租金100万能补多少", RULES)
    assert (outcome.rule.id, outcome.clarification) == ("zijingang-ic-rent", "请问贵公司是否为集成电路企业？")


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
    # Was: asked whether the company is in 云栖小镇; 第三十五条 is the 云栖小镇 article, so that is now assumed.
    outcome = plan_calculation("第三十五条的房租补助，年租金100万，能补多少？", RULES)
    assert outcome.rule.id == "yunqi-rent"
    assert outcome.calculation.amount_yuan == Decimal(300 * W)
    assert outcome.calculation.assumptions[0] == "按位于云栖小镇计算（本项政策仅适用于云栖小镇）"


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


# ----------------------------------------------------------------------------- issue 4 follow-up: general capabilities
# Questions pass through the chain's normalisation first (full-width -> ASCII, traditional -> simplified, lower case),
# as Assistant.ask does before it plans a calculation.


def _plan(question: str, hints: tuple[str, ...] = ()):
    return plan_calculation(normalise_question(question), RULES, hints)


# (question, the rules added up (one for a single award), amount in yuan)
CAPABILITIES = [
    # 1. a price per unit times the count
    ("我们在紫金港科技城采购了6台国产机器人，单价30万元，能资助多少？", ("zijingang-robot-domestic",), 18 * W),
    ("紫金港企业进口了两台工业机器人，每台售价200万，资助多少钱？", ("zijingang-robot-imported",), 20 * W),
    ("紫金港公司买国产工业机器人，每套90万元，一共买了8套，能补多少？", ("zijingang-robot-domestic",), 50 * W),
    ("紫金港的工厂购入进口机器人5台×60万元，补贴多少？", ("zijingang-robot-imported",), 15 * W),
    ("采购了3台国产工业机器人，单价50万，能补多少？", ("zijingang-robot-domestic",), 15 * W),
    (
        "Our Zijingang factory bought 4 imported industrial robots at RMB 500,000 each. How much subsidy can we get?",
        ("zijingang-robot-imported",),
        10 * W,
    ),
    # 2. several awards in one question, shared caps applied
    (
        "紫金港企业先买了3台进口机器人，每台200万，后来又买了2台国产的，每台100万，总共能拿多少资助？",
        ("zijingang-robot-imported", "zijingang-robot-domestic"),
        50 * W,
    ),
    (
        "紫金港企业进口机器人花了800万，另外国产机器人花了300万，加起来能补多少？",
        ("zijingang-robot-imported", "zijingang-robot-domestic"),
        50 * W,
    ),
    # items of one award listed side by side, each with its figure: the sum, no 一共 needed
    (
        "买了工业机器人:进口3台每台80万,国产5台每台30万。紫金港这边能资助多少?",
        ("zijingang-robot-imported", "zijingang-robot-domestic"),
        27 * W,
    ),
    (
        "紫金港企业，进口机器人花了240万，国产机器人花了150万，能拿多少",
        ("zijingang-robot-imported", "zijingang-robot-domestic"),
        27 * W,
    ),
    ("今年新认证了2个有机食品，3个绿色食品，能奖励多少", ("green-certification-new",), 22 * W),
    (  # an item without a figure ("设备资助能拿多少") is the question, not a third item
        "我们在紫金港科技城，今年买了工业机器入：进口的2台，每台45w；国产的6台，每台20w。设备资助能拿多少",
        ("zijingang-robot-imported", "zijingang-robot-domestic"),
        165000,
    ),
    (
        "公司今年设立了省级博士后工作站，另外还获得了博士后独立招收资格，合计补多少？",
        ("postdoc-workstation", "postdoc-independent-recruitment"),
        100 * W,
    ),
    ("我们孵化器先由市级升为省级，随后又升为国家级，一次性奖励加起来最多多少？", ("incubator-upgrade",), 100 * W),
    ("孵化器升级了两次，一共奖多少？", ("incubator-upgrade",), 100 * W),
    (
        "工业企业第一次上规纳统，随后连续4年在规，增加值每年都增长15%，总共最多奖励多少？",
        ("first-above-scale-industrial", "above-scale-sustained-growth"),
        40 * W,
    ),
    (
        "首次上规纳统的工业企业，之后在规已经连续3年，但增加值只增长了6%，总共能拿多少？",
        ("first-above-scale-industrial", "above-scale-sustained-growth"),
        20 * W,
    ),
    (
        "分公司转为独立法人企业并首次上规纳统，能拿多少奖励？",
        ("first-above-scale-industrial", "individual-to-enterprise-above-scale"),
        30 * W,
    ),
    ("个体工商户转企业后首次上规，额外能拿多少奖励？", ("individual-to-enterprise-above-scale",), 10 * W),
    (
        "两件原创视觉设计作品，一件首次获得国内权威设计奖项，另一件首次获得世界设计大奖，奖励合计多少？",
        ("design-award",),
        50 * W,
    ),
    (
        "市级孵化器绩效评价四星，同时有2家在孵企业通过高新技术企业备案，今年一共能拿多少？",
        ("incubator-operation", "incubator-graduate-award"),
        50 * W,
    ),
    (
        "今年首次认定高新技术企业，还首次上规模了，加起来最多奖多少？",
        ("high-tech-first", "high-tech-first-above-scale"),
        50 * W,
    ),
    (
        "In Zijingang we bought 2 imported robots at RMB 1 million each and also 3 domestic robots at RMB 500,000 "
        "each. What is the total subsidy?",
        ("zijingang-robot-imported", "zijingang-robot-domestic"),
        25 * W,
    ),
    (
        "新设国家级博士后工作站，还获得了博士后独立招收资格，能拿多少？",
        ("postdoc-workstation", "postdoc-independent-recruitment"),
        150 * W,
    ),
    (
        "公司首次被认定为国家高新技术企业，同年首次上规模，一共奖励多少？",
        ("high-tech-first", "high-tech-first-above-scale"),
        50 * W,
    ),
    (
        "分公司独立出来成为独立法人企业并首次上规纳统，能拿多少？",
        ("first-above-scale-industrial", "individual-to-enterprise-above-scale"),
        30 * W,
    ),
    (
        "首次上规纳统奖励20万，之后连续三年在规增加值增长都超过10%，还能再拿多少？",
        ("above-scale-sustained-growth",),
        20 * W,
    ),
    ("去境外参展，展位费20万，另外机票5万，一共能补多少？", ("trade-fair-overseas",), 175_000),
    (
        "评上市级农业龙头企业，另外新认证了绿色食品，一共多少？",
        ("agri-leading-enterprise", "green-certification-new"),
        9 * W,
    ),
    (
        "在紫金港买了国产机器人200万，同时技改总投资1000万，一共能补多少？",
        ("zijingang-robot-domestic", "zijingang-tech-renovation"),
        60 * W,
    ),
    # 3. place and scope: stated places fill conditions, a place the rule exists for is assumed when not stated
    ("技改项目总投资2亿元，在紫金港，能补多少？", ("zijingang-tech-renovation",), 800 * W),
    ("紫金港科技城一家企业的技改项目总投资额5亿元，资助多少", ("zijingang-tech-renovation",), 1000 * W),
    ("紫金港技術改造項目投資１２００萬，可以資助多少？", ("zijingang-tech-renovation",), 48 * W),
    ("新落户的卫星制造企业，引进后半年内固定资产投资3000万元，补贴多少？", ("yunqi-space-fixed-asset",), 600 * W),
    ("新引进的空天制造类公司一年内购置设备2.5亿元，能拿多少补贴？", ("yunqi-space-fixed-asset",), 2000 * W),
    ("乡村旅游智慧建设项目实际投入40万元，能资助多少？", ("rural-tourism-smart",), 8 * W),
    ("智慧旅游建设花了200万，资助多少", ("rural-tourism-smart",), 15 * W),
    ("云栖小镇新引进企业，年房租150万元，面积1500平方米，第二年能补多少房租？", ("yunqi-rent",), 150 * W),
    ("云栖小镇新引进企业，年房租150万元，面积1500平方米，第四年能补多少房租？", ("yunqi-rent",), 75 * W),
    ("云栖小镇新引进企业，年房租150万元，第三、四年一共能补多少？", ("yunqi-rent",), 150 * W),
    ("云栖小镇新引进企业，年房租150万元，前两年能补多少？", ("yunqi-rent",), 300 * W),
    ("云栖小镇新引进企业，年房租150万元，四年合计能补多少？", ("yunqi-rent",), 450 * W),
    ("云栖小镇新引进企业，每年房租150万元，前两年能补多少？", ("yunqi-rent",), 300 * W),
    ("在云栖小镇新成立的公司，租了3500平米办公室，年租金210万，前两年每年能补多少？", ("yunqi-rent",), 180 * W),
    ("云栖小镇新引进企业，年房租150万元，面积6000平米，第三年补多少？", ("yunqi-rent",), 375_000),
    ("紫金港新注册的集成电路企业，年租金120万元，第三年租房补贴多少？", ("zijingang-ic-rent",), 30 * W),
    ("云栖小镇的企业技改投资800万能补多少", ("zijingang-tech-renovation",), 0),
    # 4. English
    (
        "Our newly opened catering company registered in Xihu reached retail sales of RMB 1.2 billion this year. "
        "What is the reward?",
        ("retail-catering-new",),
        360 * W,
    ),
    (
        "We are a manufacturing company; our short-term export credit insurance premium was 3 million yuan. "
        "What's the maximum subsidy?",
        ("export-credit-insurance",),
        195 * W,
    ),
    (
        "What is the maximum subsidy for a rural tourism renovation project with an audited cost of 2 million yuan?",
        ("rural-tourism-project",),
        40 * W,
    ),
    (
        "A newly registered supermarket had retail sales of 0.5 billion yuan. What is the one-off reward?",
        ("retail-catering-new",),
        100 * W,
    ),
    ("Tech insurance premium paid: RMB 800,000. What is the subsidy?", ("tech-insurance-premium",), 40 * W),
    ("An SME increased R&D investment by 30 million yuan. How much subsidy?", ("rd-subsidy-sme",), 150 * W),
    (
        "We bought 3 domestic industrial robots for RMB 400,000 each in Zijingang. How much is the subsidy?",
        ("zijingang-robot-domestic",),
        12 * W,
    ),
    # 5. an option named in the question picks a fixed amount
    ("人才项目被评为C类，能拿多少创业启动资金？", ("talent-project-startup-fund",), 100 * W),
    ("我们的人才项目评审结果是d类，启动资金给多少？", ("talent-project-startup-fund",), 50 * W),
    ("Our talent project was rated category B. How much startup funding?", ("talent-project-startup-fund",), 300 * W),
    ("景区首次评为3A，奖金有多少？", ("scenic-area-rating",), 20 * W),
    ("新认定为省级制造业隐形冠军企业，奖励资金是多少？", ("manufacturing-champion",), 100 * W),
]


def test_a_unit_price_shows_its_multiplication():
    calc = _plan("紫金港企业采购国产工业机器人4台，每台25万元，能补多少？").calculation
    assert calc.trace == (
        "工业机器人设备购置额 = 4台 × 25万元 = 100万元；100万元 × 10% = 10万元，未超过上限50万元，资助10万元"
    )


def test_a_unit_price_after_its_count_in_another_clause():
    calc = _plan("紫金港企业的进口机器人每台120万元，一共买了3台，能补多少？").calculation
    assert (calc.rule_id, calc.amount_yuan) == ("zijingang-robot-imported", Decimal(18 * W))


def test_a_combined_answer_lists_parts_and_sum_and_cites_one_article():
    outcome = _plan("企业新设了省级博士后工作站，同时拿到博士后独立招收资格，一共补多少？")
    calc = outcome.calculation
    assert outcome.rule.id == "postdoc-workstation" and outcome.rule.article == calc.article == "A19"
    assert calc.trace.endswith("合计：50万元 + 50万元 = 100万元")
    assert format_calculation(calc).splitlines()[0] == (
        "合计可获100万元补助、奖励（第十九条，新设立博士后工作站补助、博士后独立招收资格奖励）。"
    )


def test_asking_for_each_amount_is_not_a_sum():
    calc = _plan("众创空间考核优秀的运营资助是多少？良好又是多少？").calculation
    assert calc.parts == ()


def test_a_follow_up_changes_a_part_of_a_sum():
    calc = _plan("孵化器绩效评价五星，另外有1家在孵企业通过高企备案，一共多少？ 那如果是3家呢？").calculation
    assert calc.amount_yuan == Decimal(75 * W)


@pytest.mark.parametrize(
    ("text", "window"),
    [
        ("第三年", (Decimal(3), None)),
        ("第三、四年", (Decimal(3), Decimal(2))),
        ("第1至2年", (Decimal(1), Decimal(2))),
        ("前两年", (Decimal(1), Decimal(2))),
        ("后两年", (Decimal(3), Decimal(2))),
        ("in the second year", (Decimal(2), None)),
        ("for the first two years", (Decimal(1), Decimal(2))),
        ("四年一共", (Decimal(1), Decimal(4))),
        ("那三年加起来呢", (Decimal(1), Decimal(3))),
        ("注册3年", None),
    ],
)
def test_year_windows_of_a_four_year_schedule(text, window):
    assert year_window(text, Decimal(4)) == window


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("what is the maximum subsidy?", True),
        ("What's the total award we can expect?", True),
        ("人才项目评上C类，启动资金有多少？", True),
        ("两项加起来最多多少", True),
        ("What is the subsidy rate for imported robots?", False),
    ],
)
def test_more_ways_of_asking_for_an_amount(question, expected):
    assert is_calculation_request(question) is expected


def test_a_listed_award_that_still_lacks_its_figure_is_named_not_guessed():
    calc = _plan("紫金港企业技术改造总投资800万元，另外还买了国产机器人，一共能资助多少？").calculation
    assert (calc.rule_id, calc.amount_yuan) == ("zijingang-tech-renovation", Decimal(32 * W))
    assert calc.notes == (
        "紫金港科技城购置国产工业机器人资助还需补充信息（请问购置工业机器人的设备购置额（合计）是多少？），未计入。",
    )


def test_an_award_counted_twice_is_numbered_in_the_trace():
    calc = _plan("孵化器由市级升到省级后又升到国家级，累计能拿多少一次性奖励？").calculation
    assert calc.rule_name == "孵化器升级一次性奖励"
    assert calc.trace == (
        "孵化器升级一次性奖励（第1次）：最高50万元一次性奖励；孵化器升级一次性奖励（第2次）：最高50万元一次性奖励；"
        "合计：50万元 + 50万元 = 100万元"
    )


# ----------------------------------------------------------------------------- dev2 gaps: general mechanisms
# (question, the rules added up (one for a single award), amount in yuan: 0 means "not eligible")
MECHANISMS = [
    # 1. 第十四条: with both the annual total and the increase, the variant that applies wins, the higher when both do
    ("科技型中小企业，今年研发投入总额1.5亿，比去年多了400万，研发补助多少？", ("rd-subsidy-sme-direct",), 200 * W),
    ("我们是科小，研发投入1.1亿元，较上年新增150万，能补多少", ("rd-subsidy-sme-direct",), 200 * W),
    ("规模超过科技型中小企业，年研发投入5.5亿，新增了3000万，补助多少", ("rd-subsidy-large-direct",), 300 * W),
    ("超过科小标准的企业，研发投入3亿元，比上年增加了2000万，能补多少", ("rd-subsidy-large",), 100 * W),
    ("科技型中小企业研发投入9000万，新增500万，补多少", ("rd-subsidy-sme",), 25 * W),
    ("科技型中小企业，年研发投入2亿，新增5000万，补多少", ("rd-subsidy-sme",), 200 * W),  # both 200万: a tie
    # 2. spoken amounts
    ("上市公司年研发投入6个亿，研发补助能拿多少", ("rd-subsidy-large-direct",), 300 * W),
    ("规模远超科技型中小企业，研发投入两个亿，比去年新增了1000万，能补多少", ("rd-subsidy-large",), 50 * W),
    ("科技型中小企业一年研发投入1个亿，能直接拿多少", ("rd-subsidy-sme-direct",), 200 * W),
    ("紫金港技改项目投了五千万，能资助多少", ("zijingang-tech-renovation",), 200 * W),
    ("紫金港技改总投资3千万，能补多少", ("zijingang-tech-renovation",), 120 * W),
    ("新注册的超市社零额3个亿，奖励多少", ("retail-catering-new",), 60 * W),
    # 3. rent per ㎡ and period × area = annual rent; the 3000㎡ cap; the year's rate
    ("云栖小镇新引进企业租了5000平方米，租金每平方米每月50元，第一年房租补助多少？", ("yunqi-rent",), 180 * W),
    ("云栖新设立的公司租2500㎡，60元/平方米/月，第四年能补多少", ("yunqi-rent",), 90 * W),
    ("云栖小镇新引进项目，办公室3000平米，月租金每平米80块，前两年一共补多少", ("yunqi-rent",), 576 * W),
    ("云栖小镇新引进企业，租了6000平米，每平米每天2元，第三年补多少", ("yunqi-rent",), 1_095_000),
    ("紫金港新注册的集成电路公司租了800平米，每平米每月100元，第二年租房补贴多少", ("zijingang-ic-rent",), 48 * W),
    # 4. no tier met: not eligible, even with the place (or another figure) unknown
    ("云栖小镇的空天信息总部企业，估值2亿、营收5000万，总部奖励多少", ("yunqi-space-hq-award",), 0),
    ("空天信息总部企业，市场估值4亿元，营业收入7000万元，能拿总部奖励吗", ("yunqi-space-hq-award",), 0),
    ("空天信息总部企业估值2.8亿，有奖励吗", ("yunqi-space-hq-award",), 0),
    ("空天信息总部企业估值10亿，营收2亿，奖励多少", ("yunqi-space-hq-award",), 200 * W),
    # 5. years since registration from a year, or stated
    ("紫金港生物医药企业，2018年注册的，购置设备1000万，能补多少", ("zijingang-biomed-equipment",), 0),
    ("紫金港的药企2021年成立，买设备花了2000万，补贴多少", ("zijingang-biomed-equipment",), 80 * W),
    ("紫金港生物医药公司注册于2019年，设备投资800万，补贴多少", ("zijingang-biomed-equipment",), 32 * W),
    ("紫金港生物医药企业，成立3年，购置设备1000万，补贴多少", ("zijingang-biomed-equipment",), 40 * W),
    ("紫金港的医药公司注册满五年了，买仪器设备花了800万，能补多少", ("zijingang-biomed-equipment",), 32 * W),
    (
        "Zijingang biotech company founded in 2015, bought equipment for 6 million yuan, how much subsidy?",
        ("zijingang-biomed-equipment",),
        0,
    ),
    # 6. negation: a negated exclusion does not exclude, a negated fact is the other value
    ("新开的奶茶店不是本地企业拆分出来的，社零额1.5亿，奖励多少", ("retail-catering-new",), 30 * W),
    ("新成立的超市，并非本地企业拆分，没有汽车销售业务，社零额10亿，奖多少", ("retail-catering-new",), 300 * W),
    ("新开的零售企业，非本地企业拆分，不属于汽车销售，社零额12亿能奖多少", ("retail-catering-new",), 360 * W),
    ("本地企业拆分出来的新超市，社零额2亿能奖多少", ("retail-catering-new",), 0),
    ("我们没有新注册，是老企业，超市社零额2亿", ("retail-catering-new",), 0),
    ("我们不是制造业企业，出口信用保险保费100万，能补多少", ("export-credit-insurance",), 60 * W),
    ("我们是非制造业企业，出口信用保险保费100万，能补多少", ("export-credit-insurance",), 60 * W),
    (
        "We are not a manufacturer, export credit insurance premium 1 million yuan, how much?",
        ("export-credit-insurance",),
        60 * W,
    ),
    ("紫金港买工业机器人200万，不是进口的，补多少", ("zijingang-robot-domestic",), 20 * W),
    ("我们不是科技型中小企业，研发投入新增1000万，补多少", ("rd-subsidy-large",), 50 * W),
    ("我们不是紫金港的企业，技改投资800万能补多少", ("zijingang-tech-renovation",), 0),
    # 7. sums across articles
    (
        "今年首次入选国家鼓励的重点软件企业，同时首次认定为高新技术企业，一共奖多少？",
        ("key-software-enterprise", "high-tech-first"),
        220 * W,
    ),
    (
        "公司新获批省重点实验室，另外首次认定高新技术企业，合计奖励多少",
        ("provincial-key-lab", "high-tech-first"),
        120 * W,
    ),
    (
        "评上省级农业龙头企业，还评上了西湖龙井手工炒制大师，一共多少",
        ("agri-leading-enterprise", "longjing-frying-master"),
        16 * W,
    ),
    # 8. a range award asked for its most, with a fixed one
    (
        "我们茶企今年收购了10吨西湖龙井毛茶，另外有员工评上手工炒制大师，两项最多多少",
        ("longjing-tea-purchase", "longjing-frying-master"),
        31 * W,
    ),
    # 9. an aside in brackets keeps its cue words ("设备") to itself
    ("紫金港企业技改项目总投资2000万元（含设备、外购技术及软件），资助多少", ("zijingang-tech-renovation",), 80 * W),
    ("紫金港技术改造项目投资1500万（其中设备900万）能补多少", ("zijingang-tech-renovation",), 60 * W),
    # 10. a follow-up joined to the earlier turn with a space (as the chain does): its words win
    ("紫金港集成电路企业租房补贴怎么算 那流片补贴呢，一年最多多少？", ("zijingang-ic-tapeout",), 300 * W),
    ("云栖小镇的房租补助怎么算 那总部企业奖励呢，估值20亿营收5亿能拿多少", ("yunqi-space-hq-award",), 500 * W),
]


@pytest.mark.parametrize(
    ("question", "rule_ids", "amount"), CAPABILITIES + MECHANISMS, ids=[q[0][:24] for q in CAPABILITIES + MECHANISMS]
)
def test_each_capability_gives_the_exact_amount(question, rule_ids, amount):
    outcome = _plan(question)
    assert outcome is not None and outcome.clarification is None
    calc = outcome.calculation
    assert calc.amount_yuan == Decimal(amount)
    assert calc.status == ("ineligible" if amount == 0 else "eligible")
    parts = tuple(dict.fromkeys(part.rule_id for part in calc.parts)) or (calc.rule_id,)
    assert parts == rule_ids
    assert tuple(rule.id for rule in outcome.parts) == (rule_ids if calc.parts else ())


def test_the_variant_that_applies_wins_and_the_lower_one_is_named():
    outcome = _plan("科小规模，研发投入总额1.2亿元，比上年增加了300万，能补多少？")
    calc = outcome.calculation
    assert (outcome.rule.id, calc.amount_yuan, calc.is_maximum) == ("rd-subsidy-sme-direct", Decimal(200 * W), False)
    assert calc.notes == (
        "按研发投入增量补助（科技型中小企业规模）计算为15万元，同一事项只能享受其一，按金额较高者计。",
    )


def test_variants_for_another_scale_stay_alternatives():
    calc = _plan("研发投入总额1.2亿元，新增300万，能补多少？").calculation
    assert (calc.rule_id, calc.amount_yuan) == ("rd-subsidy-sme-direct", Decimal(200 * W))
    assert calc.assumptions == ("按经营规模符合国家科技型中小企业认定标准计算",)
    assert [amount for _, amount in calc.alternatives] == [Decimal(0), Decimal(0)]  # 超过科小: 新增<500万, 总额<5亿


def test_a_rent_per_square_metre_and_month_shows_the_annual_rent_and_the_area_cap():
    calc = _plan("云栖新引进的公司租了4500平米，每平米每月70元，第三年房租能补多少？").calculation
    assert calc.amount_yuan == Decimal(126 * W)
    assert calc.trace == (
        "年房租额 = 4500㎡ × 70元/㎡/月 × 12个月 = 378万元；"
        "承租面积4500㎡超过补助面积上限3000㎡，按比例折算：378万元 × 3000/4500 = 252万元/年；"
        "第3年：252万元/年 × 50% × 1年 = 126万元，房租补助或减免126万元"
    )


@pytest.mark.parametrize(
    "question",
    [
        "云栖小镇新引进企业租了2000平米，房租每平米80元，补多少",  # no period: 80元 a month or a day?
        "云栖小镇新引进企业，房租每平米每月80元，能补多少",  # no area
    ],
)
def test_a_rent_per_square_metre_without_its_period_or_area_asks_for_the_annual_rent(question):
    outcome = _plan(question)
    assert outcome.rule.id == "yunqi-rent"
    assert outcome.clarification == "请问办公用房每年的房租（实际承租金额）是多少？"


def test_a_year_of_registration_counts_up_to_the_notice_year():
    assert notice_year() == 2024
    calc = _plan("紫金港生物医药企业2017年注册的，今年设备投了2000万，能拿4%的补贴吗").calculation
    assert calc.amount_yuan == 0
    assert [(c.name, c.detail) for c in calc.conditions if c.status == "unmet"] == [
        ("自完成注册之日起年限（五年内）", "需要 ≤5年，实际 7年")
    ]
    assert calc.notes == ("自注册之日起年限按2024年（政策发布年份）− 2017年 = 7年计算",)


def test_a_later_year_of_registration_is_not_read_as_years():
    rule = find_rule(RULES, "zijingang-biomed-equipment")
    assert "years_since_registration" not in extract_inputs(rule, "紫金港生物医药企业，2026年注册，买设备800万")


@pytest.mark.parametrize(
    ("rule_id", "question", "slot", "value"),
    [
        ("retail-catering-new", "新注册的餐饮店（不是本地企业拆分的）", "newly_registered", True),
        ("retail-catering-new", "非本地企业拆分的新超市", "newly_registered", True),
        ("retail-catering-new", "本地企业拆分成立的超市", "newly_registered", False),
        ("retail-catering-new", "我们没有新注册", "newly_registered", False),
        ("retail-catering-new", "餐饮企业，不属于汽车销售", "industry", "catering"),
        ("export-credit-insurance", "我们不是制造业企业", "is_manufacturer", False),
        ("export-credit-insurance", "我们是制造业企业", "is_manufacturer", True),
        ("export-credit-insurance", "we are not manufacturing", "is_manufacturer", False),
        ("zijingang-robot-imported", "机器人不是国产的", "robot_origin", "imported"),
        ("rd-subsidy-sme", "规模远超科技型中小企业", "scale", "above_sme"),
    ],
)
def test_a_negated_word_does_not_state_its_fact(rule_id, question, slot, value):
    found = extract_inputs(find_rule(RULES, rule_id), normalise_question(question))
    assert found[slot].value == value


def test_a_negated_option_of_many_names_none():
    found = extract_inputs(find_rule(RULES, "retail-catering-new"), "我们不属于汽车销售")
    assert "industry" not in found


def test_a_sum_across_articles_records_every_article():
    outcome = _plan("我们今年首次入选国家鼓励的重点软件企业，又首次认定了高新技术企业，两项加起来多少？")
    calc = outcome.calculation
    assert (outcome.rule.article, calc.article, calc.articles) == ("A39", "A39", ("A39", "A18"))
    assert calc.trace.endswith("合计：200万元 + 20万元 = 220万元")
    assert format_calculation(calc).splitlines()[-1] == (
        "依据：第三十九条：“对首次入选的软件企业给予200万元一次性奖励”；"
        "第十八条：“对首次认定的高新技术企业,给予最高20万元奖励”"
    )


def test_a_sum_of_one_article_does_not_reach_into_another():
    calc = _plan("首次认定高新技术企业，同时首次上规模，一共奖多少？").calculation
    assert (calc.articles, calc.amount_yuan) == (("A18",), Decimal(50 * W))


def test_a_range_in_a_sum_asked_for_its_most_is_a_maximum():
    calc = _plan("加工企业收购了茶农7吨西湖龙井毛茶，老板还评上了手工炒制大师，两项最多拿多少").calculation
    assert (calc.amount_yuan, calc.amount_min_yuan, calc.is_maximum) == (Decimal(31 * W), Decimal(7 * W), True)
    assert format_calculation(calc).splitlines()[0].startswith("合计最高可获31万元奖励（标准为7-31万元）")


def test_an_aside_in_brackets_keeps_its_cue_words_to_itself():
    rule = find_rule(RULES, "zijingang-tech-renovation")
    context_rules = [rule, find_rule(RULES, "zijingang-biomed-equipment")]
    text = "紫金港科技城的智能制造企业，技改项目总投资3000万（含设备和外购软件），能资助多少？"
    found = extract_inputs(rule, text, cues=cue_occurrences(text, context_rules))
    assert found["tech_renovation_investment"].value == Decimal(3000 * W)


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("紫金港集成电路企业租房补贴怎么算 那流片补贴呢，一年最多多少？", 17),
        ("紫金港企业技术改造投资800万能补多少？ 那1500万呢？", 21),
        ("紫金港企业技术改造投资800万能补多少？", None),
        ("What about the rent subsidy in Yunqi? How much for 1 million yuan a year?", None),
    ],
)
def test_where_an_appended_follow_up_starts(text, start):
    assert follow_up_start(text) == start


# A year-on-year increase in R&D spending, however it is phrased, is 第十四条's 新增额 (5%); the scale words say
# which variant (科技型中小企业 or above it). A guaranteed loan is 第二十条's 担保金额 (fee at most 0.8%).
INCREASE_AND_GUARANTEE = [
    (
        "We are a tech SME. R&D spending this year is 4 million yuan higher than last year. How much?",
        "rd-subsidy-sme",
        20,
    ),
    (
        "We are a technology-based SME and our R&D investment is 5 million yuan more than last year.",
        "rd-subsidy-sme",
        25,
    ),
    (
        "We meet the SME standard; R&D spending saw an increase of 2.5 million yuan. What is the maximum subsidy?",
        "rd-subsidy-sme",
        12.5,
    ),
    (
        "Our company is a small and medium-sized tech enterprise. R&D expenses grew by 6 million yuan. How much?",
        "rd-subsidy-sme",
        30,
    ),
    ("Our R&D spending rose 3 million yuan over last year. We are a tech SME. How much subsidy?", "rd-subsidy-sme", 15),
    (
        "We are above the SME standard and our R&D spending increased by 10 million yuan. How much can we get?",
        "rd-subsidy-large",
        50,
    ),
    (
        "A large enterprise's R&D spending is 8 million yuan higher than last year. What subsidy can it get?",
        "rd-subsidy-large",
        40,
    ),
    (
        "We don't meet the SME standard any more; R&D spending grew by 10 million yuan. How much subsidy?",
        "rd-subsidy-large",
        50,
    ),
    ("科技型中小企业，研发投入比去年多300万，最多补多少？", "rd-subsidy-sme", 15),
    ("我们是科小，今年研发费用比上年增加了400万元，能拿多少研发补助？", "rd-subsidy-sme", 20),
    ("研发投入较去年增长了500万，能补多少？", "rd-subsidy-sme", 25),
    ("超过科技型中小企业标准的企业，研发投入同比增加了2000万，补助多少？", "rd-subsidy-large", 100),
    ("How much is the guarantee fee for a 12 million yuan loan guaranteed by the district?", "guarantee-fee", 8),
    (
        "If the company takes a 5 million yuan loan with a financing guarantee, what is the maximum guarantee fee?",
        "guarantee-fee",
        4,
    ),
    ("What's the fee for a financing guarantee of 6 million yuan?", "guarantee-fee", 4.8),
    ("区科创投给我们1000万的贷款做融资担保，按最高费率担保费是多少？", "guarantee-fee", 8),
    ("贷款700万元由区里担保，担保费最多多少？", "guarantee-fee", 5.6),
]


@pytest.mark.parametrize(
    ("question", "rule_id", "wan"), INCREASE_AND_GUARANTEE, ids=[q[0][:24] for q in INCREASE_AND_GUARANTEE]
)
def test_increases_and_guaranteed_loans_fill_their_slot_in_both_languages(question, rule_id, wan):
    outcome = plan_calculation(normalise_question(question), RULES)
    assert outcome is not None and outcome.clarification is None
    assert outcome.rule.id == rule_id
    assert outcome.calculation.amount_yuan == Decimal(str(wan)) * W
    assert outcome.calculation.status == "eligible"


def test_an_increase_after_the_amount_outweighs_this_year_before_it():
    found = extract_inputs(
        find_rule(RULES, "rd-subsidy-sme"),
        normalise_question("R&D spending this year is 3 million yuan higher than last year"),
    )
    assert "rd_spend" not in found
    assert found["rd_increase"].value == Decimal(300 * W)


@pytest.mark.parametrize(
    ("question", "value"),
    [
        ("we are a tech sme", "sme"),
        ("we qualify as an sme", "sme"),
        ("a small and medium-sized tech enterprise", "sme"),
        ("we are above the sme standard", "above_sme"),
        ("we are a large enterprise", "above_sme"),
        ("we no longer meet the sme standard", "above_sme"),
        ("we don't meet the sme standard", "above_sme"),
        ("our firm doesn't meet the standard for smes", "above_sme"),
    ],
)
def test_english_scale_words_state_the_scale(question, value):
    assert extract_inputs(find_rule(RULES, "rd-subsidy-sme"), question)["scale"].value == value


# (question, the rules added up, amount in yuan): a count attached to an option multiplies that option's award
COUNTED_OPTIONS = [
    ("农场今年新认证了3个有机食品和1个无公害农产品，奖励合计多少？", ("green-certification-new",), 18 * W),
    ("新认证了两项绿色食品、四项无公害农产品，一共能拿多少", ("green-certification-new",), 20 * W),
    ("今年新认证了3个绿色食品，一共奖励多少", ("green-certification-new",), 12 * W),
    ("三部作品都拿了省级“五个一工程奖”，另外一部拿了市级的，总共奖多少？", ("five-ones-award",), 95 * W),
    ("一部作品获国家级“五个一工程奖”，还有两部作品获得省级“五个一工程奖”，合计多少", ("five-ones-award",), 160 * W),
    ("“五个一工程奖”国家级和市级各一个，一共奖励多少", ("five-ones-award",), 105 * W),
]


@pytest.mark.parametrize(("question", "rule_ids", "amount"), COUNTED_OPTIONS, ids=[q[0][:20] for q in COUNTED_OPTIONS])
def test_a_count_attached_to_an_option_multiplies_its_award(question, rule_ids, amount):
    outcome = _plan(question)
    assert (tuple(dict.fromkeys(part.id for part in outcome.parts)) or (outcome.rule.id,)) == rule_ids
    assert outcome.calculation.amount_yuan == Decimal(amount)


def test_a_counted_option_shows_its_multiplication():
    calc = _plan("新认证了2个有机食品、3个绿色食品，一共多少？").calculation
    assert calc.trace.endswith("3个 × 4万元 = 12万元；合计：10万元 + 12万元 = 22万元")


def test_the_count_in_an_award_name_is_not_a_count():
    calc = _plan("拿了国家级五个一工程奖，另外拿了市级五个一工程奖，一共多少").calculation
    assert calc.amount_yuan == Decimal(105 * W)


@pytest.mark.parametrize(
    ("question", "rule_id", "amount"),
    [
        (
            "云栖小镇新引进的空天信息数据应用类总部企业，估值8亿，营收2亿元，一次性奖励多少",
            "yunqi-space-hq-award",
            200 * W,
        ),
        ("空天信息软件开发类总部企业落户云栖小镇，市场估值35亿，营收9亿元，奖多少", "yunqi-space-hq-award", 1000 * W),
        ("云栖小镇空天信息软件开发企业年度营业收入首次突破1亿元，奖励多少", "yunqi-space-revenue-milestone", 100 * W),
    ],
)
def test_space_information_hq_tiers_and_revenue_milestones_are_told_apart(question, rule_id, amount):
    outcome = _plan(question)
    assert (outcome.rule.id, outcome.calculation.amount_yuan) == (rule_id, Decimal(amount))


def test_an_industry_named_beside_a_narrower_one_still_states_the_rules_own_industry():
    found = extract_inputs(find_rule(RULES, "yunqi-space-hq-award"), "空天信息软件开发类总部企业")
    assert found["industry"].value == "space_info"


@pytest.mark.parametrize(
    ("question", "articles", "amount"),
    [
        (
            "我们首次入选国家鼓励的重点软件企业,另外原创广告设计作品首次拿了国内权威设计奖项,合计多少?",
            ("A39", "A40"),
            220 * W,
        ),
        ("项目获国家技术发明奖一等奖并落地产业化;同时概念验证中心列入创建名单,两项一共多少?", ("A16",), 550 * W),
        ("成果拿了中国专利金奖落地产业化,另外我们的概念验证中心列入了创建名单,加起来多少", ("A16",), 250 * W),
    ],
)
def test_two_fixed_awards_with_ascii_punctuation_are_added_up(question, articles, amount):
    calc = _plan(question).calculation
    assert (calc.articles or (calc.article,), calc.amount_yuan) == (articles, Decimal(amount))


def test_a_sum_across_articles_is_cited_first_by_the_article_retrieval_ranks_highest():
    calc = _plan(
        "首次入选国家鼓励的重点软件企业，另外原创工业设计作品首次拿了世界设计大奖，合计多少", ("A40", "A39")
    ).calculation
    assert (calc.article, calc.article_label, calc.articles, calc.amount_yuan) == (
        "A40",
        "第四十条",
        ("A40", "A39"),
        Decimal(230 * W),
    )


def test_an_article_retrieval_does_not_rank_near_the_top_adds_no_item():
    # "跨境电商" is a word of the 农产品线上销售 award (A58), but the question is about a trade fair (A46); no 一共
    question = (
        "我们是做跨境电商的外贸公司，今年3月去德国参加了国际专业展，展位费12万元，住宿另外花了6万，最多能补多少？"
    )
    calc = _plan(question, ("A46", "A45", "A60")).calculation
    assert (calc.articles, calc.amount_yuan) == (("A46",), Decimal(84_000))


# ----------------------------------------------------------------------------- dev6/dev7 round: how facts are read


# (question, this year's and last year's R&D spend as read, amount): amounts dated by years are this year's and the
# previous year's; a year of registration dates nothing
DATED_SPEND = [
    (
        "经营规模符合国家科技型中小企业认定标准,2023年研发投入1800万元,2024年研发投入2600万元,研发投入补助最多能拿多少?",
        2600,
        1800,
        40 * W,
    ),
    ("2022年研发投入1000万元，2023年研发投入1800万元，研发补助多少", 1800, 1000, 40 * W),
    ("2023年研发投入1800万元，今年研发投入2600万元，能补多少", 2600, 1800, 40 * W),
    ("2023年度研发投入2000万，2024年度研发投入2150万，研发补助多少", 2150, 2000, 0),
    # short years, and "从…涨到…"
    ("科技型中小企业规模，23年研发投入1800万，24年做到了2000万，研发投入补助最多能拿多少？", 2000, 1800, 10 * W),
    ("科技型中小企业规模，研发投入从1800万涨到2600万，能补多少", 2600, 1800, 40 * W),
]


@pytest.mark.parametrize(
    ("question", "this_year", "last_year", "amount"), DATED_SPEND, ids=[q[0][:20] for q in DATED_SPEND]
)
def test_amounts_dated_by_years_are_this_years_and_the_previous_years(question, this_year, last_year, amount):
    outcome = _plan(question)
    assert outcome.rule.id == "rd-subsidy-sme"
    assert (outcome.inputs["rd_spend"], outcome.inputs["rd_spend_last_year"]) == (this_year * W, last_year * W)
    assert outcome.calculation.amount_yuan == Decimal(amount)


def test_a_year_of_registration_dates_no_amount():
    outcome = _plan("2017年注册的公司，今年研发投入比去年多了300万，研发补助多少")
    assert "rd_spend_last_year" not in outcome.inputs
    assert outcome.calculation.amount_yuan == Decimal(15 * W)


# (question, the growth read, amount): 每年增加值增幅 must reach 10% in every year, so the lowest listed year decides
YEARLY_GROWTH = [
    ("工业企业上规后连续3年在规，增加值增幅分别是12%、9%、15%，一次性奖励能拿多少？", "0.09", 0),
    ("工业企业上规后连续3年在规，增加值增幅分别是12%、10%、15%，一次性奖励能拿多少？", "0.1", 20 * W),
    ("工业企业上规后连续3年在规，每年增加值增幅12%，能拿多少？ 那如果增幅是9%呢", "0.09", 0),
    ("工业企业上规后连续3年在规，增加值增幅9%，能拿多少？ 那如果增幅是12%呢", "0.12", 20 * W),
    # a list by year, commas between: still one list
    ("上规后连续三年都在规，增加值增幅第一年12%，第二年只有9.5%，第三年15%，一次性奖励能拿多少", "0.095", 0),
    ("上规后连续三年都在规，增加值增幅第一年12%，第二年11%，第三年15%，一次性奖励能拿多少", "0.11", 20 * W),
]


@pytest.mark.parametrize(("question", "growth", "amount"), YEARLY_GROWTH, ids=[q[0][-16:] for q in YEARLY_GROWTH])
def test_of_yearly_values_listed_together_the_lowest_decides(question, growth, amount):
    outcome = _plan(question)
    assert outcome.rule.id == "above-scale-sustained-growth"
    assert outcome.inputs["value_added_growth"] == Decimal(growth)
    assert outcome.calculation.amount_yuan == Decimal(amount)


# (question, 家 counted, amount, the counting as the trace or the note shows it)
INCUBATOR_COUNTS = [
    (
        "三星的市级科技企业孵化器,今年有4家孵化企业通过了高新技术企业备案,其中3家在孵期间通过,1家是毕业2年后才通过的。绩效奖励最多多少?",
        3,
        45 * W,
        "4家 − 1家（毕业2年，超过毕业后1年） = 3家",
    ),
    (
        "三星孵化器，3家在孵期间通过高企备案，1家毕业后半年通过，2家毕业3年后通过，绩效奖励多少？",
        4,
        60 * W,
        "3家 + 1家 = 4家（2家毕业3年，超过毕业后1年，不计入）",
    ),
    (
        "三星孵化器，有2家企业毕业两年后才通过高企备案，能拿多少绩效奖励？",
        0,
        0,
        "0家（2家毕业两年，超过毕业后1年，不计入）",
    ),
    ("三星孵化器，今年有5家在孵企业通过高企备案，其中2家毕业1年内通过，绩效奖励多少？", 5, 75 * W, ""),
    ("三星孵化器今年有5家在孵企业通过高企备案，能拿多少绩效奖励？", 5, 75 * W, ""),
]


@pytest.mark.parametrize(
    ("question", "count", "amount", "shown"), INCUBATOR_COUNTS, ids=[q[0][:22] for q in INCUBATOR_COUNTS]
)
def test_items_outside_the_counting_window_are_not_counted(question, count, amount, shown):
    outcome = _plan(question)
    calc = outcome.calculation
    assert outcome.rule.id == "incubator-graduate-award"
    assert (outcome.inputs["incubator_graduates"], calc.amount_yuan) == (Decimal(count), Decimal(amount))
    label = "通过高新技术企业或技术先进型服务企业备案的在孵（毕业1年内）企业家数"
    if not shown:
        assert label not in calc.trace
    elif amount:
        assert calc.trace.startswith(f"{label} = {shown}；")
    else:
        assert calc.notes[0] == f"{label} = {shown}。"


# (question, rule, amount): a district word before a payout word names who pays ("区级给予"), not the 区级 option
PAYER_WORDS = [
    ("我们公司今年评上了省级农业龙头企业,区级奖励多少?", "agri-leading-enterprise", 15 * W),
    ("评上区级农业龙头企业能奖励多少", "agri-leading-enterprise", 2 * W),
    ("我们承办了省级政府部门的体育赛事，区里最多能补多少？", "sports-event-hosting", 80 * W),
    ("我们承办了区级政府部门的体育赛事，区里能补多少？", "sports-event-hosting", 40 * W),
]


@pytest.mark.parametrize(("question", "rule_id", "amount"), PAYER_WORDS, ids=[q[0][:18] for q in PAYER_WORDS])
def test_a_district_word_before_a_payout_names_the_payer_not_the_level(question, rule_id, amount):
    outcome = _plan(question)
    assert (outcome.rule.id, outcome.calculation.amount_yuan) == (rule_id, Decimal(amount))


# (question, rule, amount, assumptions): awards only for the first time (首次入选/认定/评定/获得) are not granted again
FIRST_TIME = [
    (
        "我们公司去年已经首次入选了国家鼓励的重点软件企业并拿了奖励,今年又再次入选了,这次的一次性奖励能拿多少?",
        "key-software-enterprise",
        0,
        (),
    ),
    ("首次入选国家鼓励的重点软件企业能拿多少？", "key-software-enterprise", 200 * W, ()),
    ("入选国家鼓励的重点软件企业能拿多少？", "key-software-enterprise", 200 * W, ("按首次入选计算",)),
    ("我们景区不是第一次评定为4A级景区了，还能拿奖励吗？", "scenic-area-rating", 0, ()),
    ("第二次认定为新雏鹰企业，能奖多少？", "xinchuying-first", 0, ()),
]


@pytest.mark.parametrize(
    ("question", "rule_id", "amount", "assumptions"), FIRST_TIME, ids=[q[0][:18] for q in FIRST_TIME]
)
def test_an_award_for_the_first_time_is_not_granted_again(question, rule_id, amount, assumptions):
    calc = _plan(question).calculation
    assert (calc.rule_id, calc.amount_yuan, calc.assumptions) == (rule_id, Decimal(amount), assumptions)
    if amount == 0:
        assert [(c.name, c.detail) for c in calc.conditions if c.status == "unmet"][0][1] == "需要 是，实际 否"


def test_a_kind_the_clause_excludes_is_not_eligible_under_that_rule():
    outcome = _plan("我们是一家今年新在西湖区注册的汽车销售公司，全年纳统社零额25亿元，社零额奖励能拿多少？")
    calc = outcome.calculation
    assert (outcome.rule.id, calc.amount_yuan) == ("retail-catering-new", Decimal(0))
    assert ("零售或餐饮企业（汽车销售除外）", "unmet", "需要 零售或餐饮，实际 汽车销售") in [
        (c.name, c.status, c.detail) for c in calc.conditions
    ]


def test_a_kind_the_clause_does_not_name_still_rules_a_variant_out():
    # 进口 is not excluded by the 国产 robot clause: it picks the other variant
    outcome = _plan("紫金港买了进口工业机器人，购置额200万，能补多少？")
    assert (outcome.rule.id, outcome.calculation.amount_yuan) == ("zijingang-robot-imported", Decimal(10 * W))


def test_an_option_word_gives_way_to_another_rules_own_word_in_its_item():
    calc = _plan("今年我们有1个产品新认证为有机食品,另外1个绿色食品成功续展,一共能拿多少奖励?").calculation
    assert calc.rule_id == "green-certification-new+green-certification-renewal"
    assert calc.amount_yuan == Decimal(7 * W)
    assert calc.trace.endswith("合计：5万元 + 2万元 = 7万元")


def test_a_single_item_counted_with_yi_xiang_lists_no_second_award():
    outcome = _plan(
        "公司承担了一项国家重点科研任务,国家实际到账补助资金2400万元。公司今年营收3个亿、员工200多人。按西湖区政策,最多能拿多少补助?",
        ("A12", "A14", "A41", "A34", "A15"),
    )
    assert (outcome.rule.id, outcome.parts, outcome.calculation.amount_yuan) == (
        "key-tech-national-task",
        (),
        Decimal(500 * W),
    )


# (question, retrieval's ranking, rule or None, amount): a rule that exists only for one place answers when the place
# is stated, its article is named or retrieval ranks its article first; shared words (房租, 平台, 技改, 营收) about
# another article's topic do not bring the place in
PLACE_RULES = [
    ("技术改造投资800万能补多少？", ("A34", "A5"), "zijingang-tech-renovation", 32 * W),
    ("我们工业企业做节能技改,投资800万元,能拿多少节能技改补助?", ("A5", "A34", "A26"), None, None),
    ("紫金港企业技术改造总投资800万元能资助多少？", ("A14", "A47"), "zijingang-tech-renovation", 32 * W),
    ("云栖小镇的企业做技改，投资800万能补多少？", ("A34", "A35"), "zijingang-tech-renovation", 0),
    (  # a follow-up swapped 紫金港 for 云栖: retrieval puts 云栖's article first, the 紫金港 rule does not answer
        "云栖小镇新注册的集成电路企业，年房租100万，第一年租房补贴多少？ 换成云栖小镇新引进的优质企业呢？"
        "同样年房租100万、面积1800平方米，也是第一年。",
        ("A35", "A34"),
        "yunqi-rent",
        100 * W,
    ),
    ("我们是区块链企业,在西溪谷租了500平方米办公室,年租金60万元,房租补助能拿多少?", ("A33", "A35", "A29"), None, None),
    ("我们通过区公共算力服务平台使用智算算力,一年花了100万元,能领多少算力券?", ("A30", "A34", "A38"), None, None),
    ("我们是一家律师事务所,年营收5000万元,中介服务业政策资金能拿多少?", ("A38", "A36", "A35"), None, None),
    ("第三十五条的房租补助，年租金100万，能补多少？", ("A33",), "yunqi-rent", 300 * W),
    # the best match (云栖小镇's 研发费用 award) does not apply: the runner-up (第十四条) was not asked about either
    ("元宇宙企业做VR核心技术研发项目,研发费用400万元,技术研发费补贴能拿多少?", ("A29", "A15", "A14"), None, None),
]


@pytest.mark.parametrize(("question", "hints", "rule_id", "amount"), PLACE_RULES, ids=[q[0][:18] for q in PLACE_RULES])
def test_a_place_rule_answers_only_a_question_about_it(question, hints, rule_id, amount):
    outcome = _plan(question, hints)
    if rule_id is None:
        assert outcome is None
    else:
        assert (outcome.rule.id, outcome.calculation.amount_yuan) == (rule_id, Decimal(amount))


def test_an_assumed_place_leads_the_answer_as_its_condition():
    calc = _plan("技术改造投资800万能补多少？", ("A34",)).calculation
    assert calc.premise == "若位于紫金港科技城"
    assert (
        format_calculation(calc).splitlines()[0]
        == "若位于紫金港科技城，可获32万元资助（第三十四条，紫金港科技城技术改造项目资助）。"
    )
    stated = _plan("紫金港企业技术改造投资800万能补多少？", ("A34",)).calculation
    assert (stated.premise, format_calculation(stated).splitlines()[0]) == (
        "",
        "可获32万元资助（第三十四条，紫金港科技城技术改造项目资助）。",
    )


@pytest.mark.parametrize(
    "question",
    ["赛前10天才去区文广旅体局备案，这样还能拿到承办补助吗？", "能领到研发补助吗", "可以拿到房租补贴吗"],
)
def test_asking_whether_an_award_can_still_be_had_is_a_calculation_request(question):
    assert is_calculation_request(question) is True


def test_filing_too_late_for_an_event_is_not_eligible():
    outcome = _plan(
        "我们公司自筹资金承办了一场省级政府部门的体育赛事，但是赛前10天才去区文广旅体局备案，这样还能拿到承办补助吗？"
    )
    assert (outcome.rule.id, outcome.calculation.amount_yuan) == ("sports-event-hosting", Decimal(0))
    assert [c.detail for c in outcome.calculation.conditions if c.status == "unmet"] == ["需要 ≥30日，实际 10日"]


def test_a_twenty_something_year_is_a_date_only_where_it_reads_as_one():
    outcome = _plan("成立23年的科技型中小企业规模企业，今年研发投入比去年多了300万，研发补助多少")
    assert "rd_spend_last_year" not in outcome.inputs
    assert outcome.calculation.amount_yuan == Decimal(15 * W)


def test_an_award_named_only_by_words_another_award_of_the_item_also_has_is_not_counted():
    # "首次被认定" belongs to both 高企 and 新雏鹰 awards: beside 新雏鹰 it names 新雏鹰 only
    outcome = _plan("今年我们首次被认定为新雏鹰企业，高企重新认定也通过了，合计最高能拿多少奖励")
    assert [rule.id for rule in outcome.parts] == ["xinchuying-first", "high-tech-renewal"]
    assert outcome.calculation.amount_yuan == Decimal(60 * W)


def test_what_was_already_received_counts_against_the_total_cap():
    outcome = _plan(
        "我们是紫金港科技城的企业，上半年买国产工业机器人已经拿了42万资助。下半年又买了4台国产工业机器人，每台30万，还能拿多少"
    )
    assert (outcome.rule.id, outcome.calculation.amount_yuan) == ("zijingang-robot-domestic", Decimal(8 * W))
    assert "已获42万元，上限50万元剩余8万元，按剩余额度计8万元" in outcome.calculation.trace
    used_up = _plan("紫金港企业，国产机器人已经拿了50万资助，又买了100万国产机器人，还能拿多少")
    assert used_up.calculation.amount_yuan == Decimal(0)


@pytest.mark.parametrize(
    ("question", "amount"),
    [
        ("外贸公司2024年5月去德国参加了国际专业展会，展位费8万，往返经济舱机票2万，补助能拿多少", 0),
        ("外贸企业今年2月去日本参展，展位费10万，机票3万，补助多少", 91000),
        ("外贸企业12月去日本参展，展位费10万，补助多少", 0),
    ],
)
def test_the_overseas_fair_subsidy_is_for_the_first_quarter_only(question, amount):
    outcome = _plan(question)
    assert (outcome.rule.id, outcome.calculation.amount_yuan) == ("trade-fair-overseas", Decimal(amount))


def test_a_grade_below_those_the_clause_names_is_not_eligible():
    outcome = _plan("我们众创空间今年年度绩效考核结果是合格，能拿多少运营资助")
    assert (outcome.rule.id, outcome.calculation.amount_yuan) == ("maker-space-operation", Decimal(0))


@pytest.mark.parametrize(
    ("question", "amount"),
    [
        # "超过25%" states a bound that meets "超过25%"; "不超过25%" does not
        (
            "云栖小镇规上企业上年营收5000万，近三年复合增长超过25%、连续两年以上正增长、最近一年增长35%，研发费用2000万，研发奖励多少",
            600 * W,
        ),
        (
            "云栖小镇规上企业上年营收5000万，复合增长率不超过25%，最近一年增长35%，连续3年正增长，研发费用800万，能奖励多少",
            0,
        ),
        ("云栖小镇规上企业上年营收5000万，复合增长率25%，最近一年增长35%，连续3年正增长，研发费用800万，能奖励多少", 0),
    ],
)
def test_a_value_stated_as_exceeding_a_number_meets_an_exceeding_condition(question, amount):
    outcome = _plan(question)
    assert (outcome.rule.id, outcome.calculation.amount_yuan) == ("yunqi-rd-award", Decimal(amount))


def test_the_latest_year_is_no_span_of_years():
    outcome = _plan(
        "云栖小镇规上企业上年营收5000万，复合增长率30%，保持两年以上正增长，最近一年增长35%，研发费用800万，奖励多少"
    )
    assert outcome.inputs["revenue_positive_growth_years"] == Decimal(2)


@pytest.mark.parametrize(
    ("question", "rule_ids", "amount"),
    [
        # terse questions ending in a sum word
        ("高企 首次认定 + 首次上规模 一共最多?", ("high-tech-first", "high-tech-first-above-scale"), 50 * W),
        (
            "企业新设国家级博士后工作站 + 拿到博士后独立招收资格 合计?",
            ("postdoc-workstation", "postdoc-independent-recruitment"),
            150 * W,
        ),
        ("市级孵化器 绩效三星 在孵企业3家通过高企备案 绩效奖励最多?", ("incubator-graduate-award",), 45 * W),
    ],
)
def test_terse_questions_ending_in_a_sum_word_are_calculations(question, rule_ids, amount):
    outcome = _plan(question)
    assert (tuple(rule.id for rule in outcome.parts) or (outcome.rule.id,)) == rule_ids
    assert outcome.calculation.amount_yuan == Decimal(amount)


def test_a_yearly_award_added_up_over_the_years_the_question_names():
    outcome = _plan(
        "我们牵头建设的概念验证中心今年列入了创建名单。如果后面通过认定，认定后头两年按服务绩效每年都拿满，连同创建补助一共最多多少？"
    )
    assert outcome.calculation.amount_yuan == Decimal(1050 * W)
    assert "2年 × 500万元 = 1000万元" in outcome.calculation.trace
    per_year = _plan("经认定的概念验证中心每年最多多少").calculation
    assert (per_year.amount_yuan, per_year.per_year) == (Decimal(500 * W), True)


def test_a_hypothesis_inside_one_question_is_no_follow_up():
    # "如果…" goes on with the question; only "…呢" (or a joined earlier turn) asks anew
    outcome = _plan(
        "概念验证中心今年列入了创建名单。如果后面通过认定，认定后头两年按服务绩效每年都拿满，连同创建补助一共最多多少？"
    )
    assert outcome.calculation.amount_yuan == Decimal(1050 * W)


def test_two_figures_for_one_input_are_not_two_awards():
    outcome = _plan(
        "承担了一个国家重点科研任务，项目总预算5000万，国家实际到账补助资金1200万，其余3800万自筹。区里能给多少补助？"
    )
    assert (outcome.parts, outcome.calculation.amount_yuan) == ((), Decimal(300 * W))


def test_a_lower_tier_already_received_is_deducted():
    outcome = _plan(
        "我们是云栖小镇做空天信息软件开发的企业，去年营收首次突破5000万，拿了50万奖励；今年营收1.2亿，首次突破1个亿，今年还能再拿多少？"
    )
    assert outcome.calculation.amount_yuan == Decimal(50 * W)


def test_a_yearly_schedule_shows_each_years_base():
    calc = _plan("区外迁入紫金港的集成电路企业，三年房租分别是60万、80万、100万，租房补贴一共能拿多少？").calculation
    assert calc.trace.startswith(
        "第1年：60万元 × 50% = 30万元；第2年：80万元 × 50% = 40万元；第3年：100万元 × 50% = 50万元"
    )
    assert calc.read_inputs[0] == ("年房租额", "60万元、80万元、100万元")


# (question, amount in yuan): how people word their facts — each row is a wording the calculator once misread
WORDINGS = [
    # -- dev24 round: a cue listing the parts of a whole ("设备加外购软件总投资") does not narrow the figure to 设备;
    # a rule's word inside a scope option it does not want ("超过了科技型中小企业") does not speak for it; across
    # articles an item is named by its award, not by a figure's cue ("实际到账"); 还参加 adds an item; the list
    # with more computable items wins ("龙井手工炒制大师": 龙井 alone is no tea-purchase item)
    ("我们公司在紫金港科技城新上一条产线，设备加外购软件总投资合计1,250万元，技改资助能拿多少？", 50 * W),
    # a sum given as a share of another the question states ("是立项金额的八成", "是投入额的三成")
    (
        "紫金港一家注册第三年的生物医药企业，购置仪器设备的技改项目立项金额1.5亿元，实际完成投资是立项金额的八成，"
        "按实际投资最多能补多少？",
        480 * W,
    ),
    ("紫金港生物医药企业注册两年，购置仪器设备立项金额1.5亿元，实际完成投资是立项金额的六成，最多能补多少？", 0),
    (
        "我们承担了一个国家重点科研任务，项目实际投入2000万元，国家补助实际到账的钱正好是投入额的三成，区里最多配套多少？",
        150 * W,
    ),
    # "注册第3年": in its third year since registration
    ("紫金港一家注册第三年的生物医药企业，购置仪器设备的技改项目总投资1.2亿元，最多能补多少？", 480 * W),
    ("紫金港一家注册第七年的生物医药企业，购置仪器设备的技改项目总投资1.2亿元，最多能补多少？", 0),
    (
        "符合科技型中小企业规模的公司，研发投入比上年新增800万元，能补多少？ "
        "如果我们的经营规模超过了科技型中小企业认定标准，其他不变呢？",
        40 * W,
    ),
    (
        "A company whose business scale exceeds the national tech-SME standard spent 520 million yuan on R&D this "
        "year. How much subsidy does it receive directly?",
        300 * W,
    ),
    (
        "省级认定的企业海外研发机构，省补助资金实际到账120万元，区里奖励多少？ "
        "我们还有一家外商投资设立的省级外资研发中心，实到省补助资金80万元，两项加起来一共多少？",
        100 * W,
    ),
    (
        "我们的农产品当年新认证了绿色食品，奖多少？ 如果还参加了区农业农村部门推荐的省外农业展会，加起来一共多少？",
        43_000,
    ),
    ("龙井手工炒制大师奖励 加上绿色食品当年新认证 一共几万", 5 * W),
    # -- a whole rent per month is 12 times that a year; 去年/今年 date the two figures an increase is taken from
    ("紫金港新迁入的集成电路企业，办公用房租金每月8万元，三年租房补贴累计最多多少？", 144 * W),
    ("紫金港新注册的集成电路企业，房租10万元/月，房租补贴最多多少", 150 * W),
    ("规模符合科技型中小企业认定标准，去年全年研发投入1800万，今年做到了2300万，最多能拿多少？", 25 * W),
    ("科小企业，前年研发投入900万，去年研发投入1000万，今年研发投入1300万，补助多少", 15 * W),
    # -- two dates give the days between them where the filing is; a year of registration with 完成/正式
    ("我们公司自筹资金承办市级政府部门的体育赛事，比赛6月20日开始，6月5日才去区文广旅体局备案，能补多少？", 0),
    ("自筹资金承办省级体育赛事，5月1日去区文广旅体局备案，6月10日比赛，补多少", 80 * W),
    (
        "紫金港一家生物医药公司2020年9月完成注册，购买仪器设备（不含电脑空调）立项1200万、实际也投了1200万，最多补多少？",
        48 * W,
    ),
    # -- a follow-up that scales the earlier figure; the part of a staged award asked for
    ("企业买科技保险交了80万保费，最多补多少？ 保费要是翻一倍呢？", 50 * W),
    ("企业买科技保险交了80万保费，最多补多少？ 那保费减半呢？", 20 * W),
    (
        "去年11月迁入云栖的空天信息制造企业，一年内设备投资1000万元，固定资产补贴最多多少？ 那达产升规之前能先拿到多少？",
        100 * W,
    ),
    ("迁入云栖的空天信息制造企业，一年内设备投资1000万元，达产升规后拨付的那部分是多少？", 100 * W),
    ("迁入云栖的空天信息制造企业，一年内设备投入1000万，补贴总共能拿多少？听说有一部分要等达产升规后才拨", 200 * W),
    # -- English: counts of items, "N consecutive years"
    (
        "This year two of our organic-certified products passed renewal and one green-food product was renewed. How much is the total one-off reward?",
        8 * W,
    ),
    (
        "An individual business converted into an independent legal-person industrial company and entered the "
        "above-designated-size statistics for the first time. It then stayed above scale for 3 consecutive years with "
        "value-added growth of at least 10% every year. What is the maximum total reward?",
        50 * W,
    ),
    # -- a price per person times the people counted
    (
        "外贸企业今年3月去德国参展，展位费12万元，去了3个人，往返经济舱机票每人1.5万元，最多能补多少？",
        Decimal("115500"),
    ),
    # -- a fixed award counted for each recipient when a total is asked; the items listed before 各 each earn it
    ("我们茶厂有两位师傅今年评上了西湖龙井手工炒制大师，一共能拿多少奖励？", 2 * W),
    ("两家子公司今年都首次认定为高新技术企业，一共能拿多少", 40 * W),
    (
        "工业设计作品首次获得世界设计大奖，广告设计作品和视觉设计作品各首次获得一个国内权威设计奖项，一共奖多少？",
        70 * W,
    ),
    ("我们茶厂有两位师傅今年评上了西湖龙井手工炒制大师，每人能拿多少奖励？", 1 * W),
    # -- "最多能拿多少" after facts earning different awards of one article: their sum; a figure's cue names no award
    ("五星孵化器，有2家在孵企业通过高企备案，最多能拿多少？", 60 * W),
    ("首次认定为高新技术企业，同年首次上规模，最多能拿多少？", 50 * W),
    (
        "云栖小镇的规上企业，上年营收5000万，近三年复合增长30%，连续三年正增长，最近一年增长35%，研发费用2000万，研发奖励最多多少？",
        600 * W,
    ),
    # -- follow-ups and items told apart within one article (dev19, dev20, dev21)
    ("我们是市级孵化器，年度绩效评了四星，孵出来的企业里有2家过了高企备案，运营资助加绩效奖励最多多少？", 50 * W),
    ("我们高企到期后重新认定通过了，奖多少？ 同一年我们还首次上规模了，加起来呢？", 40 * W),
    ("概念验证中心列入创建名单，给多少补助？ 后来通过认定了，认定后第一年按最高标准拿，加起来一共多少？", 550 * W),
    ("当年新认证的无公害农产品，奖多少？ 复查换证的呢？", 1 * W),
    ("工业企业首次上规纳统，奖多少？ 要是之后连续3年都在规、增加值每年刚好增长10%，加起来最多多少？", 40 * W),
    (
        "我们是四星市级科技企业孵化器，今年有3家企业通过高企备案：2家在孵期间通过，1家毕业两年后才通过。"
        "孵化器运营资助加绩效奖励最多一共多少？",
        50 * W,
    ),
    ("一件原创视觉设计作品首次获得世界设计大奖，同时又被一场国际重大赛事采用，按规定最多一共能奖多少？", 60 * W),
    ("我们2022年已经首次入选过国家鼓励的重点软件企业，今年再次入选，还能拿那笔一次性奖励吗？", 0),
    ("我们区域性股权市场运营机构今年拿到的是省地方金融管理局批复的创新试点，这种能拿那笔一次性奖励吗？", 0),
    (
        "This year we were recognized as a 'New Young Eagle' (新雏鹰) enterprise for the first time, and our high-tech "
        "enterprise status was also re-certified. What is the maximum total award?",
        60 * W,
    ),
    (
        "Our team was newly selected as a municipal leading innovation and entrepreneurship team; our company also set up "
        "a new provincial-level postdoctoral workstation and obtained independent postdoc recruitment qualification. "
        "What is the maximum total?",
        600 * W,
    ),
    # -- English sums of awards
    (
        "Our scenic area was rated national 5A for the first time, and our rural tourism smart-construction project "
        "had an actual investment of 50 wan. How much can we receive altogether?",
        60 * W,
    ),
    (
        "One of our original industrial designs won a world design award for the first time, and a separate original "
        "visual design of ours won a top domestic (national authoritative) design award for the first time. "
        "Total reward in yuan?",
        50 * W,
    ),
    (
        "Our original film, declared through Xihu District and publicly released, won the Golden Rooster Award. In the "
        "same year our company was recognized for the first time as a national key cultural export enterprise. "
        "What's the total reward?",
        80 * W,
    ),
    # -- follow-ups and loose wording
    # a follow-up joined to its earlier turn: what it says replaces what was said
    ("新注册的零售企业，全年纳统社零3亿，奖多少？ 哦对了，我们其实是做汽车销售的，那能拿多少？", 0),
    ("紫金港新注册的集成电路公司，办公室一年租金120万，第一年房租能补多少？ 那三年加起来呢？", 150 * W),
    # the lower tier named as received, without its amount: the tier the earlier figure reached
    (
        "云栖小镇做软件开发的空天信息企业，年度营收首次突破5000万，有什么奖励？ 这个已经拿过了，现在营收首次突破1亿了，还能再拿多少？",
        50 * W,
    ),
    ("市级孵化器升级成省级后来又从省级升成国家级一共最多奖多少", 100 * W),
    ("我们公司规模超过了科技型中小企业认定标准，年度研发投入2亿，比上年新增3000万，能拿多少研发补助？", 150 * W),
    ("首次评定为国家4A级景去 奖历多少", 30 * W),  # typos in the place and the award word
    ("获得中国专利金将的科技成果落地产业化 奖多少", 200 * W),
    # -- English wording of facts
    (
        "We're a biomedical company registered in Zijingang Science City two years ago, doing a tech-upgrade project "
        "buying lab equipment approved at ¥8,000,000; we actually invested the full ¥8,000,000. What's the maximum subsidy?",
        32 * W,
    ),
    (
        "We're an above-designated-size company in Yunqi Town. Last year's revenue was 50m yuan, our three-year compound "
        "growth rate is 28%, revenue has grown every year for three years, and last year's growth was 35%. Our total "
        "R&D expenses are 20m yuan. How much R&D reward could we get in principle?",
        600 * W,
    ),
    (
        "Our company is bigger than the national tech-SME size standard and we spent RMB 600 million on R&D this year. "
        "What R&D subsidy can we get?",
        300 * W,
    ),
    (
        "Our original industrial design just won a world design award for the first time. What does Xihu pay for that?",
        30 * W,
    ),
    (
        "Our farm business was just named a provincial-level agricultural leading enterprise. How much does the district give?",
        15 * W,
    ),
    # -- sums per named event, yearly bases, conditions that decide
    # one clause, the same sum for each of several named events
    ("公司两个成果分别获得中国专利金奖和省技术发明奖一等奖，都在西湖落地产业化，一共能奖多少？", 400 * W),
    (
        "我们牵头建的概念验证中心先列入了创建名单，第二年又通过认定，创建补助加上认定后第一年的绩效补助最多一共多少？",
        550 * W,
    ),
    ("市级孵化器年度绩效三星，只有1家企业是毕业一年半以后才通过高企备案的，孵化器能拿多少奖励？", 0),
    ("本地老企业拆分出来新注册的零售公司，全年社零额3亿，能拿社零奖励吗？", 0),  # 拆分 decides over 新注册
    ("线上销售类农业项目，总投资60万，线上销售额480万元，能立项拿补助吗？", 0),
    ("茶叶加工企业今年收购的10吨西湖龙井毛茶全部来自外区茶农，能拿收购奖励吗？", 0),
    ("我们一个产品当年新认证了有机食品，另一个绿色食品认证续展成功，一共奖多少？", 7 * W),
    # a yearly schedule with a base for each year
    ("区外迁入紫金港的集成电路企业，三年房租分别是60万、80万、100万，租房补贴一共能拿多少？", 120 * W),
    ("云栖小镇新引进企业，租了6000平方米，两年房租分别是100万、120万，一共补多少", 110 * W),
    # a follow-up that adds an item, and a tier reached again
    ("紫金港企业买了2台国产工业机器人，每台50万，能补多少？ 再加买6台进口的、每台80万，一共能补多少？", 34 * W),
    (
        "云栖做软件开发的空天信息企业，年营收首次突破5000万，奖多少？ 第二年营收又首次突破了5亿，这次能拿多少？",
        250 * W,
    ),
    (
        "An agricultural company was named a national-level agricultural leading enterprise, and one of its products "
        "newly obtained green food certification this year. What are the total one-off rewards?",
        34 * W,
    ),
    # -- grades, conditions and English figures
    ("三星级的市级科技企业孵化器，今年有4家在孵企业通过了高企备案，孵化器最多能拿多少？", 60 * W),
    ("孵化器是市级的，年度绩效评价只评了二星，在孵企业有3家过了高企备案，那个每家15万的绩效奖励我们能拿多少？", 0),
    ("依托我们企业建设的省级国际联合实验室，今年绩效考核结果是良好，省补助实到100万，能按50%拿到区里的奖励吗？", 0),
    ("省级认定的企业海外研发机构，省补助实到100万，奖多少", 50 * W),
    ("原创作品通过西湖区申报得了省级五个1工程奖 奖励多少", 30 * W),
    (
        "Our company undertakes a national key research task, and 2.4 million yuan of national funding has actually "
        "arrived. What is the maximum matching subsidy from the district?",
        60 * W,
    ),
    (
        "Our company exceeds the SME size criteria for tech-based SMEs. Our annual R&D spending rose from 46 million "
        "yuan to 50.8 million yuan. How much R&D subsidy can we get?",
        0,
    ),
]


@pytest.mark.parametrize(("question", "amount"), WORDINGS, ids=[q[0][:24] for q in WORDINGS])
def test_wordings_people_use_give_the_exact_amount(question, amount):
    assert _plan(question).calculation.amount_yuan == Decimal(amount)


# ----------------------------------------------------------------------------- never confidently wrong (issue 13)


def test_a_second_yearly_figure_without_a_cue_is_shown_as_read_and_asked_about_instead_of_computed():
    outcome = _plan("科技型中小企业规模，2023年研发投入650万，2024年800万，能补多少")
    assert outcome.calculation is None
    assert outcome.rule.id == "rd-subsidy-sme"
    assert outcome.clarification == (
        "研发投入增量补助（科技型中小企业规模）（第十四条）：按年度研发投入新增额的不超过5%计算，最高200万元。\n"
        "我的理解：年度研发投入新增额 = 150万元（2024年800万元 − 2023年650万元）；经营规模：符合科技型中小企业认定标准。\n"
        "为避免算错，请先确认：请问贵公司本年度研发投入比上一年度新增了多少？"
    )
    assert outcome.reading.amount_yuan is None  # the calculation as read, its amount withheld


def test_two_yearly_figures_each_introduced_by_its_own_words_are_computed():
    outcome = _plan("去年全年研发投入1800万，今年做到了2300万，最多能拿多少")
    assert outcome.clarification is None
    assert outcome.calculation.amount_yuan == Decimal(25 * W)


def test_figures_dated_against_their_slots_are_shown_in_year_order_and_asked_about():
    outcome = _plan("前年研发投入650万，去年研发投入是800万，补多少")
    assert outcome.calculation is None
    assert "我的理解：年度研发投入新增额 = 150万元（去年800万元 − 前年650万元）。" in outcome.clarification


@pytest.mark.parametrize(
    "question",
    [
        "研发投入800万，能补多少",  # the spend or the increase?
        "研发补助：我们是科小，800万，能拿多少",
    ],
)
def test_a_bare_figure_that_could_be_the_spend_or_the_increase_is_asked_about(question):
    outcome = _plan(question)
    assert outcome.calculation is None or outcome.calculation.amount_yuan is None


def test_a_rule_word_the_question_negates_is_asked_about_not_computed():
    outcome = _plan("不是首次认定的高新技术企业，能奖多少")
    assert outcome.calculation is None
    assert outcome.clarification.endswith(
        "为避免算错，请先确认：您提到“不是首次认定”，本项政策适用于首次认定的高新技术企业，是否符合？"
    )


def test_a_condition_contradicted_earlier_in_its_clause_is_asked_about():
    outcome = _plan("我们公司规模早就不算科技型中小企业了，研发投入比去年多了800万，能拿多少")
    assert outcome.calculation is None
    assert outcome.clarification.endswith(
        "为避免算错，请先确认：请问贵公司的经营规模是否符合国家科技型中小企业认定标准（还是已超过该标准）？"
    )


def test_a_negation_of_one_of_two_options_is_still_a_certain_reading():
    outcome = _plan("紫金港买工业机器人200万，不是进口的，补多少")
    assert outcome.calculation.amount_yuan is not None


def test_a_question_asking_a_part_of_the_total_is_asked_about():
    outcome = _plan("紫金港技改项目一共投资1000万，一共能补多少，其中区级多少")
    assert outcome.calculation is None
    assert outcome.clarification.endswith(
        "为避免算错，请先确认：您同时问到总额和其中一部分，政策只规定总额的计算方法，未分列其中各部分，您想了解的是哪一项金额？"
    )


def test_a_breakdown_given_with_its_figure_is_no_part_asked():
    outcome = _plan("紫金港企业技术改造总投资1000万元，其中外购软件200万元，能资助多少？")
    assert outcome.calculation.amount_yuan == Decimal(40 * W)


def test_every_calculation_shows_the_figures_as_read():
    calc = _plan("紫金港企业技术改造总投资800万元能资助多少？").calculation
    assert calc.read_inputs == (("技术改造项目总投资额", "800万元"),)
    assert format_calculation(calc).splitlines()[1] == "按以下数字计算：技术改造项目总投资额 800万元"


def test_an_uncertain_reading_reaches_the_user_as_a_clarification_with_the_rule_its_clause_and_no_amount(
    fake_assistant,
):
    answer = fake_assistant.ask("科技型中小企业规模，2023年研发投入650万，2024年800万，能补多少")
    assert (answer.route, answer.amount_yuan, answer.refused) == ("clarify", None, False)
    assert answer.citations == ("A14",)
    assert answer.answer.splitlines()[:3] == [
        "研发投入增量补助（科技型中小企业规模）（第十四条）：按年度研发投入新增额的不超过5%计算，最高200万元。",
        "我的理解：年度研发投入新增额 = 150万元（2024年800万元 − 2023年650万元）；经营规模：符合科技型中小企业认定标准。",
        "为避免算错，请先确认：请问贵公司本年度研发投入比上一年度新增了多少？",
    ]
    assert "最高可按新增额5%给予补助" in answer.answer  # the clause is quoted
    calculation = answer.to_dict()["calculation"]
    assert (calculation["amount_yuan"], calculation["read_inputs"]) == (
        None,
        [["年度研发投入额", "800万元"], ["上年度研发投入额", "650万元"]],
    )


def test_a_computed_answer_shows_the_figures_as_read(fake_assistant):
    answer = fake_assistant.ask("紫金港企业技术改造总投资800万元能资助多少？")
    assert answer.amount_yuan == 320000
    assert answer.answer.splitlines()[1] == "按以下数字计算：技术改造项目总投资额 800万元"


def test_a_sum_shows_each_parts_figures_named_by_their_award_when_the_labels_repeat():
    calc = _plan("紫金港科技城企业，进口3台机器人每台80万，国产5台每台30万，能资助多少").calculation
    assert calc.amount_yuan == Decimal(27 * W)
    assert calc.read_inputs == (
        ("紫金港科技城购置进口工业机器人资助：工业机器人设备购置额", "240万元"),
        ("紫金港科技城购置国产工业机器人资助：工业机器人设备购置额", "150万元"),
    )


def test_a_negation_in_an_earlier_sentence_or_aside_does_not_contradict_a_later_word():
    outcome = _plan(
        "We newly registered a shop in Xihu (not split off from a local firm, not car sales). "
        "Our retail sales counted in the statistics reached 1.5 billion yuan. How big is the one-off reward?"
    )
    assert outcome.clarification is None
    assert outcome.calculation.amount_yuan == Decimal(450 * W)


def test_a_figure_without_a_cue_where_the_rule_adds_two_figures_is_asked_about():
    outcome = _plan("外贸企业参加境外展会，一共花了5万，能补多少")
    assert outcome.calculation is None
    assert outcome.clarification.splitlines()[1:] == [
        "我的理解：展位费 = 5万元。",
        "为避免算错，请先确认：请问境外展会的展位费是多少？",
    ]


def test_a_figure_without_a_cue_for_the_rules_only_slot_of_its_kind_is_computed():
    outcome = _plan("我们在紫金港科技城采购了6台国产机器人，单价30万，能补多少")
    assert outcome.calculation.amount_yuan == Decimal(18 * W)


def test_two_figures_of_one_dated_clause_and_a_stated_increase_are_computed():
    outcome = _plan(
        "我们公司经营规模已经超过国家科技型中小企业认定标准，今年研发投入从2亿元增加到2.03亿元，新增三百万，能拿多少？"
    )
    assert outcome.clarification is None
    assert outcome.calculation.amount_yuan == 0  # 新增300万元 < 500万元


def test_an_english_rule_word_matches_with_a_hyphen_or_a_space_between_its_words():
    found = find_words("our smart rural-tourism project", ["smart rural tourism", "rural tourism"])
    assert [word for _, _, word in found] == ["smart rural tourism"]
    outcome = _plan(
        "Our village's smart rural-tourism project in Xihu District had an actual investment of 600,000 yuan. "
        "How much support can the project get?"
    )
    assert outcome.rule.id == "rural-tourism-smart"
    assert outcome.calculation.amount_yuan == Decimal(120000)


def test_two_spellings_of_one_english_word_count_once_for_a_rule():
    # high-tech-first lists both "high tech enterprise" and "high-tech enterprise": one stretch, one word
    question = (
        "This year we were recognized as a 'New Young Eagle' (新雏鹰) enterprise for the first time, and our "
        "high-tech enterprise status was also re-certified. What is the maximum total award?"
    )
    assert word_key("High-tech  enterprise") == word_key("high tech enterprise")
    assert _plan(question).calculation.amount_yuan == Decimal(600000)


def test_a_follow_up_naming_a_shorter_form_of_the_earlier_word_is_decided_by_its_new_words():
    joined = "首次上规纳统的工业企业奖多少？ 上规以后呢，后面几年还有没有奖励？"
    outcome = _plan(joined)
    assert outcome.rule is None or outcome.rule.id != "first-above-scale-industrial"
    # the same word repeated keeps its follow-up weight: the last turn is about 竞争类
    repeated = "揭榜挂帅的重大项目最高补多少？ 竞争类的呢？ 那实际投入九百万的竞争类项目呢？"
    assert _plan(repeated).calculation.amount_yuan == Decimal(1800000)
