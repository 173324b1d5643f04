"""What is versioned in Redis: the routing rules in ``{rules:NS}`` (one activation script), and what
admins edit live in ``{cfg:NS}``.
"""

from __future__ import annotations

from router.store.keys.base import KeysBase


class VersionKeys(KeysBase):
    """Keys of rule versions and live configuration versions, and their channels."""

    __slots__ = ()

    @property
    def rules_prefix(self) -> str:
        """Prefix of the rule-version keys."""
        return f"{{rules:{self.ns}}}:"

    @property
    def rules_active(self) -> str:
        """String: id of the active rule version ('v7'); every process decides with it."""
        return f"{self.rules_prefix}active"

    @property
    def rules_seq(self) -> str:
        """Counter: number of the last rule version, so version ids only ever grow."""
        return f"{self.rules_prefix}seq"

    @property
    def rules_log(self) -> str:
        """Sorted set: every rule version id scored by its number, for the version history."""
        return f"{self.rules_prefix}log"

    def rules_version(self, vid: str) -> str:
        """Hash: one rule version's YAML source, author, time, diff and summary; kept for ever
        so that any version can be read back, compared and rolled back to."""
        return f"{self.rules_prefix}v:{vid}"

    @property
    def rules_channel(self) -> str:
        """Pub/sub: a new rule version was activated; each process loads it (and also polls)."""
        return f"{self.rules_prefix}events"

    # Live configuration documents {cfg}: pools, business hours, shifts, quick replies and the
    # FAQ, edited in the console. Each kind (router/live/kinds.py) is versioned like the rules,
    # and one activation script (live_activate.lua) compares, numbers, stores and points in one step.

    def live_active(self, kind: str) -> str:
        """String: the active version id of one kind ('v3'); every process follows it."""
        return f"{{cfg:{self.ns}}}:{kind}:active"

    def live_seq(self, kind: str) -> str:
        """Counter: number of one kind's last version, so its ids only ever grow."""
        return f"{{cfg:{self.ns}}}:{kind}:seq"

    def live_log(self, kind: str) -> str:
        """Sorted set: one kind's version ids scored by number, for its history."""
        return f"{{cfg:{self.ns}}}:{kind}:log"

    def live_version(self, kind: str, vid: str) -> str:
        """Hash: one version's YAML source, author, time, diff and summary; kept for ever, so any
        version can be read back, compared and rolled back to."""
        return f"{{cfg:{self.ns}}}:{kind}:v:{vid}"

    @property
    def live_channel(self) -> str:
        """Pub/sub: a live configuration document has a new version ('kind vid'); every process
        applies it (and also polls)."""
        return f"{{cfg:{self.ns}}}:events"
