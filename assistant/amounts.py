"""Find and parse quantities in Chinese and English text: 1200万元, 1.2亿, 两千万, 5%, 三年, 3000㎡, 12 million yuan.

Every function here is total: arbitrary text never raises, it just yields fewer amounts.
Values are canonical: money in yuan, percent as a fraction (5% -> 0.05), area in ㎡, years (12个月 -> 1),
days, weight in 吨, count in units; a minus sign right before a number makes it negative (亏损-5万元, 增长-3%),
scientific notation is read whole (1e5元). Spans index the original text (full-width characters map 1:1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from assistant.numerals import to_halfwidth
from assistant.vocabulary import LazyPattern, pattern

KINDS = ("money", "percent", "area", "years", "days", "weight", "count")

_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_BIG_UNITS = {"万": 10_000, "亿": 100_000_000}
NUMERAL_CHARS = "".join(_CN_DIGITS) + "".join(_CN_SMALL_UNITS) + "".join(_CN_BIG_UNITS)
_ARABIC = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|\.\d+")  # 1e5: scientific
_ENGLISH_MULTIPLIERS = {
    "thousand": Decimal(1_000),
    "wan": Decimal(10_000),  # 万 in pinyin: "50 wan"
    "k": Decimal(1_000),
    "million": Decimal(1_000_000),
    "mn": Decimal(1_000_000),
    "m": Decimal(1_000_000),
    "billion": Decimal(1_000_000_000),
    "bn": Decimal(1_000_000_000),
}
_ENGLISH_MULTIPLIER = pattern("calc_english_multiplier", flags=re.IGNORECASE)
_CURRENCY_PREFIX = pattern("calc_currency_prefix", flags=re.IGNORECASE)
_RANGE_SEPARATOR = pattern("calc_range_separator")
_PERCENT_PREFIX = "百分之"
_MINUS_SIGNS = "-−负"
_UNIT_CHARS = "元%年月日天吨台家个项件套名㎡米平方"
_HALF_YEAR = pattern("calc_half_year")

# (kind, pattern at the position right after the number, factor applied to the value)
_UNITS: tuple[tuple[str, LazyPattern, Decimal], ...] = (
    ("foreign", pattern("calc_unit_foreign", flags=re.IGNORECASE), Decimal(1)),
    ("money", pattern("calc_unit_money", flags=re.IGNORECASE), Decimal(1)),
    ("percent", pattern("calc_unit_percent", flags=re.IGNORECASE), Decimal("0.01")),
    # "八成" is 80% ("成本", "成立", "成果", "一成不变" … are words, not tenths)
    ("percent", pattern("calc_unit_tenths"), Decimal("0.1")),
    ("area", pattern("calc_unit_area", flags=re.IGNORECASE), Decimal(1)),
    ("months", pattern("calc_unit_months", flags=re.IGNORECASE), Decimal(1)),
    ("years", pattern("calc_unit_years", flags=re.IGNORECASE), Decimal(1)),
    ("days", pattern("calc_unit_days", flags=re.IGNORECASE), Decimal(1)),
    ("days", pattern("calc_unit_weeks", flags=re.IGNORECASE), Decimal(7)),
    ("weight", pattern("calc_unit_weight", flags=re.IGNORECASE), Decimal(1)),
    ("count", pattern("calc_unit_count", flags=re.IGNORECASE), Decimal(1)),
)


@dataclass(frozen=True)
class Amount:
    """A quantity found in text: canonical value, its kind (see KINDS), the matched text and its span."""

    value: Decimal
    kind: str
    text: str
    start: int
    end: int


def find_amounts(text: str) -> list[Amount]:
    """All quantities with a unit in `text`, in order. Bare numbers without a unit are skipped
    ("5台" is a count, "5" alone is nothing); dates such as 2024年 or 5月29日 are skipped too."""
    try:
        return _find_amounts(text)
    except (InvalidOperation, ValueError, ArithmeticError, IndexError):  # pragma: no cover - defensive
        return []


def parse_amount(text: str) -> Decimal | None:
    """The first sum of money in `text`, in yuan ("1200万元" -> 12000000); a text that is only a
    number is taken as yuan ("8000000" -> 8000000). None when there is no money amount."""
    for amount in find_amounts(text):
        if amount.kind == "money":
            return amount.value
    return _bare_number(text)


def parse_quantity(text: str) -> Amount | None:
    """`text` as exactly one quantity ("800万元", "5%", "三年"), or a bare number (kind "number").
    None when the text is empty, holds something else besides the quantity, or several quantities."""
    stripped = to_halfwidth(str(text)).strip()
    if not stripped:
        return None
    bare = _bare_number(stripped)
    if bare is not None:
        return Amount(bare, "number", stripped, 0, len(stripped))
    found = find_amounts(stripped)
    if len(found) == 1 and found[0].start == 0 and found[0].end == len(stripped.rstrip("。.")):
        return found[0]
    return None


def _bare_number(text: str) -> Decimal | None:
    stripped = to_halfwidth(str(text)).strip().replace(",", "")
    if not re.fullmatch(r"[+-]?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?", stripped):
        return None
    try:
        return Decimal(stripped)
    except InvalidOperation:  # pragma: no cover - the regex admits only valid literals
        return None


# Spans of time written in English words ("three years"); other quantities in words stay unread.
_EN_WORD_NUMBERS = {
    word: Decimal(index)
    for index, word in enumerate("zero one two three four five six seven eight nine ten eleven twelve".split())
}
_EN_WORD_SPAN = pattern("calc_en_word_span", flags=re.IGNORECASE)

# "450w" / "3500W" is how people type 万 on a phone; one character for one, so spans stay valid.
_W_FOR_WAN = pattern("calc_w_for_wan")


def _find_amounts(original: str) -> list[Amount]:
    text = _W_FOR_WAN.sub("万", to_halfwidth(original))
    found: list[Amount] = []
    pending: list[tuple[int, int, Decimal, bool]] = []  # range starts waiting for the unit of their end
    position = 0
    while position < len(text):
        rough = _rough_numeral_end(text, position)
        if rough is not None:
            pending.clear()  # "两三百万": about 200万 to 300万, no figure to calculate with (not 2300万)
            position = rough
            continue
        numeral = _read_numeral(text, position)
        if numeral is None:
            position += 1
            continue
        start, end, value, has_multiplier = numeral
        numeral_text = text[start:end]
        if _is_ordinal_or_date(text, start, end, value):
            pending.clear()
            position = end
            continue
        value, end, english_multiplier = _apply_english_multiplier(text, end, value)
        has_multiplier = has_multiplier or english_multiplier
        kind, unit_end, factor = _read_unit(text, end)
        percent_prefixed = (
            start >= len(_PERCENT_PREFIX) and text[start - len(_PERCENT_PREFIX) : start] == _PERCENT_PREFIX
        )
        if percent_prefixed and kind is None:
            kind, unit_end, factor = "percent", end, Decimal("0.01")
            start -= len(_PERCENT_PREFIX)
        if kind is None and (has_multiplier or _CURRENCY_PREFIX.search(text[max(0, start - 4) : start])):
            kind, unit_end, factor = "money", end, Decimal(1)
        if kind is None:
            separator = _RANGE_SEPARATOR.match(text, end)
            if separator and _read_numeral(text, separator.end()) is not None:
                pending.append((start, end, value, has_multiplier))
            else:
                pending.clear()
            position = end
            continue
        if kind == "foreign":
            pending.clear()
            position = unit_end
            continue
        if kind == "money":
            prefix = _CURRENCY_PREFIX.search(text[max(0, start - 4) : start])
            if prefix:
                start -= len(prefix.group(0))
        if kind == "years" and text[unit_end - 1 : unit_end] == "年" and text[unit_end : unit_end + 1] == "半":
            value, unit_end = value + Decimal("0.5"), unit_end + 1  # 一年半 = 1.5年
        canonical_kind, canonical = _canonical(kind, value * factor)
        for range_start, range_end, range_value, range_multiplied in pending:
            scale = Decimal(1) if range_multiplied else _trailing_multiplier(numeral_text)
            _, range_canonical = _canonical(kind, range_value * scale * factor)
            found.append(
                Amount(range_canonical, canonical_kind, original[range_start:range_end], range_start, range_end)
            )
        if not pending and _is_negative(text, start):
            start -= 1
            canonical = -canonical
        pending.clear()
        found.append(Amount(canonical, canonical_kind, original[start:unit_end].strip(), start, unit_end))
        position = unit_end
    for match in _HALF_YEAR.finditer(text):
        if not any(amount.start <= match.start() < amount.end for amount in found):
            found.append(
                Amount(Decimal("0.5"), "years", original[match.start() : match.end()], match.start(), match.end())
            )
    for match in _EN_WORD_SPAN.finditer(text):  # "for three years", "two weeks before"
        kind, unit_end, factor = _read_unit(text, match.end(1))
        if kind in ("years", "months", "days") and not any(a.start <= match.start() < a.end for a in found):
            canonical_kind, canonical = _canonical(kind, _EN_WORD_NUMBERS[match.group(1).lower()] * factor)
            found.append(Amount(canonical, canonical_kind, original[match.start() : unit_end], match.start(), unit_end))
    found.sort(key=lambda amount: amount.start)
    return found


def _canonical(kind: str, value: Decimal) -> tuple[str, Decimal]:
    if kind == "months":
        kind, value = "years", value / Decimal(12)
    return kind, tidy(value)


class Above(Decimal):
    """A value stated only as exceeding a number ("复合增长超过25%", "估值超过15亿"): it meets "> 25%" though it reads
    25%, and never "<= 25%". Arithmetic on it gives a plain Decimal (a base is computed from the stated number)."""

    def __gt__(self, other: object) -> bool:
        return Decimal(self) >= other  # type: ignore[operator]

    def __le__(self, other: object) -> bool:
        return Decimal(self) < other  # type: ignore[operator]


def tidy(value: Decimal) -> Decimal:
    """Drop trailing zeros without switching to exponent notation (120000000.0 -> 120000000, 0.50 -> 0.5)."""
    try:
        plain = value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()
    except InvalidOperation:  # beyond the context precision (1e309): keep it as it is
        return value
    return Above(plain) if isinstance(value, Above) else plain


def _is_negative(text: str, start: int) -> bool:
    """A minus sign (or 负) right before the number, not between two amounts ("3000万-5000万" is a range)."""
    if start == 0 or text[start - 1] not in _MINUS_SIGNS:
        return False
    if start == 1:
        return True
    before = text[start - 2]
    return not (before.isdigit() or before in NUMERAL_CHARS or before in _UNIT_CHARS)


def _trailing_multiplier(numeral: str) -> Decimal:
    """In "10-20万元" the first number borrows the 万 that ends the second ("千万" counts as one)."""
    if numeral.endswith("千万"):
        return Decimal(10_000_000)
    for unit, factor in _CN_BIG_UNITS.items():
        if numeral.endswith(unit):
            return Decimal(factor)
    return Decimal(1)


def _rough_numeral_end(text: str, position: int) -> int | None:
    """Where a rough Chinese number starting at `position` ends: two neighbouring digits before a unit of ten or more
    ("两三百万", "七八十万", "三五万") say "about this much", not 23 or 78. None for any other text."""
    first, second = text[position : position + 1], text[position + 1 : position + 2]
    if first not in _CN_DIGITS or second not in _CN_DIGITS or (position > 0 and text[position - 1] in NUMERAL_CHARS):
        return None
    low, high = _CN_DIGITS[first], _CN_DIGITS[second]
    if not (0 < low < high and (high - low == 1 or (low, high) == (3, 5))):
        return None
    if text[position + 2 : position + 3] not in ("十", "百", "千", "万", "亿"):
        return None
    end = position + 2
    while end < len(text) and text[end] in NUMERAL_CHARS:
        end += 1
    return end


def _read_numeral(text: str, position: int) -> tuple[int, int, Decimal, bool] | None:
    """A maximal run of Arabic numbers and Chinese numerals starting at `position`:
    (start, end, value, whether it contains 万/亿/千-style multipliers)."""
    char = text[position]
    if not (char.isdigit() and char.isascii()) and char not in _CN_DIGITS and char != "十" and char != ".":
        return None
    if char == "." and not (position + 1 < len(text) and text[position + 1].isdigit()):
        return None
    if position > 0 and (text[position - 1].isalnum() and text[position - 1].isascii()) and not char.isdigit():
        return None
    if position > 0 and text[position - 1].isdigit() and text[position - 1].isascii():
        return None
    tokens: list[str] = []
    end = position
    while end < len(text):
        arabic = _ARABIC.match(text, end)
        if arabic and (end == position or not text[end - 1].isdigit()):
            tokens.append(arabic.group(0))
            end = arabic.end()
            continue
        if text[end] in NUMERAL_CHARS:
            tokens.append(text[end])
            end += 1
            continue
        if text[end] == " " and tokens and text[end + 1 : end + 2] in ("万", "亿") and text[end + 1 : end + 2]:
            end += 1  # "1000 万元"
            continue
        if text[end] == "个" and tokens and text[end + 1 : end + 2] == "亿":
            end += 1  # "6个亿", "两个亿": spoken for 6亿
            continue
        break
    while tokens and tokens[-1] in ("零", "〇") and len(tokens) > 1:
        tokens.pop()
        end -= 1
    if not tokens:
        return None
    has_digit = any(token[0].isdigit() or token[0] == "." or token in _CN_DIGITS or token == "十" for token in tokens)
    if not has_digit:
        return None
    value = _numeral_value(tokens)
    if value is None:
        return None
    has_multiplier = any(token in _CN_BIG_UNITS for token in tokens) or (
        any(token[0].isdigit() for token in tokens) and any(token in _CN_SMALL_UNITS for token in tokens)
    )
    return position, end, value, has_multiplier


def _numeral_value(tokens: list[str]) -> Decimal | None:
    total = Decimal(0)
    section = Decimal(0)
    number: Decimal | None = None
    previous_was_digit = False
    for token in tokens:
        if token[0].isdigit() or token[0] == ".":
            try:
                parsed = Decimal(token.replace(",", ""))
            except InvalidOperation:
                return None
            number = parsed if number is None or not previous_was_digit else number * 10 ** len(token) + parsed
            previous_was_digit = True
        elif token in _CN_DIGITS:
            digit = Decimal(_CN_DIGITS[token])
            number = number * 10 + digit if (number is not None and previous_was_digit) else digit
            previous_was_digit = True
        elif token in _CN_SMALL_UNITS:
            section += (number if number is not None else Decimal(1)) * _CN_SMALL_UNITS[token]
            number = None
            previous_was_digit = False
        elif token == "万":
            section = (section + (number or 0)) * 10_000
            number = None
            previous_was_digit = False
        elif token == "亿":
            total = (total + section + (number or 0)) * 100_000_000
            section = Decimal(0)
            number = None
            previous_was_digit = False
    return total + section + (number or 0)


# A Chinese numeral right after 这/那/哪 counts things pointed at ("这两块"), it is no quantity (language.yaml)
_DEMONSTRATIVE_NUMERAL = pattern("amounts_demonstrative_numeral")


def _is_ordinal_or_date(text: str, start: int, end: int, value: Decimal) -> bool:
    before = text[start - 1] if start > 0 else ""
    after = text[end] if end < len(text) else ""
    if before in ("第", "#", "№"):
        return True
    if after == "年" and value == value.to_integral_value() and 1900 <= value <= 2100:
        return True  # 2024年 is a date, not a duration
    if after == "年" and value == 1 and before and before in "近上同这每下该当":
        return True  # 最近一年, 上一年, 同一年: which year, not how long
    if start > 0 and _DEMONSTRATIVE_NUMERAL.fullmatch(text, start - 1, end):
        return True  # "这两块最多能补多少": these two parts, not 2块 (yuan); "这3000万" stays a sum
    return after in ("日", "号") and before == "月"  # 5月29日


def _apply_english_multiplier(text: str, end: int, value: Decimal) -> tuple[Decimal, int, bool]:
    match = _ENGLISH_MULTIPLIER.match(text, end)
    if not match:
        return value, end, False
    word = match.group(1).lower()
    if word in ("m", "k") and match.start(1) != end:
        return value, end, False  # "5 m" is too ambiguous; "5m" / "800k" are fine
    return value * _ENGLISH_MULTIPLIERS[word], match.end(), True


def _read_unit(text: str, end: int) -> tuple[str | None, int, Decimal]:
    for kind, unit, factor in _UNITS:
        match = unit.match(text, end)
        if match:
            unit_end = match.end()
            if match.group(0)[-1:].isascii() and match.group(0)[-1:].isalpha():
                if unit_end < len(text) and text[unit_end].isascii() and text[unit_end].isalpha():
                    continue  # "3 yuanx" / "5 yearsold": an English unit word must end at a word boundary
            return kind, unit_end, factor
    return None, end, Decimal(1)


def format_money(yuan: Decimal) -> str:
    """Yuan as people write it: 320000 -> 32万元, 150000000 -> 1.5亿元, 3000 -> 3000元, 12.5 -> 12.5元.
    Exact: 万 and 亿 are used only when no yuan is lost (10000.01 -> 10000.01元)."""
    value = Decimal(yuan)
    sign = "-" if value < 0 else ""
    value = abs(value)
    hundred_million = Decimal(100_000_000)
    ten_thousand = Decimal(10_000)
    if value >= hundred_million and _decimals(value / hundred_million) <= 4:
        return f"{sign}{_plain(value / hundred_million)}亿元"
    if value >= ten_thousand and _decimals(value / ten_thousand) <= 4:
        return f"{sign}{_plain(value / ten_thousand)}万元"
    return f"{sign}{_plain(value.quantize(Decimal('0.01')) if _decimals(value) > 2 else value)}元"  # fen: 10000.01元


def format_money_range(low: Decimal, high: Decimal) -> str:
    """A range as the notice writes it, the unit said once when both ends share it: 6-30万元; else 5000元-2万元."""
    low_text, high_text = format_money(low), format_money(high)
    unit = next(u for u in ("亿元", "万元", "元") if low_text.endswith(u))
    if high_text.endswith(unit) and (unit != "元" or high_text[-2:-1].isdigit()):
        return f"{low_text.removesuffix(unit)}-{high_text}"
    return f"{low_text}-{high_text}"


def format_money_en(yuan: Decimal) -> str:
    """Yuan for English text: 320000 -> RMB 320,000; 12.5 -> RMB 12.50."""
    value = Decimal(yuan)
    if value == value.to_integral_value():
        return f"RMB {int(value):,}"
    return f"RMB {value.quantize(Decimal('0.01')):,}"


def format_quantity(value: Decimal, kind: str) -> str:
    """A canonical value with its unit: (0.05, percent) -> 5%, (3000, area) -> 3000㎡, (0.5, years) -> 6个月."""
    value = Decimal(value)
    if kind == "money":
        return format_money(value)
    if kind == "percent":
        return f"{_plain(value * 100)}%"
    if kind == "years":
        if value != value.to_integral_value() and (value * 12) == (value * 12).to_integral_value():
            return f"{_plain(value * 12)}个月"
        return f"{_plain(value)}年"
    units = {"area": "㎡", "days": "日", "weight": "吨", "count": "家"}
    return f"{_plain(value)}{units.get(kind, '')}"


def _decimals(value: Decimal) -> int:
    exponent = tidy(value).as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _plain(value: Decimal) -> str:
    """A Decimal without exponent and without trailing zeros; long fractions are cut to 4 places."""
    value = tidy(value)
    if _decimals(value) > 4:
        value = tidy(value.quantize(Decimal("0.0001")))
    return f"{value:f}"
