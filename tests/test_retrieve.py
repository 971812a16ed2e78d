"""Hybrid retrieval with the fake embedder: look-ups, department aliases, lexicon expansion, fusion."""

from __future__ import annotations

from assistant.retrieve import Lexicon, normalise_question, rrf, tokenize


def test_article_named_in_any_form_comes_first(fake_assistant):
    for question in ["第十八条", "（十八）的内容", "第18条是什么", "18条", "article 18"]:
        assert fake_assistant.retriever.search(question, k=3)[0].chunk.id == "A18", question


def test_section_named_by_number_comes_first(fake_assistant):
    assert fake_assistant.retriever.search("第二部分讲什么", k=1)[0].chunk.id == "S2"


def test_everyday_words_find_the_official_article(fake_assistant):
    assert fake_assistant.retriever.search("开奶茶店有什么奖励", k=1, mode="bm25")[0].chunk.id == "A47"
    assert fake_assistant.retriever.search("高企奖多少", k=1, mode="bm25")[0].chunk.id == "A18"


def test_department_aliases_resolve_short_names(fake_assistant):
    assert fake_assistant.retriever.departments_in("科技局管哪些") == ["区科技局"]
    assert fake_assistant.retriever.departments_in("规划资源局负责什么") == ["市规划资源局西湖分局"]


def test_every_mode_returns_k_hits(fake_assistant):
    for mode in ("hybrid", "bm25", "dense"):
        assert len(fake_assistant.retriever.search("高新技术企业", k=4, mode=mode)) == 4


def test_normalise_question_handles_fullwidth_and_traditional():
    assert normalise_question("高新技術企業 １２００萬") == "高新技术企业 1200万"


def test_tokenize_mixes_words_bigrams_and_ascii():
    tokens = tokenize("高企R&D 5%")
    assert "高企" in tokens and "r&d" in tokens and "5%" in tokens


def test_lexicon_appends_notice_terms(tmp_path):
    path = tmp_path / "lexicon.yaml"
    path.write_text("synonyms:\n  奶茶店: [零售和餐饮企业]\n  robot: [工业机器人]\n", encoding="utf-8")
    lexicon = Lexicon.load(path)
    assert lexicon.expand("开奶茶店") == "开奶茶店 零售和餐饮企业"
    assert lexicon.expand("Robots subsidy") == "robots subsidy"
    assert lexicon.expand("robot subsidy") == "robot subsidy 工业机器人"


def test_rrf_fuses_by_rank_with_weights():
    fused = rrf({"a": {"x": 3.0, "y": 2.0}, "b": {"y": 0.9, "x": 0.1}}, weights={"a": 1.0, "b": 0.5})
    assert [cid for cid, _ in fused] == ["x", "y"]
    assert fused[0][1] == 1 / 61 + 0.5 / 62


def test_weighted_fusion_normalises_each_ranking():
    from assistant.retrieve import weighted

    fused = weighted({"a": {"x": 10.0, "y": 0.0}, "b": {"x": 0.2, "y": 0.4}}, weights={"a": 1.0, "b": 0.6})
    assert fused == [("x", 1.0), ("y", 0.6)]
