"""How the figures a question states are worked out before any rule reads them.

A question gives its facts in many forms; these functions turn each form into the plain amounts the rules read
(money, counts, years, days), and say how in a note or a product shown in the calculation's trace:
- a price per unit times its count ("3台，每台40万元", "机票每人1.5万元", "rmb 1 million each");
- a rent per ㎡ and period times the area ("月租金每平米60块", 4000㎡) and a whole rent per month ("租金每月8万元") as a
  yearly rent;
- a follow-up that scales the earlier figure ("保费要是翻一倍呢");
- a year of registration as the years up to the notice's year ("2017年注册的", "registered two years ago");
- two dates as the days between them where a rule's days slot has its cue ("6月20日比赛，6月5日备案");
- a part the rule's clause leaves out of its base, given inside a total ("设备共600万元，其中空调、电脑等办公设备80万元"
  -> 520万元 when the clause says "(不含空调、电脑等办公类设备)");
- counts inside or outside a counting window ("1家是毕业2年后才通过的"), English item counts ("two of our products");
- the year a figure is dated by (2023年 / 去年 / 今年) and the years of a schedule a question picks ("第三年", "前两年").
calc_intent calls them in plan_calculation; each returns new amounts and never changes the text.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal

from assistant.amounts import Amount, find_amounts, format_money, format_quantity, tidy
from assistant.numerals import cn_to_int
from assistant.rules import Rule
from assistant.vocabulary import LazyPattern, notice_facts, pattern

SEGMENT_BREAK = pattern("calc_segment_break")

SENTENCE_END = pattern("calc_sentence_end")

# Per-unit prices: "每台40万元", "单价40万", "40万元/台", "40万一台", "rmb 1 million each"
_PRICE_BEFORE = pattern("calc_price_before")

_PRICE_AFTER = pattern("calc_price_after")

_TIMES_SIGN = pattern("calc_times_sign")

_EN_COUNT = pattern("calc_en_count")

# Items counted in English ("two of our organic-certified products", "3 projects"): the number alone is the count
_EN_ITEMS = pattern("calc_en_items")

_EN_NUMBERS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
}

_YEAR_ORDINAL = pattern("calc_year_ordinal")

_YEAR_FIRST = pattern("calc_year_first")

_YEAR_LAST = pattern("calc_year_last")

_EN_ORDINALS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4, "fifth": 5}

_EN_YEAR_ORDINAL = pattern("calc_en_year_ordinal")

_EN_YEAR_SPAN = pattern("calc_en_year_span")


def notice_year() -> int:
    """The year the notice was issued (knowledge/notice.yaml): "2017年注册的" has been registered for 2024 − 2017 = 7
    years when it applies."""
    return notice_facts().issued.year


_REGISTERED_IN = pattern("calc_registered_in", flags=re.IGNORECASE)

# "registered in Zijingang two years ago": the years since registration, in words
_REGISTERED_AGO = pattern("calc_registered_ago", flags=re.IGNORECASE)

# Rent per ㎡ and period: "每平米每月60元", "月租金每平米60块", "60元/平方米/月", "RMB 60 per square metre per month"
_PER_AREA_BEFORE = pattern("calc_per_area_before")

_PER_AREA_AFTER = pattern("calc_per_area_after", flags=re.IGNORECASE)

# "2023年" and the short "23年" (a year of this century, not a span: "成立23年", "23年内" are no dates)
DATED_YEAR = pattern("calc_dated_year")

_PERIODS = {"月": ("月", 12), "month": ("月", 12), "天": ("天", 365), "日": ("天", 365), "day": ("天", 365)}

_PERIODS |= {"年": ("年", 1), "year": ("年", 1)}

_PERIOD_WORDS = (
    ("月", pattern("calc_period_month")),
    ("天", pattern("calc_period_day")),
    ("年", pattern("calc_period_year")),
)

# A whole rent per month ("办公用房租金每月8万元", "月租金8万", "8万元/月"): the rent rules read a yearly rent
_MONTH_BEFORE = pattern("calc_month_before")

_MONTH_AFTER = pattern("calc_month_after")

_RENT_WORD = pattern("calc_rent_word")

WINDOW_REACH = 3  # characters between a window's word and its years ("毕业后2年", "毕业了两年")

# "头两年", "连续3年", "三年一共": how many years of a yearly award the question adds up
YEARS_OF_AWARD = pattern("calc_years_of_award")

_RELATIVE_YEAR = pattern("calc_relative_year")
_YEAR_AFTER = pattern("calc_year_after")


_PHONE_SPACE = re.compile(r"(?<=[\u4e00-\u9fff])\s(?=[\u4e00-\u9fff])")
_FOLLOW_UP_OPENING = pattern("calc_follow_up_opening", flags=re.IGNORECASE)


def phone_commas(text: str) -> str:
    """A space typed between two Chinese words separates them as a comma would ("早就不是小微企业了 规模超过科小标准
    研发去年1.2亿 今年1.4亿"): each stretch is its own clause for negations, years and items. A space before a
    follow-up's opening ("…怎么算 那流片补贴呢") is how the chain joins an earlier turn, and stays. Positions are kept
    (one character for one)."""
    return _PHONE_SPACE.sub(lambda m: m.group(0) if _FOLLOW_UP_OPENING.match(text, m.end()) else "，", text)


def clause_begin(text: str, position: int, breaks: LazyPattern = SEGMENT_BREAK) -> int:
    """Where the clause (or, with SENTENCE_END, the sentence) holding `position` starts."""
    return max((match.end() for match in breaks.finditer(text, 0, position)), default=0)


def year_of(text: str, amount: Amount) -> int | None:
    """The calendar year an amount is dated by: the nearest "2023年" before it in its clause (not a year of
    registration), or 前年/去年/今年 counted back from the notice's year (only their order matters to a pair)."""
    start = clause_begin(text, amount.start)
    found = [
        *((m.start(), int(m.group(1))) for m in DATED_YEAR.finditer(text, start, amount.start)),
        *(
            (m.start(), notice_year() - 3 + (m.lastindex or 3))
            for m in _RELATIVE_YEAR.finditer(text.lower(), start, amount.start)
        ),
    ]
    if not found:
        # English dates its figure after it: "RMB 8 million in 2023", "RMB 80m this year"
        after = _YEAR_AFTER.match(text.lower(), amount.end)
        if after is None:
            return None
        if after.group(1):
            return int(after.group(1))
        relative = _RELATIVE_YEAR.fullmatch(after.group(2))
        return notice_year() - 3 + (relative.lastindex or 3) if relative else None
    year = max(found)[1]
    return year + 2000 if year < 100 else year


def with_unit_prices(text: str, amounts: Sequence[Amount]) -> tuple[list[Amount], dict[int, str]]:
    """A per-unit price ("每台40万元", "40万元/台", "3台×40万", "rmb 1 million each") becomes the total for the count it
    goes with (the nearest unused count before it, else after it, with no other sum of money in between):
    3台 × 40万元 = 120万元. Returns the amounts and, by the total's start, the multiplication as text."""
    lowered = text.lower()
    counts = sorted(
        [a for a in amounts if a.kind == "count"] + _english_counts(lowered, amounts), key=lambda a: a.start
    )
    money = [a for a in amounts if a.kind == "money"]
    used: set[int] = set()
    result: list[Amount] = []
    products: dict[int, str] = {}
    for amount in amounts:
        count = _count_for(lowered, amount, counts, money, used) if amount.kind == "money" else None
        if count is None:
            result.append(amount)
            continue
        used.add(count.start)
        total = tidy(count.value * amount.value)
        # an English count ("2 imported industrial robots") is shown by its number: the working stays short
        counted = count.text if not count.text.isascii() else f"{count.value.normalize():f}"
        products[amount.start] = f"{counted} × {format_money(amount.value)} = {format_money(total)}"
        result.append(Amount(total, "money", f"{count.text}×{amount.text}", amount.start, amount.end))
    return result, products


# A bare number of at least three digits that ends its clause ("往返经济舱机票每人8000，…"): a price only when a
# per-unit word stands right before it or after it; no unit of any kind follows it
_BARE_NUMBER = pattern("calc_bare_price")


def with_bare_prices(text: str, amounts: Sequence[Amount]) -> list[Amount]:
    """The amounts plus per-unit prices written without 元 ("机票每人8000", "tickets at 8000 each"), read as yuan."""
    lowered = text.lower()
    found = []
    for match in _BARE_NUMBER.finditer(lowered):
        start, end = match.span(1)
        if any(a.start < end and start < a.end for a in amounts):
            continue
        if _PRICE_BEFORE.search(lowered[max(0, start - 24) : start]) or _PRICE_AFTER.match(lowered, end):
            found.append(Amount(Decimal(match.group(1)), "money", match.group(1), start, end))
    return sorted([*amounts, *found], key=lambda amount: amount.start) if found else list(amounts)


def with_unit_rents(text: str, amounts: Sequence[Amount]) -> tuple[list[Amount], dict[int, str], bool]:
    """A rent per ㎡ and period ("每平米每月60元", "月租金每平米60块", "60元/平方米/月") times the area the question
    states is the annual rent: 4000㎡ × 60元/㎡/月 × 12个月 = 288万元. A price per ㎡ whose period or area is not
    stated is dropped (the rule then asks for the annual rent) rather than read as a rent of 60元. Returns the
    amounts, by the annual rent's start the multiplication as text, and whether a price per ㎡ was quoted at all."""
    lowered = text.lower()
    markers: list[tuple[int, int]] = []
    prices: dict[int, str | None] = {}  # start of a price per ㎡ -> its period (月, 天, 年) or None
    for amount in amounts:
        if amount.kind != "money":
            continue
        window = max(0, amount.start - 16)
        before = _PER_AREA_BEFORE.search(lowered[window : amount.start])
        after = _PER_AREA_AFTER.match(lowered, amount.end)
        if before is None and after is None:
            continue
        period = None
        if after is not None:
            markers.append((after.start(), after.end()))
            period = after.group("period") or after.group("period_en")
        if before is not None:
            markers.append((window + before.start(), amount.start))
            period = period or before.group("period")
        prices[amount.start] = _PERIODS[period][0] if period else _period_of_clause(lowered, amount)
    if not prices:
        return list(amounts), {}, False
    areas = [a for a in amounts if a.kind == "area" and not any(start <= a.start < end for start, end in markers)]
    result: list[Amount] = []
    products: dict[int, str] = {}
    for amount in amounts:
        if amount.kind == "area" and amount not in areas:
            continue  # "一平米" names the unit of a price, not an area
        if amount.start not in prices:
            result.append(amount)
            continue
        period = prices[amount.start]
        area = next((a for a in reversed(areas) if a.end <= amount.start), None) or next(iter(areas), None)
        if period is None or area is None:
            continue
        times = dict(_PERIODS.values())[period]
        total = tidy(area.value * amount.value * times)
        per = f"{format_money(amount.value)}/㎡/{period}"
        span = "" if times == 1 else f" × {times}{'个月' if period == '月' else period}"
        products[amount.start] = f"{format_quantity(area.value, 'area')} × {per}{span} = {format_money(total)}"
        result.append(Amount(total, "money", amount.text, amount.start, amount.end))
    return result, products, True


_SCALED = (
    (Decimal(2), pattern("calc_doubled")),
    (Decimal("0.5"), pattern("calc_halved")),
)


def with_scaled_follow_up(
    text: str, amounts: Sequence[Amount], start: int | None
) -> tuple[list[Amount], dict[int, str]]:
    """A follow-up that scales the earlier figure instead of giving a new one ("保费要是翻一倍呢", "投资减半呢"): the
    earlier turn's sum of money (the one in a clause naming what the follow-up names, when it had several) is
    multiplied. Nothing when the follow-up states a sum of its own."""
    if start is None:
        return list(amounts), {}
    lowered = text.lower()
    factor, match = next(
        ((factor, found) for factor, pattern in _SCALED if (found := pattern.search(lowered, start))), (None, None)
    )
    money = [amount for amount in amounts if amount.kind == "money"]
    if factor is None or match is None or any(amount.start >= start for amount in money):
        return list(amounts), {}
    earlier = [amount for amount in money if amount.end <= start]
    if len(earlier) > 1:
        named = set(re.findall(r"[\u4e00-\u9fff]{2}", lowered[start : match.start()]))

        def clause(amount: Amount) -> str:
            begin = clause_begin(lowered, amount.start)
            return lowered[begin : amount.end]

        earlier = [amount for amount in earlier if any(word in clause(amount) for word in named)]
    if len(earlier) != 1:
        return list(amounts), {}
    scaled = earlier[0]
    total = tidy(scaled.value * factor)
    note = f"{format_money(scaled.value)} × {factor.normalize():f} = {format_money(total)}"
    replaced = Amount(total, "money", scaled.text, scaled.start, scaled.end)
    return [replaced if amount is scaled else amount for amount in amounts], {scaled.start: note}


# "国家补助实际到账的钱正好是投入额的三成": a sum given as a share of another figure the question states
_SHARE_OF = pattern("calc_share_of")


def with_shares_of(text: str, amounts: Sequence[Amount]) -> tuple[list[Amount], dict[int, str], list[tuple[int, int]]]:
    """A sum of money given as a share of another ("立项金额1.5亿元，实际完成投资是立项金额的八成" -> 1.2亿元): the
    share of the latest earlier sum whose clause names the referent (立项金额, 投入额 -> 投入) becomes a sum of money,
    placed where "是" stands so that the clause's own cue (实际完成投资, 实际到账) introduces it. Nothing when the share's
    clause states a sum of its own or no earlier sum matches the referent. Returns the amounts, the products shown
    in the trace, and the spans naming the referent ("是立项金额的八成"): their words are no cues of the new sum."""
    result = list(amounts)
    products: dict[int, str] = {}
    referents: list[tuple[int, int]] = []
    for amount in amounts:
        if amount.kind != "percent":
            continue
        clause_start = clause_begin(text, amount.start)
        match = _SHARE_OF.search(text, clause_start, amount.start)
        if match is None or any(a.kind == "money" and clause_start <= a.start < amount.start for a in amounts):
            continue
        referent = match.group("referent")
        key = referent.removesuffix("额").removesuffix("金额")[:2] or referent[:2]

        def clause_of(other: Amount) -> str:
            begin = clause_begin(text, other.start)
            return text[begin : other.start]

        bases = [a for a in amounts if a.kind == "money" and a.end <= clause_start and key in clause_of(a)]
        if not bases:
            continue
        base = bases[-1]
        total = tidy(base.value * amount.value)
        at = match.start()
        result.remove(amount)
        result.append(Amount(total, "money", amount.text, at, at + 1))
        products[at] = (
            f"{referent}{format_money(base.value)} × {format_quantity(amount.value, 'percent')} = {format_money(total)}"
        )
        referents.append((at, amount.end))
    result.sort(key=lambda item: item.start)
    return result, products, referents


_EXCLUDED = pattern("calc_excluded_in_clause")
_ITEM_SPLIT = pattern("calc_excluded_item_split")
_PART_OF_TOTAL = pattern("calc_part_of_total", flags=re.IGNORECASE)
_PART_APART = pattern("calc_part_apart", flags=re.IGNORECASE)


def excluded_words(rule: Rule) -> list[str]:
    """The items the rule's clause leaves out of its base: 空调, 电脑 of "(不含空调、电脑等办公类设备)"."""
    return [
        word
        for excluded in _EXCLUDED.finditer(rule.clause)
        for word in _ITEM_SPLIT.split(excluded.group(1).lower())
        if len(word) >= 2
    ]


def with_excluded_parts(
    text: str, amounts: Sequence[Amount], rules: Sequence[Rule]
) -> tuple[list[Amount], dict[int, str]]:
    """A total less the part a rule's clause leaves out of its base, when the question gives the part inside the
    total: "购买仪器设备共600万元，其中空调和电脑等办公设备80万元" with "(不含空调、电脑等办公类设备)" -> 520万元, in
    the total's place, the working shown. A part bought apart ("另外还买了电脑和空调50万") is left out, said so. Else the
    part's clause must open with 其中/包括 (it is inside the total) and
    name an excluded item; the total is the latest sum of money before it in the same sentence. A part given
    without 其中 may or may not be inside the total: it is left for calc_certainty to ask about."""
    words = [word for rule in rules for word in excluded_words(rule)]
    lowered = text.lower()
    result = list(amounts)
    products: dict[int, str] = {}
    for part in amounts:
        begin = clause_begin(lowered, part.start)
        clause = lowered[begin : part.start]
        if part.kind != "money" or not any(w in clause for w in words):
            continue
        if _PART_APART.search(clause):
            # "另外还买了电脑和空调50万": bought besides, outside the sum before it, which stays the base
            result.remove(part)
            sentence = clause_begin(lowered, part.start, SENTENCE_END)
            base = [a for a in result if a.kind == "money" and sentence <= a.start and a.end <= begin]
            if base:
                item = _PART_APART.sub("", text[begin : part.start].strip(" ，,")).strip()
                products[base[-1].start] = (
                    f"{format_money(base[-1].value)}（{item}{format_money(part.value)}：原文不含，不计入）"
                )
            continue
        if not _PART_OF_TOTAL.search(clause):
            continue
        sentence = clause_begin(lowered, part.start, SENTENCE_END)
        totals = [a for a in result if a.kind == "money" and sentence <= a.start and a.end <= begin]
        if not totals or totals[-1].value <= part.value:
            continue
        total = totals[-1]
        net = tidy(total.value - part.value)
        result[result.index(total)] = Amount(net, "money", total.text, total.start, total.end)
        result.remove(part)
        item = text[begin : part.start].strip()
        products[total.start] = f"{format_money(total.value)} − {item}{format_money(part.value)} = {format_money(net)}"
    return result, products


def with_monthly_rents(
    text: str, amounts: Sequence[Amount], per_area: Mapping[int, str]
) -> tuple[list[Amount], dict[int, str]]:
    """A whole rent per month ("租金每月8万元", "月租金8万", "8万元/月") is 12 times that a year, the yearly rent the
    rent rules read: 8万元/月 × 12个月 = 96万元. Only in a clause about rent (租); prices per ㎡ are already done."""
    lowered = text.lower()
    result: list[Amount] = []
    products: dict[int, str] = {}
    for amount in amounts:
        if amount.kind != "money" or amount.start in per_area:
            result.append(amount)
            continue
        clause_start = clause_begin(lowered, amount.start)
        before = _MONTH_BEFORE.search(lowered[max(clause_start, amount.start - 12) : amount.start])
        after = _MONTH_AFTER.match(lowered, amount.end)
        following = SEGMENT_BREAK.search(lowered, amount.end)
        clause = lowered[clause_start : following.start() if following else len(lowered)]
        if (before is None and after is None) or not _RENT_WORD.search(clause):
            result.append(amount)
            continue
        total = tidy(amount.value * 12)
        products[amount.start] = f"{format_money(amount.value)}/月 × 12个月 = {format_money(total)}"
        result.append(Amount(total, "money", amount.text, amount.start, amount.end))
    return result, products


def _period_of_clause(text: str, amount: Amount) -> str | None:
    """The rent period a clause names around a price per ㎡ ("月租金每平米60块" -> 月); None when it names none."""
    start = clause_begin(text, amount.start)
    following = SEGMENT_BREAK.search(text, amount.end)
    clause = text[start : following.start() if following else len(text)]
    return next((period for period, words in _PERIOD_WORDS if words.search(clause)), None)


def with_registration_years(text: str, amounts: Sequence[Amount]) -> tuple[list[Amount], list[tuple[Decimal, str]]]:
    """A year of registration ("2017年注册的", "成立于2020年", "registered in 2019") becomes the years since
    registration up to the notice's year (2024 − 2017 = 7年), read like "注册7年"; with the note that says so."""
    found = list(amounts)
    notes: list[tuple[Decimal, str]] = []
    for match in _REGISTERED_IN.finditer(text):
        group = next(index for index in (1, 2, 3) if match.group(index))
        year = int(match.group(group))
        if year > notice_year() or any(a.start <= match.start(group) < a.end for a in amounts):
            continue
        years = Decimal(notice_year() - year)
        start, end = match.start(group), match.end(group)
        if text[end : end + 1] == "年":
            end += 1
        found.append(Amount(years, "years", text[start:end], start, end))
        notes.append((years, f"自注册之日起年限按{notice_year()}年（政策发布年份）− {year}年 = {years}年计算"))
    for match in _REGISTERED_RELATIVE.finditer(text.lower()):
        group = 1 if match.group(1) else 2
        said = match.group(group)
        if any(a.start <= match.start(group) < a.end for a in found):
            continue
        relative = _RELATIVE_YEAR.fullmatch(said)
        if relative is None:
            continue
        years = Decimal(3 - (relative.lastindex or 3))  # 前年 2, 去年 1, 今年 0
        found.append(Amount(years, "years", text[match.start(group) : match.end(group)], *match.span(group)))
        notes.append((years, f"注册时间“{said}”按{notice_year()}年（政策发布年份）计，自注册之日起{years}年"))
    for match in _REGISTERED_AGO.finditer(text):
        if not any(a.kind == "years" and a.start <= match.start(1) < a.end for a in found):
            found.append(Amount(Decimal(small_number(match.group(1).lower())), "years", match.group(1), *match.span(1)))
    for match in _REGISTERED_NTH.finditer(text):
        # "注册第3年的企业": in its third year since registration, read as 3年 (the notice counts whole years)
        if not any(a.kind == "years" and a.start <= match.start(1) < a.end for a in found):
            years = Decimal(small_number(match.group(1)))
            found.append(Amount(years, "years", match.group(0)[match.group(0).index("第") :], *match.span(1)))
    found.sort(key=lambda amount: amount.start)
    return found, notes


_REGISTERED_NTH = pattern("calc_registered_nth")
_REGISTERED_RELATIVE = pattern("calc_registered_relative", flags=re.IGNORECASE)


_DATE = pattern("calc_date")


def with_date_gap(
    text: str, amounts: Sequence[Amount], rules: Sequence[Rule]
) -> tuple[list[Amount], list[tuple[Decimal, str]]]:
    """Two dates of one year ("比赛6月20日开始，6月5日才去备案") give the days between them, read where a rule's
    days slot (赛前备案提前天数) has its cue: the later date's clause or the earlier's, whichever holds the cue
    (备案); with the note that says so. Nothing unless exactly two dates and such a cue."""
    dates = list(_DATE.finditer(text))
    if len(dates) != 2:
        return list(amounts), []
    cues = {cue.lower() for rule in rules for slot in rule.inputs if slot.kind == "days" for cue in slot.cues}
    if not cues:
        return list(amounts), []
    lowered = text.lower()

    def clause(match: re.Match[str]) -> str:
        start = clause_begin(lowered, match.start())
        end = SEGMENT_BREAK.search(lowered, match.end())
        return lowered[start : end.start() if end else len(lowered)]

    cued = [match for match in dates if any(cue in clause(match) for cue in cues)]
    if len(cued) != 1:
        return list(amounts), []
    try:
        days = [datetime.date(notice_year(), int(m.group(1)), int(m.group(2))) for m in dates]
    except ValueError:
        return list(amounts), []
    gap = Decimal(abs((days[1] - days[0]).days))
    earlier, later = sorted(dates, key=lambda m: days[dates.index(m)])
    note = f"按{later.group(0)} − {earlier.group(0)} 相差{gap}日计算"
    at = cued[0]
    gap_amount = Amount(gap, "days", at.group(0), at.start(), at.end())
    return sorted([*amounts, gap_amount], key=lambda amount: amount.start), [(gap, note)]


def with_count_windows(
    text: str, amounts: Sequence[Amount], rules: Sequence[Rule]
) -> tuple[list[Amount], dict[int, str]]:
    """Counts of items a rule counts only within a window ("在孵期间或毕业后1年内": count_within {毕业, 1年}).
    In a sentence that speaks of the window's word, an item described outside it ("1家是毕业2年后才通过的") is not
    counted: a total split up after 其中 or a colon ("4家，其中3家在孵期间通过，1家毕业2年后") becomes 4家 − 1家 = 3家 (its parts
    are not counts of their own); items listed one by one are added up without the ones outside. Returns the
    amounts (each such sentence's counts folded into one) and, by that count's start, the arithmetic as text."""
    windows = {slot.count_within for rule in rules for slot in rule.inputs if slot.count_within}
    counts = [amount for amount in amounts if amount.kind == "count"]
    if not windows or not counts:
        return list(amounts), {}
    dropped: set[int] = set()
    replaced: dict[int, Amount] = {}
    products: dict[int, str] = {}
    starts = [0, *(match.end() for match in SENTENCE_END.finditer(text))]
    for begin, finish in zip(starts, [*starts[1:], len(text)], strict=True):
        if not any(word in text[begin:finish] for word, _ in windows):
            continue
        inside = [count for count in counts if begin <= count.start < finish]
        reasons = {count.start: why for count in inside if (why := _outside_window(text, count, inside, windows))}
        split = _BREAKDOWN.search(text, begin, finish)  # "4家，其中…", "3家…：2家…，1家…"
        breakdown = split.start() if split else -1
        total = next((count for count in reversed(inside) if count.end <= breakdown), None) if breakdown >= 0 else None
        if total is not None:
            parts = [count for count in inside if count.start > total.start]
            excluded = [count for count in parts if count.start in reasons]
            value = total.value - sum((count.value for count in excluded), Decimal(0))
            shown = _count_text(value, total)
            if excluded:
                minus = "".join(f" − {count.text}（{reasons[count.start]}）" for count in excluded)
                products[total.start] = f"{total.text}{minus} = {shown}"
        elif reasons:
            total, parts = inside[0], inside[1:]
            kept = [count for count in inside if count.start not in reasons]
            value = sum((count.value for count in kept), Decimal(0))
            shown = _count_text(value, total)
            added = f"{' + '.join(count.text for count in kept)} = {shown}" if len(kept) > 1 else shown
            outside = "；".join(f"{count.text}{reasons[count.start]}" for count in inside if count.start in reasons)
            products[total.start] = f"{added}（{outside}，不计入）"
        else:
            continue
        dropped.update(count.start for count in parts)
        replaced[total.start] = Amount(max(value, Decimal(0)), "count", total.text, total.start, total.end)
    result = [replaced.get(amount.start, amount) for amount in amounts if amount.start not in dropped]
    return result, products


_BREAKDOWN = pattern("calc_breakdown")


def _count_text(value: Decimal, like: Amount) -> str:
    """A count written with the unit of `like` ("3家", "2个")."""
    unit = like.text.rstrip()[-1:]
    return f"{tidy(value):f}{'' if unit.isdigit() else unit}"


def _outside_window(
    text: str, count: Amount, counts: Sequence[Amount], windows: set[tuple[str, Decimal]]
) -> str | None:
    """Why a counted item lies outside a window ("毕业2年后，超过毕业后1年"), or None: its description (up to the
    next count or clause end) has the window's word followed by a number of years above the window."""
    following = SEGMENT_BREAK.search(text, count.end)
    end = min([following.start() if following else len(text), *(c.start for c in counts if c.start > count.start)])
    item = text[count.end : end]
    for word, limit in windows:
        at = item.find(word)
        if at < 0:
            continue
        after = at + len(word)
        for amount in find_amounts(item[after:]):
            if amount.kind == "years" and amount.start <= WINDOW_REACH and amount.value > limit:
                return f"{word}{item[after : after + amount.end]}，超过{word}后{format_quantity(limit, 'years')}"
    return None


def _count_for(
    text: str, price: Amount, counts: Sequence[Amount], money: Sequence[Amount], used: set[int]
) -> Amount | None:
    window = max(0, price.start - 24)
    marker = _PRICE_BEFORE.search(text[window : price.start])
    marker_start = window + marker.start() if marker else price.start
    before = [c for c in counts if c.end <= price.start and c.start not in used]
    # "一台大概十万块，买了五台": the 一台 that says the price is per unit is no count of its own
    before = [c for c in before if not (c.value == 1 and c.start >= marker_start)]
    after = [c for c in counts if c.start >= price.end and c.start not in used]
    multiplied_before = bool(before) and _TIMES_SIGN.fullmatch(text[before[-1].end : price.start]) is not None
    multiplied_after = bool(after) and _TIMES_SIGN.fullmatch(text[price.end : after[0].start]) is not None
    if multiplied_before:
        return before[-1]
    if multiplied_after:
        return after[0]
    if not (marker or _PRICE_AFTER.match(text, price.end)):
        return None
    if before and not any(before[-1].end <= m.start and m.end <= price.start for m in money):
        return before[-1]
    if after and not any(price.end <= m.start and m.end <= after[0].start for m in money):
        return after[0]
    return None


def with_english_items(text: str, amounts: Sequence[Amount]) -> list[Amount]:
    """The amounts plus counts of items written in English ("two of our organic-certified products" -> 2, the
    number's own span, so that the option it counts follows it closely)."""
    found = [
        Amount(Decimal(small_number(match.group(1))), "count", str(small_number(match.group(1))), *match.span(1))
        for match in _EN_ITEMS.finditer(text.lower())
        if not any(a.start <= match.start() < a.end for a in amounts)
    ]
    return sorted([*amounts, *found], key=lambda amount: amount.start) if found else list(amounts)


def _english_counts(text: str, amounts: Sequence[Amount]) -> list[Amount]:
    """Counts written "3 imported robots" (the unit word need not follow the number directly)."""
    found = []
    for match in _EN_COUNT.finditer(text):
        if any(a.start <= match.start() < a.end for a in amounts):
            continue
        value = small_number(match.group(1))
        found.append(Amount(Decimal(value), "count", match.group(0), match.start(), match.end()))
    return found


def small_number(token: str) -> int:
    if token.isdigit():
        return int(token)
    if token in _EN_NUMBERS:
        return _EN_NUMBERS[token]
    try:
        return cn_to_int(token)
    except ValueError:
        return 0


def year_window(text: str, total_years: Decimal) -> tuple[Decimal, Decimal | None] | None:
    """(first year, number of years or None for that year alone) named in the text: 第三年 -> (3, None),
    第三、四年 -> (3, 2), 前两年 -> (1, 2), 后两年 -> (total − 1, 2), the third year -> (3, None)."""
    lowered = text.lower()
    if match := _YEAR_ORDINAL.search(lowered):
        first = small_number(match.group(1))
        last = small_number(match.group(2)) if match.group(2) else 0
        if first >= 1:
            return Decimal(first), (Decimal(last - first + 1) if last > first else None)
    if match := _YEAR_FIRST.search(lowered):
        count = small_number(match.group(1))
        if count >= 1:
            return Decimal(1), Decimal(count)
    if match := YEARS_OF_AWARD.search(lowered):  # "三年加起来", "连续三年"
        count = small_number(match.group(1) or match.group(2))
        if count >= 1:
            return Decimal(1), Decimal(count)
    if match := _YEAR_LAST.search(lowered):
        count = small_number(match.group(1))
        if 1 <= count <= total_years:
            return total_years - count + 1, Decimal(count)
    if match := _EN_YEAR_SPAN.search(lowered):
        count = small_number(match.group(2))
        if match.group(1) == "first":
            return Decimal(1), Decimal(count)
        if 1 <= count <= total_years:
            return total_years - count + 1, Decimal(count)
    if match := _EN_YEAR_ORDINAL.search(lowered):
        if match.group(3):  # "year 3", "in year three"
            return Decimal(small_number(match.group(3))), None
        first = _EN_ORDINALS[match.group(1)]
        last = _EN_ORDINALS[match.group(2)] if match.group(2) else 0
        return Decimal(first), (Decimal(last - first + 1) if last > first else None)
    return None
