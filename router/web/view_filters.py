"""Filters of the conversation views (issue 19): pool, channel, tag, and for the `recent` view how
many days back a close counts. One parsed set of filters answers for both phases of a listing:
`fits` for the conversations Redis holds, `where` plus `fits` for the archive's rows.

Tags are the routing decision's tags (a rule's `tags:`), kept in the decision record. The
archive keeps that record as JSON text, so it is narrowed there with LIKE and checked exactly
here; a tag is letters, digits, `_ . -` only, so the LIKE needs no escaping beyond `_`.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from adapters import registry
from kefu_common.errors import ProtocolError

_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_TAG = re.compile(r"^[\w.-]{1,64}$")
DAY_S = 86400
RECENT_DAYS = 7
"""The `recent` view's span when `days` is not given."""
MAX_DAYS = 365


@dataclass(frozen=True, slots=True)
class Filters:
    pool: str | None = None
    channel: str | None = None
    tag: str | None = None
    closed_since: float | None = None
    """Only conversations closed at or after this time (the `recent` view)."""

    @property
    def any(self) -> bool:
        return bool(self.pool or self.channel or self.tag or self.closed_since is not None)

    def fits(self, conv: dict[str, Any]) -> bool:
        """Whether a conversation (as the API shows it, live or archived) passes every filter."""
        if self.pool and conv.get("pool") != self.pool:
            return False
        if self.channel and conv.get("channel") != self.channel:
            return False
        if self.tag and self.tag not in tags_of(conv):
            return False
        if self.closed_since is not None:
            return conv.get("state") == "closed" and (conv.get("closed_at") or 0) >= self.closed_since
        return True

    def where(self, c: Any) -> list[Any]:
        """The archive's SQL conditions for these filters (`c`: the conversations table's columns)."""
        out: list[Any] = []
        if self.pool:
            out.append(c.pool == self.pool)
        if self.channel:
            out.append(c.channel == self.channel)
        if self.tag:
            out.append(c.decision.like("%" + self.tag.replace("_", "\\_") + "%", escape="\\"))
        if self.closed_since is not None:
            out.append(c.closed_at >= self.closed_since)
        return out

    def query(self) -> dict[str, str]:
        """The filters as query parameters (echoed in the answer, so a client sees what applied)."""
        out = {k: v for k, v in (("pool", self.pool), ("channel", self.channel), ("tag", self.tag)) if v}
        if self.closed_since is not None:
            out["closed_since"] = f"{self.closed_since:.3f}"
        return out


def tags_of(conv: dict[str, Any]) -> list[str]:
    decision = conv.get("decision")
    tags = decision.get("tags") if isinstance(decision, dict) else None
    return [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []


def parse(request: web.Request, view_name: str, now: float | None = None) -> Filters:
    """The filters a listing asked for; a bad value is a 400 with the reason, before any read."""
    q = request.query
    pool = q.get("pool", "").strip() or None
    if pool is not None and not _ID.match(pool):
        raise ProtocolError("bad_query", "pool must be a pool id (letters, digits, _ . -, at most 64)")
    channel = q.get("channel", "").strip() or None
    if channel is not None and channel not in registry.names():
        raise ProtocolError("bad_query", f"channel must be one of {', '.join(registry.names())}")
    tag = q.get("tag", "").strip() or None
    if tag is not None and not _TAG.match(tag):
        raise ProtocolError("bad_query", "tag must be one word (letters, digits, _ . -, at most 64)")
    raw_days = q.get("days", "").strip()
    if raw_days and view_name != "recent":
        raise ProtocolError("bad_query", "days applies to view=recent only")
    closed_since = None
    if view_name == "recent":
        try:
            days = int(raw_days) if raw_days else RECENT_DAYS
        except ValueError:
            raise ProtocolError("bad_query", "days must be a whole number") from None
        if not 1 <= days <= MAX_DAYS:
            raise ProtocolError("bad_query", f"days must be 1 to {MAX_DAYS}")
        closed_since = (time.time() if now is None else now) - days * DAY_S
    return Filters(pool, channel, tag, closed_since)

