"""Search tokens: jieba words of the text, plus what people look things up by.

Chinese has no spaces, so both databases index jieba's words (cut for search: 快递单号 gives
快递, 单号 and 快递单号) rather than characters or whole strings. A run of seven or more digits
(an order number, a phone number) is kept whole and its last four digits are added too, so
"8837" finds 13912348837 the way people ask for a phone tail.
"""

from __future__ import annotations

import re

from router.bot.text import normalise

_DIGITS = re.compile(r"[0-9]{7,}")
_WORD = re.compile(r"[0-9a-z\u3400-\u4dbf\u4e00-\u9fff]")
MAX_TOKENS = 20_000


def _jieba() -> object:
    import jieba  # imported on first use: loading its dictionary takes a second

    return jieba


def tokens(text: str) -> list[str]:
    """Distinct search tokens of `text`, in first-seen order."""
    t = normalise(text)
    out: dict[str, None] = {}
    for w in _jieba().cut_for_search(t):  # type: ignore[attr-defined]
        w = w.strip()
        if w and _WORD.search(w):
            out[w] = None
    for d in _DIGITS.findall(t):
        out[d] = None
        out[d[-4:]] = None
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
