"""Key names have one source: the Lua scripts get them rendered from `Keys`, and agree with it.

Every key, for awkward sample ids, is built by the rendered Lua on a private redis-server and
compared with what Python builds; and no script spells a key by hand.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from router.store import lua_keys
from router.store.keys import Keys
from router.store.scripts import render

LUA = Path(__file__).resolve().parents[2] / "router" / "store" / "lua"
SAMPLES = ("c_1f2e", "it's", "back\\slash", "a:b", "{brace}", "客服-42")
"""Ids with the characters a hand-made Lua string would get wrong."""


@pytest.mark.parametrize("ns", ["kefu", "shop-7"])
async def test_every_key_rendered_in_lua_is_the_one_python_builds(redis_url: str, ns: str) -> None:
    keys = Keys(ns)
    expected: list[str] = []
    calls: list[str] = []
    argv: list[str] = []
    for i, (name, params) in enumerate(lua_keys.names(keys).items()):
        if not params:
            expected.append(getattr(keys, name))
            calls.append(lua_keys.lua_name(name, params))
            continue
        args = [SAMPLES[(i + j) % len(SAMPLES)] for j in range(len(params))]
        expected.append(getattr(keys, name)(*args))
        calls.append(f"key_{name}({', '.join(f'ARGV[{len(argv) + k + 1}]' for k in range(len(args)))})")
        argv.extend(args)
    script = lua_keys.render(keys) + "return {" + ", ".join(calls) + "}"
    client = aioredis.from_url(redis_url, decode_responses=True)
    try:
        got = await client.eval(script, 0, *argv)
    finally:
        await client.aclose()
    assert got == expected
    assert len(expected) > 60  # every key, not a few


def key_fragments(keys: Keys) -> set[str]:
    """The literal pieces of key names below the namespace, that a hand-made key would contain:
    'conv:', ':convs', 'timers:due', ... (pieces with a ':' in them; hash fields have none)."""
    out = set()
    for name, params in lua_keys.names(keys).items():
        whole = getattr(keys, name)(*(f"\x00{p}\x00" for p in params)) if params else getattr(keys, name)
        for piece in re.split("\x00[a-z_]+\x00", whole):
            piece = re.sub(r"^(" + re.escape(keys.ns) + r":)?(\{[a-z]+:" + re.escape(keys.ns) + r"[^}]*\}:)?", "", piece)
            if ":" in piece and re.search("[a-z]", piece):
                out.add(piece)
    return out


NOT_KEYS = frozenset({"qtext:"})
"""Literals that look like a key's piece but are not keys: 'qtext:<cid>' is a timer's id."""


def hand_made_keys(source: str, fragments: set[str]) -> list[str]:
    literals = re.findall(r"'((?:\\.|[^'\\\n])*)'", re.sub(r"--[^\n]*", "", source))
    return [lit for lit in literals
            if (lit in fragments and lit not in NOT_KEYS) or "{rt" in lit or "kefu" in lit]


def test_no_script_spells_a_key_by_hand() -> None:
    fragments = key_fragments(Keys())
    assert {"conv:", ":convs", "timers:due", "bot:due"} <= fragments
    found = {p.name: hand_made_keys(p.read_text(encoding="utf-8"), fragments) for p in sorted(LUA.glob("*.lua"))}
    assert {name: lits for name, lits in found.items() if lits} == {}
    assert not re.search(r"\bRT\b|__RT__", "".join(p.read_text(encoding="utf-8") for p in LUA.glob("*.lua")))
    # The checker sees the old way of doing it.
    assert hand_made_keys("local k = RT .. 'conv:' .. cid .. ':x'\nlocal q = RT .. 'bot:due'", fragments) == [
        "conv:", "bot:due"]


def test_a_new_namespace_reaches_every_script() -> None:
    """The namespace lives in Keys only: a script rendered for another shop names its keys."""
    src = render("route", Keys("shop-7"))
    assert f"'{Keys('shop-7').conv('')}'" in src and "kefu" not in src
