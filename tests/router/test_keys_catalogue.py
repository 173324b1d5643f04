"""The key catalogue stays one catalogue though it is split into modules (router/store/keys/).

Each module of the package is a group of keys, a `KeysBase` mixin; `Keys` must take in every
group, no name may be defined in two groups (the later base would silently hide the other), and
every key says what it is and why in its docstring. Every key, built with sample ids, belongs to
its namespace and to no other, so a shop's keys never reach another shop's.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import router.store.keys as keys_pkg
from router.store import lua_keys
from router.store.keys import Keys, in_namespace
from router.store.keys.base import KeysBase

KINDS = ("String", "Hash", "Set", "Sorted set", "List", "Stream", "Counter", "Pub/sub", "Any key", "The same key")
"""How a key's docstring starts: the Redis type it holds (or, for `channel_state` and
`identity_of`, what it stands for)."""


def groups() -> list[type[KeysBase]]:
    """Every `KeysBase` subclass defined in a module of the package."""
    found: list[type[KeysBase]] = []
    for info in pkgutil.iter_modules(keys_pkg.__path__):
        module = importlib.import_module(f"{keys_pkg.__name__}.{info.name}")
        found.extend(obj for _, obj in inspect.getmembers(module, inspect.isclass)
                     if issubclass(obj, KeysBase) and obj is not KeysBase and obj.__module__ == module.__name__)
    return found


def test_the_package_has_its_groups() -> None:
    assert len(groups()) >= 10


def test_keys_takes_in_every_group() -> None:
    left_out = [g.__name__ for g in groups() if g not in Keys.__mro__]
    assert not left_out, f"groups of keys not among Keys' bases: {left_out}"


def test_no_key_is_defined_in_two_groups() -> None:
    seen: dict[str, str] = {}
    twice = []
    for group in [*groups(), KeysBase]:
        for name in vars(group):
            if name.startswith("__"):
                continue
            if name in seen:
                twice.append(f"{name}: {seen[name]} and {group.__name__}")
            seen[name] = group.__name__
    assert not twice


def test_every_key_says_what_it_is() -> None:
    undocumented = []
    for name in lua_keys.names(Keys()):
        doc = inspect.getdoc(getattr(Keys, name)) or ""
        if not doc.startswith(KINDS):
            undocumented.append(name)
    assert not undocumented, f"keys whose docstring does not start with their kind: {undocumented}"


@pytest.mark.parametrize("ns", ["kefu", "shop-7", "客服"])
def test_every_key_is_in_its_namespace_and_no_other(ns: str) -> None:
    keys = Keys(ns)
    names = lua_keys.names(keys)
    assert len(names) > 120
    for part in (0, 3):
        k = keys.partition(part)
        for name, params in names.items():
            if name == "barrier":
                value = k.barrier(k.conv("c1"))
            elif params:
                value = getattr(k, name)(*(f"{p}-1" for p in params))
            else:
                value = getattr(k, name)
            assert in_namespace(value, ns), (name, value)
            assert not in_namespace(value, "other"), (name, value)
