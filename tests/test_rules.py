"""knowledge/awards.yaml: every rule is well formed, cites its clause verbatim and uses every number in it."""

from __future__ import annotations

import copy
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from assistant.amounts import find_amounts, parse_quantity
from assistant.rules import RuleError, close_rule_ids, default_rules_path, find_rule, load_rules, parse_rules
from assistant.settings import PROJECT_ROOT, Settings

RULES_PATH = PROJECT_ROOT / "knowledge" / "awards.yaml"
REQUIRED_ARTICLES = (12, 14, 15, 16, 17, 18, 19, 20, 31, 32, 34, 35, 39, 40, 41, 42, 43, 46, 47, 58, 59, 60)


@pytest.fixture(scope="module")
def rules():
    return load_rules(RULES_PATH)


@pytest.fixture(scope="module")
def raw_rules() -> dict:
    return yaml.safe_load(RULES_PATH.read_text(encoding="utf-8"))


def test_there_are_more_than_forty_rules_with_unique_ids(rules):
    assert len(rules) >= 40
    assert len({rule.id for rule in rules}) == len(rules)


def test_every_required_article_has_at_least_one_rule(rules):
    covered = {rule.article_number for rule in rules}
    assert [number for number in REQUIRED_ARTICLES if number not in covered] == []


def test_article_fourteen_has_all_four_cases_and_thirty_four_all_its_awards(rules):
    by_article = Counter(rule.article for rule in rules)
    assert by_article["A14"] == 4
    assert by_article["A34"] == 8
    assert by_article["A35"] == 7
    ids = {rule.id for rule in rules}
    assert {"rd-subsidy-sme", "rd-subsidy-sme-direct", "rd-subsidy-large", "rd-subsidy-large-direct"} <= ids
    assert {"zijingang-robot-imported", "zijingang-robot-domestic", "zijingang-biomed-equipment"} <= ids


def test_every_clause_occurs_verbatim_in_the_notice(rules, notice_text):
    assert [rule.id for rule in rules if rule.clause not in notice_text] == []


def test_every_number_in_a_clause_is_a_parameter_of_its_rule_or_explained(rules):
    unexplained = []
    for rule in rules:
        parameters = rule.parameters()
        explained = {_kind_value(number) for number, _ in rule.unused_numbers}
        for amount in find_amounts(rule.clause):
            key = (amount.kind, amount.value)
            if key not in parameters and key not in explained:
                unexplained.append(f"{rule.id}: {amount.text}")
    assert unexplained == []


def test_explained_numbers_really_are_in_the_clause_and_not_used(rules):
    wrong = []
    for rule in rules:
        in_clause = {(amount.kind, amount.value) for amount in find_amounts(rule.clause)}
        for number, reason in rule.unused_numbers:
            key = _kind_value(number)
            if key not in in_clause or key in rule.parameters() or not reason:
                wrong.append(f"{rule.id}: {number}")
    assert wrong == []


def test_clause_numbers_cover_the_key_thresholds_of_the_notice(rules):
    # Spot checks that the parser reads the clauses the way the notice means them.
    biomed = find_rule(rules, "zijingang-biomed-equipment")
    assert ("years", Decimal(5)) in biomed.parameters()
    assert ("percent", Decimal("0.7")) in biomed.parameters()
    retail = find_rule(rules, "retail-catering-new")
    assert {
        ("percent", Decimal("0.002")),
        ("percent", Decimal("0.003")),
        ("percent", Decimal("0.005")),
    } <= retail.parameters()
    assert ("money", Decimal(15_000_000)) in retail.parameters()
    rent = find_rule(rules, "yunqi-rent")
    assert ("area", Decimal(3000)) in rent.parameters()


@pytest.mark.parametrize(
    ("rule_id", "label"),
    [
        ("rd-subsidy-sme", "第十四条"),
        ("zijingang-tech-renovation", "第三十四条"),
        ("guarantee-fee", "第二十条"),
        ("agri-expo-out-of-province", "第六十条"),
    ],
)
def test_article_labels_read_as_people_cite_them(rules, rule_id, label):
    assert find_rule(rules, rule_id).article_label == label


def test_rule_inputs_carry_labels_units_and_questions(rules):
    rule = find_rule(rules, "rd-subsidy-sme")
    assert [slot.name for slot in rule.inputs] == ["scale", "rd_increase", "rd_spend", "rd_spend_last_year"]
    increase = rule.input("rd_increase")
    assert (increase.label, increase.kind, increase.unit) == ("年度研发投入新增额", "money", "元")
    assert increase.question == "请问贵公司本年度研发投入比上一年度新增了多少？"
    assert all(slot.question.endswith("？") for rule in rules for slot in rule.inputs)


def test_maximum_rules_are_the_ones_whose_clause_says_so(rules):
    # A ceiling is worded 最高/不超过/上限 (or is a range such as 10-20万元).
    for rule in rules:
        if rule.is_maximum:
            assert any(word in rule.clause for word in ("最高", "不超过", "上限", "-")), rule.id


def test_default_rules_path_is_in_the_knowledge_folder():
    assert default_rules_path(Settings().knowledge_dir) == Settings().knowledge_dir / "awards.yaml"


def test_close_rule_ids_suggest_typos_and_partial_ids(rules):
    assert close_rule_ids(rules, "rd-subsidy-smee")[0] == "rd-subsidy-sme"
    assert "zijingang-robot-domestic" in close_rule_ids(rules, "robot")


# ----------------------------------------------------------------------------- bad data names the rule


def _mutated(raw: dict, rule_id: str, change) -> dict:
    data = copy.deepcopy(raw)
    rule = next(item for item in data["rules"] if item["id"] == rule_id)
    change(rule)
    return data


BAD_RULES = [
    (
        "cap that is not an amount",
        lambda r: r["formula"].__setitem__("cap", "2OO万"),
        "rule 'rd-subsidy-sme': formula (rate) cap: '2OO万'",
    ),
    (
        "rate in money",
        lambda r: r["formula"].__setitem__("rate", "5万元"),
        "rule 'rd-subsidy-sme': formula (rate): '5万元' is not a percent",
    ),
    (
        "unknown slot",
        lambda r: r["conditions"][1].__setitem__("slot", "rd_boost"),
        "rule 'rd-subsidy-sme': condition 2 refers to unknown slot 'rd_boost'",
    ),
    ("bad article", lambda r: r.__setitem__("article", "A99"), "rule 'rd-subsidy-sme': article 'A99'"),
    ("missing clause", lambda r: r.pop("clause"), "rule 'rd-subsidy-sme': rule: 'clause' must be a non-empty string"),
    (
        "unknown option",
        lambda r: r["conditions"][0].__setitem__("value", "giant"),
        "rule 'rd-subsidy-sme': condition 1: 'giant' is not an option of slot 'scale'",
    ),
    (
        "numeric op on choice",
        lambda r: r["conditions"][0].__setitem__("op", ">="),
        "rule 'rd-subsidy-sme': condition 1: choice slot 'scale'",
    ),
    (
        "bad formula kind",
        lambda r: r["formula"].__setitem__("kind", "magic"),
        "rule 'rd-subsidy-sme': formula kind 'magic'",
    ),
    ("maximum missing", lambda r: r.pop("maximum"), "rule 'rd-subsidy-sme': 'maximum' must be true"),
    (
        "negative threshold",
        lambda r: r["conditions"][1].__setitem__("value", "-200万元"),
        "rule 'rd-subsidy-sme': condition 2: '-200万元' must not be negative",
    ),
    ("bad id", lambda r: r.__setitem__("id", "RD Subsidy"), "rule 'RD Subsidy': id must be lowercase"),
    (
        "except on a numeric condition",
        lambda r: r["conditions"][1].__setitem__("except", ["sme"]),
        "rule 'rd-subsidy-sme': condition 2: except names options of a choice slot in a scope condition",
    ),
    (
        "except of an accepted option",
        lambda r: r["conditions"][0].__setitem__("except", ["sme"]),
        "rule 'rd-subsidy-sme': condition 1: except 'sme' must be an option of 'scale' the condition does not accept",
    ),
]


@pytest.mark.parametrize(("what", "change", "message"), BAD_RULES, ids=[item[0] for item in BAD_RULES])
def test_bad_rule_data_raises_an_error_naming_the_rule(raw_rules, what, change, message):
    with pytest.raises(RuleError) as error:
        parse_rules(_mutated(raw_rules, "rd-subsidy-sme", change))
    assert str(error.value).startswith(message)


def test_a_duplicate_id_is_reported(raw_rules):
    data = copy.deepcopy(raw_rules)
    data["rules"].append(copy.deepcopy(data["rules"][0]))
    with pytest.raises(RuleError, match="rule 'key-tech-major-project': duplicate id"):
        parse_rules(data)


def test_a_tier_without_an_amount_is_reported(raw_rules):
    data = _mutated(raw_rules, "yunqi-space-hq-award", lambda r: r["formula"]["tiers"][0].pop("amount"))
    with pytest.raises(
        RuleError, match=r"rule 'yunqi-space-hq-award': formula \(tiers\) tier 1: needs exactly one of amount or rate"
    ):
        parse_rules(data)


def test_a_file_that_is_not_rules_is_reported(tmp_path: Path):
    path = tmp_path / "awards.yaml"
    path.write_text("- just a list\n", encoding="utf-8")
    with pytest.raises(RuleError, match="must be a mapping with a 'slots' mapping and a 'rules' list"):
        load_rules(path)
    with pytest.raises(RuleError, match="cannot read award rules"):
        load_rules(tmp_path / "missing.yaml")


def _kind_value(number: str) -> tuple[str, Decimal]:
    parsed = parse_quantity(number)
    assert parsed is not None, number
    return ("count" if parsed.kind == "number" else parsed.kind, parsed.value)


# ----------------------------------------------------------------------------- awards that add up


def test_an_award_that_comes_with_another_names_it(rules):
    assert find_rule(rules, "individual-to-enterprise-above-scale").includes == ("first-above-scale-industrial",)
    assert find_rule(rules, "incubator-upgrade").repeatable is True
    assert [rule.id for rule in rules if rule.includes] == ["individual-to-enterprise-above-scale"]


def test_rent_schedules_can_start_at_a_later_year(rules):
    for rule_id in ("yunqi-rent", "zijingang-ic-rent"):
        assert find_rule(rules, rule_id).formula.start_year_slot == "rent_start_year"


def test_an_unknown_included_rule_is_reported(raw_rules):
    data = _mutated(raw_rules, "rd-subsidy-sme", lambda r: r.__setitem__("includes", ["rd-subsidy-huge"]))
    with pytest.raises(RuleError, match="rule 'rd-subsidy-sme': includes refers to unknown rule 'rd-subsidy-huge'"):
        parse_rules(data)


def test_a_start_year_slot_must_count_years(raw_rules):
    data = _mutated(raw_rules, "yunqi-rent", lambda r: r["formula"].__setitem__("start_year_slot", "annual_rent"))
    with pytest.raises(RuleError, match=r"rule 'yunqi-rent': formula \(schedule\): start_year_slot 'annual_rent'"):
        parse_rules(data)


# ----------------------------------------------------------------------------- how facts are read


def test_a_clause_names_the_kind_it_excludes(rules):
    spec = find_rule(rules, "retail-catering-new").conditions[0]
    assert (spec.slot, spec.value, spec.excepted) == ("industry", ("retail", "catering"), ("car_sales",))


def test_yearly_growth_takes_the_lowest_listed_year_and_incubated_firms_count_within_a_year(rules):
    assert find_rule(rules, "above-scale-sustained-growth").input("value_added_growth").several == "lowest"
    assert find_rule(rules, "incubator-graduate-award").input("incubator_graduates").count_within == (
        "毕业",
        Decimal(1),
    )
    assert find_rule(rules, "rd-subsidy-sme").input("rd_increase").several == "last"


def test_awards_for_the_first_time_only_say_so(rules):
    firsts = [rule.id for rule in rules if any(spec.slot == "first_time" for spec in rule.conditions)]
    assert firsts == [
        "xinchuying-first",
        "key-software-enterprise",
        "design-award",
        "culture-enterprise-recognition",
        "scenic-area-rating",
    ]
    for rule_id in firsts:
        assert "首次" in find_rule(rules, rule_id).clause


@pytest.mark.parametrize(
    ("slot", "field", "value", "message"),
    [
        ("value_added_growth", "several", "highest", "slot 'value_added_growth': several must be one of last, lowest"),
        (
            "annual_rent",
            "count_within",
            {"after": "毕业", "years": "1年"},
            "slot 'annual_rent': count_within is a mapping",
        ),
        (
            "incubator_graduates",
            "count_within",
            {"after": "毕业", "years": "1万元"},
            "slot 'incubator_graduates' count_within: '1万元' is not a years amount",
        ),
    ],
)
def test_bad_slot_data_names_the_slot(raw_rules, slot, field, value, message):
    data = copy.deepcopy(raw_rules)
    data["slots"][slot][field] = value
    with pytest.raises(RuleError) as error:
        parse_rules(data)
    assert str(error.value).startswith(message)
