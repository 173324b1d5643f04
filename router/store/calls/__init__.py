"""Typed calls of the Lua scripts: one argument struct per script, with its result struct.

A call is a frozen dataclass whose fields are the script's ARGV in order; `Store.run(call)` runs
it and returns `call.result(reply)`, so no caller counts positions or unpacks a reply by hand.
Booleans travel as '1'/'0', lists and dicts as JSON, None as ''.

A script refuses with `{'err', reason, ...}`. Calls that can be refused set `refusal` to what
they were doing (and, if needed, statuses by reason); the store turns such a reply into
`ProtocolError.refusal` in one place (`decode`), and callers only ever see a success.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Generic, TypeVar

from kefu_common.errors import ProtocolError
from router.store.keys import Keys

R = TypeVar("R", covariant=True)  # a call is read for its result only: Call[Added] is a Call[Added | Taken]


def _arg(value: Any) -> Any:
    if isinstance(value, bool):
        return "1" if value else "0"
    if value is None:
        return ""
    if isinstance(value, list | tuple | dict):
        return json.dumps(list(value) if isinstance(value, tuple) else value)
    return value


_NAMES: dict[type, tuple[str, ...]] = {}


def _names(cls: type) -> tuple[str, ...]:
    """A call class's field names in order, looked up once: `dataclasses.fields` builds its
    tuple anew on every call, and every script call of every line asked for it."""
    names = _NAMES.get(cls)
    if names is None:
        names = _NAMES[cls] = tuple(f.name for f in fields(cls))
    return names


@dataclass(frozen=True, slots=True)
class Call(Generic[R]):
    """One run of one script. Subclasses name the script and decode its reply."""

    script: ClassVar[str]
    statuses: ClassVar[Mapping[str, int]] = {}
    """HTTP status by refusal reason; unknown_* are 404 and the rest `refused_status`."""
    refused_status: ClassVar[int] = 409

    def keys(self, k: Keys) -> list[str]:
        """KEYS: the routing scripts' {rt} anchor, so Cluster sends them to the routing slot."""
        return [k.conv_index]

    def argv(self) -> list[Any]:
        return [_arg(getattr(self, name)) for name in _names(type(self))]

    def refusal(self) -> str | None:
        """What the call was doing, for a refusal's message; None when the script never refuses."""
        return None

    def result(self, reply: Any) -> R:
        raise NotImplementedError

    def decode(self, reply: Any) -> R:
        """The result, or the script's refusal as a ProtocolError."""
        doing = self.refusal()
        if doing is not None and isinstance(reply, list) and reply and reply[0] == "err":
            raise ProtocolError.refusal(reply[1], doing, self.statuses, self.refused_status)
        return self.result(reply)


def text(v: Any) -> str:
    return "" if v is None else str(v)


def opt(v: Any) -> str | None:
    return str(v) if v not in (None, "") else None
