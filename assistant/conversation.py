"""Conversation state: how a turn is read — alone, or joined to the earlier turn it cannot stand without.

A turn is joined to the previous one only when it cannot stand alone:
- it points back at it ("这条由哪个部门负责", "换成进口的", "加上龙头企业那笔，一共多少", "this"), or
- it has no topic of its own: alone, retrieval finds no chunk that holds its topic words ("那进口的呢" finds
  进口 everywhere and nowhere in particular; "这次能拿多少", "要是做到12亿呢" name nothing), or
- its topic is the earlier turn's too: the earlier reading's best chunk holds the turn's topic about as well as
  the turn's own best chunk ("如果是制造业呢" after 出口信用保险: 第四十六条 says 制造业), or the embedding finds
  that chunk about as close to the turn as the turn's own.
A turn that names a topic of its own which the earlier turn's article does not hold starts fresh, whatever words it
begins with ("那奶茶店有什么奖励" after a 研发 calculation). The joined reading is shown to the user
("（接上一问：…）") and returned by the API, which also takes it back with the history.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from assistant.languages import detect_language
from assistant.vocabulary import pattern

_POINTS_BACK = pattern("conversation_points_back", flags=re.I)
_SWITCHES = pattern("conversation_switches", r"^\W*(?:{})")
# the same words after an acknowledgement that asks nothing ("好的，茶的事情我知道了。另外问一下，…")
_SWITCH_AFTER = pattern("conversation_switches", r"[。！!？?，,；;.]\s*(?:{})")
_ASKING = pattern("asks_marker", flags=re.I)
_TOTAL = pattern("conversation_total", flags=re.I)
_MORE = pattern("conversation_more", flags=re.I)
_REPLACES = pattern("conversation_replaces")
_ADDS_TO_EARLIER = pattern("conversation_adds_to_earlier")

# A turn's own topic: the share of its topic words (by rarity) that its best chunk holds, alone. Below this the turn
# names nothing retrieval can pin down and is read with the earlier turn. Set on the follow-ups of dev..dev26
# (true follow-ups without a topic of their own score 0–0.44; new questions 0.75–1.0).
OWN_TOPIC_FLOOR = 0.5
# A turn with a topic of its own starts fresh when the earlier turn's best chunk holds less than this share of what
# its own best chunk holds ("高新技术企业认定奖励" after 奶茶店: 0.27 of 1.0); follow-ups on the same article hold
# as much (1.0 of 1.0, "那生物医药公共服务平台呢" after 紫金港 技改).
NEW_TOPIC_SHARE = 0.5
# ... unless the embedding finds the earlier turn's article about as close as the turn's own (within this much
# cosine): "省里补助实际到账120万，那我们能拿多少" after 海外研发机构 (0.008 apart) shares its words with 第十二条 but
# continues 第十五条; new topics were 0.02–0.05 apart on the dev follow-ups.
EMBEDDING_TIE = 0.015
# How many earlier user turns are read (each may itself be a follow-up of the one before).
MAX_EARLIER_TURNS = 3
# How much of the earlier reading the note shows
NOTE_CHARS = 40


class TopicJudge(Protocol):
    """What the conversation needs from retrieval (Assistant implements it with its Retriever)."""

    def stands_alone(self, text: str) -> bool:
        """The turn names an article or section, or asks about the notice itself."""
        ...

    def own_topic(self, text: str) -> float:
        """Share of the turn's topic words its own best chunk holds (0.0 when it has none)."""
        ...

    def notice_routes(self, text: str) -> str:
        """The routes of what the text asks about the notice itself, joined by "+" ('' when none)."""
        ...

    def carried_topic(self, text: str, earlier: str) -> float:
        """Share of the turn's topic words the earlier reading's best chunk holds."""
        ...

    def embedding_gap(self, text: str, earlier: str) -> float:
        """How much closer the embedding finds the turn to its own best chunk than to the earlier reading's."""
        ...

    def refused_alone(self, text: str) -> bool:
        """The scope rules refuse the turn by itself ("今天天气怎么样": off topic)."""
        ...


@dataclass(frozen=True)
class Reading:
    """How a turn was read: `text` is what is retrieved and answered; `earlier` the earlier reading it was joined
    to ('' when the turn stands alone); `why` the reason (for logs and tests)."""

    question: str
    text: str
    earlier: str = ""
    why: str = ""

    @property
    def joined(self) -> bool:
        return bool(self.earlier)

    def note(self, language: str = "zh") -> str:
        """What the answer says about how it read the turn ('' when it stood alone)."""
        if not self.joined:
            return ""
        shown = re.sub(r"\s+", " ", self.earlier).strip().rstrip("？?。.!！ ")
        if len(shown) > NOTE_CHARS:
            shown = shown[: NOTE_CHARS - 1] + "…"
        if language == "en":
            return f"(Read together with the previous question: {shown})"
        return f"（接上一问：{shown}）"


def read_turn(
    question: str,
    history: Sequence[Mapping[str, str]] | None,
    judge: TopicJudge,
    contrasts: Sequence[Sequence[str]] = (),
) -> Reading:
    """The reading of `question` given the earlier turns (OpenAI-style messages; a user turn may carry the
    `reading` the API returned for it, else it is read again from the turns before it)."""
    earlier_turns = [t for t in (history or []) if t.get("role") == "user" and t.get("content")]
    earlier: Reading | None = None
    for turn in earlier_turns[-MAX_EARLIER_TURNS:]:
        given = str(turn.get("reading") or "").strip()
        content = str(turn["content"])
        if given:
            earlier = Reading(content, given, why="given")
        else:
            earlier = _resolve(content, earlier, judge, contrasts)
    return _resolve(question, earlier, judge, contrasts)


def without_switch(question: str) -> str:
    """The turn without the words saying the topic changes ("换个问题，我女儿明年上小学…" -> "我女儿明年上小学…"), and
    without an acknowledgement before them that asks nothing ("好的，茶的事情我知道了。另外问一下，…"); the turn as it
    is when it has none, or nothing else."""
    text = question.strip()
    found = _SWITCHES.match(text.lower()) or _switch_after_acknowledgement(text)
    rest = text[found.end() :].lstrip(" ，,。.:：;；!！") if found else text
    return rest or question


def _switch_after_acknowledgement(text: str) -> re.Match[str] | None:
    found = _SWITCH_AFTER.search(text.lower())
    return found if found is not None and not _ASKING.search(text[: found.start()].lower()) else None


def points_back(question: str) -> bool:
    """Whether the turn refers to the earlier one by its words: "这条", "那笔", "换成", "其中", "this", or a total
    together with something more ("同一年我们还首次上规模了，加起来呢")."""
    text = question.strip().lower()
    return bool(_POINTS_BACK.search(text) or (_TOTAL.search(text) and _MORE.search(text)))


def _resolve(question: str, earlier: Reading | None, judge: TopicJudge, contrasts: Sequence[Sequence[str]]) -> Reading:
    if earlier is None:
        return Reading(question, without_switch(question), why="first")
    if judge.stands_alone(question):
        return Reading(question, without_switch(question), why="names_itself")
    # a turn asking the notice more after a question about the notice itself ("And which provincial document is it
    # based on?" after its total budget): "it" is the notice
    asked_before = judge.notice_routes(earlier.text)
    if asked_before and set(judge.notice_routes(f"{earlier.text} {question}").split("+")) - set(
        asked_before.split("+")
    ):
        return _joined(question, earlier, contrasts, "points_back")
    if _SWITCHES.match(question.strip().lower()) or _switch_after_acknowledgement(question.strip()):
        # "说点别的，我外婆是残疾人…": the user says the topic changes; what follows is read alone, without those words
        # ("换个问题" names no topic to retrieve)
        return Reading(question, without_switch(question), why="switches_topic")
    language = detect_language(question)
    switched = language != detect_language(earlier.question)
    # a turn pointing back in the earlier turn's language (Chinese) needs no topic judged ("这条呢", "换成进口的")
    if not switched and language != "en" and points_back(question):
        return _joined(question, earlier, contrasts, "points_back")
    own = judge.own_topic(question)
    carried = judge.carried_topic(question, earlier.text) if own > 0 else 0.0
    if own >= OWN_TOPIC_FLOOR and (
        (carried < NEW_TOPIC_SHARE * own and switched)
        # an English "that" at the end points inside a turn whose topic the earlier article lacks entirely
        or (carried == 0.0 and language == "en")
    ):
        # a turn in the other language whose topic the earlier article hardly holds starts afresh: its "that" points
        # inside it ("…got help to redo their house. does xihu have something like that?"), and the embedding gap
        # across languages says little (an English question on the 科技 section after a Chinese robot calculation was
        # joined to it). "And if we also set up a provincial workstation, what's the total?" after 博士后 stays joined.
        return Reading(question, question, why="own_topic")
    if points_back(question):
        return _joined(question, earlier, contrasts, "points_back")
    if own < OWN_TOPIC_FLOOR:
        # A turn the scope rules refuse by itself ("今天天气怎么样" after a 高企 question) has a topic of its own
        # that the notice does not cover: read alone (and refused), never shown as "接上一问".
        if judge.refused_alone(question):
            return Reading(question, question, why="refused_alone")
        # ... and so has a turn whose topic its own article holds in part and the earlier one not at all
        # ("对了，宝宝一岁多，想找个普惠托育，区里有什么政策？" after a rent calculation)
        if own > 0 and carried == 0.0:
            return Reading(question, question, why="own_topic")
        return _joined(question, earlier, contrasts, "no_topic")
    # an earlier article holding none of the turn's topic is never continued, however close the embedding finds it
    # ("我开了一家奶茶店，能拿什么补贴" after an English 高企 question: 0.013 apart)
    if carried == 0.0 or (
        carried < NEW_TOPIC_SHARE * own and judge.embedding_gap(question, earlier.text) > EMBEDDING_TIE
    ):
        return Reading(question, question, why="own_topic")
    return _joined(question, earlier, contrasts, "same_topic")


def _joined(question: str, earlier: Reading, contrasts: Sequence[Sequence[str]], why: str) -> Reading:
    swapped = swap_counterparts(earlier.text, question, contrasts)
    return Reading(question, f"{swapped} {question}", swapped, why)


def swap_counterparts(earlier: str, question: str, contrasts: Sequence[Sequence[str]]) -> str:
    """The earlier reading with a word the follow-up swaps for its counterpart (`contrasts`: 国产 / 进口, 省级 /
    国家级, 二等奖 / 一等奖) replaced: "首次认定为省级文化出口重点企业" + "那国家级的呢" asks about
    国家级文化出口重点企业. A follow-up that adds to the earlier turn ("再加买6台进口的，一共…") replaces nothing."""
    if _ADDS_TO_EARLIER.search(question) and not _REPLACES.match(question.strip()):
        return earlier
    for group in contrasts:
        named = [word for word in group if word in question]
        if len(named) != 1:
            continue
        replaced = [word for word in group if word != named[0] and word in earlier and named[0] not in earlier]
        if len(replaced) == 1:
            earlier = earlier.replace(replaced[0], named[0])
    return earlier
