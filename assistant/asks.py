"""Where a long question asks: the clauses that carry its question, apart from the background told before it.

People tell their story first and ask last ("我老家安徽的，来杭州十几年了，……今年第一次评上高企了，听说区里有奖励？
最多奖多少啊"). The story names places, family and trades the notice never speaks of; judged as a whole, such a
question looks like another region's or an everyday topic and is refused. `ask_focus` finds the asking clause
and, when that clause names no topic of its own ("最多奖多少啊"), the closest clause before it that does
("今年第一次评上高企了"); scope and relevance then judge the question by that focus, and the rest is background.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from assistant.vocabulary import pattern, word_set

# A clause ends at a comma, a stop (an English one before a space: not the point of "1.5"), a question or exclamation
# mark, an ellipsis or a line break.
_CLAUSE = re.compile(r"(?:[^，,。；;！!？?…\n.]|\.(?!\s|$))+(?:[，,。；;！!？?…\n]+|\.(?=\s|$))?")
_ASKING = pattern("asks_marker", flags=re.I)
_FRAME = pattern("asks_frame")
# A question shorter than this, or of fewer clauses, is all focus: there is no story to set apart.
LONG_QUESTION = 30
MIN_CLAUSES = 3


def clauses(text: str) -> list[str]:
    """The clauses of a text, each with the punctuation that ends it."""
    return [m.group(0) for m in _CLAUSE.finditer(text) if m.group(0).strip("，,。；;！!？?…\n ")]


def names_topic(topic_words: list[str]) -> bool:
    """Whether a clause's topic words name a topic: not only the kind of help asked for ("奖励") or asking ("听说")."""
    generic = word_set("asks_generic_topic")
    return any(word not in generic for word in topic_words)


def ask_focus(question: str, names_topic: Callable[[str], bool]) -> str:
    """The asking part of a long question: its last asking clause, extended back over clauses that name no topic
    of their own to the closest one that does. '' when the question is short, has no asking clause, or its
    focus is the whole question (nothing to set apart)."""
    parts = clauses(question)
    framed = [i for i, part in enumerate(parts[:-1]) if _FRAME.search(part)]
    if framed and any(_ASKING.search(part) for part in parts[framed[-1] + 1 :]):
        return "".join(parts[framed[-1] + 1 :]).strip()
    if len(question) < LONG_QUESTION or len(parts) < MIN_CLAUSES:
        return ""
    asking = [i for i, part in enumerate(parts) if _ASKING.search(part)]
    if not asking:
        return ""
    start = asking[-1]
    while start > 0 and not names_topic(parts[start]):
        start -= 1
    focus = "".join(parts[start:]).strip()
    return focus if start > 0 else ""
