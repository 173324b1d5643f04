"""Every Lua script has a typed call, and each call passes exactly the arguments its script reads."""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import re

import pytest

import router.store.calls
from router.store.calls import Call, agents, routing
from router.store.keys import Keys
from router.store.scripts import ROUTING, STANDALONE, _read

CALLS: list[type[Call[object]]] = [
    # Every module of router/store/calls, so a new one cannot be left out of the check.
    c for info in pkgutil.iter_modules(router.store.calls.__path__)
    for c in vars(importlib.import_module(f"router.store.calls.{info.name}")).values()
    if isinstance(c, type) and issubclass(c, Call) and c is not Call
]


def sample(cls: type[Call[object]]) -> Call[object]:
    return cls(*("1" for _ in dataclasses.fields(cls)))  # type: ignore[arg-type]


def argv_read(script: str) -> int:
    """The highest ARGV index the script's own body reads."""
    return max((int(n) for n in re.findall(r"ARGV\[(\d+)\]", _read(script))), default=0)


def test_every_script_has_a_call() -> None:
    assert {c.script for c in CALLS} == set(ROUTING + STANDALONE)


@pytest.mark.parametrize("cls", CALLS, ids=lambda c: c.__name__)
def test_a_call_passes_what_its_script_reads(cls: type[Call[object]]) -> None:
    call = sample(cls)
    if cls.script == "timer_ack":  # reads every ARGV: the timer ids
        assert call.argv() == ["1"]
        return
    if cls is agents.ApprovalAnswer:  # the 'answer' branch reads fewer than the 'request' one
        assert call.argv()[0] == "answer" and len(call.argv()) == 6
        return
    if cls.script == "customer_link":  # one script, several operations; `link` reads the most ARGV
        assert call.argv()[0] in ("link", "merge", "unmerge", "claim") and len(call.argv()) <= argv_read(cls.script)
        return
    assert len(call.argv()) == argv_read(cls.script)
    assert call.keys(Keys())  # every script gets its slot's keys (the {rt} anchor or its own)


def test_a_refusal_is_decoded_in_one_place() -> None:
    close = routing.Close("c1", "alice", 1.0, "done", False)
    assert close.decode(["ok", "alice", "0"]) == routing.Closed("alice", False)
    with pytest.raises(Exception) as caught:
        close.decode(["err", "not_assigned_to_you"])
    assert (caught.value.code, caught.value.status) == ("not_assigned_to_you", 409)  # type: ignore[attr-defined]
    with pytest.raises(Exception) as caught:
        agents.Status("bob", "online", 1.0, "api").decode(["err", "unknown_agent", 0])
    assert caught.value.status == 404  # type: ignore[attr-defined]
    # Scripts whose other answers are not refusals pass them through.
    assert routing.Route(*("1" for _ in range(12))).decode(["dup", "", "", ""]).status == "dup"  # type: ignore[arg-type]
