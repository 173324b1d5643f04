"""Round trips to Redis from this process, counted by redis-py's connection classes as
bench/roundtrips.py counts them: one write is one command or one pipeline."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from bench.roundtrips import Counter


@contextmanager
def counting() -> Iterator[type[Counter]]:
    """`Counter.writes` goes up with every write while inside."""
    undo = Counter.install()
    try:
        yield Counter
    finally:
        undo()
