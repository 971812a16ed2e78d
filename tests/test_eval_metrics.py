"""Unit tests for eval/metrics.py: fact matching, each metric on a hand-made prediction file with known scores."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from eval.metrics import (
    amounts_equal,
    answer_window,
    fact_found,
    first_gold_rank,
    judge,
    missing_fact_groups,
    money_amounts,
    money_fact_value,
    normalise,
    percentile,
    score,
)
from eval.runner import Case, Prediction, load_cases, load_predictions

FIXTURES = Path(__file__).parent / "fixtures" / "eval"


@pytest.fixture(scope="module")
def fixture_scores():
    return score(load_cases(FIXTURES / "cases.jsonl"), load_predictions(FIXTURES / "predictions.jsonl"))


def _prediction(**fields) -> Prediction:
    base = dict(id="x", question="q", answer="", citations=(), amount_yuan=None, refused=False, latency_ms=1.0)
    return Prediction(**{**base, **fields})


# --- normalisation and fact matching -------------------------------------------------------------


def test_normalise_turns_full_width_digits_and_commas_half_width_and_drops_spaces_and_separators():
    assert normalise("３２０，０００ 元\u3000（十八）ＡＢ") == "320000元(十八)ab"


def test_normalise_keeps_a_comma_that_is_not_a_thousands_separator():
    assert normalise("1,2,3 与 12,3456") == "1,2,3与12,3456"


def test_money_amounts_reads_every_form_in_order_as_yuan():
    assert money_amounts("最高500 万元，合计1,000元，另有１.６亿元和3千元") == [
        Decimal("5000000"),
        Decimal("1000"),
        Decimal("160000000.0"),
        Decimal("3000"),
    ]


def test_money_amounts_ignores_numbers_without_yuan():
    assert money_amounts("市场估值超过3亿，新增200家") == []


@pytest.mark.parametrize(
    ("fact", "expected"),
    [("32万元", Decimal("320000")), ("320,000元", Decimal("320000")), ("７５.９亿元", Decimal("7590000000.0"))],
)
def test_money_fact_value_of_a_pure_amount(fact, expected):
    assert money_fact_value(fact) == expected


@pytest.mark.parametrize("fact", ["最高20万元", "20万", "区财政局", "4.5%"])
def test_money_fact_value_is_none_for_anything_but_a_pure_amount(fact):
    assert money_fact_value(fact) is None


@pytest.mark.parametrize(
    ("fact", "text", "found"),
    [
        ("32万元", "可获得320,000元资助", True),
        ("320,000元", "可获得32万元资助", True),
        ("320000元", "可获得32 万元资助", True),
        ("32万元", "可获得３２万元资助", True),
        ("75.9亿元", "合计7,590,000,000元", True),
        ("1.6亿元", "即16000万元", True),
        ("20万元", "最高20万元以上", True),
        ("20万元", "最高120万元", False),
        ("20万元", "最高20.5万元", False),
        ("32万元", "可获得32万", False),
        ("20万", "最高20万元", True),
        ("20万", "最高120万元", False),
        ("4.5%", "研发投入强度4.5％", True),
        ("5%", "研发投入强度4.5%", False),
        ("4", "比例4.5%", False),
        ("2024", "2024年。", True),
        ("区财政局", "（责任单位：区 财政局）", True),
        ("（十八）", "见(十八)", True),
        ("Article 18", "see ARTICLE 18 of the notice", True),
        ("", "anything", False),
    ],
)
def test_fact_found_follows_the_matching_rules(fact, text, found):
    assert fact_found(fact, text) is found


def test_answer_window_is_the_first_250_characters():
    answer = "甲" * 249 + "乙丙"
    assert answer_window(answer) == "甲" * 249 + "乙"


def test_a_fact_past_the_window_is_missing():
    answer = "甲" * 250 + "20万元"
    assert missing_fact_groups([["20万元"]], answer) == [("20万元",)]


def test_one_acceptable_string_per_group_is_enough_and_missing_groups_keep_dataset_order():
    answer = "区财政局负责，预算75.9亿元"
    groups = [["A"], ["财政局", "财政部"], ["75.9亿元"], ["B", "C"]]
    assert missing_fact_groups(groups, answer) == [("A",), ("B", "C")]


def test_amounts_equal_means_less_than_half_a_yuan_apart():
    assert amounts_equal(400000.2, 400000) is True
    assert amounts_equal(400000.5, 400000) is False
    assert amounts_equal(499999.0, 500000) is False


# --- ranks and percentiles -----------------------------------------------------------------------


def test_first_gold_rank_is_one_based_and_none_when_no_gold_is_cited():
    assert first_gold_rank(["A1", "A2", "A34"], ["A34"]) == 3
    assert first_gold_rank(["A18"], ["A18", "S2"]) == 1
    assert first_gold_rank([], ["A18"]) is None
    assert first_gold_rank(["A1"], ["A18"]) is None


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(10, 0, -1)]  # unsorted on purpose
    assert percentile(values, 50) == 5.0
    assert percentile(values, 95) == 10.0
    assert percentile([float(v) for v in range(1, 21)], 95) == 19.0
    assert percentile([7.0], 50) == 7.0
    assert percentile([], 50) is None


# --- judging one case ----------------------------------------------------------------------------


def test_an_unanswerable_case_passes_only_when_refused_without_an_amount():
    case = Case(id="x", question="q", answerable=False, labelled=True)
    assert judge(case, _prediction(refused=True)).passed is True
    assert judge(case, _prediction(refused=True, amount_yuan=100.0)).reasons == (
        "stated an amount on an unanswerable case: 100元",
    )
    assert judge(case, _prediction(refused=False)).reasons == ("should have refused",)


def test_an_answerable_case_needs_hit_at_1_not_just_hit_at_3():
    case = Case(id="x", question="q", gold=("A18",), answerable=True, labelled=True)
    result = judge(case, _prediction(citations=("A17", "A18")))
    assert result.passed is False
    assert result.reasons == ("wrong article: cited A17, expected A18",)


def test_a_labelled_case_without_answerable_counts_as_answerable():
    case = Case(id="x", question="q", gold=("A1",), labelled=True)
    assert judge(case, _prediction(citations=("A1",))).passed is True
    assert judge(case, _prediction(citations=("A1",), refused=True)).reasons == ("false refusal",)


def test_a_prediction_error_is_a_reason():
    case = Case(id="x", question="q", answerable=False, labelled=True)
    assert judge(case, _prediction(refused=True, error="RuntimeError: boom")).reasons == ("error: RuntimeError: boom",)


def test_asking_back_on_an_answerable_calculation_is_an_abstention_not_a_pass():
    case = Case(id="x", question="q", gold=("A14",), amount_yuan=100000.0, answerable=True, labelled=True)
    asked = judge(case, _prediction(citations=("A14",), asked_back=True, answer="我的理解：…请确认"))
    assert asked.passed is False
    assert asked.outcome == "abstained"
    assert asked.reasons == ("asked back", "wrong amount: got none, expected 100,000元")


def test_a_wrong_amount_stated_as_fact_is_confident_wrong_and_a_refusal_is_abstained():
    case = Case(id="x", question="q", gold=("A14",), amount_yuan=100000.0, answerable=True, labelled=True)
    assert judge(case, _prediction(citations=("A14",), amount_yuan=90000.0)).outcome == "confident_wrong"
    assert judge(case, _prediction(refused=True)).outcome == "abstained"
    assert judge(case, _prediction(citations=("A14",), amount_yuan=100000.0)).outcome == "pass"
    assert judge(case, _prediction(error="RuntimeError: boom")).outcome == "error"


def test_answering_an_unanswerable_case_is_confident_wrong_and_asking_back_is_abstained():
    case = Case(id="x", question="q", answerable=False, labelled=True)
    assert judge(case, _prediction(citations=("A3",))).outcome == "confident_wrong"
    assert judge(case, _prediction(asked_back=True)).outcome == "abstained"
    assert judge(case, _prediction(asked_back=True)).reasons == (
        "should have refused",
        "asked back instead of refusing",
    )


def test_scores_count_confident_wrong_and_abstained_overall_and_per_kind():
    cases = [
        Case(id="a", question="q", kind="calculation", amount_yuan=1.0, labelled=True),
        Case(id="b", question="q", kind="calculation", amount_yuan=1.0, labelled=True),
        Case(id="c", question="q", kind="fact", gold=("A1",), labelled=True),
        Case(id="d", question="q", kind="fact", gold=("A1",), labelled=True),
    ]
    predictions = [
        _prediction(id="a", amount_yuan=2.0),
        _prediction(id="b", asked_back=True),
        _prediction(id="c", citations=("A1",)),
        _prediction(id="d", refused=True),
    ]
    scores = score(cases, predictions)
    assert (scores.confident_wrong.numerator, scores.confident_wrong.denominator) == (1, 4)
    assert (scores.abstained.numerator, scores.abstained.denominator) == (2, 4)
    assert scores.confident_wrong_by_kind["calculation"].value == 0.5
    assert scores.confident_wrong_by_kind["fact"].value == 0.0
    assert scores.abstained_by_kind["fact"].value == 0.5


def test_every_failure_reason_of_the_fixture_is_exact(fixture_scores):
    assert {r.case.id: r.reasons for r in fixture_scores.failures} == {
        "c2": ("wrong article: cited A3, expected A2", "missing fact: 区财政局 | 财政局"),
        "c4": ("wrong article: cited A1, expected A34", "wrong amount: got 499,999元, expected 500,000元"),
        "c6": ("should have refused", "stated an amount on an unanswerable case: 500,000元"),
        "c7": ("false refusal", "wrong article: no citation, expected A18/S2"),
    }


# --- aggregate metrics on the fixture (7 labelled cases, 1 unlabelled) -----------------------------


def test_pass_rate_counts_labelled_cases_only(fixture_scores):
    assert (fixture_scores.pass_rate.numerator, fixture_scores.pass_rate.denominator) == (3, 7)


def test_pass_rate_per_kind_in_dataset_order(fixture_scores):
    assert {k: (r.numerator, r.denominator) for k, r in fixture_scores.pass_by_kind.items()} == {
        "fact": (1, 2),
        "calculation": (1, 2),
        "refusal": (1, 2),
        "lookup": (0, 1),
    }
    assert list(fixture_scores.pass_by_kind) == ["fact", "calculation", "refusal", "lookup"]


def test_hit_at_1_and_hit_at_3_over_answerable_cases_with_gold(fixture_scores):
    assert (fixture_scores.hit_at_1.numerator, fixture_scores.hit_at_1.denominator) == (2, 5)
    assert (fixture_scores.hit_at_3.numerator, fixture_scores.hit_at_3.denominator) == (4, 5)


def test_mrr_is_the_mean_reciprocal_rank(fixture_scores):
    # ranks 1, 2, 1, 3, none
    assert fixture_scores.mrr.value == pytest.approx((1 + 1 / 2 + 1 + 1 / 3 + 0) / 5)


def test_citation_precision_pools_cited_ids(fixture_scores):
    # c1 1/2, c2 1/2, c3 1/1, c4 1/3, c7 0/0
    assert (fixture_scores.citation_precision.numerator, fixture_scores.citation_precision.denominator) == (4, 8)


def test_fact_accuracy_over_answerable_cases_with_facts(fixture_scores):
    assert (fixture_scores.fact_accuracy.numerator, fixture_scores.fact_accuracy.denominator) == (2, 3)


def test_amount_exact_match_within_half_a_yuan(fixture_scores):
    assert (fixture_scores.amount_exact.numerator, fixture_scores.amount_exact.denominator) == (1, 2)


def test_refusal_precision_recall_and_false_refusal_rate(fixture_scores):
    assert (fixture_scores.refusal_precision.numerator, fixture_scores.refusal_precision.denominator) == (1, 2)
    assert (fixture_scores.refusal_recall.numerator, fixture_scores.refusal_recall.denominator) == (1, 2)
    assert (fixture_scores.false_refusal_rate.numerator, fixture_scores.false_refusal_rate.denominator) == (1, 5)


def test_latency_percentiles_cover_every_prediction(fixture_scores):
    assert (fixture_scores.latency_p50_ms, fixture_scores.latency_p95_ms) == (40.0, 80.0)


def test_a_labelled_case_without_a_prediction_fails():
    cases = [Case(id="a", question="q", answerable=False, labelled=True)]
    scores = score(cases, [])
    assert scores.failures[0].reasons == ("error: no prediction", "should have refused")
    assert scores.latency_p50_ms is None


def test_a_metric_with_nothing_to_count_has_no_value():
    cases = [Case(id="a", question="q", answerable=False, labelled=True)]
    scores = score(cases, [_prediction(id="a", refused=True)])
    assert scores.hit_at_1.value is None
    assert scores.amount_exact.value is None
    assert scores.refusal_precision.value == 1.0
