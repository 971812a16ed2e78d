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
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from assistant.amounts import Amount, find_amounts, format_money, to_halfwidth
from assistant.calc_apply import (
    EXTRA_ONLY,
    RENT_SLOT,
    CalcOutcome,
    QuestionContext,
    Scored,
    calculate_rule,
    included_rules,
    inputs_for,
    outcome_of,
    over_years,
    place_considered,
    place_stated,
    read_inputs,
    rule_inputs,
    yearly_bases,
)
from assistant.calc_certainty import excluded_item, uncertain_reading
from assistant.calc_inputs import (
    Assignment,
    articles_named,
    cue_occurrences,
    find_words,
    follow_up_start,
    scope_holds,
    word_key,
    words_of_rule,
)
from assistant.calc_sum import plan_combined
from assistant.calculator import (
    Calculation,
    by_year,
    calculate,
    combine,
    shared_caps,
)
from assistant.figures import (
    phone_commas,
    with_bare_prices,
    with_count_windows,
    with_date_gap,
    with_english_items,
    with_excluded_parts,
    with_monthly_rents,
    with_registration_years,
    with_scaled_follow_up,
    with_shares_of,
    with_unit_prices,
    with_unit_rents,
)
from assistant.rules import Rule
from assistant.vocabulary import pattern, words

_GUESSED_RESULT = pattern("calc_guessed_result_before")
_CHECKED_RESULT_BEFORE = pattern("calc_checked_result_before")
_CHECKED_RESULT_AFTER = pattern("calc_checked_result_after")

AMBIGUITY_MARGIN = 0.75
HINT_WEIGHTS = (1.6, 0.6, 0.3, 0.2, 0.1)  # retrieval's article ranking breaks ties; it does not override keywords
_ASK = pattern("calc_ask")
_ASK_EN = pattern("calc_ask_en", flags=re.IGNORECASE)
_ASKS_BASIS = pattern("calc_asks_basis", flags=re.IGNORECASE)
# Words that make a sentence with an amount a computation request even without a question word
# ("新注册零售企业全年社零额1.5亿元").
_DOMAIN_WORDS_EN = pattern("calc_domain_words_en", flags=re.IGNORECASE)
RENT_QUOTE_SUPPORT = 1.0  # a rent quoted per ㎡ speaks for the rent rules even before the area is known
FOLLOW_UP_WEIGHT = 2.0


def _guessed_result(text: str, amount: Amount) -> bool:
    """Whether a figure is the user's own guess of the award ("应该有60万吧"), or a result put up to be checked ("补10%的话
    就是80万对吧？": "就是" before it and a tag asking to confirm after it), not an input."""
    before = text[max(0, amount.start - 8) : amount.start]
    return bool(
        _GUESSED_RESULT.search(before)
        or (_CHECKED_RESULT_BEFORE.search(before) and _CHECKED_RESULT_AFTER.match(text, amount.end))
    )


def asks_basis_only(question: str) -> bool:
    """Whether the question asks how a figure is counted or on what data ("那这个6吨是按什么数据来算的？") and not how
    much is paid: a question of fact even after an earlier turn that asked for an amount."""
    text = to_halfwidth(question or "")
    return bool(_ASKS_BASIS.search(text.lower())) and not (_ASK.search(text) or _ASK_EN.search(text))


def is_calculation_request(question: str) -> bool:
    """True when the question asks for an amount (能拿多少/补多少/how much) or states an amount with a
    domain word (投入/社零/房租 ...). Cheap; the rule choice happens in plan_calculation."""
    text = phone_commas(to_halfwidth(question or ""))
    if _ASK.search(text) or _ASK_EN.search(text):
        return True
    amounts = [amount for amount in find_amounts(text) if amount.kind in ("money", "percent", "area", "weight")]
    return bool(amounts) and (
        any(word in text for word in words("calc_domain_words")) or bool(_DOMAIN_WORDS_EN.search(text))
    )


def plan_calculation(question: str, rules: Sequence[Rule], article_hints: Sequence[str] = ()) -> CalcOutcome | None:
    """Choose a rule for the question, fill its inputs from the text and calculate.
    A question about several awards of one article ("又…一共", "另外…", "两次") gets their sum (shared caps
    applied). None when the question is not a computation request or names nothing computable."""
    if not question or not is_calculation_request(question):
        return None
    text = phone_commas(to_halfwidth(question))
    named_articles = articles_named(text)
    spans = find_words(text, [word for rule in rules for word in words_of_rule(rule)])
    follow_up = follow_up_start(text)
    scope_spans = _scope_mentions(text, rules)
    keyword_scores = {
        rule.id: _keyword_score(rule, _not_contradicting(rule, spans, scope_spans), len(text), follow_up)
        for rule in rules
    }
    relevant = [rule for rule in rules if keyword_scores[rule.id] > 0 or rule.article in named_articles]
    if not relevant:
        return None
    # "按10%算应该有60万吧？", "按4%算就是1200万吧？": the user's own guess of the award is asked about, not given
    found = [a for a in find_amounts(text) if not _guessed_result(text, a)]
    amounts, products = with_unit_prices(text, with_bare_prices(text, with_english_items(text, found)))
    amounts, rent_products, rent_quoted = with_unit_rents(text, amounts)
    amounts, month_products = with_monthly_rents(text, amounts, rent_products)
    amounts, scaled_products = with_scaled_follow_up(text, amounts, follow_up)
    amounts, share_products, referents = with_shares_of(text, amounts)
    amounts, net_products = with_excluded_parts(text, amounts, relevant)
    products = {**products, **scaled_products, **share_products, **net_products}
    rent_products = {**rent_products, **month_products}
    amounts, year_notes = with_registration_years(text, amounts)
    amounts, day_notes = with_date_gap(text, amounts, relevant)
    amounts, count_products = with_count_windows(text, amounts, rules)
    # Only the cue words of rules the question is about compete for its amounts: "建设" (平台建设总投资) must not
    # take the amount of "乡村旅游智慧建设投入50万元" when no platform is mentioned.
    context = QuestionContext(
        text=text,
        amounts=tuple(amounts),
        products={**products, **rent_products, **count_products},
        cues=[cue for cue in cue_occurrences(text, relevant) if not any(lo <= cue[0] < hi for lo, hi in referents)],
        spans=spans,
        named_articles=named_articles,
        hints=tuple(article_hints),
        read_notes=(*(("years", *note) for note in year_notes), *(("days", *note) for note in day_notes)),
        bound=dict.fromkeys(rent_products, RENT_SLOT),
    )
    scored: list[Scored] = []
    for index, rule in enumerate(rules):
        if rule not in relevant:
            continue
        assignments = rule_inputs(rule, context)
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
    considered = [item for item in scored if place_considered(item[2], text, named_articles, article_hints)]
    if not considered:
        return None
    if considered[0] is not scored[0] and not place_stated(considered[0][2], text):
        return None  # ... unless the rule that may answer is bound to a place the question names ("换成云栖小镇…呢")
    scored = considered
    combined = plan_combined(context, rules, scored)
    if combined is not None and combined.parts:
        return _unless_uncertain(combined, context)
    single = _plan_single(context, rules, scored)
    if combined is not None and (single.calculation is None or single.calculation.amount_yuan is None):
        single = combined  # of the awards listed only one can be computed yet: give it, name the others
    return _unless_uncertain(single, context)


def _unless_uncertain(outcome: CalcOutcome, context: QuestionContext) -> CalcOutcome:
    """An amount only when every value it rests on has a certain role; otherwise the rule, its formula, how each
    figure was read and what to confirm (calc_certainty), with no amount."""
    calc = outcome.calculation
    if outcome.rule is None or calc is None or calc.amount_yuan is None:
        return outcome
    if calc.parts:
        # a sum: each item's figures are read within its item, and each part's amount is shown ... unless an item is
        # what a clause leaves out ("其中空调、电脑30万" is no second purchase of equipment)
        question = next((q for rule in dict.fromkeys(outcome.parts) if (q := excluded_item(rule, context))), None)
    else:
        # a sum the clause leaves out, given beside the total ("买设备1250万，空调、电脑30万": inside it or not?); one
        # given inside it ("其中…30万") was already taken off (figures.with_excluded_parts)
        question = excluded_item(outcome.rule, context) or uncertain_reading(
            outcome.rule, rule_inputs(outcome.rule, context), context, calc
        )
    if question is None:
        return outcome
    reading = dataclasses.replace(calc, amount_yuan=None, amount_min_yuan=None, alternatives=(), missing=(question,))
    return CalcOutcome(outcome.rule, outcome.inputs, None, question, parts=outcome.parts, reading=reading)


def _plan_single(context: QuestionContext, rules: Sequence[Rule], scored: list[Scored]) -> CalcOutcome:
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
    calc = over_years(rule, calc, text)
    if rule.formula.kind == "schedule" and (annuals := yearly_bases(rule, context)):
        base = rule.input(rule.formula.base[0])
        yearly = (base.label, "、".join(format_money(annual) for annual in annuals))
        figures = tuple(item for item in read_inputs(rule, inputs) if item[0] != base.label)
        calc = dataclasses.replace(by_year(rule, inputs, annuals), read_inputs=(yearly, *figures))
    if rule.includes and not EXTRA_ONLY.search(text):
        included = [
            calculate_rule(other, inputs_for(other, inputs, context), context) for other in included_rules(rule, rules)
        ]
        if included and all(part.amount_yuan is not None for part in included):
            parts_rules = (*included_rules(rule, rules), rule)
            calc = combine([*included, calc], shared_caps(rules))
            return outcome_of(parts_rules[-1], inputs, calc, parts_rules)
    return outcome_of(rule, inputs, calc)


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
    return [(start, end, *owner[word.lower()]) for start, end, word in find_words(text, list(owner))]


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


def _keyword_score(
    rule: Rule, spans: Sequence[tuple[int, int, str]], length: int, follow_up: int | None = None
) -> float:
    """Sum of the rule's words among the question's word spans (found once over all rules' words, so a word
    inside a longer word of another rule does not count: 科技保险's 保险 inside 出口信用保险). Each word counts
    once, at its first mention, or double at its mention in an appended follow-up ("…租房补贴怎么算 那流片补贴呢")
    unless there it is only a shorter form of a word of the earlier turn."""
    words = {word_key(word) for word in words_of_rule(rule)}
    earlier = [word_key(word) for start, _, word in spans if follow_up is not None and start < follow_up]
    best: dict[str, float] = {}
    for start, _, word in spans:
        key = word_key(word)
        in_follow_up = follow_up is not None and start >= follow_up
        if key not in words or (key in best and not in_follow_up):
            continue
        if in_follow_up and any(key in other and key != other for other in earlier):
            continue  # a shorter form of the earlier turn's word ("首次上规… 上规以后呢，后面几年…"): its new words decide
        recency = (1 + 0.3 * (start / max(length, 1))) * (FOLLOW_UP_WEIGHT if in_follow_up else 1)
        best[key] = max(best.get(key, 0.0), _specificity(word) * recency)
    return sum(best.values())


def _specificity(word: str) -> float:
    length = sum(1 if not ch.isascii() else 1 / 3 for ch in word)
    return min(3.0, 0.5 + 0.35 * length)


def _support_score(rule: Rule, assignments: dict[str, Assignment]) -> float:
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
            holds = scope_holds(rule.input(spec.slot), spec.op, spec.value, value)
        except ValueError:
            continue
        # A kind the clause itself excludes ("汽车销售除外") is asked about this rule: it fails, it is not another rule.
        named_exception = isinstance(value, str) and value in spec.excepted
        score += 1.0 if holds or named_exception else -3.0
    return score


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


def _applicable_variant(
    chosen: Scored, siblings: Sequence[Scored], context: QuestionContext
) -> tuple[Scored, Calculation]:
    """Among the variants of one award for the same enterprise (same scope, e.g. 科技型中小企业规模: 新增额的5%, or
    with 年度研发投入额1亿元以上 a direct 200万元), the one that applies wins, the higher when several do; the
    other eligible ones are named in the notes. Variants for other scopes stay alternatives."""
    calc = calculate_rule(chosen[2], chosen[3], context)
    scope = _scope_key(chosen[2])
    options = [(chosen, calc)]
    for item in siblings:
        if item[2] is not chosen[2] and _scope_key(item[2]) == scope:
            options.append((item, calculate_rule(item[2], item[3], context)))
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
