"""Amounts in every form people write them, parsed exactly; arbitrary text never raises."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.amounts import (
    Above,
    find_amounts,
    format_money,
    format_money_en,
    format_quantity,
    parse_amount,
    parse_quantity,
    tidy,
)

D = Decimal


@pytest.mark.parametrize(
    ("text", "value", "kind"),
    [
        ("1200万元", D(12_000_000), "money"),
        ("1.2亿", D(120_000_000), "money"),
        ("3000万", D(30_000_000), "money"),
        ("12亿元", D(1_200_000_000), "money"),
        ("400万", D(4_000_000), "money"),
        ("5%", D("0.05"), "percent"),
        ("０.８％", D("0.008"), "percent"),
        ("百分之五", D("0.05"), "percent"),
        ("三年", D(3), "years"),
        ("两年", D(2), "years"),
        ("12个月", D(1), "years"),
        ("半年", D("0.5"), "years"),
        ("两千万", D(20_000_000), "money"),
        ("一千二百万", D(12_000_000), "money"),
        ("一亿五千万", D(150_000_000), "money"),
        ("1亿5000万", D(150_000_000), "money"),
        ("十二亿", D(1_200_000_000), "money"),
        ("二十万元", D(200_000), "money"),
        ("3千万", D(30_000_000), "money"),
        ("五千万", D(50_000_000), "money"),
        ("6个亿", D(600_000_000), "money"),  # spoken: 几个亿
        ("两个亿", D(200_000_000), "money"),
        ("1个亿", D(100_000_000), "money"),
        ("1.5个亿", D(150_000_000), "money"),
        ("１２００万", D(12_000_000), "money"),
        ("1,200万", D(12_000_000), "money"),
        ("1000 万元", D(10_000_000), "money"),
        ("3000元", D(3000), "money"),
        ("0.8万", D(8000), "money"),
        ("0万元", D(0), "money"),
        ("12 million yuan", D(12_000_000), "money"),
        ("RMB 3 million", D(3_000_000), "money"),
        ("0.5 billion", D(500_000_000), "money"),
        ("800k yuan", D(800_000), "money"),
        ("¥800,000", D(800_000), "money"),
        ("3000平方米", D(3000), "area"),
        ("2000平米", D(2000), "area"),
        ("3000㎡", D(3000), "area"),
        ("6吨", D(6), "weight"),
        ("30日", D(30), "days"),
        ("两个星期", D(14), "days"),  # weeks count as 7 days (赛前30日备案)
        ("450w", D(4_500_000), "money"),  # "w" typed for 万
        ("1200W元", D(12_000_000), "money"),
        ("3周", D(21), "days"),
        ("2 weeks", D(14), "days"),
        ("5台", D(5), "count"),
        ("5 years", D(5), "years"),
    ],
)
def test_one_amount_in_each_form(text, value, kind):
    found = find_amounts(text)
    assert [(amount.value, amount.kind) for amount in found] == [(value, kind)]
    assert (found[0].start, found[0].end) == (0, len(text))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "紫金港的生物医药企业注册已6年，购置设备600万元",
            [(D(6), "years", "6年"), (D(6_000_000), "money", "600万元")],
        ),
        ("10-20万元", [(D(100_000), "money", "10"), (D(200_000), "money", "20万元")]),
        ("500—1000 万元", [(D(5_000_000), "money", "500"), (D(10_000_000), "money", "1000 万元")]),
        ("估值20亿，营收5亿", [(D(2_000_000_000), "money", "20亿"), (D(500_000_000), "money", "5亿")]),
        ("买了5台机器人花了200万", [(D(5), "count", "5台"), (D(2_000_000), "money", "200万")]),
        ("3个项目共3个亿", [(D(3), "count", "3个"), (D(300_000_000), "money", "3个亿")]),
        ("估值2.5亿、营收1个亿", [(D(250_000_000), "money", "2.5亿"), (D(100_000_000), "money", "1个亿")]),
        ("月租金每平米60块", [(D(60), "money", "60块")]),
        ("60元/平方米/月", [(D(60), "money", "60元")]),
    ],
)
def test_several_amounts_keep_their_order_and_text(text, expected):
    assert [(amount.value, amount.kind, amount.text) for amount in find_amounts(text)] == expected


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("亏损-5万元", [D(-50_000)]),
        ("增长率-3%", [D("-0.03")]),
        ("负5%", [D("-0.05")]),
        ("3000万-5000万", [D(30_000_000), D(50_000_000)]),
        ("10-20万元", [D(100_000), D(200_000)]),
        ("营收1e5元", [D(100_000)]),
        ("营收1E8元", [D(100_000_000)]),
        ("营收9e309元", [D("9e309")]),
    ],
)
def test_signs_ranges_and_scientific_notation(text, values):
    assert [amount.value for amount in find_amounts(text)] == values


@pytest.mark.parametrize(
    "text",
    [
        "2024年5月29日",
        "对2024年一季度参加",
        "实际利用外资7.9亿美元",
        "一次性奖励",
        "千项万亿",
        "五大产业生态圈",
        "第三条",
        "研发投入很多",
        "",
    ],
)
def test_dates_ordinals_foreign_currency_and_words_are_not_amounts(text):
    assert find_amounts(text) == []


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1200万元", D(12_000_000)),
        ("研发投入1.5亿元", D(150_000_000)),
        ("8000000", D(8_000_000)),
        ("5%", None),
        ("abc", None),
        ("", None),
    ],
)
def test_parse_amount_returns_the_first_sum_of_money_in_yuan(text, value):
    assert parse_amount(text) == value


@pytest.mark.parametrize(
    ("text", "value", "kind"),
    [
        ("800万元", D(8_000_000), "money"),
        (" 30% ", D("0.3"), "percent"),
        ("8000000", D(8_000_000), "number"),
        ("五年", D(5), "years"),
    ],
)
def test_parse_quantity_reads_exactly_one_quantity(text, value, kind):
    parsed = parse_quantity(text)
    assert (parsed.value, parsed.kind) == (value, kind)


@pytest.mark.parametrize("text", ["800万元5%", "about 800万元", "abc", "", "   "])
def test_parse_quantity_refuses_anything_else(text):
    assert parse_quantity(text) is None


@pytest.mark.parametrize(
    ("yuan", "text"),
    [
        (D(320_000), "32万元"),
        (D(150_000_000), "1.5亿元"),
        (D(1_200_000_000), "12亿元"),
        (D(30_000_000), "3000万元"),
        (D(123_456_789), "12345.6789万元"),
        (D(3000), "3000元"),
        (D("12.5"), "12.5元"),
        (D(0), "0元"),
    ],
)
def test_money_is_formatted_as_people_write_it(yuan, text):
    assert format_money(yuan) == text


def test_money_is_formatted_for_english_text():
    assert format_money_en(D(320_000)) == "RMB 320,000"
    assert format_money_en(D("12.5")) == "RMB 12.50"


@pytest.mark.parametrize(
    ("value", "kind", "text"),
    [
        (D("0.05"), "percent", "5%"),
        (D("0.008"), "percent", "0.8%"),
        (D("0.5"), "years", "6个月"),
        (D(3), "years", "3年"),
        (D(3000), "area", "3000㎡"),
    ],
)
def test_quantities_are_formatted_with_their_unit(value, kind, text):
    assert format_quantity(value, kind) == text


# ----------------------------------------------------------------------------- properties

CHINESE_DIGITS = "零一二三四五六七八九"


def chinese_numeral(number: int) -> str:
    """Independent writer of Chinese numerals below 1亿 for the round-trip property."""

    def below_10000(n: int) -> str:
        out = ""
        zero = False
        for unit_value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
            digit, n = divmod(n, unit_value)
            if digit:
                if zero and out:
                    out += "零"
                out += CHINESE_DIGITS[digit] + unit
                zero = False
            else:
                zero = True
        return out

    high, low = divmod(number, 10_000)
    if high == 0:
        return below_10000(low)
    text = below_10000(high) + "万"
    if low:
        text += ("零" if low < 1000 else "") + below_10000(low)
    return text


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_arbitrary_text_never_raises(text):
    found = find_amounts(text)
    for amount in found:
        assert 0 <= amount.start < amount.end <= len(text)
        assert amount.kind in ("money", "percent", "area", "years", "days", "weight", "count")
        assert amount.value >= 0 or text[amount.start] in "-−负"
    parse_amount(text)
    parse_quantity(text)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789.,万亿千百十一二两三四五六七八九零元%年吨个台家月日天平方米㎡ -—~RMBmillion"))
def test_numeral_soup_never_raises(text):
    for amount in find_amounts(text):
        assert amount.value >= 0 or text[amount.start] in "-−负"


@given(st.integers(min_value=1, max_value=10**8))
def test_arabic_wan_yuan_round_trips(number):
    assert [a.value for a in find_amounts(f"投资{number}万元")] == [Decimal(number) * 10_000]


@given(st.integers(min_value=1, max_value=99_999_999))
def test_chinese_numerals_round_trip(number):
    assert [a.value for a in find_amounts(f"{chinese_numeral(number)}元")] == [Decimal(number)]


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=99))
def test_full_width_digits_read_like_half_width(whole, cents):
    text = f"{whole}.{cents:02d}万元"
    full = text.translate(str.maketrans("0123456789.", "０１２３４５６７８９．"))
    assert [a.value for a in find_amounts(full)] == [a.value for a in find_amounts(text)]


@given(st.decimals(min_value=0, max_value=10**12, places=2, allow_nan=False, allow_infinity=False))
def test_formatted_money_parses_back_to_the_same_value(value):
    assert parse_amount(format_money(value)) == value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("两部作品", [(D(2), "count", "两部")]),
        ("3款产品", [(D(3), "count", "3款")]),
        ("5部门联合", []),
        ("一部分资金", []),
        ("3款项", []),
        ("两位师傅", [(D(2), "count", "两位")]),
        ("3人获评", [(D(3), "count", "3人")]),
        ("300人民币", [(D(300), "money", "300人民币")]),
        ("5人次", []),
        ("是立项金额的八成", [(D("0.8"), "percent", "八成")]),
        ("一成不变", []),
        ("3成本", []),
    ],
)
def test_works_products_and_people_are_counted_but_departments_are_not(text, expected):
    assert [(a.value, a.kind, a.text) for a in find_amounts(text)] == expected


@pytest.mark.parametrize("text", ["最近一年增长35%", "上一年营收5000万", "同一年又首次上规"])
def test_which_year_is_no_span_of_years(text):
    assert [a.kind for a in find_amounts(text)] in (["percent"], ["money"], [])


def test_one_year_is_a_span_where_it_reads_as_one():
    assert [(a.kind, a.value) for a in find_amounts("毕业后一年内")] == [("years", Decimal(1))]


def test_a_value_stated_as_exceeding_a_number_meets_only_exceeding_conditions():
    above = Above(Decimal("0.25"))
    assert above > Decimal("0.25") and above >= Decimal("0.25")
    assert not above <= Decimal("0.25") and not above < Decimal("0.25")
    assert not above > Decimal("0.3")
    assert isinstance(tidy(Above(Decimal("0.250"))), Above)
    assert type(above * 2) is Decimal


def test_spans_of_time_in_english_words_are_read_other_words_are_not():
    found = [
        (a.kind, a.value) for a in find_amounts("grown every year for three years, two weeks before, one-time award")
    ]
    assert found == [("years", Decimal(3)), ("days", Decimal(14))]
    assert [(a.kind, a.value) for a in find_amounts("an investment of 50 wan")] == [("money", Decimal(500000))]


@pytest.mark.parametrize(
    ("text", "years"), [("一年半", "1.5"), ("两年半以后", "2.5"), ("1年半", "1.5"), ("半年", "0.5")]
)
def test_half_years(text, years):
    assert [(a.kind, a.value) for a in find_amounts(text)] == [("years", Decimal(years))]
