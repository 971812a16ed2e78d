"""Reading a rule's inputs from a question: amounts by the cue words of their clause, choices and flags by their
words (a negated word names the other option), years dated and paired, and where an appended follow-up starts."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from assistant.amounts import Above, Amount, find_amounts, to_halfwidth
from assistant.calculator import (
    coerce_value,
)
from assistant.figures import (
    DATED_YEAR,
    SEGMENT_BREAK,
    SENTENCE_END,
    clause_begin,
    notice_year,
    year_of,
    year_window,
)
from assistant.numerals import find_article_refs
from assistant.rules import Rule, Slot
from assistant.vocabulary import notice_facts, pattern, same_length_spelling

FOLLOW_UP_OPENING = pattern("calc_follow_up_opening", flags=re.IGNORECASE)
_ASKS_AGAIN = pattern("calc_asks_again", flags=re.IGNORECASE)
FOLLOWING_CUE_PENALTY = 1  # a cue after the amount ("30万保费") is a little weaker than one right before it
GENERIC_CUE_PENALTY = 2  # a cue shared by several slots ("花了", "投资") says less than a specific one
# "第三年", "第三、四年", "前两年", "后两年", "the third year", "the first two years"
# "前两年每年能补多少", "the first two years, per year": the window's years are asked one at a time
_PER_YEAR = pattern("calc_per_year")
_BRACKETED = pattern("calc_bracketed")
# The notice is the district's: a district word right before a payout ("区级奖励多少", "区里最多补多少", the clause's own
# "区级给予") names who pays, not a 区级 option of the award.
_PAYER_WORD = pattern("calc_payer_word")
_PAYOUT_AFTER = pattern("calc_payout_after", flags=re.IGNORECASE)
# "复合增长超过25%": the question states a bound, not the value (not "不超过25%", "没有超过")
_EXCEEDS = pattern("calc_exceeds", flags=re.IGNORECASE)
_EXCEEDS_NEGATED = pattern("calc_exceeds_negated")
NEGATION_REACH = 12  # characters before a word searched for its negation ("no longer ", "不属于")
# A word right after a negation does not state that fact ("不是本地企业拆分的", "非制造业", "不属于汽车销售").
_NEGATION = pattern("calc_negation", flags=re.IGNORECASE)
# An earlier turn and a follow-up joined by the chain with a space ("…怎么算 那流片补贴呢"): later words weigh more.
_JOINED_TURN = pattern("calc_joined_turn")


@dataclass(frozen=True)
class Assignment:
    """A value the question gives a slot, and how it was bound to that slot (see READINGS)."""

    value: Any
    by_cue: bool
    position: int
    how: str = "cue"


# How a value was bound to its slot: "cue" (a cue word of the slot in the figure's clause, an option's word, or the
# figure's own form such as a rent per ㎡), "negated" (the negated word of the other of two options or of a flag's
# other value, "不是进口的"), or inferred: "parallel" (no cue; a clause opening with a year after a figure of that
# kind, "2023年研发投入650万，2024年800万"), "default" (no cue; the rule's one slot of that kind). An answer states an
# amount only when no figure it rests on is inferred where another of the rule's values could be meant
# (calc_certainty).
INFERRED_READINGS = frozenset({"parallel", "default"})


def extract_inputs(
    rule: Rule,
    question: str,
    amounts: Sequence[Amount] | None = None,
    cues: list[tuple[int, int, frozenset[tuple[str, str]]]] | None = None,
    bound: Mapping[int, str] | None = None,
) -> dict[str, Assignment]:
    """The rule's inputs stated in the question: amounts by their cue words (nearest cue before the amount in
    the same clause; an amount whose nearest cue belongs to another slot is not this rule's), choices and flags
    by their words (the last mention wins, so follow-ups override). `bound` maps an amount's start to the one slot
    its form says it is (a rent per ㎡ and month is an annual rent once multiplied out), whatever its cues."""
    text = to_halfwidth(question)
    if amounts is None:
        amounts = find_amounts(text)
    if cues is None:
        cues = cue_occurrences(text, [rule])
    assigned: dict[str, Assignment] = {}
    follow_up = follow_up_start(text)
    for slot in rule.inputs:
        if slot.kind == "choice":
            keys = [option.key for option in slot.options]
            # "不是进口的": of two options, a negated one names the other; of more, it names none
            other = {keys[0]: keys[1], keys[1]: keys[0]} if len(keys) == 2 else None
            negated_at: set[int] = set()
            options = [(option.key, (option.label, *option.aliases)) for option in slot.options]
            named = mentions(text, options, other, negated_at)
            # "空天信息软件开发类总部企业" names two industries: the one this rule is for is the one meant for it;
            # what a follow-up says ("其实是做汽车销售的") replaces what the earlier turn said
            own = [item for item in named if _scope_wants(rule, slot.name, item[0])]
            latest = [item for item in named if follow_up is not None and item[1] >= follow_up]
            if latest or own or named:
                key, position = (latest or own or named)[-1]
                how = "negated" if position in negated_at else "cue"
                assigned[slot.name] = Assignment(key, True, position, how)
        elif slot.kind == "flag":
            negated_at = set()
            found = _last_mention(text, [("no", slot.no), ("yes", slot.yes)], {"no": "yes", "yes": "no"}, negated_at)
            if slot.several == "no" and (denied := _last_mention(text, [("no", slot.no)], {"no": "yes"}, negated_at)):
                found = denied if denied[0] == "no" else found
            if found is not None:
                how = "negated" if found[1] in negated_at else "cue"
                assigned[slot.name] = Assignment(found[0] == "yes", True, found[1], how)
    numeric = {slot.name: slot for slot in rule.inputs if slot.kind not in ("choice", "flag")}
    targets: list[tuple[Amount, Slot, bool]] = []
    readings: dict[int, str] = {}  # amount start -> how it was bound
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
            readings[amount.start] = (
                "cue" if cue_slots is not None else "parallel" if parallel is not None else "default"
            )
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
        how = readings.get(amount.start, "cue")
        if listed and previous is not None:
            value = min(value, previous.value)  # every year must reach the threshold: the lowest decides
            by_cue = by_cue or previous.by_cue
            how = "cue" if "cue" in (how, previous.how) else how
        assigned[target.name] = Assignment(value, by_cue, amount.start, how)
    return assigned


def _stated(text: str, amount: Amount) -> Decimal:
    """The amount's value, marked Above when the question only says it exceeds the number ("超过25%")."""
    before = text[max(0, amount.start - 8) : amount.start]
    exceeds = _EXCEEDS.search(before)
    if exceeds is None or _EXCEEDS_NEGATED.search(before[: exceeds.start()]):
        return amount.value
    return Above(amount.value)


# a clause that is only a year before its figure ("，2024年2000万"), and one that opens with a relative year ("今年…")
_YEAR_ONLY_OPENING = pattern(
    "calc_relative_year", r"\s*+(?:(?:19|20)?\d\d\s*+年(?:度)?|{})\s*+(?:是|为|做到了?|达到了?)?\s*+"
)
_RELATIVE_YEAR_OPENING = pattern("calc_relative_year")


def _parallel_target(text: str, amount: Amount, targets: Sequence[tuple[Amount, Slot, bool]]) -> Slot | None:
    """The slot of the figure before, when both stand in clauses that open with a year and this one has no cue of
    its own ("2023年研发投入1800万，2024年2000万")."""
    if not targets or not targets[-1][2] or targets[-1][0].kind != amount.kind:
        return None
    clause_start = clause_begin(text, amount.start)
    if not _YEAR_ONLY_OPENING.fullmatch(text[clause_start : amount.start]):
        return None
    previous = targets[-1][0]
    previous_start = clause_begin(text, previous.start)
    return (
        targets[-1][1]
        if DATED_YEAR.match(text, previous_start) or _RELATIVE_YEAR_OPENING.match(text, previous_start)
        else None
    )


def _dated_pairs(rule: Rule, text: str, targets: list[tuple[Amount, Slot, bool]]) -> list[tuple[Amount, Slot, bool]]:
    """Amounts of a slot that a derivation subtracts from (新增额 = 本年 − 上年) dated by their years
    ("2023年研发投入1800万元，2024年研发投入2600万元"): the latest year's stays this year's, the year before goes to
    the previous year's slot. One dated amount of the notice's year − 1 beside an undated one is the previous year's."""
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
        reference = max(dated) if len(set(dated)) > 1 else notice_year()
        previous_slot = rule.input(previous_name)
        for index, (amount, target, _) in enumerate(adjusted):
            if target.name == current and years.get(amount.start) == reference - 1:
                adjusted[index] = (amount, previous_slot, True)
    return adjusted


_LEVEL_ONLY = pattern("calc_level_only", flags=re.IGNORECASE)


def words_of_rule(rule: Rule) -> list[str]:
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


def _scope_wants(rule: Rule, slot_name: str, key: str) -> bool:
    """Whether the rule is for the choice `key` of the slot (a scope condition names it)."""
    return any(
        spec.scope and spec.slot == slot_name and scope_holds(rule.input(slot_name), spec.op, spec.value, key)
        for spec in rule.conditions
        if spec.op in ("eq", "in")
    )


def scope_holds(slot: Slot, op: str, wanted: Any, value: Any) -> bool:
    if op == "is":
        return value is wanted
    keys = {value} if isinstance(value, str) else set(value)
    if op == "eq":
        return wanted in keys
    if op == "in":
        return bool(set(wanted) & keys)
    return True


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


def apply_year_window(rule: Rule, text: str, assignments: dict[str, Assignment]) -> dict[str, Assignment]:
    """For a yearly schedule (房租补助第一、二年100%，第三、四年50%): "第三年" asks for that year alone, "前两年" for
    the first two; the window replaces a number of years read elsewhere."""
    formula = rule.formula
    if formula.kind != "schedule" or formula.start_year_slot is None:
        return assignments
    total_years = sum((segment.years for segment in formula.segments), Decimal(0))
    follow_up = follow_up_start(text)  # "第一年能补多少？ 那三年加起来呢？": the follow-up's years win
    window = (year_window(text[follow_up:], total_years) if follow_up is not None else None) or year_window(
        text, total_years
    )
    if window is None:
        return assignments
    first, years = window
    if years is not None and _PER_YEAR.search(text) and _one_rate(formula, first, years):
        years = None  # "前两年每年能补多少": the amount of one of those years
    updated = {name: item for name, item in assignments.items() if name != formula.years_slot}
    updated[formula.start_year_slot] = Assignment(first, True, 0)
    if years is not None and formula.years_slot is not None:
        updated[formula.years_slot] = Assignment(years, True, 0)
    return updated


def articles_named(text: str) -> set[str]:
    count = notice_facts().article_count
    return {f"A{number}" for number in find_article_refs(text) if 1 <= number <= count}


def find_words(text: str, words: Sequence[str]) -> list[tuple[int, int, str]]:
    """Occurrences of `words` in `text`, in order. A word lying inside a longer found word is dropped
    (保险 inside 出口信用保险, 制造业 inside 非制造业); partly overlapping words, and words found on the same stretch,
    are all kept.
    ASCII words match case-insensitively on word boundaries; Chinese words as substrings."""
    lowered = same_length_spelling(text)  # "recognised" is found by "recognized" (lexicon.yaml spellings)
    candidates: list[tuple[int, int, str]] = []
    for word in dict.fromkeys(w for w in words if w):
        needle = word.lower()
        if needle.isascii():
            needle = same_length_spelling(needle)
            candidates.extend((match.start(), match.end(), word) for match in _ascii_word(needle).finditer(lowered))
        else:
            candidates.extend((start, start + len(needle), word) for start in _substring_starts(lowered, needle))
    candidates.sort(key=lambda item: (-(item[1] - item[0]), item[0], item[2]))
    found: list[tuple[int, int, str]] = []
    for start, end, word in candidates:
        if any(o_start <= start and end <= o_end and (o_start, o_end) != (start, end) for o_start, o_end, _ in found):
            continue  # inside a longer word; the same stretch found by two spellings ("high tech", "high-tech") stays
        found.append((start, end, word))
    found.sort()
    return found


def follow_up_start(text: str) -> int | None:
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


def word_key(word: str) -> str:
    """One form for the spellings find_words treats as one word ("High-tech" and "high tech")."""
    return re.sub(r"[\s-]+", " ", same_length_spelling(word)) if word.isascii() else word


@functools.lru_cache(maxsize=4096)
def _ascii_word(needle: str) -> re.Pattern[str]:
    """An English word or phrase on word boundaries; a space or hyphen between its words matches either
    ("smart rural tourism" is found in "smart rural-tourism project")."""
    parts = [re.escape(part) for part in re.split(r"[\s-]+", needle) if part]
    return re.compile(r"(?<![a-z0-9])" + r"[\s-]+".join(parts) + r"(?![a-z0-9])")


def _substring_starts(text: str, needle: str) -> list[int]:
    starts = []
    position = text.find(needle)
    while position >= 0:
        starts.append(position)
        position = text.find(needle, position + 1)
    return starts


def _last_mention(
    text: str,
    options: Sequence[tuple[str, Sequence[str]]],
    negated: dict[str, str] | None = None,
    negated_at: set[int] | None = None,
) -> tuple[str, int] | None:
    """The option whose words occur last in the text (longest match wins where words overlap). A word right after a
    negation ("不是本地企业拆分的", "不属于汽车销售") names the option `negated` maps it to (a flag's other value), or
    nothing."""
    found = mentions(text, options, negated, negated_at)
    return found[-1] if found else None


def mentions(
    text: str,
    options: Sequence[tuple[str, Sequence[str]]],
    negated: dict[str, str] | None = None,
    negated_at: set[int] | None = None,
) -> list[tuple[str, int]]:
    """Every option the text names, in order, as (key, position); negated words as in _last_mention (their
    positions are added to `negated_at`: an option read from a negation is inferred, not stated)."""
    owner: dict[str, str] = {}
    for key, option_words in options:
        for word in option_words:
            owner.setdefault(word.lower(), key)
    spans = find_words(text, [word for _, words in options for word in words])
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
            if negated_at is not None:
                negated_at.add(start)
    return found


def negation_before(text: str, at: int) -> int | None:
    """Where a negation right before position `at` starts ("不是首次认定" -> the 不), or None."""
    window_start = max(0, at - NEGATION_REACH)
    match = _NEGATION.search(text[window_start:at])
    return window_start + match.start() if match else None


def cue_occurrences(text: str, rules: Sequence[Rule]) -> list[tuple[int, int, frozenset[tuple[str, str]]]]:
    """Where cue words of all numeric slots occur: (start, end, {(slot name, slot kind)} using this cue)."""
    owners: dict[str, set[tuple[str, str]]] = {}
    for rule in rules:
        for slot in rule.inputs:
            if slot.kind in ("choice", "flag"):
                continue
            for cue in slot.cues:
                owners.setdefault(cue.lower(), set()).add((slot.name, slot.kind))
    spans = find_words(text, list(owners))
    return [(start, end, frozenset(owners[word.lower()])) for start, end, word in spans]


_JOINS_NEXT = pattern("calc_joins_next")


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
