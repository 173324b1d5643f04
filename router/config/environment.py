"""`KEFU_*` environment overrides: the one place where the environment meets the settings.

Every single-valued setting inside a section has an environment name: `KEFU_` and its path in
capitals, joined by `_`. `redis.url` is `KEFU_REDIS_URL`, `worker.max_tries` is
`KEFU_WORKER_MAX_TRIES`, `channels.webchat.secret` is `KEFU_CHANNELS_WEBCHAT_SECRET`. Settings
inside lists (pools, agents, shifts, a channel's accounts) have none: they belong to one item,
and `X_env: NAME` in the file covers their secrets. Precedence, as starlette's `Config`: the
environment, then the file, then the default. A value that does not fit is refused with its name.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from functools import cache
from typing import Any, Union, get_args, get_origin

import msgspec

from adapters import registry
from kefu_common.errors import ConfigError

PREFIX = "KEFU_"
SOURCE = "<environment>"


def _section(tp: Any) -> type[msgspec.Struct] | None:
    """The struct a field holds (itself, or in `X | None`); None for a value."""
    if get_origin(tp) in (Union, types.UnionType):
        found = [s for s in map(_section, get_args(tp)) if s is not None]
        return found[0] if found else None
    return tp if isinstance(tp, type) and issubclass(tp, msgspec.Struct) else None


def _many(tp: Any) -> bool:
    """A list, tuple, set or mapping: per-item settings, not overridable from one variable."""
    if get_origin(tp) in (Union, types.UnionType):
        return any(_many(a) for a in get_args(tp))
    origin = get_origin(tp) or tp
    return isinstance(origin, type) and issubclass(origin, (list, tuple, set, frozenset, dict))


@cache
def names(root: type[msgspec.Struct]) -> dict[str, tuple[tuple[str, ...], Any]]:
    """Environment name -> (path in the settings, type), for every overridable setting."""
    out: dict[str, tuple[tuple[str, ...], Any]] = {}

    def walk(cls: type[msgspec.Struct], path: tuple[str, ...]) -> None:
        for f in msgspec.structs.fields(cls):
            here = (*path, f.name)
            section = _section(f.type)
            if not path and f.name == "channels":
                # Each channel's settings type is its own (adapters/registry.py); a channel with
                # one account (web chat) has names, one with a list of accounts has none.
                for channel in registry.names():
                    found = registry.get(channel)
                    if found is not None and not found.many:
                        walk(found.settings_type, (*here, channel))
            elif section is not None:
                walk(section, here)
            elif path and not _many(f.type):  # top-level values (source, base_dir) are not settings
                name = PREFIX + "_".join(here).upper()
                if name in out:
                    raise AssertionError(f"{name} names both {out[name][0]} and {here}")
                out[name] = (here, f.type)

    walk(root, ())
    return out


def apply(data: dict[str, Any], root: type[msgspec.Struct], environ: Mapping[str, str]) -> list[ConfigError]:
    """Put every set `KEFU_*` variable over the file's `data` (in place); the refusals."""
    errors: list[ConfigError] = []
    for name, (path, tp) in names(root).items():
        raw = environ.get(name)
        if raw is None:
            continue
        try:
            msgspec.convert(raw, tp, strict=False)
        except msgspec.ValidationError as exc:
            errors.append(ConfigError(f"{name}={raw!r}: {exc}", SOURCE))
            continue
        node = data
        for key in path[:-1]:
            child = node.get(key)
            node[key] = dict(child) if isinstance(child, dict) else {}
            node = node[key]
        node[path[-1]] = raw  # converted with the rest of the file, as its strings are
    return errors
