"""knowledge/language.yaml is the one vocabulary: every list in it is used, every list used is in it;
knowledge/notice.yaml's facts are the notice's own; no notice constant is left in code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from assistant import vocabulary as vocab
from assistant.settings import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "assistant"
# A name is used when code asks for it: words("name"), pattern("name", …) or regex("name").
_ASKED = re.compile(r"""\b(?:words|word_set|pattern|regex)\(\s*["']([a-z0-9_]+)["']""")


def _package_sources() -> dict[Path, str]:
    return {
        path: path.read_text(encoding="utf-8") for path in sorted(PACKAGE.glob("*.py")) if path.name != "vocabulary.py"
    }


def _defined_names() -> set[str]:
    raw = yaml.safe_load(vocab.LANGUAGE_FILE.read_text(encoding="utf-8")) or {}
    return set(raw.get("words") or {}) | set(raw.get("patterns") or {})


def test_every_list_in_the_vocabulary_file_is_used_by_the_package() -> None:
    asked = {name for text in _package_sources().values() for name in _ASKED.findall(text)}
    unused = _defined_names() - asked
    assert not unused, f"lists in knowledge/language.yaml that no module asks for: {sorted(unused)}"


def test_every_list_the_package_asks_for_is_in_the_vocabulary_file() -> None:
    asked = {name for text in _package_sources().values() for name in _ASKED.findall(text)}
    missing = asked - _defined_names()
    assert not missing, f"lists asked for but not defined in knowledge/language.yaml: {sorted(missing)}"


def test_every_pattern_in_the_vocabulary_file_compiles() -> None:
    vocabulary = vocab.vocabulary()
    for name in _defined_names():
        re.compile(vocabulary.regex(name))


def test_a_word_list_becomes_an_alternation_that_tries_longer_words_first(tmp_path: Path) -> None:
    path = tmp_path / "language.yaml"
    path.write_text("words:\n  total: [一共, 一共是, 合计]\npatterns:\n  year: '(20\\d\\d)年'\n", encoding="utf-8")
    loaded = vocab.Vocabulary.load(path)
    assert loaded.words("total") == ("一共", "一共是", "合计")
    assert re.search(loaded.regex("total"), "总共一共是多少").group(0) == "一共是"
    assert loaded.regex("year") == r"(20\d\d)年"
    with pytest.raises(vocab.VocabularyError):
        loaded.words("nope")


def test_a_bare_yes_or_no_in_a_word_list_is_refused_not_read_as_true(tmp_path: Path) -> None:
    path = tmp_path / "language.yaml"
    path.write_text("words:\n  calc_yes_words: [是, yes]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="quote yes/no"):
        vocab.Vocabulary.load(path)
    path.write_text("words:\n  calc_yes_words: [是, 'yes']\n", encoding="utf-8")
    assert vocab.Vocabulary.load(path).words("calc_yes_words") == ("是", "yes")


def test_the_calculator_reads_yes_and_no_words_from_the_vocabulary() -> None:
    assert {"yes", "true", "是"} <= set(vocab.words("calc_yes_words"))
    assert {"no", "false", "否"} <= set(vocab.words("calc_no_words"))


def test_the_notice_facts_are_the_notice_own_words(notice_text: str) -> None:
    facts = vocab.notice_facts()
    assert facts.title in notice_text
    assert facts.issuer in notice_text
    assert facts.issued_zh in notice_text  # 2024年5月29日
    assert f"{facts.section_count}个领域" in notice_text
    assert f"{facts.year}年全年实施有效" in notice_text
    assert facts.region in notice_text and facts.city in notice_text


def test_the_article_count_matches_the_parsed_notice(chunks) -> None:
    facts = vocab.notice_facts()
    assert sum(c.id.startswith("A") for c in chunks) == facts.article_count
    assert sum(c.id.startswith("S") for c in chunks) == facts.section_count


def test_no_notice_constant_is_left_in_code_but_the_metadata_loader() -> None:
    facts = vocab.notice_facts()
    constants = [facts.title, facts.issuer, facts.hotline, "12345", facts.issued_zh]
    count = re.compile(rf"(?<!\d){facts.article_count}(?!\d)")
    found = [f"{path.name}: {c}" for path, text in _package_sources().items() for c in constants if c in text] + [
        f"{path.name}: {facts.article_count}" for path, text in _package_sources().items() if count.search(text)
    ]
    assert found == []


def test_a_pattern_put_under_words_is_refused(tmp_path):
    """A regular expression under `words:` would be read as a list of its characters (answer_threshold_after was)."""
    import pytest as _pytest

    from assistant.vocabulary import Vocabulary

    path = tmp_path / "language.yaml"
    path.write_text("words:\n  some_list: '^\\\\s*(?:以上)'\npatterns: {}\n", encoding="utf-8")
    with _pytest.raises(ValueError, match="some_list"):
        Vocabulary.load(path)
