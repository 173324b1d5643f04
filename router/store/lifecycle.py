"""The conversation state machine: the one place that says which changes are legal.

    new ──> bot ──> queued ──> assigned ──> closed
     │       │        ^  │        │  ^         │
     │       └────────┼──┼────────┘  │(transfer)│
     └────────────────┘  └── closed  └──────────┘ reopen: closed -> new

The Lua scripts that move conversations in Redis get this table, rendered by `lua_table()`; they
are the only code that moves a conversation, so this is where what is legal is said.
"""

from __future__ import annotations

from router.models import ConversationState as S

TRANSITIONS: dict[S, frozenset[S]] = {
    S.NEW: frozenset({S.BOT, S.QUEUED}),
    S.BOT: frozenset({S.QUEUED, S.CLOSED}),
    S.QUEUED: frozenset({S.ASSIGNED, S.CLOSED}),
    # assigned -> assigned is a transfer straight to another agent; -> queued is a requeue
    # (agent went offline, transfer to a full pool).
    S.ASSIGNED: frozenset({S.ASSIGNED, S.QUEUED, S.CLOSED}),
    S.CLOSED: frozenset({S.NEW}),
}

def lua_table() -> str:
    """The transition table as a Lua expression: {new={bot=true,...},...}."""
    rows = []
    for src, targets in sorted(TRANSITIONS.items(), key=lambda kv: kv[0].value):
        inner = ",".join(f"{t.value}=true" for t in sorted(targets, key=lambda s: s.value))
        rows.append(f"{src.value}={{{inner}}}")
    return "{" + ",".join(rows) + "}"
