"""Burst debounce: lines typed in quick succession form one turn."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from router.bot.debounce import Turn, group_turns


def test_five_lines_in_one_second_are_one_turn() -> None:
    lines = [
        (100.0, "在吗"),
        (100.2, "我想问下"),
        (100.5, "这件"),
        (100.8, "有L码吗"),
        (101.0, "急"),
    ]
    turns = group_turns(lines)
    assert turns == [Turn(100.0, 101.0, ("在吗", "我想问下", "这件", "有L码吗", "急"))]
    assert turns[0].text == "在吗\n我想问下\n这件\n有L码吗\n急"


def test_a_pause_longer_than_the_window_starts_a_new_turn() -> None:
    turns = group_turns([(0.0, "a"), (1.0, "b"), (2.6, "c"), (3.0, "d")])
    assert [t.texts for t in turns] == [("a", "b"), ("c", "d")]


def test_window_is_configurable_and_order_is_by_timestamp() -> None:
    lines = [(1.0, "b"), (0.0, "a"), (5.0, "c")]
    assert [t.texts for t in group_turns(lines, window=0.5)] == [("a",), ("b",), ("c",)]
    assert [t.texts for t in group_turns(lines, window=10)] == [("a", "b", "c")]


def test_max_span_closes_a_long_burst_and_blank_lines_are_dropped() -> None:
    lines = [(float(i), str(i)) for i in range(6)] + [(2.5, "  ")]
    turns = group_turns(lines, window=1.5, max_span=2.0)
    assert [t.texts for t in turns] == [("0", "1", "2"), ("3", "4", "5")]
    with pytest.raises(ValueError):
        group_turns(lines, window=-1)


@given(st.lists(st.tuples(st.floats(0, 1000), st.text(min_size=1).filter(str.strip)), max_size=30))
def test_every_line_lands_in_exactly_one_turn(lines: list[tuple[float, str]]) -> None:
    turns = group_turns(lines)
    assert sum(len(t.texts) for t in turns) == len(lines)
    for a, b in itertools.pairwise(turns):
        assert b.start - a.end > 1.5
