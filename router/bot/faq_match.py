"""Matching customer questions to FAQ entries: jieba words with BM25 plus character bigrams.

The confidence of a match is the share of the question the entry explains:

* words: each query word contributes its IDF times its BM25 term factor, capped at 1, in the
  entry's document (question + variants + tags); divided by the sum of the query words' IDFs.
  A word no entry knows gets the highest IDF, so an off-topic word pulls the score down.
* bigrams: the IDF-weighted share of the query's character bigrams found in the entry. This
  catches what the segmenter cuts differently (包/邮 vs 包邮) and typos in one character.

The two are blended, leaning on bigrams for short queries where one word decides. Below the
threshold the index answers None: the bot does not guess.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Final

import jieba

from router.bot.faq_kb import FaqEntry, FaqKb, load_faq
from router.bot.text import char_grams, normalise, synonym_rewriter, tokenizer, tokens

DEFAULT_THRESHOLD: Final = 0.5
_K1: Final = 1.2
_B: Final = 0.75
_OOV_WEIGHT: Final = 0.4


@dataclass(frozen=True, slots=True)
class FaqMatch:
    """An entry and how sure we are of it, in [0, 1]."""

    entry: FaqEntry
    score: float


@dataclass(frozen=True, slots=True)
class _Doc:
    """What the index keeps per entry."""

    tf: MappingProxyType[str, int]
    length: int
    grams: frozenset[str]
    chars: frozenset[str]  # every CJK character, for one-character query words
    # Bigrams of the question and of each variant, with their IDF total for the Dice score.
    phrasings: tuple[tuple[frozenset[str], float], ...]


class FaqIndex:
    """An immutable index over one version of a knowledge base; reload by building another."""

    __slots__ = (
        "_avgdl",
        "_docs",
        "_frozen",
        "_gram_idf",
        "_max_gram_idf",
        "_max_idf",
        "_postings",
        "_rewrite",
        "_tk",
        "_word_idf",
        "kb",
        "threshold",
    )

    def __init__(self, kb: FaqKb, threshold: float | None = None) -> None:
        self.kb = kb
        t = threshold if threshold is not None else kb.threshold
        self.threshold = DEFAULT_THRESHOLD if t is None else t
        synonyms = {normalise(w): normalise(c) for w, c in kb.synonyms}
        self._rewrite = synonym_rewriter(synonyms)
        words = {normalise(w) for w in kb.words} | {normalise(t) for e in kb.entries for t in e.tags}
        words |= set(synonyms.values())
        self._tk: jieba.Tokenizer = tokenizer(frozenset(w for w in words if w))
        docs: list[_Doc] = []
        df: Counter[str] = Counter()
        gdf: Counter[str] = Counter()
        for e in kb.entries:
            tf: Counter[str] = Counter()
            grams: set[str] = set()
            chars: set[str] = set()
            phrasings = []
            for i, text in enumerate((e.question, *e.variants, *e.tags)):
                norm = self._prep(text)
                tf.update(tokens(norm, self._tk))
                g = char_grams(norm, self._tk)
                grams.update(g)
                chars.update(c for c in norm if _is_cjk(c))
                if i <= len(e.variants):
                    phrasings.append(frozenset(g))
            docs.append(
                _Doc(
                    MappingProxyType(dict(tf)),
                    sum(tf.values()),
                    frozenset(grams),
                    frozenset(chars),
                    tuple((p, 0.0) for p in phrasings),
                )
            )
            df.update(tf.keys())
            gdf.update(grams)
        n = max(len(docs), 1)
        self._docs = tuple(docs)
        self._avgdl = sum(d.length for d in docs) / n or 1.0
        self._word_idf = {w: _idf(c, n) for w, c in df.items()}
        self._gram_idf = {g: _idf(c, n) for g, c in gdf.items()}
        # A word no entry knows weighs less than the rarest known word: customers add cities,
        # brands and names that say nothing about the topic, but a question made only of unknown
        # words must still score low.
        self._max_idf = _OOV_WEIGHT * _idf(0, n)
        self._max_gram_idf = _OOV_WEIGHT * _idf(0, n)
        self._docs = tuple(
            replace(d, phrasings=tuple((p, sum(self._gram_idf[g] for g in p)) for p, _ in d.phrasings)) for d in docs
        )
        # Which entries hold a word, bigram or character: only those are scored for a query.
        postings: dict[str, list[int]] = {}
        for i, d in enumerate(self._docs):
            for key in {*(f"w{w}" for w in d.tf), *(f"g{g}" for g in d.grams), *(f"c{c}" for c in d.chars)}:
                postings.setdefault(key, []).append(i)
        self._postings = {k: tuple(v) for k, v in postings.items()}
        self._frozen = True

    def __setattr__(self, name: str, value: object) -> None:
        # Readers share one index across tasks; a reload must build a new one, never patch it.
        if getattr(self, "_frozen", False):
            raise AttributeError(f"FaqIndex is immutable; build a new one to change {name!r}")
        object.__setattr__(self, name, value)

    @classmethod
    def from_file(cls, path: str | Path, threshold: float | None = None) -> FaqIndex:
        return cls(load_faq(path), threshold)

    @property
    def version(self) -> str:
        return self.kb.version

    def match(self, text: str) -> FaqMatch | None:
        """The best entry if its confidence reaches the threshold, else None."""
        best = self.search(text, 1)
        if best and best[0].score >= self.threshold:
            return best[0]
        return None

    def search(self, text: str, limit: int = 5) -> list[FaqMatch]:
        """The `limit` best entries by confidence, best first, whatever the threshold."""
        scored = self._scores(text)
        ranked = sorted(
            (i for i, (s, _) in enumerate(scored) if s > 0),
            key=lambda i: (-scored[i][0], -scored[i][1], i),
        )
        return [FaqMatch(self.kb.entries[i], round(scored[i][0], 4)) for i in ranked[:limit]]

    def _prep(self, text: str) -> str:
        return self._rewrite(normalise(text))

    def _scores(self, text: str) -> list[tuple[float, float]]:
        """(confidence, raw BM25) per entry; raw BM25 only breaks ties."""
        norm = self._prep(text)
        q_words = list(dict.fromkeys(tokens(norm, self._tk)))
        q_grams = list(dict.fromkeys(char_grams(norm, self._tk)))
        if not q_words and not q_grams:
            return [(0.0, 0.0)] * len(self._docs)
        w_idf = [self._word_idf.get(w, self._max_idf) for w in q_words]
        g_w = {g: self._gram_idf.get(g, self._max_gram_idf) for g in q_grams}
        w_total = sum(w_idf) or 1.0
        g_total = sum(g_w.values()) or 1.0
        # Short questions hinge on one or two words the segmenter may cut oddly: trust bigrams more.
        w_weight = 0.25 if len(q_words) <= 2 else 0.4
        # One character of content ("人", "好") is too little evidence to answer on.
        damp = 0.5 if len(q_grams) == 1 and len(q_grams[0]) == 1 else 1.0
        out = [(0.0, 0.0)] * len(self._docs)
        keys = [f"w{w}" for w in q_words] + [f"g{g}" for g in q_grams]
        keys += [f"c{g}" for g in q_grams if len(g) == 1]
        candidates = sorted({i for k in keys for i in self._postings.get(k, ())})
        q_items = list(g_w.items())
        for i in candidates:
            d = self._docs[i]
            norm_len = 1 - _B + _B * d.length / self._avgdl
            raw = cov = 0.0
            for w, idf in zip(q_words, w_idf, strict=True):
                tf = d.tf.get(w, 0)
                if tf:
                    factor = tf * (_K1 + 1) / (tf + _K1 * norm_len)
                    raw += idf * factor
                    cov += idf * min(1.0, factor)
            g_cov = sum(self._gram_credit(g, w, d) for g, w in g_w.items()) / g_total
            closest = max((_dice(q_items, g_total, p, t) for p, t in d.phrasings), default=0.0)
            conf = w_weight * cov / w_total + (0.75 - w_weight) * g_cov + 0.25 * closest
            out[i] = (conf * damp, raw)
        return out

    @staticmethod
    def _gram_credit(gram: str, weight: float, d: _Doc) -> float:
        if gram in d.grams:
            return weight
        # A one-character word (缩, 换) inside an entry's longer word (缩水, 换货) is half a match:
        # full credit would let common characters (发, 上) match everything.
        if len(gram) == 1 and gram in d.chars:
            return weight / 2
        return 0.0


def _dice(q: list[tuple[str, float]], q_total: float, phrasing: frozenset[str], p_total: float) -> float:
    """IDF-weighted Dice of the query's bigrams and one phrasing's: how close the wording is."""
    both = sum(w for g, w in q if g in phrasing)
    return 2 * both / (q_total + p_total) if both else 0.0


def _is_cjk(c: str) -> bool:
    return "\u3400" <= c <= "\u9fff"


def _idf(df: int, n: int) -> float:
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


def top_ids(matches: Sequence[FaqMatch]) -> list[str]:
    """Entry ids of a search result, for logs and the agents' search box."""
    return [m.entry.id for m in matches]
