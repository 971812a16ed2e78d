"""Which language a text is written in: answers lead in the asker's language, and a conversation turn in the other
language than the turn before it is judged on its own (conversation.py). Kept apart so both can import it."""

from __future__ import annotations

import re

_CJK_CHAR = re.compile(r"[\u4e00-\u9fff]")
_LATIN_LETTER = re.compile(r"[A-Za-z]")


def detect_language(text: str) -> str:
    """'en' when Latin letters clearly outnumber Chinese characters, else 'zh'."""
    cjk = len(_CJK_CHAR.findall(text))
    latin = len(_LATIN_LETTER.findall(text))
    return "en" if latin > 3 * cjk and latin >= 4 else "zh"
