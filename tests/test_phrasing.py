"""How answers are worded (assistant/phrasing.py): English leads keep the cap, conditions are said plainly."""

from __future__ import annotations

from assistant import phrasing

A18_WINDOW = "对首次认定的高新技术企业,给予最高20万元奖励"
A47_WINDOW = (
    "对在我区新注册成立(非本地企业拆分)的零售和餐饮企业(汽车销售除外),全年纳统社零额达到1亿元、10亿元、20亿元以上的"
)


def _lead(chunks, chunk_id: str, window: str, language: str) -> str:
    chunk = next(c for c in chunks if c.id == chunk_id)
    return phrasing.fact_answer("问题", chunk, window, window, language).answer.split("\n")[0]


def test_an_english_lead_says_up_to_for_最高(chunks) -> None:
    assert _lead(chunks, "A18", A18_WINDOW, "en") == (
        f"According to Article 18 (第十八条): up to 200,000 yuan (20万元). {A18_WINDOW}。"
    )


def test_an_english_lead_says_up_to_for_最高不超过_a_few_words_before_the_sum() -> None:
    assert phrasing._en_values("单个企业奖励最高不超过1500万元") == "up to 15,000,000 yuan (1500万元)"


def test_a_sum_without_a_cap_word_is_not_up_to() -> None:
    assert phrasing._en_values("对首次上规模的高新技术企业,再给予30万元奖励") == "300,000 yuan (30万元)"


def test_a_condition_that_opens_at_a_sum_is_said_plainly_before_the_quote(chunks) -> None:
    assert _lead(chunks, "A47", A47_WINDOW, "zh") == (
        "根据第四十七条，这项支持有门槛：全年纳统社零额要达到1亿元以上才能申请，"
        "对象是在我区新注册成立(非本地企业拆分)的零售和餐饮企业(汽车销售除外)。"
    )


def test_an_english_condition_lead_names_the_lowest_threshold_in_yuan(chunks) -> None:
    assert _lead(chunks, "A47", A47_WINDOW, "en") == (
        "According to Article 47 (第四十七条), this support has a threshold: 全年纳统社零额 must reach at least "
        "100,000,000 yuan (1亿元); it is for 在我区新注册成立(非本地企业拆分)的零售和餐饮企业(汽车销售除外)."
    )


def test_a_window_holding_the_award_keeps_its_usual_lead(chunks) -> None:
    assert _lead(chunks, "A18", A18_WINDOW, "zh") == f"根据第十八条，{A18_WINDOW}。"
