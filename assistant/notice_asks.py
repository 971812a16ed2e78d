"""Which aspects of the notice itself a question asks about (when and by whom issued, valid until when, on what basis,
its total support, its policy areas, what it is about), from words, not from one pattern per phrasing.

A question is about the notice itself when it refers to the notice as a whole ("这份文件", "这批政策", "this policy"),
asks one of its aspects, and names no topic of an article ("这个政策里研发补助什么时候申报" is about 研发补助): no topic
word that the notice's articles use, other than the words of these lists.
Every word list lives in knowledge/language.yaml (notice_*).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache

from assistant.retrieve import normalise_question
from assistant.vocabulary import word_set

# aspect -> the route answering it (phrasing.document_answer)
ROUTES = {
    "about": "document_about",
    "sections": "document_sections",
    "date": "document_date",
    "issuer": "document_issuer",
    "title": "document_date",
    "validity": "document_validity",
    "basis": "document_basis",
    "total": "document_total",
}


def _lists() -> dict[str, frozenset[str]]:
    """Each aspect's words (knowledge/language.yaml); the date is asked by a word asking when and an issuing verb."""
    return {
        "about": word_set("notice_about"),
        "sections": word_set("notice_sections"),
        "issuer": word_set("notice_issuer"),
        "title": word_set("notice_title"),
        "who": word_set("notice_who"),
        "validity": word_set("notice_validity"),
        "basis": word_set("notice_basis"),
        "total": word_set("notice_total"),
        "when": word_set("notice_when"),
        "issue_verb": word_set("notice_issue_verb"),
        "reference": word_set("notice_reference"),
        "neutral": word_set("notice_neutral"),
    }


def _first(text: str, words: frozenset[str]) -> int:
    """Where the first of the words stands in the text (len(text) when none does)."""
    return min((at for word in words if (at := text.find(word)) >= 0), default=len(text))


def notice_aspects(question: str, article_topics: Callable[[str], Sequence[str]]) -> list[str]:
    """The routes answering what the question asks about the notice itself, in the order asked; [] when it
    does not refer to the notice as a whole or names a topic of its own. `article_topics` gives the question's
    topic words that occur in the notice's articles."""
    text = normalise_question(question)
    lists = _lists()
    where = {name: _first(text, words) for name, words in lists.items()}
    if where["reference"] == len(text):
        return []
    where["date"] = min(where["when"], where["issue_verb"])
    asked = {aspect: where[aspect] < len(text) for aspect in ROUTES}
    # "依据哪些上级文件出台的" asks the basis, not the date: a date needs a word asking when
    asked["date"] = where["when"] < len(text) and where["issue_verb"] < len(text)
    # ... and the issuer by a word asking who with an issuing verb ("Who actually issued this policy document")
    if not asked["issuer"] and where["who"] < len(text) and where["issue_verb"] < len(text):
        asked["issuer"], where["issuer"] = True, where["who"]
    if not any(asked.values()) or names_article_topic(text, article_topics):
        return []
    # answered in the order asked ("一共安排了多少钱？有效期到什么时候？": the total first)
    if asked["about"] or (asked["total"] and _same_sentence(text, where["total"], where["sections"])):
        # what it is about already names its areas; "the total … across the seven policy areas" names them as the
        # scope of the total ("一共多少钱？分几个领域？" asks both)
        asked["sections"] = False
    found = sorted((aspect for aspect, yes in asked.items() if yes), key=lambda aspect: where[aspect])
    return list(dict.fromkeys(ROUTES[aspect] for aspect in found))


def _same_sentence(text: str, first: int, second: int) -> bool:
    """Whether nothing ends a sentence between the two positions."""
    low, high = sorted((first, second))
    return not any(mark in text[low:high] for mark in "。？?！!；;")


@cache
def _known_words() -> frozenset[str]:
    """Every word of the notice-itself lists, read once."""
    return frozenset().union(*_lists().values())


def names_article_topic(text: str, article_topics: Callable[[str], Sequence[str]]) -> bool:
    """Whether a topic word the articles use is none of the notice-itself words (nor part of one): the question is
    about that topic ("What does the notice say about meal services for the elderly?"), not the notice itself."""
    known = _known_words()
    return any(not any(word in k or k in word for k in known) for word in article_topics(text))
