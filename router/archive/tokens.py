"""Search tokens: jieba words of the text, plus what people look things up by.

Chinese has no spaces, so both databases index jieba's words (cut for search: 快递单号 gives
快递, 单号 and 快递单号) rather than characters or whole strings. A run of seven or more digits
(an order number, a phone number) is kept whole and its last four digits are added too, so
"8837" finds 13912348837 the way people ask for a phone tail.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator

from router.bot.text import normalise

_DIGITS = re.compile(r"[0-9]{7,}")
_WORD = re.compile(r"[0-9a-z\u3400-\u4dbf\u4e00-\u9fff]")
MAX_TOKENS = 20_000


def _jieba() -> object:
    import jieba  # imported on first use: loading its dictionary takes a second

    return jieba


STEP_WORDS = 32
"""How many words `_collect` cuts between the points where a caller may pause: jieba cuts a run
of words without punctuation or spaces in one go, so a step is that plus about 30 µs."""


def _collect(text: str, out: dict[str, None]) -> Iterator[None]:
    """Add the search tokens of `text` to `out`, yielding every STEP_WORDS words, so a caller on
    the event loop can pause there (Pacer); jieba's generator keeps its place meanwhile."""
    t = normalise(text)
    for n, w in enumerate(_jieba().cut_for_search(t), start=1):  # type: ignore[attr-defined]
        w = w.strip()
        if w and _WORD.search(w):
            out[w] = None
        if n % STEP_WORDS == 0:
            yield
    for d in _DIGITS.findall(t):
        out[d] = None
        out[d[-4:]] = None


def tokens(text: str) -> list[str]:
    """Distinct search tokens of `text`, in first-seen order."""
    out: dict[str, None] = {}
    for _ in _collect(text, out):
        pass
    return list(out)[:MAX_TOKENS]


class Pacer:
    """Lets a long CPU-bound job on the event loop give way every `slice_s` seconds.

    jieba cuts a 25-line conversation in about 3 ms, so a batch of 50 cut in one go held the
    loop 150 ms, every customer's and agent's frames waiting behind it (docs/performance.md,
    "Archiving without stalling the loop"). Not a thread: a thread doing Python work takes the
    GIL from the loop for up to 5 ms (sys.getswitchinterval) at every switch, whatever it does."""

    def __init__(self, slice_s: float = 0.001) -> None:
        self.slice_s = slice_s
        self._due = time.perf_counter() + slice_s

    async def tick(self) -> None:
        """Give way to the loop if this slice is spent."""
        if time.perf_counter() >= self._due:
            await asyncio.sleep(0)
            self._due = time.perf_counter() + self.slice_s


async def tokens_paced(text: str, pacer: Pacer) -> list[str]:
    """`tokens(text)`, giving way to the event loop as `pacer` says."""
    out: dict[str, None] = {}
    for _ in _collect(text, out):
        await pacer.tick()
    await pacer.tick()
    return list(out)[:MAX_TOKENS]


def query_tokens(q: str) -> list[str]:
    """The tokens a query must all match. Digits are looked up as typed (a tail or a whole
    number), not cut further."""
    t = normalise(q)
    out: dict[str, None] = {}
    for d in re.findall(r"[0-9]+", t):
        out[d] = None
    rest = re.sub(r"[0-9]+", " ", t)
    for w in _jieba().cut_for_search(rest):  # type: ignore[attr-defined]
        w = w.strip()
        if w and _WORD.search(w):
            out[w] = None
    return list(out)


Clauses = list[list[list[str]]]
"""A query as the archive matches it: every clause must hold; a clause holds when one of its
alternatives does; an alternative holds when all its tokens are there."""


def query_clauses(q: str) -> Clauses:
    """The query as alternatives per word, so a word jieba cuts differently alone than in a
    sentence still matches: alone, 单号 is cut into 单 + 号 and 快递单号 into 快递 + 单 + 号, while
    in 快递单号是多少 jieba keeps 快递 and 单号. Each whitespace-separated part of the query matches
    as its cut-for-search tokens, or as itself whole, or as the dictionary words (two or three
    characters) that cover it. Digits are looked up as typed (bench/bench_search.py measured)."""
    t = normalise(q)
    clauses: Clauses = [[[d]] for d in dict.fromkeys(re.findall(r"[0-9]+", t))]
    words = _dictionary()
    for part in re.sub(r"[0-9]+", " ", t).split():
        pieces = [w.strip() for w in _jieba().cut_for_search(part)]  # type: ignore[attr-defined]
        pieces = list(dict.fromkeys(w for w in pieces if w and _WORD.search(w)))
        if not pieces:
            continue
        alternatives = [pieces]
        if len(part) >= 2 and [part] != pieces:
            alternatives.append([part])
        cover = [part[i:i + n] for n in (2, 3) for i in range(len(part) - n + 1) if words.get(part[i:i + n])]
        covered = {i + k for w in cover for i in [part.find(w)] for k in range(len(w))}
        if cover and covered == set(range(len(part))) and sorted(cover) not in (sorted(a) for a in alternatives):
            alternatives.append(list(dict.fromkeys(cover)))
        clauses.append(alternatives)
    return clauses


def _dictionary() -> dict[str, int]:
    """jieba's word frequencies (loaded with its dictionary)."""
    dt = _jieba().dt  # type: ignore[attr-defined]
    dt.check_initialized()
    freq: dict[str, int] = dt.FREQ
    return freq
