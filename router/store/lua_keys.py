"""Key names for the Lua scripts, rendered from `Keys`, so Python and Lua share one source.

Every `Keys` property becomes a Lua constant and every method a Lua function of the same
arguments, named after it: `keys.conv(cid)` is `key_conv(cid)` and `keys.conv_index` is
`KEY_CONV_INDEX`. Scripts never spell a key themselves; scripts.py puts the ones a script reaches
in front of its body, as it does with the rest of the prelude. A change to a key's name or hash
tag in router/store/keys/ is a change to every script that uses it.
"""

from __future__ import annotations

import inspect
import re

from router.store.keys import Keys

# Prefixes, not keys: a script that used them would be spelling a key by hand again; and the
# partition switch, since scripts get a partition's stream keys in KEYS.
_NOT_KEYS = frozenset({"ns", "rt", "rules_prefix", "part", "partition", "partition_of"})
_MARK = "\x00"


def _lua_string(s: str) -> str:
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'"


def _concat(template: str, params: list[str]) -> str:
    """A Lua expression for `template`, where each marked parameter becomes the Lua argument."""
    parts = re.split(f"{_MARK}([a-z_]+){_MARK}", template)
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            if part not in params:
                raise ValueError(f"unexpected placeholder {part!r}")
            out.append(part)
        elif part:
            out.append(_lua_string(part))
    return " .. ".join(out) or "''"


def names(keys: Keys) -> dict[str, list[str]]:
    """Each key's name in `Keys` and its parameters ([] for a property)."""
    out: dict[str, list[str]] = {}
    for name, member in inspect.getmembers(type(keys)):
        if name.startswith("_") or name in _NOT_KEYS:
            continue
        if isinstance(member, property):
            out[name] = []
        elif inspect.isfunction(member):
            out[name] = [p for p in inspect.signature(member).parameters if p != "self"]
    return out


def lua_name(name: str, params: list[str]) -> str:
    return f"key_{name}" if params else f"KEY_{name.upper()}"


def render(keys: Keys) -> str:
    """One `local` per key, in name order (none uses another)."""
    lines = ["-- Key names, rendered from router/store/keys/ by router/store/lua_keys.py."]
    # Frames go on shard channels where the server has them (>= 7: REDIS_VERSION_NUM is new in 7.0),
    # as router/store/pubsub.py subscribes; the channels are tagged like the keys published beside.
    lines.append("local PUBLISH = (redis.REDIS_VERSION_NUM or 0) >= 0x070000 and 'SPUBLISH' or 'PUBLISH'")
    for name, params in names(keys).items():
        if params:
            template = getattr(keys, name)(*(f"{_MARK}{p}{_MARK}" for p in params))
            lines.append(f"local function key_{name}({', '.join(params)}) return {_concat(template, params)} end")
        else:
            lines.append(f"local {lua_name(name, params)} = {_lua_string(getattr(keys, name))}")
    return "\n".join(lines) + "\n"
