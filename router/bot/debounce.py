"""Burst debounce: customers type one question as several short lines; answer it once."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

DEFAULT_WINDOW = 1.5  # seconds between two lines of the same turn


@dataclass(frozen=True, slots=True)
class Turn:
    """Lines a customer sent in one burst, in order, with the first and last timestamps."""

    start: float
    end: float
    texts: tuple[str, ...]

    @property
    def text(self) -> str:
        """The lines joined as the bot and the FAQ matcher read them."""
        return "\n".join(self.texts)


def group_turns(
    messages: Iterable[tuple[float, str]],
    window: float = DEFAULT_WINDOW,
    max_span: float | None = None,
) -> list[Turn]:
    """Group (ts, text) lines into turns: a line within `window` s of the previous one joins it.

    The window slides from line to line, so a steady typist stays in one turn; `max_span`, when
    given, closes a turn that has lasted that long, so a bot reply is never held back forever.
    Lines are taken in timestamp order (stable for equal timestamps); blank lines are dropped.
    """
    if window < 0:
        raise ValueError("window must be >= 0")
    turns: list[Turn] = []
    start = end = 0.0
    texts: list[str] = []
    for ts, text in sorted(messages, key=lambda m: m[0]):
        if not text.strip():
            continue
        too_long = max_span is not None and ts - start > max_span
        if texts and ts - end <= window and not too_long:
            texts.append(text)
            end = ts
            continue
        if texts:
            turns.append(Turn(start, end, tuple(texts)))
        start = end = ts
        texts = [text]
    if texts:
        turns.append(Turn(start, end, tuple(texts)))
    return turns
