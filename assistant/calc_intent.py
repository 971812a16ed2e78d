"""From a question to a calculation: detect a computation request, choose the rule, fill its inputs, calculate.

Rule choice (deterministic, no model): each rule scores its keywords found in the question (longer words
weigh more, later mentions a little more), the inputs the question fills for it (an amount introduced by one
of the slot's cue words counts most), scope facts the question states (紫金港/云栖, 生物医药, 科技型中小企业 ...:
a match adds, a contradiction subtracts), retrieval's article hints and an explicit "第三十四条". Close scores
across different rules -> ask which one (candidates). Rules of one `group` (e.g. the four 第十四条 R&D cases)
are variants: the best-supported one is calculated and the others are reported as alternatives when an
unknown fact (经营规模) decides between them. Later mentions override earlier ones (follow-ups are appended).
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from assistant.amounts import Amount, find_amounts, to_halfwidth
from assistant.calculator import Calculation, calculate, coerce_value
from assistant.numerals import find_article_refs
from assistant.rules import Rule, Slot

SEGMENT_BREAK = re.compile(r"[，,。；;？?！!\n]")
SENTENCE_END = re.compile(r"[。？?！!]")
FOLLOW_UP_OPENING = re.compile(
    r"那么|那|如果|要是|假如|假设|换成|改成|若是|若|what about|how about|and if|what if", re.IGNORECASE
)
AMBIGUITY_MARGIN = 0.75
HINT_WEIGHTS = (1.6, 0.6, 0.3, 0.2, 0.1)  # retrieval's article ranking breaks ties; it does not override keywords
FOLLOWING_CUE_PENALTY = 1  # a cue after the amount ("30万保费") is a little weaker than one right before it
GENERIC_CUE_PENALTY = 2  # a cue shared by several slots ("花了", "投资") says less than a specific one

_ASK_PATTERNS = (
    r"(能|可以|可|最多|最高|一共|总共|大概|大约|预计|估计)?(拿|领|获得?|申请|申领|补|奖|报|返|得|享受|给)(到)?(多少|几)",
    r"(补贴|补助|奖励|资助|奖金|扶持|支持|返还|减免|配套|担保费|保费)(金额|额度|资金|标准|比例上限)?(是|有|为|能有|大概|会是)?(多少|几)",
    r"多少(钱|补贴|补助|奖励|资助|奖金|扶持资金|担保费)",
    r"算一下|算算|帮我算|计算|测算|估算|核算|能补|补多少|奖多少",
    r"(有什么|有哪些|有没有|有啥|什么样的?)(补贴|补助|奖励|资助|扶持|支持|优惠)",
    r"(有|给|能拿到?|能领|可以拿)(补贴|补助|奖励|资助)(吗|么|嘛)",
    r"(能|可以|可)(拿|领|获得|享受|申请)(什么|哪些|啥)",
)
_ASK = re.compile("|".join(_ASK_PATTERNS))
_ASK_EN = re.compile(
    r"\bhow much\b|\bcalculat|\bestimat"
    r"|\bwhat (?:subsidy|subsidies|award|awards|grant|grants|amount|support|funding|reward)\b"
    r"|\b(?:can|could|will|would|do|does|shall)\b[^.?!]*\b(?:get|receive|claim|obtain|qualify)\b|\beligible\b|\bentitled\b",
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
)


@dataclass(frozen=True)
class CalcOutcome:
    """What `plan_calculation` decided: the rule, the inputs it read, the calculation, or what to ask."""

    rule: Rule | None
    inputs: dict[str, Any]
    calculation: Calculation | None
    clarification: str | None = None  # Chinese question when something is missing or the rule is ambiguous
    candidates: tuple[str, ...] = ()  # rule ids when ambiguous (best first)


@dataclass(frozen=True)
class _Assignment:
    value: Any
    by_cue: bool
    position: int


def is_calculation_request(question: str) -> bool:
    """True when the question asks for an amount (能拿多少/补多少/how much) or states an amount with a
    domain word (投入/社零/房租 ...). Cheap; the rule choice happens in plan_calculation."""
    text = to_halfwidth(question or "")
    if _ASK.search(text) or _ASK_EN.search(text):
        return True
    amounts = [amount for amount in find_amounts(text) if amount.kind in ("money", "percent", "area", "weight")]
    return bool(amounts) and any(word in text for word in _DOMAIN_WORDS)


def plan_calculation(question: str, rules: Sequence[Rule], article_hints: Sequence[str] = ()) -> CalcOutcome | None:
    """Choose a rule for the question, fill its inputs from the text and calculate.
    None when the question is not a computation request or names nothing computable."""
    if not question or not is_calculation_request(question):
        return None
    text = to_halfwidth(question)
    amounts = find_amounts(text)
    cues = _cue_occurrences(text, rules)
    named_articles = _named_articles(text)
    spans = _find_words(text, [word for rule in rules for word in _rule_words(rule)])
    scored: list[tuple[float, int, Rule, dict[str, Any]]] = []
    for index, rule in enumerate(rules):
        keyword_score = _keyword_score(rule, spans, len(text))
        if keyword_score <= 0 and rule.article not in named_articles:
            continue
        assignments = extract_inputs(rule, text, amounts, cues)
        score = keyword_score + _support_score(rule, assignments) + _hint_score(rule, article_hints, named_articles)
        scored.append((score, index, rule, {name: item.value for name, item in assignments.items()}))
    if not scored:
        return None
    scored.sort(key=lambda item: (-item[0], item[1]))
    best_score, _, best, _ = scored[0]
    contenders = [item for item in scored if item[0] >= best_score - AMBIGUITY_MARGIN]
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
    rule, inputs = chosen[2], chosen[3]
    calc = calculate(rule, inputs)
    others = [item for item in scored if item[2].group and item[2].group == rule.group and item[2] is not rule]
    calc = _with_variant_alternatives(calc, rule, inputs, others)
    clarification = None
    if calc.amount_yuan is None and calc.missing:
        clarification = "".join(calc.missing[:2])
    return CalcOutcome(rule=rule, inputs=inputs, calculation=calc, clarification=clarification)


def extract_inputs(
    rule: Rule,
    question: str,
    amounts: Sequence[Amount] | None = None,
    cues: list[tuple[int, int, frozenset[tuple[str, str]]]] | None = None,
) -> dict[str, _Assignment]:
    """The rule's inputs stated in the question: amounts by their cue words (nearest cue before the amount in
    the same clause; an amount whose nearest cue belongs to another slot is not this rule's), choices and flags
    by their words (the last mention wins, so follow-ups override)."""
    text = to_halfwidth(question)
    if amounts is None:
        amounts = find_amounts(text)
    if cues is None:
        cues = _cue_occurrences(text, [rule])
    assigned: dict[str, _Assignment] = {}
    for slot in rule.inputs:
        if slot.kind == "choice":
            found = _last_mention(text, [(option.key, (option.label, *option.aliases)) for option in slot.options])
            if found is not None:
                assigned[slot.name] = _Assignment(found[0], True, found[1])
        elif slot.kind == "flag":
            found = _last_mention(text, [("no", slot.no), ("yes", slot.yes)])
            if found is not None:
                assigned[slot.name] = _Assignment(found[0] == "yes", True, found[1])
    numeric = {slot.name: slot for slot in rule.inputs if slot.kind not in ("choice", "flag")}
    follow_up = _follow_up_start(text)
    for amount in amounts:
        candidates = [slot for slot in numeric.values() if slot.kind == amount.kind]
        if not candidates:
            continue
        cue_slots = _nearest_cue_slots(text, amount, cues)
        target: Slot | None
        by_cue = True
        if cue_slots is None:
            target = _primary_slot(rule, amount.kind)
            by_cue = False
        else:
            target = next((slot for slot in candidates if slot.name in cue_slots), None)
        if target is None:
            continue
        previous = assigned.get(target.name)
        in_follow_up = follow_up is not None and amount.start >= follow_up
        if previous is not None and previous.by_cue and not by_cue and not in_follow_up:
            continue  # a stray amount does not replace one its cue word introduced ... unless it is a follow-up
        try:
            value = coerce_value(target, Amount(amount.value, amount.kind, amount.text, amount.start, amount.end))
        except ValueError:
            continue
        assigned[target.name] = _Assignment(value, by_cue, amount.start)
    return assigned


# ----------------------------------------------------------------------------- scoring


def _rule_words(rule: Rule) -> list[str]:
    words = list(rule.keywords) + list(rule.events)
    if rule.formula.kind == "options" and rule.formula.option_slot:
        slot = rule.input(rule.formula.option_slot)
        words += [alias for option in slot.options for alias in option.aliases if len(alias) >= 4]
    return words


def _keyword_score(rule: Rule, spans: Sequence[tuple[int, int, str]], length: int) -> float:
    """Sum of the rule's words among the question's word spans (found once over all rules' words, so a word
    inside a longer word of another rule does not count: 科技保险's 保险 inside 出口信用保险)."""
    words = {word.lower() for word in _rule_words(rule)}
    seen: set[str] = set()
    score = 0.0
    for start, _, word in spans:
        key = word.lower()
        if key not in words or key in seen:
            continue
        seen.add(key)
        recency = 1 + 0.3 * (start / max(length, 1))
        score += _specificity(word) * recency
    return score


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
        score += 1.0 if holds else -3.0
    return score


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
            starts = [match.start() for match in _ascii_word(needle).finditer(lowered)]
        else:
            starts = _substring_starts(lowered, needle)
        candidates.extend((start, start + len(needle), word) for start in starts)
    candidates.sort(key=lambda item: (-(item[1] - item[0]), item[0], item[2]))
    found: list[tuple[int, int, str]] = []
    for start, end, word in candidates:
        if any(other_start <= start and end <= other_end for other_start, other_end, _ in found):
            continue
        found.append((start, end, word))
    found.sort()
    return found


def _follow_up_start(text: str) -> int | None:
    """Where an appended follow-up ("… 那1500万呢？") starts: the last sentence, when it opens like a follow-up."""
    ends = [match.end() for match in SENTENCE_END.finditer(text) if text[match.end() :].strip()]
    if not ends:
        return None
    start = ends[-1] + (len(text[ends[-1] :]) - len(text[ends[-1] :].lstrip()))
    return start if FOLLOW_UP_OPENING.match(text, start) else None


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


def _last_mention(text: str, options: Sequence[tuple[str, Sequence[str]]]) -> tuple[str, int] | None:
    """The option whose words occur last in the text (longest match wins where words overlap)."""
    owner: dict[str, str] = {}
    for key, words in options:
        for word in words:
            owner.setdefault(word.lower(), key)
    spans = _find_words(text, [word for _, words in options for word in words])
    if not spans:
        return None
    start, _, word = spans[-1]
    return owner[word.lower()], start


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


def _nearest_cue_slots(
    text: str, amount: Amount, cues: Sequence[tuple[int, int, frozenset[tuple[str, str]]]]
) -> frozenset[str] | None:
    """Names of the slots (of the amount's kind) the amount belongs to, from the cue words of its clause:
    the nearest cue (before the amount preferred, specific before generic) decides, and the other cues of the
    clause narrow a generic one ("营收首次突破1亿": 突破 could be 营业收入 or 产值, 营收 says 营业收入).
    None when the clause has no cue of that kind."""
    segment_start = max((m.end() for m in SEGMENT_BREAK.finditer(text, 0, amount.start)), default=0)
    following = SEGMENT_BREAK.search(text, amount.end)
    segment_end = following.start() if following else len(text)
    ranked: list[tuple[int, int, frozenset[str]]] = []
    for start, end, cue_owners in cues:
        relevant = frozenset(name for name, kind in cue_owners if kind == amount.kind)
        if not relevant:
            continue
        if segment_start <= start and end <= amount.start:
            distance = amount.start - end
        elif amount.end <= start and end <= segment_end:
            distance = start - amount.end + FOLLOWING_CUE_PENALTY
        else:
            continue
        generic = int(len(relevant) > 1)
        ranked.append((distance + GENERIC_CUE_PENALTY * generic, generic, relevant))
    if not ranked:
        return None
    ranked.sort(key=lambda item: (item[0], item[1]))
    owners = ranked[0][2]
    for _, _, other in ranked[1:]:
        if owners & other:
            owners = owners & other
    return owners


def _primary_slot(rule: Rule, kind: str) -> Slot | None:
    """Where an amount without a cue goes: the formula's base slot of that kind, else the rule's only slot of
    that kind (never a slot that feeds a derivation)."""
    derived_sources = {name for slot in rule.inputs for name in (slot.derive_minus or ())}
    for name in rule.base_slots:
        slot = rule.input(name)
        if slot.kind == kind and name not in derived_sources:
            return slot
    same_kind = [slot for slot in rule.inputs if slot.kind == kind and slot.name not in derived_sources]
    return same_kind[0] if len(same_kind) == 1 else None
