"""Conversation state: a turn is joined to the earlier one only when it cannot stand alone, and the answer says so."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from assistant.conversation import Reading, points_back, read_turn, swap_counterparts


@dataclass
class TableJudge:
    """A TopicJudge from tables: own topic per turn, carried topic per (turn, earlier reading)."""

    own: dict[str, float] = field(default_factory=dict)
    carried: dict[tuple[str, str], float] = field(default_factory=dict)
    alone: set[str] = field(default_factory=set)
    gap: dict[tuple[str, str], float] = field(default_factory=dict)
    refused: set[str] = field(default_factory=set)
    notice: dict[str, str] = field(default_factory=dict)

    def stands_alone(self, text: str) -> bool:
        return text in self.alone

    def notice_routes(self, text: str) -> str:
        return self.notice.get(text, "")

    def own_topic(self, text: str) -> float:
        return self.own.get(text, 0.0)

    def carried_topic(self, text: str, earlier: str) -> float:
        return self.carried.get((text, earlier), 0.0)

    def embedding_gap(self, text: str, earlier: str) -> float:
        return self.gap.get((text, earlier), 0.05)

    def refused_alone(self, text: str) -> bool:
        return text in self.refused


def _user(*turns: str) -> list[dict[str, str]]:
    return [m for t in turns for m in ({"role": "user", "content": t}, {"role": "assistant", "content": "…"})]


def test_a_turn_without_history_stands_alone():
    reading = read_turn("那进口的呢？", None, TableJudge())
    assert reading == Reading("那进口的呢？", "那进口的呢？", why="first")
    assert reading.note() == ""


def test_a_turn_with_no_topic_of_its_own_is_joined_and_the_note_says_how():
    earlier = "紫金港买国产工业机器人有什么补贴？"
    judge = TableJudge(own={"那进口的呢？": 0.3}, carried={("那进口的呢？", earlier): 0.5})  # 第三十四条 names 进口
    reading = read_turn("那进口的呢？", _user(earlier), judge, [["国产", "进口"]])
    assert reading.text == "紫金港买进口工业机器人有什么补贴？ 那进口的呢？"
    assert reading.why == "no_topic"
    assert reading.note() == "（接上一问：紫金港买进口工业机器人有什么补贴）"
    assert reading.note("en") == "(Read together with the previous question: 紫金港买进口工业机器人有什么补贴)"


def test_a_turn_with_a_thin_topic_of_its_own_that_the_earlier_article_lacks_is_not_joined():
    # a rent calculation, then "对了，宝宝一岁多，想找个普惠托育，区里有什么政策？": its own article holds part of its
    # topic (0.46), the rent article none of it; it was joined and answered with the rent calculation again
    earlier = "云栖小镇新引进企业前两年房租能补多少？"
    question = "对了，宝宝一岁多，想找个普惠托育，区里有什么政策？"
    judge = TableJudge(own={question: 0.46}, carried={(question, earlier): 0.0})
    reading = read_turn(question, _user(earlier), judge)
    assert reading.text == question and not reading.joined
    # with no topic at all it is still read with the earlier turn
    assert read_turn("第三年呢？", _user(earlier), TableJudge()).joined


def test_a_turn_naming_a_topic_the_earlier_article_lacks_starts_fresh_whatever_it_begins_with():
    earlier = "科技型中小企业研发投入新增500万，能补多少？"
    question = "那奶茶店有什么奖励"
    judge = TableJudge(own={question: 1.0}, carried={(question, earlier): 0.0})
    reading = read_turn(question, _user(earlier), judge)
    assert reading == Reading(question, question, why="own_topic")


def test_a_turn_the_embedding_finds_as_close_to_the_earlier_article_is_joined():
    earlier = "省级认定的企业海外研发机构有什么奖励？"
    question = "省里补助实际到账120万，那我们能拿多少？"
    judge = TableJudge(own={question: 1.0}, carried={(question, earlier): 0.41}, gap={(question, earlier): 0.008})
    assert read_turn(question, _user(earlier), judge).why == "same_topic"
    judge.gap[(question, earlier)] = 0.03
    assert read_turn(question, _user(earlier), judge).why == "own_topic"


def test_a_turn_whose_topic_the_earlier_article_holds_too_is_joined():
    earlier = "出口信用保险保费能补多少比例？"
    question = "如果是制造业企业呢？"
    judge = TableJudge(own={question: 1.0}, carried={(question, earlier): 1.0})
    assert read_turn(question, _user(earlier), judge).why == "same_topic"


def test_a_turn_that_points_back_is_joined_even_with_a_topic_of_its_own():
    earlier = "我们高企到期后重新认定通过了，奖多少？"
    question = "同一年我们还首次上规模了，加起来呢？"
    judge = TableJudge(own={question: 1.0})  # its own topic (上规) is not in the 高企 article
    reading = read_turn(question, _user(earlier), judge)
    assert (reading.why, reading.text) == ("points_back", f"{earlier} {question}")


def test_a_turn_naming_an_article_stands_alone():
    question = "第十八条讲什么？"
    judge = TableJudge(alone={question})
    assert read_turn(question, _user("紫金港买国产工业机器人有什么补贴？"), judge).why == "names_itself"


def test_an_earlier_follow_up_is_read_with_the_turn_before_it():
    first, second, third = "出口信用保险保费能补多少？", "那制造业企业呢？", "保费要是1000万呢？"
    # 第四十六条 (the earlier article) names 制造业 and 保费 too
    judge = TableJudge(own={second: 0.2, third: 0.2}, carried={(second, first): 0.5, (third, f"{first} {second}"): 0.5})
    reading = read_turn(third, _user(first, second), judge)
    assert reading.text == f"{first} {second} {third}"


def test_a_reading_the_client_sends_back_is_used_instead_of_reading_again():
    history = [
        {"role": "user", "content": "那制造业企业呢？", "reading": "出口信用保险保费能补多少？ 那制造业企业呢？"},
        {"role": "assistant", "content": "…"},
    ]
    reading = read_turn("保费要是1000万呢？", history, TableJudge())
    assert reading.text == "出口信用保险保费能补多少？ 那制造业企业呢？ 保费要是1000万呢？"


@pytest.mark.parametrize(
    ("question", "back"),
    [
        ("这条由哪个部门负责？", True),
        ("加上龙头企业那笔，一共多少？", True),
        ("换成云栖小镇新引进的优质企业呢？", True),
        ("Which department is responsible for this?", True),
        ("另外我们还新认证了一个绿色食品，两项加起来一共能拿多少？", True),
        ("那奶茶店有什么奖励", False),
        ("那奶茶店一共能拿多少", False),  # a total alone adds nothing to the earlier turn
        ("高新技术企业认定奖励", False),
    ],
)
def test_words_that_point_back_at_the_earlier_turn(question, back):
    assert points_back(question) is back


def test_a_follow_up_swaps_its_word_for_the_counterpart_in_the_earlier_turn():
    contrasts = [["国家级", "省级", "市级", "区级"], ["国产", "进口"]]
    earlier = "首次被认定为省级文化出口重点企业，奖多少？"
    assert (
        swap_counterparts(earlier, "那如果是国家级的呢？", contrasts) == "首次被认定为国家级文化出口重点企业，奖多少？"
    )
    # a question naming two levels swaps nothing
    assert swap_counterparts(earlier, "省级和国家级呢？", contrasts) == earlier
    robots = "紫金港企业买了2台国产工业机器人，每台50万，能补多少？"
    # adds to the earlier items, replaces nothing
    assert swap_counterparts(robots, "再加买6台进口的、每台80万，一共能补多少？", contrasts) == robots
    rent = "紫金港科技城新注册的集成电路企业，年房租100万，第一年租房补贴多少？"
    swapped = swap_counterparts(
        rent, "换成云栖小镇新引进的优质企业呢？同样年房租100万，也是第一年。", [["紫金港科技城", "云栖小镇"]]
    )
    assert swapped.startswith("云栖小镇新注册")  # "换成" replaces, though "同样…也" follows


# -- the chain on the real notice (fake embedder) ---------------------------------------------------


def test_a_new_topic_after_a_calculation_is_answered_on_its_own(fake_assistant):
    history = _user("科技型中小企业规模的公司，研发投入比去年新增500万，能补多少？")
    answer = fake_assistant.ask("那奶茶店有什么奖励", history)
    assert answer.citations[0] == "A47"
    assert answer.route != "calculation"
    assert answer.joined_to == "" and answer.reading == "那奶茶店有什么奖励"
    assert not answer.answer.startswith("（接上一问")


def test_the_next_new_topic_is_not_read_with_the_one_before_either(fake_assistant):
    history = _user("科技型中小企业规模的公司，研发投入比去年新增500万，能补多少？", "那奶茶店有什么奖励")
    answer = fake_assistant.ask("高新技术企业认定奖励", history)
    assert answer.citations[0] == "A18"
    assert answer.joined_to == ""


def test_a_joined_follow_up_says_how_it_was_read_and_returns_the_reading(fake_assistant):
    answer = fake_assistant.ask("那进口的呢？", _user("紫金港买国产工业机器人有什么补贴？"))
    assert answer.citations[0] == "A34"
    assert answer.answer.startswith("（接上一问：紫金港买进口工业机器人有什么补贴）\n")
    assert answer.joined_to == "紫金港买进口工业机器人有什么补贴？"
    assert answer.reading == "紫金港买进口工业机器人有什么补贴？ 那进口的呢？"
    assert answer.to_dict()["reading"] == answer.reading and answer.to_dict()["joined_to"] == answer.joined_to


def test_a_follow_up_on_the_department_of_the_earlier_article(fake_assistant):
    answer = fake_assistant.ask("这条由哪个部门负责？", _user("第十八条讲的是什么？"))
    assert answer.citations[0] == "A18"
    assert answer.answer.startswith("（接上一问：第十八条讲的是什么）\n第十八条（健全科技企业梯度培育机制）的责任单位")


# -- the API takes and returns the reading ---------------------------------------------------------------


@pytest.fixture(scope="module")
def client(fake_settings, fake_assistant, tmp_path_factory):
    from dataclasses import replace

    from fastapi.testclient import TestClient

    from assistant.api import create_app

    settings = replace(fake_settings, data_dir=tmp_path_factory.mktemp("conversation-api"))
    return TestClient(create_app(settings, fake_assistant))


def test_the_api_returns_the_reading_and_takes_it_back_with_the_history(client):
    first = client.post("/api/ask", json={"question": "出口信用保险保费能补多少？"}).json()
    assert (first["reading"], first["joined_to"]) == ("出口信用保险保费能补多少？", "")
    history = [
        {"role": "user", "content": "出口信用保险保费能补多少？", "reading": first["reading"]},
        {"role": "assistant", "content": first["answer"]},
    ]
    second = client.post("/api/ask", json={"question": "那制造业企业呢？", "history": history}).json()
    assert second["reading"] == "出口信用保险保费能补多少？ 那制造业企业呢？"
    assert second["joined_to"] == "出口信用保险保费能补多少？"
    assert second["citations"][0] == "A46"
    # the client sends the reading back: the next turn is read with both earlier turns
    history += [
        {"role": "user", "content": "那制造业企业呢？", "reading": second["reading"]},
        {"role": "assistant", "content": second["answer"]},
    ]
    third = client.post("/api/ask", json={"question": "保费要是1000万呢？", "history": history}).json()
    assert third["reading"] == "出口信用保险保费能补多少？ 那制造业企业呢？ 保费要是1000万呢？"


# -- the real model: a chat that switches topic ---------------------------------------------------------------


@pytest.mark.integration
def test_a_chat_that_switches_topic_with_the_real_model():
    from assistant.answer import Assistant
    from assistant.settings import Settings

    assistant = Assistant.create(Settings.from_env(environ={}))
    turns = [
        ("科技型中小企业规模的公司，研发投入比去年新增500万，能补多少？", "A14", ""),
        ("那奶茶店有什么奖励", "A47", ""),  # a topic of its own: starts fresh
        ("高新技术企业认定奖励", "A18", ""),  # again
        ("那重新认定的呢？", "A18", "高新技术企业认定奖励"),  # no topic of its own: joined, and says so
    ]
    history: list[dict[str, str]] = []
    for question, cited, joined_to in turns:
        answer = assistant.ask(question, history)
        assert (answer.citations[0], answer.joined_to) == (cited, joined_to), (question, answer.answer[:120])
        history += [
            {"role": "user", "content": question, "reading": answer.reading},
            {"role": "assistant", "content": answer.answer},
        ]
    assert answer.answer.startswith("（接上一问：高新技术企业认定奖励）\n")


def test_a_turn_the_scope_rules_refuse_by_itself_is_read_alone_not_joined():
    # "天气" is a topic of its own the notice does not cover: read alone (and refused), never shown as "接上一问"
    judge = TableJudge(own={"今天天气怎么样？": 0.0}, refused={"今天天气怎么样？"})
    reading = read_turn("今天天气怎么样？", _user("首次认定的高新技术企业有什么奖励"), judge)
    assert reading == Reading("今天天气怎么样？", "今天天气怎么样？", why="refused_alone")
    assert reading.note() == ""


def test_a_new_question_after_an_acknowledgement_and_a_switch_word_is_read_alone():
    from assistant.conversation import without_switch

    turn = "好的，茶的事情我知道了。另外问一下，我爸妈住在西湖区，今年区里要建多少张养老机构护理型床位？"
    assert without_switch(turn) == "我爸妈住在西湖区，今年区里要建多少张养老机构护理型床位？"
    # a switch word after a question of its own is not an acknowledgement: both asks stay
    assert without_switch("国家级的呢？另外问一下，博士后独立招收资格有没有奖励？").startswith("国家级的呢")


def test_a_which_article_question_whose_topic_titles_name_stands_alone(fake_assistant, monkeypatch):
    from assistant.records import Hit

    retriever = fake_assistant.retriever
    found = [Hit(retriever.by_id[cid], 1.0, "bm25") for cid in ("A32", "A19", "END")]
    monkeypatch.setattr(retriever, "search", lambda text, k=5: found[:k])
    assert fake_assistant.stands_alone("有企业打电话问人才相关的政策，是文件里哪一条？")
    assert not fake_assistant.stands_alone("那这个是哪一条？")  # no topic of its own: it continues
    assert not fake_assistant.stands_alone("人才相关的政策有哪些奖励")  # asks no article: judged by its topic


def test_a_turn_asking_the_notice_more_after_a_question_about_it_is_joined():
    earlier = "What's the total budget behind the policies?"
    turn = "And which provincial document is it based on?"
    judge = TableJudge(
        own={turn: 1.0},
        alone={earlier},
        notice={earlier: "document_total", f"{earlier} {turn}": "document_total+document_basis"},
    )
    reading = read_turn(turn, _user(earlier), judge)
    assert reading.joined and reading.text == f"{earlier} {turn}"
    # nothing more asked of the notice: judged as any other turn (its own topic here)
    judge.notice[f"{earlier} {turn}"] = "document_total"
    assert not read_turn(turn, _user(earlier), judge).joined


def test_the_joined_turn_is_answered_for_what_it_adds(fake_assistant):
    history = [
        {"role": "user", "content": "What's the total budget behind the Xihu high-quality development policies?"},
        {"role": "assistant", "content": "150亿元"},
    ]
    answer = fake_assistant.ask("And which provincial document is it based on?", history)
    assert answer.citations == ("PRE",) and "浙政发〔2024〕4号" in answer.answer[:300]  # not the total again
