"""dev48's English classes (sixth session), on the fake embedder: figures that are no money are not read out as yuan,
"how much land" asks a quantity, and a question asking a figure besides the department gets both."""

from __future__ import annotations

from assistant.answer import _asks, _asks_figure_too, wanted_value
from assistant.phrasing import _en_values


def test_a_bare_wan_followed_by_another_unit_is_no_money():
    assert _en_values("2024年新开工保障性住房不少于11万平方米") == ""
    assert _en_values("城镇职工基本养老保险新增参保1万人") == ""
    # a bare 万 standing alone is still money ("分别给予1万、0.8万、0.5万的一次性奖励")
    assert _en_values("分别给予1万、0.8万的一次性奖励") == "10,000 yuan (1万), 8,000 yuan (0.8万)"


def test_how_much_land_asks_a_quantity_and_how_much_funding_asks_money():
    assert wanted_value("How much forest land will be guaranteed for construction projects?") == "count"
    assert wanted_value("How much new construction land quota does Xihu plan to obtain?") == "count"
    assert wanted_value("How much does the government industry fund plan to invest externally?") == "amount"


def test_a_figure_asked_besides_the_department_makes_two_asks():
    question = (
        "In the people's livelihood section, what share of general public budget expenditure has to go to "
        "livelihood, and which bureau leads that section?"
    )
    assert [kind for _, kind, _ in _asks(question)] == ["amount", "department"]
    assert _asks_figure_too(question)
    assert not _asks_figure_too("Which bureau leads the people's livelihood section?")


def test_the_department_and_the_figure_are_both_answered(fake_assistant):
    answer = fake_assistant.ask(
        "In the people's livelihood section, what share of general public budget expenditure has to go to "
        "livelihood, and which bureau leads that section?"
    )
    lead = answer.answer.split("\n\n", 1)[0]
    assert "三分之二" in lead and "区人社局" in lead and answer.citations[0] == "S7"
