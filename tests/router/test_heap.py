"""router/heap.py `settle`: start-up's garbage is collected, what survives leaves the
collector's generations (full collections stop walking it), and later objects are collected as
before."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from router import heap


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def _cycle() -> weakref.ref[_Node]:
    a, b = _Node(), _Node()
    a.other, b.other = b, a
    return weakref.ref(a)


@pytest.fixture(autouse=True)
def _unfreeze() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.unfreeze()  # the test process goes on collecting as it did
    gc.set_threshold(*before)


def test_settle_collects_garbage_then_freezes_the_survivors() -> None:
    garbage = _cycle()
    kept = [_Node() for _ in range(300)]
    frozen = heap.settle()
    assert garbage() is None  # collected before the freeze, not kept forever
    assert frozen == gc.get_freeze_count() >= len(kept)
    tracked = {id(o) for g in range(3) for o in gc.get_objects(generation=g)}
    assert not any(id(k) in tracked for k in kept)  # in the permanent generation: never walked again


def test_what_is_allocated_later_is_still_collected() -> None:
    heap.settle()
    later = [_cycle() for _ in range(300)]
    gc.collect()
    assert all(ref() is None for ref in later)


def test_the_young_generation_is_collected_less_often() -> None:
    _, middle, oldest = gc.get_threshold()
    heap.settle()
    assert gc.get_threshold() == (heap.YOUNG, middle, oldest)
    assert heap.YOUNG > 700  # CPython's default, a collection every webhook or two
