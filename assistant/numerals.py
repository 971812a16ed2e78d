"""Chinese numerals and article references: 十八 <-> 18, and "第十八条 / （十八）/ 第18条 / 18条 / article 18" -> 18."""

from __future__ import annotations

import re

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_NUMBER = "[零〇一二两三四五六七八九十百]+"
_FULLWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}


def to_halfwidth(text: str) -> str:
    """Full-width ASCII (１２００，％（）) -> half-width, one character for one, so spans stay valid."""
    return text.translate(_FULLWIDTH)


# The numerals of 0..999 as they are written: 十八, 二十七, 一百零五, 一百一十 (not 九九, 十十, 百, 一百五).
_CN_STRICT = re.compile(
    r"(?:(?P<hundreds>[一二两三四五六七八九])百)?"
    r"(?:(?P<zero>[零〇])(?=[一二三四五六七八九]$))?"
    r"(?:(?P<tens>[一二三四五六七八九])?(?P<ten>十))?"
    r"(?P<ones>[一二三四五六七八九])?"
)


def cn_to_int(numeral: str) -> int:
    """十八 -> 18, 六十五 -> 65, 一百零五 -> 105, 两 -> 2. Raises ValueError for anything else (九九, 十十, 一百五)."""
    if numeral in ("零", "〇"):
        return 0
    if numeral == "两":
        return 2
    match = _CN_STRICT.fullmatch(numeral) if numeral else None
    if match is None or (match["zero"] and not match["hundreds"]):
        raise ValueError(f"not a Chinese numeral: {numeral!r}")
    if match["hundreds"] and match["ones"] and not (match["ten"] or match["zero"]):
        raise ValueError(f"not a Chinese numeral: {numeral!r}")  # 一百五: 105 or 150?
    tens = _DIGITS[match["tens"]] if match["tens"] else 1 if match["ten"] else 0
    hundreds = _DIGITS[match["hundreds"]] if match["hundreds"] else 0
    return hundreds * 100 + tens * 10 + (_DIGITS[match["ones"]] if match["ones"] else 0)


def int_to_cn(number: int) -> str:
    """18 -> 十八, 65 -> 六十五 (1..99, the range of this notice's articles)."""
    if not 1 <= number <= 99:
        raise ValueError(f"out of range: {number}")
    names = "零一二三四五六七八九"
    tens, ones = divmod(number, 10)
    if tens == 0:
        return names[ones]
    return ("" if tens == 1 else names[tens]) + "十" + (names[ones] if ones else "")


def parse_article_number(text: str) -> int | None:
    """A bare article number as a user types it in a look-up box: 27, 二十七, 第二十七条, (二十七), A27."""
    t = to_halfwidth(text).strip().strip("()（）")
    t = re.sub(r"^(第|[Aa]rticle\s*|[Aa])", "", t).removesuffix("条").strip()
    # ASCII digits only: "²", "①" and "³" are digits to str.isdigit but not to int(); a number of more than
    # three digits is no article (and int() refuses 5,000 of them).
    if t.isascii() and t.isdigit():
        return int(t) if len(t) <= 3 else None
    try:
        return cn_to_int(t)
    except ValueError:
        return None


_REFERENCE = re.compile(
    rf"第\s*({_CN_NUMBER}|\d+)\s*条"  # 第十八条, 第18条, 第 18 条
    rf"|(?<![\d.\u4e00-\u9fff])(\d+)\s*条"  # 18条 (not 民营经济32条, a document's name)
    r"|(?<![第零〇一二两三四五六七八九十百])([一二三四五六七八九]?十[一二三四五六七八九]?)\s*条"  # 六十三条, 十八条
    rf"|[（(]\s*({_CN_NUMBER})\s*[)）]"  # （十八）, (十八)
    r"|(?<![A-Za-z])[Aa]rt(?:icle|\.)?\s*(\d+)(?!\d)"  # article 18, Art. 18
    r"|(?<![A-Za-z])(?:[Nn]o\.|[#＃№])\s*(\d{1,2})(?![\d%.万亿元年月日])"  # No.67, #67
    r"|(?<![A-Za-z])A(\d{1,2})(?![\dA-Za-z])"  # A18 (upper case: "a 5" is English, not an id)
)


# "…》第5条" / "…”第5条" cite another document's article, not this notice's.
_OTHER_DOCUMENT = re.compile(r"[》”」』\"]\s*(第\s*[零〇一二两三四五六七八九十百\d]+\s*条)")


def find_article_refs(text: str) -> list[int]:
    """Article numbers a question names, in order of appearance, without duplicates."""
    return _numbers(_REFERENCE, _OTHER_DOCUMENT.sub(" ", text))


def cites_other_document(text: str) -> bool:
    """Whether the question asks about an article of another, named document ("民营经济32条”第5条")."""
    return _OTHER_DOCUMENT.search(to_halfwidth(text)) is not None


def _numbers(pattern: re.Pattern[str], text: str) -> list[int]:
    found: list[int] = []
    for match in pattern.finditer(to_halfwidth(text)):
        raw = next(g for g in match.groups() if g)
        try:
            number = int(raw) if raw.isdigit() else cn_to_int(raw)
        except ValueError:  # 第九九条: not a numeral; a digit string too long for int()
            continue
        if number not in found:
            found.append(number)
    return found


_SECTION_REFERENCE = re.compile(
    rf"第\s*({_CN_NUMBER}|\d)\s*(?:部分|个领域|大类|大块|块|板块|个板块|个方面|方面)|(?<![A-Za-z])[Ss]ection\s*(\d)(?!\d)"
)


def find_section_refs(text: str) -> list[int]:
    """Section numbers a question names: 第二部分, 第2部分, section 2."""
    return _numbers(_SECTION_REFERENCE, text)
