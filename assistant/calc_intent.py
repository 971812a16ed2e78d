"""From a question to a calculation: detect a computation request, choose the rule, fill its inputs, calculate.

Rule choice (deterministic, no model): each rule scores its keywords found in the question (longer words weigh more,
later mentions a little more), the inputs the question fills for it (an amount introduced by one of the slot's cue
words counts most), scope facts the question states (紫金港/云栖, 生物医药, 科技型中小企业 ...: a match adds, a contradiction
subtracts), retrieval's article hints and an explicit "第三十四条". Close scores across different rules -> ask which one
(candidates). Rules of one `group` (e.g. the four 第十四条 R&D cases) are variants: the best-supported one is calculated
and the others are reported as alternatives when an unknown fact (经营规模) decides between them; of the variants for
the same enterprise (新增额的5%, or with 年度研发投入额 1亿元以上 a direct 200万元) the one that applies wins, the higher when both
do. Later mentions override earlier ones (follow-ups are appended, after a sentence end or a space; a follow-up's
words weigh double). A word right after a negation ("不是本地企业拆分的", "非制造业", "not a manufacturer") does not state its
fact (a flag takes the other value, a two-option choice the other option). Cue words inside a bracketed aside
("3000万（含设备和外购软件）") do not introduce amounts outside it.

Only the cue words of rules the question is about compete for its amounts. Figures written in other forms are worked
out first by assistant.figures (a price per unit times its count, a rent per ㎡ or per month as a yearly rent, a year
of registration as years, two dates as days, counts within a window, a follow-up that doubles the earlier figure);
"第三年" / "前两年" pick years of a yearly schedule. A 紫金港/云栖 rule answers only a question about it: its place stated, its
article named, or (when retrieval gave its ranking) its article ranked first — shared words (房租, 平台, 技改, 营收) of
another article's topic do not bring the place in, and when such a rule is the best match no other rule answers
instead. When its place is then the only missing fact, it is computed for that place and the answer leads with that
condition ("若位于紫金港科技城，…"). Amounts dated by years ("2023年研发投入1800万元，2024年…2600万元") are the previous and this year's;
of values listed together for a slot that must hold every year ("增幅分别是12%、9%、15%") the lowest decides; items outside
a counting window ("1家是毕业2年后才通过的") are not counted; "区级奖励多少" names who pays, not a 区级 option; "再次入选" is not a first
time; a kind the clause excludes ("汽车销售除外") makes that rule not eligible rather than choosing another. A question
listing several awards ("…，又…，一共", "另外", "同时", "两次") gets their sum (calculator.combine, shared caps applied):
awards of one article, or of several articles when each item has a word only its rule has
("首次入选重点软件企业…首次认定高新技术企业，两项一共"; "承担了一项…" alone lists nothing); in an item, an option's name ("绿色食品") gives way to
another rule's own word ("续展"); a rule that `includes` another (个转企并首次上规) brings it along unless only the extra is
asked for ("额外", "再奖"). A count attached to a named option ("2个有机食品", "两部作品各拿了市级…") multiplies that option's award,
and so does a count of recipients before a fixed award when a total is asked ("两位师傅…评上了炒制大师，一共") or the items listed
before 各 ("广告设计作品和视觉设计作品各…"); a sum across articles is cited first by the article retrieval ranks highest. Of
several options of one choice the question names ("空天信息软件开发类"), a rule reads the one it is for.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from assistant.amounts import Above, Amount, find_amounts, format_money, to_halfwidth
from assistant.calculator import (
    UNKNOWN,
    Calculation,
    Condition,
    by_year,
    calculate,
    coerce_value,
    combine,
    shared_caps,
    staged_part,
    times,
)
from assistant.figures import (
    DATED_YEAR,
    NOTICE_YEAR,
    SEGMENT_BREAK,
    SENTENCE_END,
    YEARS_OF_AWARD,
    clause_begin,
    small_number,
    with_count_windows,
    with_date_gap,
    with_english_items,
    with_monthly_rents,
    with_registration_years,
    with_scaled_follow_up,
    with_shares_of,
    with_unit_prices,
    with_unit_rents,
    year_of,
    year_window,
)
from assistant.numerals import find_article_refs
from assistant.rules import NUMERIC_KINDS, ConditionSpec, Rule, Slot

FOLLOW_UP_OPENING = re.compile(
    r"那么|那|如果|要是|假如|假设|换成|改成|若是|若|哦|噢|对了|其实|what about|how about|and if|what if", re.IGNORECASE
)
_ASKS_AGAIN = re.compile(r"呢|\b(what about|how about|and if|what if)\b", re.IGNORECASE)
AMBIGUITY_MARGIN = 0.75
HINT_WEIGHTS = (1.6, 0.6, 0.3, 0.2, 0.1)  # retrieval's article ranking breaks ties; it does not override keywords
FOLLOWING_CUE_PENALTY = 1  # a cue after the amount ("30万保费") is a little weaker than one right before it
GENERIC_CUE_PENALTY = 2  # a cue shared by several slots ("花了", "投资") says less than a specific one

_ASK_PATTERNS = (
    r"(能|可以|可|最多|最高|一共|总共|大概|大约|预计|估计)?(拿|领|获得?|申请|申领|补|奖|报|返|得|享受|给)(到)?(多少|几)",
    r"(奖|补)[\u4e00-\u9fff](多少|几)",  # a typo in the award word: "奖历多少", "补铁多少"
    r"(补贴|补助|奖励|资助|奖金|扶持|支持|返还|减免|配套|担保费|保费|资金|经费|奖补|金额)"
    r"(金额|额度|资金|标准|比例上限)?(是|有|为|能有|大概|会是|最多|最高|一共|总共)?(是|有|为)?(多少|几)",
    r"(最多|最高|一共|总共|合计|共计|总计|加起来|累计)(能|可以|可|会)?(有|是|为)?(多少|几)",
    r"多少(钱|补贴|补助|奖励|资助|奖金|扶持资金|担保费)",
    r"算一下|算算|帮我算|计算|测算|估算|核算|能补|补多少|奖多少",
    r"(有什么|有哪些|有没有|有啥|什么样的?)(补贴|补助|奖励|资助|扶持|支持|优惠)",
    r"(有|给|能拿到?|能领到?|可以拿到?|能获得|能享受)[\u4e00-\u9fff]{0,6}?(补贴|补助|奖励|资助)(吗|么|嘛)",
    r"(能|可以|可)(拿|领|获得|享受|申请)(什么|哪些|啥)",
    # terse: "高企 首次认定 + 首次上规模 一共最多?", "… 绩效奖励最多?"
    r"(一共|总共|合计|共计|总计|加起来|最多|最高)\s*(是|有)?\s*(多少)?\s*[?？]\s*$",
)
_ASK = re.compile("|".join(_ASK_PATTERNS))
_ASK_EN = re.compile(
    r"\bhow much\b|\bcalculat|\bestimat"
    r"|\bwhat (?:subsidy|subsidies|award|awards|grant|grants|amount|support|funding|reward)\b"
    r"|\bwhat(?:'s| is| are| was| would be| will be)? (?:the |our |my |its )?"
    r"(?:(?:maximum|max|total|possible|one-off|one-time|annual|expected|highest|matching|district|[a-z]+-level) )*"
    r"(?:subsidy|subsidies|awards?|rewards?|grants?|support|funding|bonus(?:es)?|allowances?|(?:guarantee |service |financing )?fees?)"
    r"\b(?! rates?\b)"
    r"|\b(?:can|could|will|would|do|does|shall)\b[^.?!]*\b(?:get|receive|claim|obtain|qualify)\b|\beligible\b|\bentitled\b"
    r"|\btotal (?:subsidy|subsidies|award|awards|reward|rewards|grant|grants|amount|support|funding)\b"
    r"|\bwhat does\b[^.?!]*\b(?:pay|give|offer|grant)\b"
    r"|\bwhat(?:'s| is)? the (?:maximum |max |possible )?total\b|\bhow much in total\b",
    re.IGNORECASE,
)
# Words that make a sentence with an amount a computation request even without a question word
# ("新注册零售企业全年社零额1.5亿元").
_DOMAIN_WORDS = (
    "投入",
    "投资",
    "社零",
    "营收",
    "营业收入",
    "收入",
    "房租",
    "租金",
    "购置",
    "购买",
    "采购",
    "保费",
    "展位",
    "估值",
    "产值",
    "研发",
    "收购",
    "担保",
    "销售额",
    "补贴",
    "补助",
    "奖励",
    "资助",
    "买",
    "每台",
    "设备",
    "审计",
)
_DOMAIN_WORDS_EN = re.compile(
    r"\b(?:invest\w*|spent|spend\w*|paid|premiums?|rents?|rental|sales|revenues?|costs?|bought|purchased"
    r"|loans?|guarantee[sd]?|financing|r&d)\b",
    re.IGNORECASE,
)
PLACE_SLOT = "location"  # 紫金港科技城 / 云栖小镇: rules of 第三十四、三十五条 exist only for their place
RENT_SLOT = "annual_rent"  # what a rent per ㎡ and month times the area is (年房租额)
RENT_QUOTE_SUPPORT = 1.0  # a rent quoted per ㎡ speaks for the rent rules even before the area is known
# Several awards in one question: words that ask for the sum, words that separate the items, words that ask
# for each amount separately (no sum then), and "两次" for an award granted once per occurrence.
_TOTAL = re.compile(
    r"一共|总共|合计|共计|总计|加起来|加在一起|合起来|累计|两项|几项|多项|[两二三四2-4]次|(?:资助|奖励|补助|补贴)加(?=\S)"
    r"|\bin total\b|\baltogether\b|\bcombined\b|\btotal\b|\bboth\b|\btogether\b|\btwice\b"
)
_ITEM_WORDS = (
    r"又|另外|另有|同时|同年|同一年|此外|以及|并且|而且|之后|随后|后来|然后|再加上|加上|还有|外加|另一[件项个]|一件|一项|[+＋&]"
    r"|还(?=[获拿取被评首新有])|并(?=[获拿取])"
    r"|\band also\b|\band\b|\bplus\b|\balso\b|\bas well as\b|\bthen\b|\blater\b|\bin addition\b|\bbesides\b"
)
_ITEM_WORD = re.compile(_ITEM_WORDS)
_PIECE_BREAK = re.compile(_ITEM_WORDS + r"|[；;，,、。？?！!]|[和与及](?![其他它])")
_ADDS = re.compile(
    r"再加|加上|另外|还有|又|再买|再(?:投|申请|拿|获)|之后|后来|以后|连同|同一年|同年"
    r"|还(?:首次|拿|获|评|通过|买|新|参加|参与|承办|引进|入选|设立|认定)"
    r"|\b(?:plus|also|in addition)\b"
)
_EACH = re.compile(r"分别|各自|各是|各为|又是多少|又有多少|又能拿多少|\brespectively\b")
_TIMES = re.compile(r"([两二三四2-4])\s*次|\b(twice)\b")
_EXTRA_ONLY = re.compile(r"额外|另外再|再(?:奖|给|补|拿|发)|\badditional\b|\bextra\b")
# The part of a staged award asked for ("其中50%达产升规后拨付"): what comes first, or what comes once the stage is met
_STAGE_BEFORE = re.compile(
    r"(?:达产|升规)(?:之前|以前|前)|先(?:拿|给|拨|发|到账|领)|首期|第一笔|\bbefore\b|\bup ?front\b"
)
_STAGE_AFTER = re.compile(r"(?:达产|升规)(?:之后|以后|后)|剩下|剩余的|余下|尾款|\bremaining\b|\bafter (?:reaching|it)")
_ASKING = re.compile(r"多少|几|\bhow much\b|\bwhat\b")
# "第三年", "第三、四年", "前两年", "后两年", "the third year", "the first two years"
# "前两年每年能补多少", "the first two years, per year": the window's years are asked one at a time
_PER_YEAR = re.compile(r"年\s*[里内中]?\s*的?\s*(?:平均)?每一?年|years?,?\s*(?:per|each) year|years?,?\s*annually")
_BRACKETED = re.compile(r"[（(][^（()）]*[)）]")
# The notice is the district's: a district word right before a payout ("区级奖励多少", "区里最多补多少", the clause's own
# "区级给予") names who pays, not a 区级 option of the award.
_PAYER_WORD = re.compile(r"区级|区里|区财政|区政府|district|district-level")
_PAYOUT_AFTER = re.compile(
    r"\s*+(?:(?:财政|政府)\s*+)?(?:最多|最高|一共|总共|大概|大约|能|可以|可|会|再|还|又)*\s*+"
    r"(?:给予|给|奖励|奖|补助|补贴|补|资助|配套|发放|发|兑现|拿|pays?|gives?|awards?|grants?|subsid)",
    re.IGNORECASE,
)
# "复合增长超过25%": the question states a bound, not the value (not "不超过25%", "没有超过")
_EXCEEDS = re.compile(
    r"(?:超过了?|超出了?|高于|大于|多于|超)\s*$|\b(?:over|more than|above|exceeding|in excess of)\s*$", re.IGNORECASE
)
_EXCEEDS_NEGATED = re.compile(r"(?:没有?|未能?|不|并未|尚未)\s*$")
NEGATION_REACH = 12  # characters before a word searched for its negation ("no longer ", "不属于")
# A word right after a negation does not state that fact ("不是本地企业拆分的", "非制造业", "不属于汽车销售").
_NEGATION = re.compile(
    r"(?:不是|不属于|并非|并不是|并不属于|不再是|没有|没|无|未|非|不|\bnot(?: an?)?|\bnon-?|\bno(?: longer)?|n't|\bnever)\s*"
    r"(?:是|属于|为|一家|一个)?\s*$",
    re.IGNORECASE,
)
# An earlier turn and a follow-up joined by the chain with a space ("…怎么算 那流片补贴呢"): later words weigh more.
_JOINED_TURN = re.compile(r"(?<=[^\x00-\x7f?!])\s++(?=\S)|(?<=[?!])\s+(?=[^\x00-\x7f])")
FOLLOW_UP_WEIGHT = 2.0
COUNT_REACH = 8  # characters between a count and the option it counts ("两部作品各拿了市级")
# characters between a count and the fixed award it counts ("两位师傅今年评上了西湖龙井手工炒制大师")
RECIPIENT_REACH = 16
# What one fixed award is given for: people, enterprises, works, projects ("两位师傅", "2家企业", "三件作品")
_RECIPIENT_UNIT = re.compile(r"[位名人家件部项个所支款]$|companies$")
# "广告设计作品和视觉设计作品各拿了一个…": the items listed before 各 each earn it
_EACH_OF = re.compile(r"各(?![自是为])")
_LIST_JOIN = re.compile(r"以及|[和与及、]")
# "两个成果分别获得A和B": the count is of the items listed after it, each its own award
_RESPECTIVELY = re.compile(r"分别|依次|各自")


@dataclass(frozen=True)
class CalcOutcome:
    """What `plan_calculation` decided: the rule, the inputs it read, the calculation, or what to ask.
    For a question about several awards at once ("又…一共"), `calculation` is the combined one (see
    calculator.combine), `rule`/`inputs` are its first part and `parts` lists every part's rule."""

    rule: Rule | None
    inputs: dict[str, Any]
    calculation: Calculation | None
    clarification: str | None = None  # Chinese question when something is missing or the rule is ambiguous
    candidates: tuple[str, ...] = ()  # rule ids when ambiguous (best first)
    parts: tuple[Rule, ...] = ()  # the rules added up in a combined calculation


@dataclass(frozen=True)
class _Assignment:
    value: Any
    by_cue: bool
    position: int


@dataclass(frozen=True)
class _Context:
    """Everything read once from the question and shared by every rule's scoring."""

    text: str
    amounts: tuple[Amount, ...]
    products: dict[int, str]  # start of a per-unit total -> "3台 × 40万元 = 120万元"
    cues: list[tuple[int, int, frozenset[tuple[str, str]]]]
    spans: list[tuple[int, int, str]]
    named_articles: set[str]
    hints: tuple[str, ...]
    # (kind, value, how it was read): years from a year of registration ("按2017年注册…计7年"), days between two dates
    read_notes: tuple[tuple[str, Decimal, str], ...] = ()
    bound: dict[int, str] = dataclasses.field(default_factory=dict)  # amount start -> the only slot it can fill


_Scored = tuple[float, int, Rule, dict[str, Any]]


def is_calculation_request(question: str) -> bool:
    """True when the question asks for an amount (能拿多少/补多少/how much) or states an amount with a
    domain word (投入/社零/房租 ...). Cheap; the rule choice happens in plan_calculation."""
    text = to_halfwidth(question or "")
    if _ASK.search(text) or _ASK_EN.search(text):
        return True
    amounts = [amount for amount in find_amounts(text) if amount.kind in ("money", "percent", "area", "weight")]
    return bool(amounts) and (any(word in text for word in _DOMAIN_WORDS) or bool(_DOMAIN_WORDS_EN.search(text)))


def plan_calculation(question: str, rules: Sequence[Rule], article_hints: Sequence[str] = ()) -> CalcOutcome | None:
    """Choose a rule for the question, fill its inputs from the text and calculate.
    A question about several awards of one article ("又…一共", "另外…", "两次") gets their sum (shared caps
    applied). None when the question is not a computation request or names nothing computable."""
    if not question or not is_calculation_request(question):
        return None
    text = to_halfwidth(question)
    named_articles = _named_articles(text)
    spans = _find_words(text, [word for rule in rules for word in _rule_words(rule)])
    follow_up = _follow_up_start(text)
    scope_spans = _scope_mentions(text, rules)
    keyword_scores = {
        rule.id: _keyword_score(rule, _not_contradicting(rule, spans, scope_spans), len(text), follow_up)
        for rule in rules
    }
    relevant = [rule for rule in rules if keyword_scores[rule.id] > 0 or rule.article in named_articles]
    if not relevant:
        return None
    amounts, products = with_unit_prices(text, with_english_items(text, find_amounts(text)))
    amounts, rent_products, rent_quoted = with_unit_rents(text, amounts)
    amounts, month_products = with_monthly_rents(text, amounts, rent_products)
    amounts, scaled_products = with_scaled_follow_up(text, amounts, follow_up)
    amounts, share_products, referents = with_shares_of(text, amounts)
    products = {**products, **scaled_products, **share_products}
    rent_products = {**rent_products, **month_products}
    amounts, year_notes = with_registration_years(text, amounts)
    amounts, day_notes = with_date_gap(text, amounts, relevant)
    amounts, count_products = with_count_windows(text, amounts, rules)
    # Only the cue words of rules the question is about compete for its amounts: "建设" (平台建设总投资) must not
    # take the amount of "乡村旅游智慧建设投入50万元" when no platform is mentioned.
    context = _Context(
        text=text,
        amounts=tuple(amounts),
        products={**products, **rent_products, **count_products},
        cues=[cue for cue in _cue_occurrences(text, relevant) if not any(lo <= cue[0] < hi for lo, hi in referents)],
        spans=spans,
        named_articles=named_articles,
        hints=tuple(article_hints),
        read_notes=(*(("years", *note) for note in year_notes), *(("days", *note) for note in day_notes)),
        bound=dict.fromkeys(rent_products, RENT_SLOT),
    )
    scored: list[_Scored] = []
    for index, rule in enumerate(rules):
        if rule not in relevant:
            continue
        assignments = _rule_inputs(rule, context)
        score = (
            keyword_scores[rule.id]
            + _support_score(rule, assignments)
            + (RENT_QUOTE_SUPPORT if rent_quoted and RENT_SLOT in rule.base_slots else 0.0)
            + _hint_score(rule, context.hints, named_articles)
        )
        scored.append((score, index, rule, {name: item.value for name, item in assignments.items()}))
    scored.sort(key=lambda item: (-item[0], item[1]))
    # A rule for one place that the question is not about answers nothing; when it is the question's best match, no
    # rule does (the runner-up only won because the better match does not apply).
    considered = [item for item in scored if _place_considered(item[2], text, named_articles, article_hints)]
    if not considered:
        return None
    if considered[0] is not scored[0] and not _place_stated(considered[0][2], text):
        return None  # ... unless the rule that may answer is bound to a place the question names ("换成云栖小镇…呢")
    scored = considered
    combined = _plan_combined(context, rules, scored)
    if combined is not None and combined.parts:
        return combined
    single = _plan_single(context, rules, scored)
    if combined is not None and (single.calculation is None or single.calculation.amount_yuan is None):
        return combined  # of the awards listed only one can be computed yet: give it, name the others
    return single


def _plan_single(context: _Context, rules: Sequence[Rule], scored: list[_Scored]) -> CalcOutcome:
    """The one rule the question is about (or which to choose, when rules of different awards score alike)."""
    text = context.text
    best_score, _, best, _ = scored[0]
    contenders = [item for item in scored if item[0] >= best_score - AMBIGUITY_MARGIN]
    # A rule whose event also earns another (个转企并首次上规 -> 首次上规纳统) is not that rule's rival: when the
    # question names it, it wins.
    including = [item for item in scored if any(other[2].id in item[2].includes for other in contenders)]
    if including:
        best = including[0][2]
        scored = [including[0], *[item for item in scored if item is not including[0]]]
        contenders = [item for item in contenders if item[2].id not in best.includes]
    # Rivals of one article told apart by the kind of award the question names ("绩效奖励" vs "运营资助").
    named_payout = [item for item in contenders if len(item[2].payout) >= 3 and item[2].payout in text]
    if named_payout and len(named_payout) < len(contenders):
        contenders = named_payout
        best = contenders[0][2]
        scored = [contenders[0], *[item for item in scored if item is not contenders[0]]]
    # ... or by a word only one of them has ("众创空间" against "孵化器"; a word naming the award both pay,
    # "运营资助", tells nothing).
    payouts = {item[2].payout for item in contenders}
    distinct = [
        item
        for item in contenders
        if any(
            word in text
            and word not in payouts
            and not any(word in other[2].keywords for other in contenders if other[2].id != item[2].id)
            for word in item[2].keywords
        )
    ]
    if len(distinct) == 1 and len(contenders) > 1:
        contenders = distinct
        best = contenders[0][2]
        scored = [contenders[0], *[item for item in scored if item is not contenders[0]]]
    rivals = [item for item in contenders if not (best.group and item[2].group == best.group) and item[2] is not best]
    if rivals:
        ids = tuple(dict.fromkeys(item[2].id for item in contenders))[:4]
        options = "、".join(f"{item[2].name}（{item[2].article_label}）" for item in contenders[:4])
        return CalcOutcome(
            rule=None,
            inputs={},
            calculation=None,
            clarification=f"请问您想计算的是哪一项：{options}？",
            candidates=ids,
        )
    variants = [item for item in contenders if item[2].group and item[2].group == best.group] or [scored[0]]
    chosen = _pick_variant(variants)
    siblings = [item for item in scored if item[2].group and item[2].group == chosen[2].group]
    chosen, calc = _applicable_variant(chosen, siblings, context)
    rule, inputs = chosen[2], chosen[3]
    others = [
        item
        for item in scored
        if rule.group
        and item[2].group == rule.group
        and item[2] is not rule
        and _scope_key(item[2]) != _scope_key(rule)
    ]
    calc = _with_variant_alternatives(calc, rule, inputs, others)
    calc = _over_years(rule, calc, text)
    if rule.formula.kind == "schedule" and (annuals := _yearly_bases(rule, context)):
        calc = by_year(rule, inputs, annuals)
    if rule.includes and not _EXTRA_ONLY.search(text):
        included = [_calculate(other, _inputs_for(other, inputs, context), context) for other in _included(rule, rules)]
        if included and all(part.amount_yuan is not None for part in included):
            parts_rules = (*_included(rule, rules), rule)
            calc = combine([*included, calc], shared_caps(rules))
            return _outcome(parts_rules[-1], inputs, calc, parts_rules)
    return _outcome(rule, inputs, calc)


# "三年房租分别是60万、80万、100万": a figure for each year, listed after 分别/依次/每年分别
_EACH_YEAR = re.compile(r"(?:分别|依次|每年分别|逐年)(?:是|为)?\s*$")


def _yearly_bases(rule: Rule, context: _Context) -> list[Decimal]:
    """The base of a yearly schedule given year by year: money amounts listed right after 分别/依次, separated only
    by 、，和 — two or more of them; [] otherwise."""
    money = [amount for amount in context.amounts if amount.kind == "money"]
    for index, amount in enumerate(money):
        if not _EACH_YEAR.search(context.text[max(0, amount.start - 6) : amount.start]):
            continue
        listed = [amount]
        for following in money[index + 1 :]:
            if not re.fullmatch(r"\s*[、，,和及]\s*", context.text[listed[-1].end : following.start]):
                break
            listed.append(following)
        if len(listed) >= 2:
            return [item.value for item in listed]
    return []


def _over_years(rule: Rule, calc: Calculation, text: str, span: tuple[int, int] | None = None) -> Calculation:
    """A yearly award (每年给予最高500万元) for the years a question adds up ("认定后头两年每年都拿满，一共多少")."""
    if not rule.per_year or rule.formula.kind == "schedule" or calc.amount_yuan is None or not _TOTAL.search(text):
        return calc
    piece = text[span[0] : span[1]] if span and span[1] > span[0] else text
    found = YEARS_OF_AWARD.search(piece) or YEARS_OF_AWARD.search(text)  # its item, else the whole question
    if found is None:
        return calc
    years = small_number(found.group(1) or found.group(2))
    if years < 2:
        return calc
    return dataclasses.replace(times(calc, Decimal(years), f"{years}年"), per_year=False)


def _outcome(rule: Rule, inputs: dict[str, Any], calc: Calculation, parts: tuple[Rule, ...] = ()) -> CalcOutcome:
    clarification = "".join(calc.missing[:2]) if calc.amount_yuan is None and calc.missing else None
    return CalcOutcome(rule=rule, inputs=inputs, calculation=calc, clarification=clarification, parts=parts)


def _included(rule: Rule, rules: Sequence[Rule]) -> tuple[Rule, ...]:
    by_id = {other.id: other for other in rules}
    return tuple(by_id[rule_id] for rule_id in rule.includes if rule_id in by_id)


def _inputs_for(rule: Rule, inputs: dict[str, Any], context: _Context) -> dict[str, Any]:
    found = {name: item.value for name, item in _rule_inputs(rule, context).items()}
    return {**{name: value for name, value in inputs.items() if rule.has_input(name)}, **found}


def _rule_inputs(rule: Rule, context: _Context) -> dict[str, _Assignment]:
    """The rule's inputs in the whole question, with the year window of a schedule ("第三年") applied."""
    assignments = extract_inputs(rule, context.text, context.amounts, context.cues, context.bound)
    assignments = _with_earlier_tier(rule, context, assignments)
    return _apply_year_window(rule, context.text, assignments)


# the lower tier was received: said outright, or implied by a tier reached again later ("第二年营收又首次突破了5亿")
_RECEIVED_BEFORE = re.compile(
    r"已经?(?:拿|领|获得?)(?:过|到)|(?:拿|领)过了|已经?获奖|already (?:received|got)|又(?:首次)?突破|这次|再次突破|晋档"
)


def _with_earlier_tier(rule: Rule, context: _Context, assignments: dict[str, _Assignment]) -> dict[str, _Assignment]:
    """晋档补差 with the earlier award named but not its amount: "首次突破5000万…这个已经拿过了，现在突破1亿了" —
    what was received is the tier the earlier, lower figure reached."""
    formula = rule.formula
    if formula.kind != "tiers" or not formula.top_up or formula.top_up in assignments:
        return assignments
    if not _RECEIVED_BEFORE.search(context.text):
        return assignments
    slots = {spec.slot for tier in formula.tiers for spec in tier.when}
    if len(slots) != 1:
        return assignments
    name = next(iter(slots))
    current = assignments.get(name)
    kind = rule.input(name).kind
    if current is None:
        return assignments
    earlier = [
        a.value for a in context.amounts if a.kind == kind and a.start < current.position and a.value < current.value
    ]
    if not earlier:
        return assignments
    received = calculate(rule, {**{k: v.value for k, v in assignments.items()}, name: max(earlier)}).amount_yuan
    if not received:
        return assignments
    return {**assignments, formula.top_up: _Assignment(received, False, current.position)}


def _calculate(rule: Rule, inputs: dict[str, Any], context: _Context) -> Calculation:
    """calculate(), then: a place-specific rule whose place is the only unknown is computed for that place with
    the assumption stated; a base amount that came from "3台，每台40万元" shows its multiplication."""
    calc = calculate(rule, inputs)
    if calc.amount_yuan is None and not calc.errors:
        calc = _assume_place(rule, inputs, calc)
    calc = _with_read_notes(rule, inputs, calc, context)
    calc = _with_products(rule, inputs, calc, context)
    if rule.formula.staged_share is not None and (later := _staged_asked(context.text)) is not None:
        calc = staged_part(calc, rule.formula.staged_share, rule.formula.staged_when, later=later)
    return calc


def _staged_asked(text: str) -> bool | None:
    """Whether the question asks for the part of a staged award paid once the stage is met (True), the part paid
    first (False), or the whole (None): the stage word must stand in the sentence that asks ("那达产升规之前能先拿到
    多少？"), not in an aside ("总共能拿多少？听说有一部分要等达产升规后才拨")."""
    lowered = text.lower()
    for later, pattern in ((False, _STAGE_BEFORE), (True, _STAGE_AFTER)):
        for match in pattern.finditer(lowered):
            begin = clause_begin(lowered, match.start(), SENTENCE_END)
            end = SENTENCE_END.search(lowered, match.end())
            sentence = lowered[begin : end.start() if end else len(lowered)]
            if _ASKING.search(sentence) and not _TOTAL.search(sentence):
                return later
    return None


def _with_read_notes(rule: Rule, inputs: dict[str, Any], calc: Calculation, context: _Context) -> Calculation:
    """Say how a figure the rule reads was worked out from the question ("2017年注册" -> 7年; two dates -> 15日)."""
    read = {(slot.kind, inputs[slot.name]) for slot in rule.inputs if slot.name in inputs}
    notes = [note for kind, value, note in context.read_notes if (kind, value) in read]
    if not notes:
        return calc
    return dataclasses.replace(calc, notes=(*dict.fromkeys(notes), *calc.notes))


def _place_spec(rule: Rule) -> ConditionSpec | None:
    """The condition that makes a rule exist only for one place (紫金港科技城/云栖小镇), or None."""
    return next(
        (
            spec
            for spec in rule.conditions
            if spec.slot == PLACE_SLOT and spec.scope and spec.op == "eq" and not spec.assume
        ),
        None,
    )


def _place_considered(rule: Rule, text: str, named_articles: set[str], hints: Sequence[str]) -> bool:
    """Whether a rule that exists only for one place may answer the question: its place is stated, its article is
    named, or retrieval (when it gave its ranking) puts that article first. A question that names another place
    or none, about something another article is about ("西溪谷的区块链企业房租", "算力服务平台", "节能技改"), is not
    this rule's: its words (房租, 平台, 技改, 营收) are shared, and the place would be an assumption."""
    spec = _place_spec(rule)
    if spec is None or rule.article in named_articles:
        return True
    if _place_stated(rule, text):
        return True
    articles = [hint for hint in hints if hint.startswith("A")]
    return not hints or articles[:1] == [rule.article]


def _place_stated(rule: Rule, text: str) -> bool:
    """Whether the rule is bound to a place and the question names that place."""
    spec = _place_spec(rule)
    return spec is not None and spec.value in _places_stated(rule, text)


def _places_stated(rule: Rule, text: str) -> set[str]:
    """The places (紫金港科技城, 云栖小镇 …) the question names, as option keys of the rule's place slot."""
    if not any(slot.name == PLACE_SLOT for slot in rule.inputs):
        return set()
    slot = rule.input(PLACE_SLOT)
    return {key for key, _ in _mentions(text, [(o.key, (o.label, *o.aliases)) for o in slot.options])}


def _assume_place(rule: Rule, inputs: dict[str, Any], calc: Calculation) -> Calculation:
    """紫金港/云栖 rules exist only for their place: when the place is the one fact missing, answer for that place
    and say so ("按位于云栖小镇计算") instead of asking. Other unknown facts still make the calculator ask."""
    places = [
        spec
        for spec in rule.conditions
        if spec.slot == PLACE_SLOT and spec.scope and spec.op == "eq" and not spec.assume and PLACE_SLOT not in inputs
    ]
    if not places:
        return calc
    spec = places[0]
    slot = rule.input(PLACE_SLOT)
    option = slot.option(str(spec.value))
    label = option.label if option else str(spec.value)
    assumed = calculate(rule, {**inputs, PLACE_SLOT: spec.value})
    if assumed.amount_yuan is None:
        return calc
    note = f"按位于{label}计算（本项政策仅适用于{label}）"
    return dataclasses.replace(
        assumed,
        premise=f"若位于{label}" if assumed.status == "eligible" else "",
        assumptions=(note, *assumed.assumptions),
        conditions=tuple(
            Condition(c.name, UNKNOWN, f"需要 {label}，未提供（按符合计算）") if c.name == spec.label else c
            for c in assumed.conditions
        ),
    )


def _with_products(rule: Rule, inputs: dict[str, Any], calc: Calculation, context: _Context) -> Calculation:
    if not context.products or not calc.trace:
        return calc
    notes = []
    for name in rule.base_slots:
        value = inputs.get(name)
        for start, text in context.products.items():
            amount = next((a for a in context.amounts if a.start == start), None)
            kind = rule.input(name).kind
            if amount is not None and value == amount.value and amount.kind == kind and kind in ("money", "count"):
                notes.append(f"{rule.input(name).label} = {text}；")
                break
    if not notes:
        return calc
    if calc.status == "ineligible":  # the trace is not shown then: say how the figure was read in the notes
        return dataclasses.replace(
            calc, notes=(*(note.rstrip("；") + "。" for note in dict.fromkeys(notes)), *calc.notes)
        )
    return dataclasses.replace(calc, trace="".join(dict.fromkeys(notes)) + calc.trace)


def extract_inputs(
    rule: Rule,
    question: str,
    amounts: Sequence[Amount] | None = None,
    cues: list[tuple[int, int, frozenset[tuple[str, str]]]] | None = None,
    bound: Mapping[int, str] | None = None,
) -> dict[str, _Assignment]:
    """The rule's inputs stated in the question: amounts by their cue words (nearest cue before the amount in
    the same clause; an amount whose nearest cue belongs to another slot is not this rule's), choices and flags
    by their words (the last mention wins, so follow-ups override). `bound` maps an amount's start to the one slot
    its form says it is (a rent per ㎡ and month is an annual rent once multiplied out), whatever its cues."""
    text = to_halfwidth(question)
    if amounts is None:
        amounts = find_amounts(text)
    if cues is None:
        cues = _cue_occurrences(text, [rule])
    assigned: dict[str, _Assignment] = {}
    follow_up = _follow_up_start(text)
    for slot in rule.inputs:
        if slot.kind == "choice":
            keys = [option.key for option in slot.options]
            # "不是进口的": of two options, a negated one names the other; of more, it names none
            other = {keys[0]: keys[1], keys[1]: keys[0]} if len(keys) == 2 else None
            named = _mentions(text, [(option.key, (option.label, *option.aliases)) for option in slot.options], other)
            # "空天信息软件开发类总部企业" names two industries: the one this rule is for is the one meant for it;
            # what a follow-up says ("其实是做汽车销售的") replaces what the earlier turn said
            own = [item for item in named if _scope_wants(rule, slot.name, item[0])]
            latest = [item for item in named if follow_up is not None and item[1] >= follow_up]
            if latest or own or named:
                key, position = (latest or own or named)[-1]
                assigned[slot.name] = _Assignment(key, True, position)
        elif slot.kind == "flag":
            found = _last_mention(text, [("no", slot.no), ("yes", slot.yes)], {"no": "yes", "yes": "no"})
            if slot.several == "no" and (denied := _last_mention(text, [("no", slot.no)], {"no": "yes"})):
                found = denied if denied[0] == "no" else found
            if found is not None:
                assigned[slot.name] = _Assignment(found[0] == "yes", True, found[1])
    numeric = {slot.name: slot for slot in rule.inputs if slot.kind not in ("choice", "flag")}
    targets: list[tuple[Amount, Slot, bool]] = []
    for amount in amounts:
        candidates = [slot for slot in numeric.values() if slot.kind == amount.kind]
        if not candidates:
            continue
        cue_slots = _nearest_cue_slots(text, amount, cues)
        if bound and amount.start in bound:
            cue_slots = frozenset({bound[amount.start]})
        target: Slot | None
        by_cue = True
        parallel = _parallel_target(text, amount, targets) if cue_slots is None else None
        if parallel is not None:
            target = parallel  # "2023年研发投入1800万，2024年2000万": the second year's figure is the same kind
        elif cue_slots is None:
            target = _primary_slot(rule, amount.kind)
            by_cue = False
        else:
            target = next((slot for slot in candidates if slot.name in cue_slots), None)
        if target is not None:
            targets.append((amount, target, by_cue))
    for amount, target, by_cue in _dated_pairs(rule, text, targets):
        previous = assigned.get(target.name)
        in_follow_up = follow_up is not None and amount.start >= follow_up
        # "增幅分别是12%、9%、15%", "增幅第一年12%，第二年只有9.5%": one list when nothing but the list runs between
        listed = (
            target.several == "lowest"
            and previous is not None
            and not in_follow_up
            and not (SEGMENT_BREAK if by_cue else SENTENCE_END).search(text, previous.position, amount.start)
        )
        if previous is not None and previous.by_cue and not by_cue and not in_follow_up and not listed:
            continue  # a stray amount does not replace one its cue word introduced ... unless it is a follow-up
        try:
            value = coerce_value(
                target, Amount(_stated(text, amount), amount.kind, amount.text, amount.start, amount.end)
            )
        except ValueError:
            continue
        if listed and previous is not None:
            value = min(value, previous.value)  # every year must reach the threshold: the lowest decides
            by_cue = by_cue or previous.by_cue
        assigned[target.name] = _Assignment(value, by_cue, amount.start)
    return assigned


def _stated(text: str, amount: Amount) -> Decimal:
    """The amount's value, marked Above when the question only says it exceeds the number ("超过25%")."""
    before = text[max(0, amount.start - 8) : amount.start]
    exceeds = _EXCEEDS.search(before)
    if exceeds is None or _EXCEEDS_NEGATED.search(before[: exceeds.start()]):
        return amount.value
    return Above(amount.value)


def _parallel_target(text: str, amount: Amount, targets: Sequence[tuple[Amount, Slot, bool]]) -> Slot | None:
    """The slot of the figure before, when both stand in clauses that open with a year and this one has no cue of
    its own ("2023年研发投入1800万，2024年2000万")."""
    if not targets or not targets[-1][2] or targets[-1][0].kind != amount.kind:
        return None
    clause_start = clause_begin(text, amount.start)
    if not re.fullmatch(
        r"\s*(?:(?:19|20)?\d\d\s*年(?:度)?|今年|去年|上年|本年)\s*(?:是|为|做到了?|达到了?)?\s*",
        text[clause_start : amount.start],
    ):
        return None
    previous = targets[-1][0]
    previous_start = clause_begin(text, previous.start)
    return (
        targets[-1][1]
        if DATED_YEAR.match(text, previous_start) or re.match(r"今年|去年|上年|本年", text[previous_start:])
        else None
    )


def _dated_pairs(rule: Rule, text: str, targets: list[tuple[Amount, Slot, bool]]) -> list[tuple[Amount, Slot, bool]]:
    """Amounts of a slot that a derivation subtracts from (新增额 = 本年 − 上年) dated by their years
    ("2023年研发投入1800万元，2024年研发投入2600万元"): the latest year's stays this year's, the year before goes to
    the previous year's slot. One dated amount of NOTICE_YEAR − 1 beside an undated one is the previous year's."""
    pairs = {slot.derive_minus[0]: slot.derive_minus[1] for slot in rule.inputs if slot.derive_minus}
    if not pairs:
        return targets
    years = {amount.start: year_of(text, amount) for amount, target, _ in targets if target.name in pairs}
    adjusted = list(targets)
    for current, previous_name in pairs.items():
        same = [(amount, years[amount.start]) for amount, target, _ in targets if target.name == current]
        dated = [year for _, year in same if year is not None]
        if len(same) < 2 or not dated:
            continue
        reference = max(dated) if len(set(dated)) > 1 else NOTICE_YEAR
        previous_slot = rule.input(previous_name)
        for index, (amount, target, _) in enumerate(adjusted):
            if target.name == current and years.get(amount.start) == reference - 1:
                adjusted[index] = (amount, previous_slot, True)
    return adjusted


# ----------------------------------------------------------------------------- scoring


_LEVEL_ONLY = re.compile(r"^(?:national|provincial|city|district|municipal)(?:[- ]level)?$", re.IGNORECASE)


def _scope_mentions(text: str, rules: Sequence[Rule]) -> list[tuple[int, int, str, str]]:
    """Where the question names an option of a scope fact the rules depend on: (start, end, slot, option key)
    ("超过了科技型中小企业" -> scale above_sme)."""
    slots = {spec.slot: rule.input(spec.slot) for rule in rules for spec in rule.conditions if spec.scope}
    owner = {
        word.lower(): (name, option.key)
        for name, slot in slots.items()
        if slot.kind == "choice"
        for option in slot.options
        for word in (option.label, *option.aliases)
    }
    return [(start, end, *owner[word.lower()]) for start, end, word in _find_words(text, list(owner))]


def _not_contradicting(
    rule: Rule, spans: Sequence[tuple[int, int, str]], scope_spans: Sequence[tuple[int, int, str, str]]
) -> list[tuple[int, int, str]]:
    """The word spans that speak for the rule: a word of the rule inside the name of a scope option the rule does
    not want is none ("超过了科技型中小企业" does not name the 科技型中小企业 award)."""
    wanted = {spec.slot: spec.value for spec in rule.conditions if spec.scope and spec.op == "eq"}
    against = [(low, high) for low, high, slot, key in scope_spans if slot in wanted and wanted[slot] != key]
    if not against:
        return list(spans)
    return [span for span in spans if not any(low <= span[0] and span[1] <= high for low, high in against)]


def _rule_words(rule: Rule) -> list[str]:
    words = list(rule.keywords) + list(rule.events)
    if rule.formula.kind == "options" and rule.formula.option_slot:
        slot = rule.input(rule.formula.option_slot)
        # an option's name says which award when it is specific: "国家级赛事", "world design award" — not "national"
        words += [
            alias
            for option in slot.options
            for alias in option.aliases
            if len(alias) >= 4 and (not alias.isascii() or re.search(r"[\s-]", alias)) and not _LEVEL_ONLY.match(alias)
        ]
    return words


def _keyword_score(
    rule: Rule, spans: Sequence[tuple[int, int, str]], length: int, follow_up: int | None = None
) -> float:
    """Sum of the rule's words among the question's word spans (found once over all rules' words, so a word
    inside a longer word of another rule does not count: 科技保险's 保险 inside 出口信用保险). Each word counts
    once, at its first mention, or double at its mention in an appended follow-up ("…租房补贴怎么算 那流片补贴呢")."""
    words = {word.lower() for word in _rule_words(rule)}
    best: dict[str, float] = {}
    for start, _, word in spans:
        key = word.lower()
        in_follow_up = follow_up is not None and start >= follow_up
        if key not in words or (key in best and not in_follow_up):
            continue
        recency = (1 + 0.3 * (start / max(length, 1))) * (FOLLOW_UP_WEIGHT if in_follow_up else 1)
        best[key] = max(best.get(key, 0.0), _specificity(word) * recency)
    return sum(best.values())


def _specificity(word: str) -> float:
    length = sum(1 if not ch.isascii() else 1 / 3 for ch in word)
    return min(3.0, 0.5 + 0.35 * length)


def _support_score(rule: Rule, assignments: dict[str, _Assignment]) -> float:
    score = 0.0
    for name in rule.base_slots:
        if name in assignments:
            score += 1.0 if assignments[name].by_cue else 0.4
    for spec in rule.conditions:
        if not spec.scope:
            continue
        if spec.slot not in assignments:
            if not spec.assume:
                score -= 0.3
            continue
        value = assignments[spec.slot].value
        try:
            holds = _scope_holds(rule.input(spec.slot), spec.op, spec.value, value)
        except ValueError:
            continue
        # A kind the clause itself excludes ("汽车销售除外") is asked about this rule: it fails, it is not another rule.
        named_exception = isinstance(value, str) and value in spec.excepted
        score += 1.0 if holds or named_exception else -3.0
    return score


def _scope_wants(rule: Rule, slot_name: str, key: str) -> bool:
    """Whether the rule is for the choice `key` of the slot (a scope condition names it)."""
    return any(
        spec.scope and spec.slot == slot_name and _scope_holds(rule.input(slot_name), spec.op, spec.value, key)
        for spec in rule.conditions
        if spec.op in ("eq", "in")
    )


def _scope_holds(slot: Slot, op: str, wanted: Any, value: Any) -> bool:
    if op == "is":
        return value is wanted
    keys = {value} if isinstance(value, str) else set(value)
    if op == "eq":
        return wanted in keys
    if op == "in":
        return bool(set(wanted) & keys)
    return True


def _hint_score(rule: Rule, hints: Sequence[str], named_articles: set[str]) -> float:
    score = 3.0 if rule.article in named_articles else 0.0
    for weight, hint in zip(HINT_WEIGHTS, hints, strict=False):
        if hint == rule.article:
            score += weight
            break
    return score


def _pick_variant(variants: list[tuple[float, int, Rule, dict[str, Any]]]) -> tuple[float, int, Rule, dict[str, Any]]:
    """Among a group's variants: the best-supported score first, then eligible over incomplete over
    ineligible, then file order (the first variant is the default assumption, e.g. 科技型中小企业)."""
    rank = {"eligible": 0, "incomplete": 1, "ineligible": 2}
    top = max(item[0] for item in variants)
    close = [item for item in variants if item[0] >= top - AMBIGUITY_MARGIN]
    return min(close, key=lambda item: (rank[calculate(item[2], item[3]).status], -round(item[0], 1), item[1]))


def _applicable_variant(chosen: _Scored, siblings: Sequence[_Scored], context: _Context) -> tuple[_Scored, Calculation]:
    """Among the variants of one award for the same enterprise (same scope, e.g. 科技型中小企业规模: 新增额的5%, or
    with 年度研发投入额1亿元以上 a direct 200万元), the one that applies wins, the higher when several do; the
    other eligible ones are named in the notes. Variants for other scopes stay alternatives."""
    calc = _calculate(chosen[2], chosen[3], context)
    scope = _scope_key(chosen[2])
    options = [(chosen, calc)]
    for item in siblings:
        if item[2] is not chosen[2] and _scope_key(item[2]) == scope:
            options.append((item, _calculate(item[2], item[3], context)))
    eligible = [(item, result) for item, result in options if result.status == "eligible"]
    if not eligible:
        return chosen, calc
    best, best_calc = max(eligible, key=lambda pair: pair[1].amount_yuan or Decimal(0))
    if best_calc.amount_yuan == calc.amount_yuan and calc.status == "eligible":
        best, best_calc = chosen, calc  # a tie keeps the best-supported variant
    lower = [
        f"按{result.rule_name}计算为{format_money(result.amount_yuan or Decimal(0))}，"
        f"同一事项只能享受其一，按金额较高者计。"
        for item, result in eligible
        if item is not best
    ]
    if lower:
        best_calc = dataclasses.replace(best_calc, notes=(*lower, *best_calc.notes))
    return best, best_calc


def _scope_key(rule: Rule) -> frozenset[tuple[str, str]]:
    """Who a rule is for, as (slot, value) of its scope conditions."""
    return frozenset((spec.slot, repr(spec.value)) for spec in rule.conditions if spec.scope)


def _with_variant_alternatives(
    calc: Calculation, rule: Rule, inputs: dict[str, Any], others: Sequence[tuple[float, int, Rule, dict[str, Any]]]
) -> Calculation:
    """Add the other variants of the rule's group as alternatives when the fact that separates them is unknown."""
    extra: list[tuple[str, Decimal]] = []
    for _, _, other, other_inputs in others:
        unknown_scope = [
            spec for spec in other.conditions if spec.scope and spec.assume and spec.slot not in other_inputs
        ]
        if not unknown_scope:
            continue
        merged = {**inputs, **other_inputs}
        result = calculate(other, {name: value for name, value in merged.items() if other.has_input(name)})
        if result.amount_yuan is None:
            continue
        when = "，".join(_if_phrase(other, spec) for spec in unknown_scope)
        description = f"{when}（{other.article_label}，{other.name}）"
        if result.amount_yuan <= 0:
            unmet = [c for c in result.conditions if c.status == "unmet"]
            reason = "；".join(f"{c.name}{c.detail}" for c in unmet)
            description += f"：不符合条件（{reason}）" if reason else ""
        extra.append((description, result.amount_yuan))
    if not extra:
        return calc
    return dataclasses.replace(calc, alternatives=calc.alternatives + tuple(extra))


def _if_phrase(rule: Rule, spec: Any) -> str:
    slot = rule.input(spec.slot)
    if slot.kind == "choice":
        keys = (spec.value,) if isinstance(spec.value, str) else spec.value
        label = "或".join(slot.option(key).label for key in keys if slot.option(key))  # type: ignore[union-attr]
        return f"若{label}" if label.startswith(("超过", "符合", "不", "非")) else f"若为{label}"
    return f"若{spec.label}"


# ----------------------------------------------------------------------------- several awards in one question


@dataclass(frozen=True)
class _Part:
    rule: Rule
    inputs: dict[str, Any]
    position: int  # where its evidence starts (order of the parts)
    amount_positions: frozenset[int]  # starts of the amounts its base slots read (one amount feeds one part)
    score: float
    evidence: str = ""  # the word that named it (升为省级 / 升为国家级: two occurrences of a repeatable award)
    count: Amount | None = None  # "3个绿色食品": how many items of its option the award is for
    span: tuple[int, int] = (0, 0)  # its item in the question


def _plan_combined(context: _Context, rules: Sequence[Rule], scored: Sequence[_Scored]) -> CalcOutcome | None:
    """The sum of several awards when the question lists them ("…，又…，一共", "另外", "两次").
    Each item (a stretch of the question between 又/另外/同时/…/commas with words of its own) is matched to the
    article's rule whose distinctive keyword or named option it contains, with the item's own amounts and the
    question's shared facts (紫金港, 制造业 ...). Awards of one article first; when the leading articles together
    give more parts (each item with a keyword no other rule of those articles has), the sum crosses articles.
    Needs two parts or more; None otherwise."""
    text = context.text
    follow_up = _follow_up_start(text)
    if follow_up is not None and _TOTAL.search(text, follow_up) and _ADDS.search(text, follow_up):
        follow_up = None  # "再加买6台进口的，一共能补多少？" adds an item to the earlier turn's: one list
    body = text[:follow_up] if follow_up is not None else text
    total = _TOTAL.search(body)
    # "承担了一项国家重点科研任务" counts one thing: 一项/一件 alone lists no second award
    listed = any(match.group(0) not in ("一项", "一件") for match in _ITEM_WORD.finditer(body))
    scores = {item[2].id: item[0] for item in scored}
    if _EACH.search(body) or (not total and _EXTRA_ONLY.search(body)):
        listed = False
    if not total and not listed:
        return _plan_side_by_side(context, body, rules, scored, scores)
    articles = list(dict.fromkeys(item[2].article for item in scored[:4]))[:3]

    def weight(parts: Sequence[_Part]) -> tuple[int, int]:
        """More parts that can be computed first ("龙井手工炒制大师": 龙井 alone names no tea-purchase item), then more."""
        computable = sum(1 for part in parts if _calculate(part.rule, part.inputs, context).amount_yuan is not None)
        return computable, len(parts)

    best: list[_Part] = []
    best_weight = weight(best)
    for article in articles:
        family = [rule for rule in rules if rule.article == article]
        parts = _find_parts(context, body, family, scores)
        if (parts_weight := weight(parts)) > best_weight:
            best, best_weight = parts, parts_weight
    retrieved = [hint for hint in context.hints[:3] if hint.startswith("A")]
    if retrieved and not total:
        # without 一共 an article retrieval does not rank near the top is no item of this question ("跨境电商的
        # 外贸公司…住宿另外花了6万": 另外 lists nothing here)
        articles = [article for article in articles if article in retrieved] or articles[:1]
    if len(articles) > 1:
        # Awards of different articles ("首次入选重点软件企业 + 首次认定高新技术企业，两项一共"): each item needs a word
        # that only its rule has among all these articles' rules.
        family = [rule for rule in rules if rule.article in articles]
        parts = _find_parts(context, body, family, scores, distinctive_only=True)
        if len({part.rule.article for part in parts}) > 1 and weight(parts) > best_weight:
            best = parts
    best = _repeat_parts(best, body)
    if len(best) < 2 and not (best and best[0].count is not None):
        return None  # one award, unless counted several times ("新认证了3个绿色食品，一共")
    follow_inputs = text[follow_up:] if follow_up is not None else ""
    calculations: list[Calculation] = []
    kept: list[_Part] = []
    skipped: list[str] = []
    for part in best:
        inputs = part.inputs
        if follow_inputs:
            found = extract_inputs(part.rule, follow_inputs)
            inputs = {**inputs, **{name: item.value for name, item in found.items()}}
        calc = _calculate(part.rule, inputs, context)
        if part.count is not None:
            calc = times(calc, part.count.value, part.count.text)
        calc = _over_years(part.rule, calc, body, part.span)
        if calc.amount_yuan is None:
            skipped.append(f"{part.rule.name}还需补充信息（{''.join(calc.missing[:1])}），未计入。")
            continue
        calculations.append(calc)
        kept.append(part)
    if not calculations:
        return None
    # A part that still lacks its figure ("另外还买了机器人") does not hold back the parts that can be computed.
    combined = combine(_number_repeats(calculations), shared_caps(rules))
    if len(calculations) > 1:
        combined = dataclasses.replace(combined, rule_name="、".join(dict.fromkeys(part.rule.name for part in kept)))
    if skipped:
        combined = dataclasses.replace(combined, notes=(*dict.fromkeys(skipped), *combined.notes))
    combined = _lead_with_hint(combined, context.hints)
    counted = len(calculations) > 1 or any(part.count is not None for part in kept)
    parts_rules = tuple(dict.fromkeys(part.rule for part in kept)) if counted else ()
    return _outcome(kept[0].rule, kept[0].inputs, combined, parts_rules)


def _plan_side_by_side(
    context: _Context, body: str, rules: Sequence[Rule], scored: Sequence[_Scored], scores: dict[str, float]
) -> CalcOutcome | None:
    """Items of one award listed side by side with a figure each, no 一共 needed: "进口3台每台80万，国产5台每台30万，
    能资助多少" asks for both (the sum under the shared cap). Only the best article's sibling awards that add up under
    one cap (进口/国产 robots) or options of one award ("2个有机食品，3个绿色食品"), each item with its own amount."""
    article = scored[0][2].article
    family = [rule for rule in rules if rule.article == article]
    found = _find_parts(context, body, family, scores)
    if _MOST.search(body) and (most := _most_of_several(context, body, found, rules)) is not None:
        return most
    # an item without a figure of its own ("设备资助能拿多少") is the question, not a listed item
    parts = [part for part in found if part.amount_positions or part.count]
    if len(parts) < 2:
        return None
    rule = parts[0].rule
    option_slot = rule.formula.option_slot if rule.formula.kind == "options" else None
    # one award: only its different options each with a count ("2个有机食品，3个绿色食品"), never two figures for
    # one input ("总预算5000万，实际到账1200万")
    same_rule = (
        len({part.rule.id for part in parts}) == 1
        and option_slot is not None
        and len({repr(part.inputs.get(option_slot)) for part in parts}) == len(parts)
    )
    # siblings that add up: one group whose variants share its cap (variants of an exclusive group never add up)
    siblings = {(part.rule.group, part.rule.cap_group) for part in parts}
    summable = len(siblings) == 1 and all(group and group == cap for group, cap in siblings)
    if not (same_rule or summable):
        return None
    calculations = _computed(parts, context)
    if any(calc.amount_yuan is None for calc in calculations):
        return None
    return _summed(parts, calculations, rules)


_MOST = re.compile(r"最多|最高|\b(?:maximum|at most)\b")


def _most_of_several(context: _Context, body: str, found: Sequence[_Part], rules: Sequence[Rule]) -> CalcOutcome | None:
    """ "最多能拿多少" after facts that earn different awards of one article, each item stating its own fact (a figure,
    a count or the option it names: "五星孵化器，有2家在孵企业通过高企备案"): the most is their sum. Variants of one
    exclusive group are never summed; None unless two awards or more apply."""

    def own_fact(part: _Part) -> bool:
        start, end = part.span
        return bool(part.amount_positions or part.count or _options_named(part.rule, body[start:end]))

    def named(part: _Part) -> bool:
        """Named by a word of the award itself, not by the cue of a figure ("营收5000万" names no 营收突破 award)."""
        cues = {cue.lower() for slot in part.rule.inputs for cue in slot.cues}
        return part.evidence not in cues

    parts = [part for part in found if own_fact(part)]
    if len({part.rule.id for part in parts}) != len(parts) or len(parts) < 2 or not all(map(named, parts)):
        return None
    groups = [part.rule.group for part in parts if part.rule.group and part.rule.group != part.rule.cap_group]
    if len(groups) != len(set(groups)):
        return None
    calculations = _computed(parts, context)
    if sum(1 for calc in calculations if calc.amount_yuan) < 2 or any(
        calc.amount_yuan is None for calc in calculations
    ):
        return None
    return _summed(parts, calculations, rules)


def _computed(parts: Sequence[_Part], context: _Context) -> list[Calculation]:
    """Each listed item's award, times its count ("3个绿色食品"; counts are only read for options)."""
    return [
        times(calc, part.count.value, part.count.text) if part.count is not None else calc
        for calc, part in zip((_calculate(part.rule, part.inputs, context) for part in parts), parts, strict=True)
    ]


def _summed(parts: Sequence[_Part], calculations: Sequence[Calculation], rules: Sequence[Rule]) -> CalcOutcome:
    """The sum of listed items' awards (shared caps applied), named after all their rules."""
    combined = combine(_number_repeats(calculations), shared_caps(rules))
    combined = dataclasses.replace(combined, rule_name="、".join(dict.fromkeys(part.rule.name for part in parts)))
    return _outcome(parts[0].rule, parts[0].inputs, combined, tuple(dict.fromkeys(part.rule for part in parts)))


def _lead_with_hint(calc: Calculation, hints: Sequence[str]) -> Calculation:
    """A sum across articles is cited first by the article retrieval ranks highest among its parts (the others
    follow in the order of the question)."""
    lead = next((hint for hint in hints if hint in calc.articles), None)
    if lead is None or lead == calc.article:
        return calc
    label = next(part.article_label for part in calc.parts if part.article == lead)
    articles = (lead, *(article for article in calc.articles if article != lead))
    return dataclasses.replace(calc, article=lead, article_label=label, articles=articles)


def _find_parts(
    context: _Context, body: str, family: Sequence[Rule], scores: dict[str, float], distinctive_only: bool = False
) -> list[_Part]:
    # within one article, a rule's marks tell it from its siblings too ("通过认定" is the 经认定 award, not 创建名单)
    words = {rule.id: {word.lower() for word in (*_rule_words(rule), *rule.marks)} for rule in family}
    owners: dict[str, int] = {}
    for rule_words in words.values():
        for word in rule_words:
            owners[word] = owners.get(word, 0) + 1
    spans = [span for span in context.spans if span[1] <= len(body)]
    cue_words = {rule.id: {cue.lower() for slot in rule.inputs for cue in slot.cues} for rule in family}
    marks = [word for rule in family for word in rule.marks]
    if marks:
        spans = sorted({*spans, *_find_words(body, marks)})

    def inside_words(rule: Rule, start: int, end: int) -> list[tuple[int, int, str]]:
        return [span for span in spans if start <= span[0] and span[1] <= end and span[2].lower() in words[rule.id]]

    def evidence(rule: Rule, start: int, end: int) -> tuple[int | None, list[str], str]:
        """(position of the rule's own evidence in text[start:end], option keys named there, the word).
        Evidence is a word no other rule has, or words of the item that together only this rule has ("首次认定" and
        "高企": 首次认定高新技术企业; "首次认定" beside "新雏鹰" names the 新雏鹰 award alone)."""
        inside = inside_words(rule, start, end)
        if distinctive_only:
            # across articles an item is named by its award, not by a word that introduces a figure ("实际到账")
            inside = [span for span in inside if span[2].lower() not in cue_words[rule.id]]
        distinctive = [span for span in inside if owners[span[2].lower()] == 1]
        if not distinctive and inside:
            held = {span[2].lower() for span in inside}
            others = [
                {span[2].lower() for span in inside_words(other, start, end)} for other in family if other is not rule
            ]
            if not any(held <= other for other in others):
                distinctive = inside[:1]
        named = {word.lower() for word in (*rule.keywords, *rule.events)}
        # an option counts only next to one of the rule's own words: 有机食品 names 新认证 and 续展 alike
        options = _options_named(rule, body[start:end]) if any(span[2].lower() in named for span in inside) else []
        if distinctive:
            return distinctive[0][0], options, distinctive[0][2].lower()
        if options and not distinctive_only:
            return inside[0][0], options, inside[0][2].lower()
        return None, [], ""

    pieces = _pieces(body)
    items: list[tuple[int, int]] = []  # pieces merged: a piece without evidence joins the item before it
    for start, end in pieces:
        has = any(evidence(rule, start, end)[0] is not None for rule in family)
        if has or not items:
            items.append((start, end))
        else:
            items[-1] = (items[-1][0], end)
    if items and len(items) > 1 and not any(evidence(rule, *items[0])[0] is not None for rule in family):
        items[1] = (items[0][0], items[1][1])  # leading context ("紫金港科技城企业，") joins the first item
        items.pop(0)
    whole = {rule.id: _rule_inputs(rule, context) for rule in family}
    option_words = {rule.id: _option_words(rule) for rule in family}
    found: list[_Part] = []
    for start, end in items:
        piece_amounts = tuple(amount for amount in context.amounts if start <= amount.start and amount.end <= end)
        piece_cues = [cue for cue in context.cues if start <= cue[0] and cue[1] <= end]
        named = {rule.id: evidence(rule, start, end) for rule in family}
        # An option's name ("绿色食品") is no award of its own: in an item where another rule's own word names the
        # award ("绿色食品成功续展"), a rule named only by an option word gives way.
        own_word = {
            rule_id for rule_id, (at, _, word) in named.items() if at is not None and word not in option_words[rule_id]
        }
        for rule in family:
            position, options, word = named[rule.id]
            if position is None or (own_word and rule.id not in own_word):
                continue
            own = extract_inputs(rule, body[:end], piece_amounts, piece_cues, context.bound)
            own = {name: item for name, item in own.items() if item.position >= start}
            own = _apply_year_window(rule, body[start:end], own)
            base = set(rule.base_slots)
            shared = {name: item.value for name, item in whole[rule.id].items() if name not in base}
            inputs = {**shared, **{name: item.value for name, item in own.items()}}
            used = frozenset(
                item.position for name, item in own.items() if name in base and rule.input(name).kind in NUMERIC_KINDS
            )
            option_slot = rule.formula.option_slot if rule.formula.kind == "options" else None
            choices: list[str | None] = list(options) or [None]
            for key in choices:
                chosen = {**inputs, option_slot: key} if key is not None and option_slot else inputs
                if _contradicted(rule, chosen):
                    continue
                if key is not None:
                    count = _option_count(context, rule, key, start, end)
                elif rule.formula.kind == "fixed" and _TOTAL.search(body):
                    count = _recipient_count(
                        context, position, start, frozenset(item.position for item in own.values())
                    )
                else:
                    count = None
                found.append(_Part(rule, chosen, position, used, scores.get(rule.id, 0.0), word, count, (start, end)))
    return _distinct_parts(found)


def _option_words(rule: Rule) -> set[str]:
    """The option labels and aliases of an options rule, lower case (the words that name an option, not the rule)."""
    if rule.formula.kind != "options" or not rule.formula.option_slot:
        return set()
    slot = rule.input(rule.formula.option_slot)
    return {word.lower() for option in slot.options for word in (option.label, *option.aliases)}


def _pieces(text: str) -> list[tuple[int, int]]:
    """Spans of `text` between item words (又, 另外, and ...) and clause punctuation."""
    pieces = []
    start = 0
    for match in _PIECE_BREAK.finditer(text):
        if match.start() > start:
            pieces.append((start, match.start()))
        start = match.end()
    if start < len(text):
        pieces.append((start, len(text)))
    return [(a, b) for a, b in pieces if text[a:b].strip()]


def _options_named(rule: Rule, text: str) -> list[str]:
    """Option keys of an options rule named in `text`, in order ("世界设计大奖…国内权威设计奖" -> world, domestic)."""
    if rule.formula.kind != "options" or not rule.formula.option_slot:
        return []
    slot = rule.input(rule.formula.option_slot)
    if slot.kind != "choice":
        return []
    owner: dict[str, str] = {}
    for option in slot.options:
        for word in (option.label, *option.aliases):
            owner.setdefault(word.lower(), option.key)
    spans = _find_words(text, list(owner))
    return list(dict.fromkeys(owner[word.lower()] for _, _, word in spans))


def _option_count(context: _Context, rule: Rule, key: str, start: int, end: int) -> Amount | None:
    """The count attached to an option named in text[start:end]: "2个有机食品", "3项绿色食品", "两部作品各拿了市级…":
    the nearest count before the option's word in its clause (at most COUNT_REACH characters away, no other option
    or amount in between). A count inside one of the rules' words ("五个一工程奖") is a name, not a count."""
    slot = rule.input(rule.formula.option_slot)  # type: ignore[arg-type]
    owner = {word.lower(): option.key for option in slot.options for word in (option.label, *option.aliases)}
    named = [span for span in _find_words(context.text[:end], list(owner)) if span[0] >= start]
    counts = [
        amount
        for amount in context.amounts
        if amount.kind == "count"
        and start <= amount.start
        and not any(low <= amount.start < high for low, high, _ in context.spans)
    ]
    for position, _, word in named:
        if owner[word.lower()] != key:
            continue
        before = [amount for amount in counts if amount.end <= position]
        if not before:
            return None
        count = before[-1]
        between = context.text[count.end : position]
        if (
            len(between) > COUNT_REACH
            or SEGMENT_BREAK.search(between)
            or any(count.end <= other[0] < position for other in named)
            or any(count.end <= amount.start < position for amount in context.amounts)
        ):
            return None
        return count if count.value > 1 else _each_listed(context.text, position)
    return _each_listed(context.text, position)


def _recipient_count(context: _Context, position: int, start: int, read: frozenset[int]) -> Amount | None:
    """How many recipients a fixed award named at `position` is counted for when a total is asked: "两位师傅今年评上了
    …炒制大师，一共" (2 × 1万元), "两家子公司都首次认定为高企，一共". The nearest count of people, enterprises or works
    before the award's word in its item and clause (at most RECIPIENT_REACH characters away, no other amount in
    between, not one of the rule's own inputs), else the items listed before 各."""
    before = [
        amount
        for amount in context.amounts
        if amount.kind == "count" and start <= amount.start and amount.end <= position and amount.start not in read
    ]  # (a count the rule reads as an input is the rule's fact, not its recipients)
    if before:
        count = before[-1]
        between = context.text[count.end : position]
        if (
            count.value > 1
            and _RECIPIENT_UNIT.search(count.text.strip().lower())
            and len(between) <= RECIPIENT_REACH
            and not SEGMENT_BREAK.search(between)
            and not _RESPECTIVELY.search(between)
            and not any(count.end <= amount.start < position for amount in context.amounts)
            and not any(low <= count.start < high for low, high, _ in context.spans)
        ):
            return count
    return _each_listed(context.text, position)


def _each_listed(text: str, position: int) -> Amount | None:
    """The count of items listed before 各 in the clause of the word at `position`: "广告设计作品和视觉设计作品各拿了一个
    国内权威设计奖项" counts 2 (the joined items before 各); None without 各 or with one item."""
    clause_start = clause_begin(text, position)
    each = [match for match in _EACH_OF.finditer(text, clause_start, position)]
    if not each:
        return None
    listed = text[clause_start : each[-1].start()]
    items = [item for item in _LIST_JOIN.split(listed) if item.strip()]
    if len(items) < 2:
        return None
    return Amount(Decimal(len(items)), "count", f"{len(items)}项", clause_start, each[-1].start())


def _contradicted(rule: Rule, inputs: dict[str, Any]) -> bool:
    """A scope fact the question states rules the rule out (进口 for the 国产 robot rule)."""
    for spec in rule.conditions:
        if not spec.scope or spec.slot not in inputs:
            continue
        try:
            value = coerce_value(rule.input(spec.slot), inputs[spec.slot])
        except ValueError:
            continue
        if not _scope_holds(rule.input(spec.slot), spec.op, spec.value, value):
            return True
    return False


def _distinct_parts(found: Sequence[_Part]) -> list[_Part]:
    """One part per award: the same rule twice only with different amounts or options (a repeatable rule is
    counted again by _repeat_parts); a rule without its amount is dropped when another item gives it one; one
    amount feeds one part; variants of an exclusive group count once."""
    parts: list[_Part] = []
    for part in sorted(found, key=lambda p: (p.position, -p.score)):
        key = _part_key(part)
        same = [other for other in parts if other.rule.id == part.rule.id]
        # a repeatable award, or one clause granting the same sum for each of several named events ("中国专利金奖和
        # 省技术发明奖一等奖" both earn the 200万元): each named occurrence counts
        events = {event.lower() for event in part.rule.events}
        repeated = (part.rule.repeatable or part.evidence in events) and all(
            other.evidence != part.evidence for other in same
        )
        if any(_part_key(other) == key for other in same) and not repeated:
            continue
        if same and not _has_base(part):
            continue
        parts = [other for other in parts if not (other.rule.id == part.rule.id and not _has_base(other))]
        complement = next((other for other in same if _filled(other) and not _filled(other) & _filled(part)), None)
        if complement is not None and complement in parts:
            # 展位费20万，另外机票5万: two inputs of one award, not two awards
            merged = dataclasses.replace(
                complement,
                inputs={**complement.inputs, **{name: part.inputs[name] for name in _filled(part)}},
                amount_positions=complement.amount_positions | part.amount_positions,
            )
            parts[parts.index(complement)] = merged
            continue
        if part.amount_positions and any(part.amount_positions & other.amount_positions for other in parts):
            rival = next(other for other in parts if part.amount_positions & other.amount_positions)
            if rival.score >= part.score:
                continue
            parts.remove(rival)
        group = part.rule.group
        if group and group != part.rule.cap_group and any(other.rule.group == group for other in parts):
            continue
        parts.append(part)
    return parts


def _part_key(part: _Part) -> tuple[str, tuple[tuple[str, str], ...]]:
    names = [*part.rule.base_slots]
    return part.rule.id, tuple((name, repr(part.inputs.get(name))) for name in names if name in part.inputs)


def _filled(part: _Part) -> set[str]:
    return {name for name in part.rule.base_slots if name in part.inputs}


def _has_base(part: _Part) -> bool:
    return not part.rule.base_slots or any(name in part.inputs for name in part.rule.base_slots)


def _repeat_parts(parts: list[_Part], text: str) -> list[_Part]:
    """An award granted per occurrence (孵化器每升一级) counts as often as the question says ("两次") or as often as
    its items name it."""
    times_match = _TIMES.search(text)
    if times_match is None:
        return parts
    word = times_match.group(1) or times_match.group(2)
    times = 2 if word in ("两", "twice") else small_number(word)
    result: list[_Part] = []
    for part in parts:
        result.append(part)
        if part.rule.repeatable and not part.rule.base_slots:
            already = sum(1 for other in parts if other.rule.id == part.rule.id)
            if already == 1 and times > 1:
                result.extend([part] * (times - 1))
    return result


def _number_repeats(calculations: Sequence[Calculation]) -> list[Calculation]:
    """The same award counted twice with the same trace reads 孵化器升级一次性奖励（第1次）, …（第2次）."""
    counts: dict[tuple[str, str], int] = {}
    for calc in calculations:
        counts[(calc.rule_id, calc.trace)] = counts.get((calc.rule_id, calc.trace), 0) + 1
    seen: dict[tuple[str, str], int] = {}
    numbered = []
    for calc in calculations:
        key = (calc.rule_id, calc.trace)
        if counts[key] > 1:
            seen[key] = seen.get(key, 0) + 1
            calc = dataclasses.replace(calc, rule_name=f"{calc.rule_name}（第{seen[key]}次）")
        numbered.append(calc)
    return numbered


# ----------------------------------------------------------------------------- per-unit prices and year windows


def _one_rate(formula: Any, first: Decimal, years: Decimal) -> bool:
    """Whether every year of the window is paid at the same rate."""
    rates = set()
    start = Decimal(1)
    for segment in formula.segments:
        end = start + segment.years - 1
        if start <= first + years - 1 and first <= end:
            rates.add(segment.rate)
        start = end + 1
    return len(rates) == 1


def _apply_year_window(rule: Rule, text: str, assignments: dict[str, _Assignment]) -> dict[str, _Assignment]:
    """For a yearly schedule (房租补助第一、二年100%，第三、四年50%): "第三年" asks for that year alone, "前两年" for
    the first two; the window replaces a number of years read elsewhere."""
    formula = rule.formula
    if formula.kind != "schedule" or formula.start_year_slot is None:
        return assignments
    total_years = sum((segment.years for segment in formula.segments), Decimal(0))
    follow_up = _follow_up_start(text)  # "第一年能补多少？ 那三年加起来呢？": the follow-up's years win
    window = (year_window(text[follow_up:], total_years) if follow_up is not None else None) or year_window(
        text, total_years
    )
    if window is None:
        return assignments
    first, years = window
    if years is not None and _PER_YEAR.search(text) and _one_rate(formula, first, years):
        years = None  # "前两年每年能补多少": the amount of one of those years
    updated = {name: item for name, item in assignments.items() if name != formula.years_slot}
    updated[formula.start_year_slot] = _Assignment(first, True, 0)
    if years is not None and formula.years_slot is not None:
        updated[formula.years_slot] = _Assignment(years, True, 0)
    return updated


# ----------------------------------------------------------------------------- text helpers


def _named_articles(text: str) -> set[str]:
    return {f"A{number}" for number in find_article_refs(text) if 1 <= number <= 72}


def _find_words(text: str, words: Sequence[str]) -> list[tuple[int, int, str]]:
    """Occurrences of `words` in `text`, in order. A word lying inside a longer found word is dropped
    (保险 inside 出口信用保险, 制造业 inside 非制造业); partly overlapping words are both kept.
    ASCII words match case-insensitively on word boundaries; Chinese words as substrings."""
    lowered = text.lower()
    candidates: list[tuple[int, int, str]] = []
    for word in dict.fromkeys(w for w in words if w):
        needle = word.lower()
        if needle.isascii():
            candidates.extend((match.start(), match.end(), word) for match in _ascii_word(needle).finditer(lowered))
        else:
            candidates.extend((start, start + len(needle), word) for start in _substring_starts(lowered, needle))
    candidates.sort(key=lambda item: (-(item[1] - item[0]), item[0], item[2]))
    found: list[tuple[int, int, str]] = []
    for start, end, word in candidates:
        if any(other_start <= start and end <= other_end for other_start, other_end, _ in found):
            continue
        found.append((start, end, word))
    found.sort()
    return found


def _follow_up_start(text: str) -> int | None:
    """Where an appended follow-up ("… 那1500万呢？", "…怎么算 那流片补贴呢") starts: the last sentence (or the last
    part after a space between Chinese words, how the chain joins an earlier turn) that opens like a follow-up."""
    sentence_ends = {match.end() for match in SENTENCE_END.finditer(text) if text[match.end() :].strip()}
    joined = {match.end() for match in _JOINED_TURN.finditer(text)}
    for end in sorted(sentence_ends | joined, reverse=True):
        start = end + (len(text[end:]) - len(text[end:].lstrip()))
        asks_again = _ASKS_AGAIN.search(text, start)
        if FOLLOW_UP_OPENING.match(text, start):
            # within one turn, "如果后面通过认定，…一共最多多少？" goes on with the question; "那1500万呢？" asks anew
            if end in joined or asks_again:
                return start
        elif end in joined and asks_again:
            return start  # a joined turn "复查换证的呢？"
    return None


@functools.lru_cache(maxsize=4096)
def _ascii_word(needle: str) -> re.Pattern[str]:
    return re.compile(r"(?<![a-z0-9])" + re.escape(needle) + r"(?![a-z0-9])")


def _substring_starts(text: str, needle: str) -> list[int]:
    starts = []
    position = text.find(needle)
    while position >= 0:
        starts.append(position)
        position = text.find(needle, position + 1)
    return starts


def _last_mention(
    text: str, options: Sequence[tuple[str, Sequence[str]]], negated: dict[str, str] | None = None
) -> tuple[str, int] | None:
    """The option whose words occur last in the text (longest match wins where words overlap). A word right after a
    negation ("不是本地企业拆分的", "不属于汽车销售") names the option `negated` maps it to (a flag's other value), or
    nothing."""
    found = _mentions(text, options, negated)
    return found[-1] if found else None


def _mentions(
    text: str, options: Sequence[tuple[str, Sequence[str]]], negated: dict[str, str] | None = None
) -> list[tuple[str, int]]:
    """Every option the text names, in order, as (key, position); negated words as in _last_mention."""
    owner: dict[str, str] = {}
    for key, words in options:
        for word in words:
            owner.setdefault(word.lower(), key)
    spans = _find_words(text, [word for _, words in options for word in words])
    # Overlapping words are one phrase, negated as a whole: 不是[本地企业拆分]出来 with 拆分出来.
    phrase_starts: list[int] = []
    for index, (start, _, _) in enumerate(spans):
        overlaps = index > 0 and spans[index - 1][1] > start
        phrase_starts.append(phrase_starts[-1] if overlaps else start)
    # ... and name the option of their longest word: "exceeds the national [tech-SME] standard" is above_sme
    longest: dict[int, tuple[int, str]] = {}
    for (start, end, word), phrase_start in zip(spans, phrase_starts, strict=True):
        if end - start > longest.get(phrase_start, (0, ""))[0]:
            longest[phrase_start] = (end - start, owner[word.lower()])
    found: list[tuple[str, int]] = []
    for (start, end, word), phrase_start in zip(spans, phrase_starts, strict=True):
        key = owner[word.lower()]
        if key != longest[phrase_start][1]:
            continue
        if _PAYER_WORD.fullmatch(word.lower()) and _PAYOUT_AFTER.match(text, end):
            continue  # "区级奖励多少": who pays, not the 区级 option
        if not any(_NEGATION.search(text[max(0, at - NEGATION_REACH) : at]) for at in {start, phrase_start}):
            found.append((key, start))
        elif negated and key in negated:
            found.append((negated[key], start))
    return found


def _cue_occurrences(text: str, rules: Sequence[Rule]) -> list[tuple[int, int, frozenset[tuple[str, str]]]]:
    """Where cue words of all numeric slots occur: (start, end, {(slot name, slot kind)} using this cue)."""
    owners: dict[str, set[tuple[str, str]]] = {}
    for rule in rules:
        for slot in rule.inputs:
            if slot.kind in ("choice", "flag"):
                continue
            for cue in slot.cues:
                owners.setdefault(cue.lower(), set()).add((slot.name, slot.kind))
    spans = _find_words(text, list(owners))
    return [(start, end, frozenset(owners[word.lower()])) for start, end, word in spans]


_JOINS_NEXT = re.compile(r"\s*+(?:加上?|和|与|及|以及|、|\+)\s*+[\u4e00-\u9fff]")


def _nearest_cue_slots(
    text: str, amount: Amount, cues: Sequence[tuple[int, int, frozenset[tuple[str, str]]]]
) -> frozenset[str] | None:
    """Names of the slots (of the amount's kind) the amount belongs to, from the cue words of its clause:
    the nearest cue (before the amount preferred, specific before generic) decides, and the other cues of the
    clause narrow a generic one ("营收首次突破1亿": 突破 could be 营业收入 or 产值, 营收 says 营业收入).
    None when the clause has no cue of that kind."""
    segment_start = clause_begin(text, amount.start)
    following = SEGMENT_BREAK.search(text, amount.end)
    segment_end = following.start() if following else len(text)
    # An aside in brackets speaks of itself: "总投资3000万（含设备和外购软件）" — 设备 does not introduce 3000万.
    asides = [(m.start(), m.end()) for m in _BRACKETED.finditer(text) if not m.start() <= amount.start < m.end()]
    ranked: list[tuple[int, int, frozenset[str], bool]] = []
    for start, end, cue_owners in cues:
        relevant = frozenset(name for name, kind in cue_owners if kind == amount.kind)
        if not relevant or any(low <= start < high for low, high in asides):
            continue
        if segment_start <= start and end <= amount.start:
            distance = amount.start - end
        elif amount.end <= start and end <= segment_end:
            distance = start - amount.end + FOLLOWING_CUE_PENALTY
        else:
            continue
        generic = int(len(relevant) > 1)
        # "设备加外购软件总投资": a cue joined to the next word by 加/和/、 names a part of a whole, not the figure
        part = bool(_JOINS_NEXT.match(text, end))
        ranked.append((distance + GENERIC_CUE_PENALTY * generic, generic, relevant, part))
    if not ranked:
        return None
    ranked.sort(key=lambda item: (item[0], item[1]))
    owners = ranked[0][2]
    for _, _, other, part in ranked[1:]:
        if owners & other and not part:
            owners = owners & other
    return owners


def _primary_slot(rule: Rule, kind: str) -> Slot | None:
    """Where an amount without a cue goes: the formula's base slot of that kind, else the rule's only slot of
    that kind (never a slot that feeds a derivation)."""
    derived_sources = {name for slot in rule.inputs for name in (slot.derive_minus or ())}
    if rule.formula.start_year_slot:
        derived_sources.add(rule.formula.start_year_slot)  # read from "第三年", never from a bare "3年"
    for name in rule.base_slots:
        slot = rule.input(name)
        if slot.kind == kind and name not in derived_sources:
            return slot
    same_kind = [slot for slot in rule.inputs if slot.kind == kind and slot.name not in derived_sources]
    return same_kind[0] if len(same_kind) == 1 else None
