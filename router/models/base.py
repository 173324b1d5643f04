"""What every model module shares: a channel's name and the ids the router makes."""

from __future__ import annotations

import random
import re
import time
from typing import NewType

Channel = NewType("Channel", str)
"""A channel's name, as its adapter registers it (adapters/registry.py): an open set, so a new
channel needs no change here."""

WEBCHAT = Channel("webchat")
"""The shop's own web chat, which the router serves itself (its widget, page and socket)."""


def new_id(prefix: str) -> str:
    """Time-ordered, collision-safe id: sortable by creation, readable in logs. Not a secret: the
    40 random bits come from `random`, seeded from the OS per process and again in a forked child,
    since os.urandom's system call per id was 2% of a busy process's samples (several ids per
    message)."""
    return f"{prefix}_{time.time_ns() // 1000:x}{random.getrandbits(40):010x}"


_ID_BODY = re.compile(r"[0-9a-f]{16,32}")


def could_be_id(prefix: str, value: str) -> bool:
    """Whether `value` has the shape new_id(prefix) gives, so a store could hold it: what never
    had that shape is unknown everywhere, without asking a store that may be down."""
    head, sep, body = value.partition("_")
    return head == prefix and sep == "_" and _ID_BODY.fullmatch(body) is not None
