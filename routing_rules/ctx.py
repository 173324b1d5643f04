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
from routing_rules.problems import PROBLEMS, kind_code


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
    return _hint(word, choices)[0]


def _hint(word: str, choices: Iterable[str]) -> tuple[str, dict[str, Any]]:
    """The English suffix and the params it names: a suggestion, else the known names."""
    choices = sorted(set(choices))
    hint = difflib.get_close_matches(word, choices, n=1)
    if hint:
        return f"; did you mean {hint[0]!r}?", {"suggestion": hint[0]}
    return (f"; known: {', '.join(choices)}", {"known": choices}) if choices else ("", {})


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

    def err(self, path: Path_, message: str, code: str, *, key: bool = False,
            **params: Any) -> None:
        """One error at `path`: `message` in English, `code` (listed in problems.PROBLEMS) and
        `params` (the values the message names) for a console to word it in its language."""
        self.errors.append(self.doc.error(path, message, key=key, code=_listed(code), params=params))

    def warn(self, path: Path_, message: str, code: str, **params: Any) -> None:
        # The prefix lives in the message so that str() prints FILE:LINE:COL: warning: ...
        self.warnings.append(self.doc.error(path, f"warning: {message}", code=_listed(code),
                                            params=params))

    def line_of(self, path: Path_) -> int:
        return self.doc.where(path)[0]

    def unknown_keys(self, path: Path_, allowed: Iterable[str]) -> None:
        self.errors.extend(self.doc.unknown_keys(path, allowed))

    def mapping(self, path: Path_, value: Any, what: str) -> dict[str, Any] | None:
        if isinstance(value, dict):
            return value
        self.err(path, f"{what}: expected a mapping, got {kind_of(value)}", "expected_mapping",
                 what=what, got=kind_code(value))
        return None

    def string(self, path: Path_, value: Any, what: str) -> str | None:
        if isinstance(value, str) and value.strip():
            return value
        got = "an empty string" if isinstance(value, str) else kind_of(value)
        kind = "empty_string" if isinstance(value, str) else kind_code(value)
        if isinstance(value, bool):
            # YAML 1.1 reads yes/no/on/off as booleans, a classic surprise for names.
            got += " (YAML reads yes, no, on and off as booleans; put the name in quotes)"
        self.err(path, f"{what}: expected a string, got {got}", "expected_string", what=what,
                 got=kind, yes_no=isinstance(value, bool))
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
        self.err(path, f"{what}: expected a string or a list of strings, got {got}",
                 "expected_strings", what=what, got="empty_list" if value == [] else kind_code(value))
        return None

    def boolean(self, path: Path_, value: Any, what: str) -> bool | None:
        if isinstance(value, bool):
            return value
        self.err(path, f"{what}: expected true or false, got {kind_of(value)}", "expected_boolean",
                 what=what, got=kind_code(value))
        return None

    def integer(self, path: Path_, value: Any, what: str) -> int | None:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        self.err(path, f"{what}: expected an integer, got {kind_of(value)}", "expected_integer",
                 what=what, got=kind_code(value))
        return None

    def known(
        self, path: Path_, name: str, known: Collection[str] | None, what: str
    ) -> bool:
        """True when `known` is None (not checked) or holds `name`; else an error."""
        if known is None or name in known:
            return True
        suffix, hint = _hint(name, known)
        self.err(path, f"unknown {what} {name!r}{suffix}", "unknown_name", what=what, name=name, **hint)
        return False


def _listed(code: str) -> str:
    # A code the console's tables cannot know would show in English in every language.
    if code not in PROBLEMS:
        raise KeyError(f"problem code {code!r} is not listed in routing_rules/problems.py")
    return code
