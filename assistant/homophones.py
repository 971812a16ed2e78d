"""Homophone typos of voice and pinyin input read as the notice's own words: "高心技术企业" is 高新技术企业,
"孵化气" is 孵化器. A stretch of the question that the notice does not contain, but that sounds exactly like (same
syllables, same tones) a stretch the notice or the lexicon does contain, is read as that stretch; the answer says so
("“高心技术企业”按“高新技术企业”理解"), so a wrong reading is seen at a glance.

Only stretches of MIN_CHARS or more are compared (two-character homophones are everywhere), at most one character
in CHANGED_SHARE of a stretch may differ, and a sound that several different stretches of the notice share corrects
nothing. Pinyin comes from pypinyin (its dictionary is inside the package: no download).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from assistant.amounts import NUMERAL_CHARS

MIN_CHARS = 3
# the reading must be this much more likely as Chinese than what was typed (natural log of jieba's best segmentation
# probability; set on dev..dev41's questions, where every correction above it was a real typo)
LIKELIER_BY = 3.0
TONED = False  # voice input often gets the tone wrong ("超制" for 炒制); the other guards keep readings rare
MAX_CHARS = 8
# characters either side of a stretch that its words and likelihood are judged in
CONTEXT_CHARS = 12
# at most this share of a stretch's characters may be replaced ("高心技术企业": 1 of 6)
CHANGED_SHARE = 1 / 3
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")


def syllables(text: str) -> list[str]:
    """One toned syllable per character of a run of Chinese characters ("高新" -> ["gao1", "xin1"])."""
    from pypinyin import Style, lazy_pinyin

    STYLE = Style.TONE3 if TONED else Style.NORMAL
    # pypinyin's stubs say the error handler returns a str; a list gives one item per unread character
    found = lazy_pinyin(text, style=STYLE, errors=lambda chars: list(chars))  # type: ignore[arg-type,return-value]
    return found if len(found) == len(text) else [*text]  # a character without a reading keeps itself


@dataclass(frozen=True)
class Correction:
    typed: str
    read_as: str


class Homophones:
    """The notice's stretches (and the lexicon's terms) by their sound, to read a typed stretch as the one it sounds
    like. Built once from the texts; `correct` is pure."""

    def __init__(self, texts: Iterable[str], terms: Iterable[str] = ()) -> None:
        self._known: set[str] = set()
        self._text = ""
        by_sound: dict[tuple[str, ...], str | None] = {}
        sources = [*texts]
        self._text = "\n".join(sources)
        runs = [run for source in sources for run in _CJK_RUN.findall(source)]
        runs += [term for term in terms if _CJK_RUN.fullmatch(term)]
        for run in runs:
            sounds = syllables(run)
            for size in range(MIN_CHARS, MAX_CHARS + 1):
                for start in range(len(run) - size + 1):
                    key = tuple(sounds[start : start + size])
                    stretch = run[start : start + size]
                    if by_sound.get(key, stretch) != stretch:
                        by_sound[key] = None  # two stretches sound alike: neither is "the" reading
                    elif key not in by_sound:
                        by_sound[key] = stretch
        self._by_sound = by_sound
        self._terms = {term for term in terms if _CJK_RUN.fullmatch(term)}

    def _known_stretch(self, stretch: str) -> bool:
        return stretch in self._text or stretch in self._terms

    def correct(self, question: str) -> tuple[str, tuple[Correction, ...]]:
        """The question with each homophone stretch replaced by the notice's, and the corrections made."""
        corrections: list[Correction] = []
        pieces: list[str] = []
        last = 0
        for match in _CJK_RUN.finditer(question):
            run = match.group(0)
            if len(run) < MIN_CHARS:
                continue
            sounds = syllables(run)
            fixed = list(run)
            start = 0
            while start <= len(run) - MIN_CHARS:
                for size in range(min(MAX_CHARS, len(run) - start), MIN_CHARS - 1, -1):
                    typed = run[start : start + size]
                    heard = self._by_sound.get(tuple(sounds[start : start + size]))
                    # the sound first: most stretches sound like nothing in the notice, or like themselves
                    if heard is None or heard == typed or self._known_stretch(typed):
                        continue
                    # judged within a window of the run: a long question costs no more per stretch
                    near = max(0, start - CONTEXT_CHARS)
                    window = run[near : start + size + CONTEXT_CHARS]
                    shown = _plausible(
                        window, start - near, heard, self._text, len(heard) >= 4 and heard in self._terms
                    )
                    if shown:
                        fixed[start : start + size] = heard
                        lo, hi = shown[0] + near, shown[1] + near
                        corrections.append(Correction(run[lo:hi], "".join(fixed[lo:hi])))
                        start += size
                        break
                else:
                    start += 1
            pieces.append(question[last : match.start()] + "".join(fixed))
            last = match.end()
        pieces.append(question[last:])
        return "".join(pieces), tuple(corrections)


def _plausible(run: str, start: int, heard: str, notice: str, term: bool = False) -> tuple[int, int] | None:
    """Whether `heard` is what was meant by run[start:start+len(heard)]: few characters differ, none is a numeral
    ("三十亿" is no "三十一"), each differing character is part of a word of the run as heard ("高新") and not of a
    word of the notice as typed ("入紫金" keeps 紫金 of 紫金港, "4家孵化企业" keeps 企业), and the run as heard is far
    likelier Chinese than as typed. Words are judged in the run around it, not the stretch alone. Returns the span of
    the words holding the changed characters (what the answer shows: "高心技术企业" -> "高新技术企业"), or None.
    A `term` of the lexicon (4 characters or more: "普惠托育") that jieba's dictionary does not know is taken whole
    when each changed character lies inside it and stands alone as typed ("普会托育": 会 is no word there)."""
    end = start + len(heard)
    typed = run[start:end]
    changed = [start + i for i, (a, b) in enumerate(zip(typed, heard, strict=True)) if a != b]
    if not changed or len(changed) > max(1, int(len(heard) * CHANGED_SHARE)):
        return None
    if any(run[i] in NUMERAL_CHARS or heard[i - start] in NUMERAL_CHARS for i in changed):
        return None
    fixed = run[:start] + heard + run[end:]
    heard_words, typed_words = _words_at(fixed), _words_at(run)
    # inside the term only: at its edge the typed character may be a word of its own ("去文广旅体局备案" is "go to")
    if term and all(start < i < end - 1 and len(typed_words[i]) < 2 for i in changed):
        return start, end
    if any(len(heard_words[i]) < 2 for i in changed):
        return None  # "企业和" for "企业核": a lone function character is no misheard word
    if any(len(typed_words[i]) >= 2 and typed_words[i] in notice for i in changed):
        return None
    if _log_probability(fixed) - _log_probability(run) < LIKELIER_BY:
        return None
    spans = _word_spans(fixed)
    return min(spans[i][0] for i in changed), max(spans[i][1] for i in changed)


def _segments(text: str) -> list[str]:
    import jieba

    return list(jieba.cut(text, HMM=False))


def _words_at(text: str) -> list[str]:
    """For each character of `text`, the word of jieba's segmentation it belongs to."""
    owners: list[str] = []
    for word in _segments(text):
        owners.extend([word] * len(word))
    return owners


def _word_spans(text: str) -> list[tuple[int, int]]:
    """For each character of `text`, the (start, end) of the word of jieba's segmentation it belongs to."""
    spans: list[tuple[int, int]] = []
    at = 0
    for word in _segments(text):
        spans.extend([(at, at + len(word))] * len(word))
        at += len(word)
    return spans


def _log_probability(text: str) -> float:
    """The log probability of jieba's best segmentation of `text` (its dictionary's word frequencies)."""
    import jieba

    tokenizer = jieba.dt
    tokenizer.check_initialized()
    route: dict[int, tuple[float, int]] = {}
    tokenizer.calc(text, tokenizer.get_DAG(text), route)
    return route[0][0]
