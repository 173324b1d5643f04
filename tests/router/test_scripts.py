"""Rendering the Lua scripts: each routing script carries only the part of the prelude it reaches."""

from __future__ import annotations

import re

import pytest

from router.store.keys import Keys
from router.store.scripts import ROUTING, Scripts, assemble, render

KEYS = Keys("kefu")
DEFINED = re.compile(r"^local function ([A-Za-z_]\w*)", re.M)


def defined(src: str) -> set[str]:
    return set(DEFINED.findall(src))


def test_a_script_gets_what_it_reaches_and_no_more() -> None:
    choose = defined(render("choose", KEYS))
    # choose -> scan_ordered -> break_tie -> read_levels -> key_skill_levels: reached through other units.
    assert {"choose", "scan_ordered", "break_tie", "read_levels", "key_skill_levels", "record_json"} <= choose
    # The SLA clocks and the assignment side effects are not reached from a dry run.
    assert not {"sla_start", "assign", "emit", "drain_pool"} & choose
    route = defined(render("route", KEYS))
    assert {"sla_start", "queue_and_offer", "assign", "choose", "emit"} <= route


def test_order_is_kept_so_every_local_is_defined_above_its_use() -> None:
    src = render("route", KEYS)
    names = DEFINED.findall(src)
    for a, b in (("key_conv", "move"), ("choose", "assign"), ("assign", "queue_and_offer")):
        assert names.index(a) < names.index(b)


def test_words_in_strings_and_comments_pull_nothing_in() -> None:
    src = assemble("-- assign emit drain_pool\nreturn {'sla_start', \"queue_frame\"}", KEYS)
    assert defined(src) == set()
    assert defined(assemble("return key_conv('x')", KEYS)) == {"key_conv"}


def test_scripts_are_much_smaller_than_the_whole_prelude() -> None:
    whole = len(defined(render("sla_fire", KEYS)))
    sizes = {name: len(defined(render(name, KEYS))) for name in ROUTING}
    assert sizes["reply"] < whole / 3 and sizes["choose"] < whole / 2
    assert len(set(Scripts(KEYS).sha.values())) == len(Scripts(KEYS).sha)  # all distinct


@pytest.mark.parametrize("name", ROUTING)
def test_every_prelude_name_a_script_uses_is_defined_in_it(name: str) -> None:
    """Independent of the renderer's own walk: any word in the script's code that names a prelude
    function must be defined in the script (Redis would fail at run time on a missing local)."""
    every = defined(render("sla_fire", KEYS)) | defined(render("route", KEYS)) | defined(render("status", KEYS))
    src = render(name, KEYS)
    code = re.sub(r"--[^\n]*|'(?:\\.|[^'\\\n])*'|\"(?:\\.|[^\"\\\n])*\"", "", src)
    used = set(re.findall(r"\b([A-Za-z_]\w*)\s*\(", code))
    assert (used & every) <= defined(src)
