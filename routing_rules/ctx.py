"""The state of one check pass: the positioned YAML, the problems found, and typed readers.

Readers never raise: they record a ConfigError at the value's FILE:LINE:COL, saying what was
expected, and return None, so one pass reports every problem at once.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable
from typing import Any

from kefu_common.errors import ConfigError
from kefu_common.yamlpos import Path_, YamlDoc


def kind_of(value: Any) -> str:
    """How an admin would name the YAML type they wrote."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    choices = sorted(set(choices))
    hint = difflib.get_close_matches(word, choices, n=1)
    if hint:
        return f"; did you mean {hint[0]!r}?"
    return f"; known: {', '.join(choices)}" if choices else ""


BUILTIN_CHANNELS = ("webchat", "wechat", "telegram")


class Ctx:
    """Collects errors and warnings for one file."""

    def __init__(
        self,
        doc: YamlDoc,
        pools: Collection[str] | None = None,
        skills: Collection[str] | None = None,
        channels: Collection[str] | None = None,
    ) -> None:
        self.doc = doc
        self.channels = BUILTIN_CHANNELS if channels is None else tuple(channels)
        """Channel names a near miss of is worth a warning: the router passes its registered
        channels; on its own the engine knows the ones the router ships with."""
        self.pools = None if pools is None else frozenset(pools)
        self.skills = None if skills is None else frozenset(skills)
        self.errors: list[ConfigError] = []
        self.warnings: list[ConfigError] = []

    def err(self, path: Path_, message: str, *, key: bool = False) -> None:
        self.errors.append(self.doc.error(path, message, key=key))

    def warn(self, path: Path_, message: str, *, key: bool = False) -> None:
        # The prefix lives in the message so that str() prints FILE:LINE:COL: warning: ...
        self.warnings.append(self.doc.error(path, f"warning: {message}", key=key))

    def line_of(self, path: Path_) -> int:
        return self.doc.where(path)[0]

    def unknown_keys(self, path: Path_, allowed: Iterable[str]) -> None:
        self.errors.extend(self.doc.unknown_keys(path, allowed))

    def mapping(self, path: Path_, value: Any, what: str) -> dict[str, Any] | None:
        if isinstance(value, dict):
            return value
        self.err(path, f"{what}: expected a mapping, got {kind_of(value)}")
        return None

    def string(self, path: Path_, value: Any, what: str) -> str | None:
        if isinstance(value, str) and value.strip():
            return value
        got = "an empty string" if isinstance(value, str) else kind_of(value)
        if isinstance(value, bool):
            # YAML 1.1 reads yes/no/on/off as booleans, a classic surprise for names.
            got += " (YAML reads yes, no, on and off as booleans; put the name in quotes)"
        self.err(path, f"{what}: expected a string, got {got}")
        return None

    def strings(self, path: Path_, value: Any, what: str) -> tuple[str, ...] | None:
        """A string or a non-empty list of strings."""
        if isinstance(value, str) and value.strip():
            return (value,)
        if isinstance(value, list) and value:
            out = []
            for i, item in enumerate(value):
                s = self.string((*path, i), item, what)
                if s is None:
                    return None
                out.append(s)
            return tuple(out)
        got = "an empty list" if value == [] else kind_of(value)
        self.err(path, f"{what}: expected a string or a list of strings, got {got}")
        return None

    def boolean(self, path: Path_, value: Any, what: str) -> bool | None:
        if isinstance(value, bool):
            return value
        self.err(path, f"{what}: expected true or false, got {kind_of(value)}")
        return None

    def integer(self, path: Path_, value: Any, what: str) -> int | None:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        self.err(path, f"{what}: expected an integer, got {kind_of(value)}")
        return None

    def known(
        self, path: Path_, name: str, known: Collection[str] | None, what: str
    ) -> bool:
        """True when `known` is None (not checked) or holds `name`; else an error."""
        if known is None or name in known:
            return True
        self.err(path, f"unknown {what} {name!r}{did_you_mean(name, known)}")
        return False
