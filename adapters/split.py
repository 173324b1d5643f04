"""Splitting a long reply into messages a channel takes: within its limit, at the best break."""

from __future__ import annotations

import re
from collections.abc import Callable

_SENTENCE_END = re.compile(r"[.!?。！？…](?=\s|$)|[。！？]")


def u16(text: str) -> int:
    """Length in UTF-16 code units, as Telegram counts."""
    return len(text.encode("utf-16-le")) // 2


def _prefix_within(text: str, limit: int, measure: Callable[[str], int]) -> int:
    """Length in characters of the longest prefix of `text` that measures within `limit`."""
    lo, hi = 0, min(len(text), limit * 2 + 1)
    while lo < hi:  # measure grows with the prefix, so the fitting prefixes are a range
        mid = (lo + hi + 1) // 2
        if measure(text[:mid]) <= limit:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _boundary(window: str) -> int:
    """Where to cut: the last paragraph, line, sentence or word break past a quarter of the
    window, in that order of preference; else the whole window."""
    floor = len(window) // 4
    for sep in ("\n\n", "\n"):
        at = window.rfind(sep)
        if at > floor:
            return at + len(sep)
    ends = [m.end() for m in _SENTENCE_END.finditer(window) if m.end() > floor]
    if ends:
        return ends[-1]
    at = max(window.rfind(" "), window.rfind("\t"))
    return at + 1 if at > floor else len(window)


def split_text(text: str, limit: int, measure: Callable[[str], int] = len) -> list[str]:
    """Parts that each measure at most `limit`, cut at paragraph, then sentence, then word
    boundaries, in order; nothing but the whitespace at a cut is lost."""
    parts: list[str] = []
    rest = text
    while measure(rest) > limit:
        window = rest[: max(1, _prefix_within(rest, limit, measure))]
        cut = _boundary(window)
        part = rest[:cut].rstrip()
        if part:
            parts.append(part)
        rest = rest[cut:].lstrip()
    if rest.strip() or not parts:
        parts.append(rest)
    return parts
