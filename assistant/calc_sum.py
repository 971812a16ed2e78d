"""Summing several awards one question lists ("…，又…，一共", "另外", "两次", items side by side): each item matched to
the rule it names, with its own amounts and counts, added up under shared caps."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from assistant.amounts import Amount
from assistant.calc_apply import (
    EXTRA_ONLY,
    TOTAL,
    CalcOutcome,
    QuestionContext,
    Scored,
    calculate_rule,
    outcome_of,
    over_years,
    rule_inputs,
)
from assistant.calc_inputs import (
    apply_year_window,
    extract_inputs,
    find_words,
    follow_up_start,
    scope_holds,
    word_key,
    words_of_rule,
)
from assistant.calculator import (
    Calculation,
    coerce_value,
    combine,
    shared_caps,
    times,
)
from assistant.figures import (
    SEGMENT_BREAK,
    clause_begin,
    small_number,
)
from assistant.rules import NUMERIC_KINDS, Rule
from assistant.vocabulary import pattern, words

_ITEM_WORD = pattern("calc_item_word")
_PIECE_BREAK = pattern("calc_item_word", r"{}|[；;，,、。？?！!]|[和与及](?![其他它])")
_ADDS = pattern("calc_adds")
_QUESTION_MARK = re.compile(r"[？?]")
_EACH = pattern("calc_each")
_TIMES = pattern("calc_times")
COUNT_REACH = 8  # characters between a count and the option it counts ("两部作品各拿了市级")
# characters between a count and the fixed award it counts ("两位师傅今年评上了西湖龙井手工炒制大师")
RECIPIENT_REACH = 16
# What one fixed award is given for: people, enterprises, works, projects ("两位师傅", "2家企业", "三件作品")
_RECIPIENT_UNIT = pattern("calc_recipient_unit")
# "广告设计作品和视觉设计作品各拿了一个…": the items listed before 各 each earn it
_EACH_OF = pattern("calc_each_of")
_LIST_JOIN = pattern("calc_list_join")
# "两个成果分别获得A和B": the count is of the items listed after it, each its own award
_RESPECTIVELY = pattern("calc_respectively")


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


def plan_combined(context: QuestionContext, rules: Sequence[Rule], scored: Sequence[Scored]) -> CalcOutcome | None:
    """The sum of several awards when the question lists them ("…，又…，一共", "另外", "两次").
    Each item (a stretch of the question between 又/另外/同时/…/commas with words of its own) is matched to the
    article's rule whose distinctive keyword or named option it contains, with the item's own amounts and the
    question's shared facts (紫金港, 制造业 ...). Awards of one article first; when the leading articles together
    give more parts (each item with a keyword no other rule of those articles has), the sum crosses articles.
    Needs two parts or more; None otherwise."""
    text = context.text
    follow_up = follow_up_start(text)
    if follow_up is not None and TOTAL.search(text, follow_up) and _ADDS.search(text, follow_up):
        follow_up = None  # "再加买6台进口的，一共能补多少？" adds an item to the earlier turn's: one list
    scores = {item[2].id: item[0] for item in scored}
    if follow_up is not None and TOTAL.search(text, follow_up):
        # "那我们新认证了有机和绿色，还评上市级龙头，一共多少？" names its own items and sums them: the earlier
        # turn's items are not among them (its shared facts still are); blanked so positions keep their place
        own = " " * follow_up + text[follow_up:]
        parts = _parts_listed(context, own, rules, scored, scores)
        if parts is not None and _several(parts):
            return _summed_outcome(context, rules, parts, own, "")
    body = text[:follow_up] if follow_up is not None else text
    total = TOTAL.search(body)
    listed = _listed(body)
    extra = EXTRA_ONLY.search(body)
    # "…能给多少啊？另外…有没有额外的？": the extra is asked after a question of its own, so both are asked
    if _EACH.search(body) or (not total and extra and not _QUESTION_MARK.search(body, 0, extra.start())):
        listed = False
    if not total and not listed:
        return _plan_side_by_side(context, body, rules, scored, scores)
    best = _parts_listed(context, body, rules, scored, scores)
    if best is None or not _several(best):
        return None  # one award, unless counted several times ("新认证了3个绿色食品，一共")
    return _summed_outcome(context, rules, best, body, text[follow_up:] if follow_up is not None else "")


def _several(parts: Sequence[_Part]) -> bool:
    """Two awards or more, or one counted several times."""
    return len(parts) >= 2 or bool(parts and parts[0].count is not None)


def _parts_listed(
    context: QuestionContext, body: str, rules: Sequence[Rule], scored: Sequence[Scored], scores: dict[str, float]
) -> list[_Part] | None:
    """The awards `body` lists, each matched to its rule: of one article first, across the leading articles when
    that gives more parts."""
    total = TOTAL.search(body)
    articles = list(dict.fromkeys(item[2].article for item in scored[:4]))[:3]

    def weight(parts: Sequence[_Part]) -> tuple[int, int]:
        """More parts that can be computed first ("龙井手工炒制大师": 龙井 alone names no tea-purchase item), then more."""
        computable = sum(1 for part in parts if calculate_rule(part.rule, part.inputs, context).amount_yuan is not None)
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
    return _repeat_parts(best, body)


def _summed_outcome(
    context: QuestionContext, rules: Sequence[Rule], best: Sequence[_Part], body: str, follow_inputs: str
) -> CalcOutcome | None:
    """Each part computed (with the follow-up's figures, if any) and added up under shared caps."""
    calculations: list[Calculation] = []
    kept: list[_Part] = []
    skipped: list[str] = []
    for part in best:
        inputs = part.inputs
        if follow_inputs:
            found = extract_inputs(part.rule, follow_inputs)
            inputs = {**inputs, **{name: item.value for name, item in found.items()}}
        calc = calculate_rule(part.rule, inputs, context)
        if part.count is not None:
            calc = times(calc, part.count.value, part.count.text)
        calc = over_years(part.rule, calc, body, part.span)
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
    # a listed part that still lacks its figure keeps the sum the answer ("再加买6台进口的" with no price: the 10 domestic
    # robots are computed as domestic and the imported ones named, not the whole read as imported)
    counted = len(calculations) > 1 or any(part.count is not None for part in kept) or bool(skipped)
    parts_rules = tuple(dict.fromkeys(part.rule for part in kept)) if counted else ()
    return outcome_of(kept[0].rule, kept[0].inputs, combined, parts_rules)


def _listed(body: str) -> bool:
    """Whether the text lists items with its item words (又, 还, 另外 …); "承担了一项国家重点科研任务" counts one thing:
    一项/一件 alone lists no second award."""
    return any(match.group(0) not in words("calc_single_item") for match in _ITEM_WORD.finditer(body))


def _plan_side_by_side(
    context: QuestionContext, body: str, rules: Sequence[Rule], scored: Sequence[Scored], scores: dict[str, float]
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


_MOST = pattern("calc_most")


def _most_of_several(
    context: QuestionContext, body: str, found: Sequence[_Part], rules: Sequence[Rule]
) -> CalcOutcome | None:
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


def _computed(parts: Sequence[_Part], context: QuestionContext) -> list[Calculation]:
    """Each listed item's award, times its count ("3个绿色食品"; counts are only read for options)."""
    return [
        times(calc, part.count.value, part.count.text) if part.count is not None else calc
        for calc, part in zip((calculate_rule(part.rule, part.inputs, context) for part in parts), parts, strict=True)
    ]


def _summed(parts: Sequence[_Part], calculations: Sequence[Calculation], rules: Sequence[Rule]) -> CalcOutcome:
    """The sum of listed items' awards (shared caps applied), named after all their rules."""
    combined = combine(_number_repeats(calculations), shared_caps(rules))
    combined = dataclasses.replace(combined, rule_name="、".join(dict.fromkeys(part.rule.name for part in parts)))
    return outcome_of(parts[0].rule, parts[0].inputs, combined, tuple(dict.fromkeys(part.rule for part in parts)))


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
    context: QuestionContext,
    body: str,
    family: Sequence[Rule],
    scores: dict[str, float],
    distinctive_only: bool = False,
) -> list[_Part]:
    # within one article, a rule's marks tell it from its siblings too ("通过认定" is the 经认定 award, not 创建名单)
    word_sets = {rule.id: {word_key(word) for word in (*words_of_rule(rule), *rule.marks)} for rule in family}
    owners: dict[str, int] = {}
    for rule_words in word_sets.values():
        for word in rule_words:
            owners[word] = owners.get(word, 0) + 1
    spans = [span for span in context.spans if span[1] <= len(body)]
    cue_words = {rule.id: {word_key(cue) for slot in rule.inputs for cue in slot.cues} for rule in family}
    marks = [word for rule in family for word in rule.marks]
    if marks:
        spans = sorted({*spans, *find_words(body, marks)})

    def inside_words(rule: Rule, start: int, end: int) -> list[tuple[int, int, str]]:
        return [
            span for span in spans if start <= span[0] and span[1] <= end and word_key(span[2]) in word_sets[rule.id]
        ]

    def evidence(rule: Rule, start: int, end: int) -> tuple[int | None, list[str], str]:
        """(position of the rule's own evidence in text[start:end], option keys named there, the word).
        Evidence is a word no other rule has, or words of the item that together only this rule has ("首次认定" and
        "高企": 首次认定高新技术企业; "首次认定" beside "新雏鹰" names the 新雏鹰 award alone)."""
        inside = inside_words(rule, start, end)
        if distinctive_only:
            # across articles an item is named by its award, not by a word that introduces a figure ("实际到账")
            inside = [span for span in inside if word_key(span[2]) not in cue_words[rule.id]]
        distinctive = [span for span in inside if owners[word_key(span[2])] == 1]
        if not distinctive and inside:
            held = {word_key(span[2]) for span in inside}
            others = [
                {word_key(span[2]) for span in inside_words(other, start, end)} for other in family if other is not rule
            ]
            if not any(held <= other for other in others):
                distinctive = inside[:1]
        named = {word_key(word) for word in (*rule.keywords, *rule.events)}
        # an option counts only next to one of the rule's own words: 有机食品 names 新认证 and 续展 alike
        options = _options_named(rule, body[start:end]) if any(word_key(span[2]) in named for span in inside) else []
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
    whole = {rule.id: rule_inputs(rule, context) for rule in family}
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
            own = apply_year_window(rule, body[start:end], own)
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
                elif rule.formula.kind == "fixed" and TOTAL.search(body):
                    count = _recipient_count(
                        context, position, start, frozenset(item.position for item in own.values())
                    )
                else:
                    count = None
                found.append(_Part(rule, chosen, position, used, scores.get(rule.id, 0.0), word, count, (start, end)))
    return _distinct_parts(_shared_predicate(found, body, option_words))


def _shared_predicate(found: list[_Part], body: str, option_words: dict[str, set[str]]) -> list[_Part]:
    """ "有机和绿色今年都是新认证的": items named only by an option word take the award that an item of their clause
    names by its own word (新认证), not every award that has the option (新认证 and 续展 both list 有机). Only an
    award sharing that option gives way to it: "国家级博士后工作站 + 独立招收资格" keeps both."""
    owned: dict[int, set[str]] = {}
    for part in found:
        if part.evidence not in option_words[part.rule.id]:
            owned.setdefault(clause_begin(body, part.position, SEGMENT_BREAK), set()).add(part.rule.id)
    kept = []
    for part in found:
        named = owned.get(clause_begin(body, part.position, SEGMENT_BREAK), set())
        shares = any(part.evidence in option_words[rule_id] for rule_id in named)
        if part.evidence in option_words[part.rule.id] and shares and part.rule.id not in named:
            continue
        kept.append(part)
    return kept


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
    spans = find_words(text, list(owner))
    return list(dict.fromkeys(owner[word.lower()] for _, _, word in spans))


def _option_count(context: QuestionContext, rule: Rule, key: str, start: int, end: int) -> Amount | None:
    """The count attached to an option named in text[start:end]: "2个有机食品", "3项绿色食品", "两部作品各拿了市级…":
    the nearest count before the option's word in its clause (at most COUNT_REACH characters away, no other option
    or amount in between). A count inside one of the rules' words ("五个一工程奖") is a name, not a count."""
    slot = rule.input(rule.formula.option_slot)  # type: ignore[arg-type]
    owner = {word.lower(): option.key for option in slot.options for word in (option.label, *option.aliases)}
    named = [span for span in find_words(context.text[:end], list(owner)) if span[0] >= start]
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


def _recipient_count(context: QuestionContext, position: int, start: int, read: frozenset[int]) -> Amount | None:
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
        if not scope_holds(rule.input(spec.slot), spec.op, spec.value, value):
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
