"""The audit log in the archive: the copy of the Redis stream that lasts, and its reads.

Redis keeps the newest entries (a capped stream); `AuditCopier` copies each entry here under its
stream id. Every process runs one: each reads the newest id the archive has and inserts what
follows, and an insert of an id already there does nothing, so two copiers racing write each
entry once. A database outage only delays the copy, unless it lasts past the stream's cap.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from router.archive.db import DB_ERRORS, Archive
from router.archive.schema import audit
from router.pipeline.streams import keep_going
from router.store import Store
from router.supervisor import Loop

log = logging.getLogger("kefu.audit")

BATCH = 500


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """What GET /api/v1/audit narrows to; empty strings and None match everything. `action` and
    `target` ending in '*' match a prefix ('rules.*')."""

    actor: str = ""
    action: str = ""
    target: str = ""
    since: float | None = None
    until: float | None = None

    def matches(self, e: dict[str, Any]) -> bool:
        if self.actor and e.get("actor") != self.actor:
            return False
        if not _like(self.action, str(e.get("action", ""))) or not _like(self.target, str(e.get("target", ""))):
            return False
        at = float(e.get("at") or 0)
        return (self.since is None or at >= self.since) and (self.until is None or at <= self.until)


def _like(pattern: str, value: str) -> bool:
    if not pattern:
        return True
    if pattern.endswith("*"):
        return value.startswith(pattern[:-1])
    return value == pattern


def split_id(eid: str) -> tuple[int, int]:
    ms, _, seq = eid.partition("-")
    return int(ms), int(seq or 0)


def row_of(eid: str, fields: dict[str, str]) -> dict[str, Any]:
    ms, seq = split_id(eid)
    return {"id": eid, "ms": ms, "seq": seq, "at": float(fields.get("at") or ms / 1000),
            "actor": fields.get("actor", ""), "actor_name": fields.get("name", ""), "role": fields.get("role", ""),
            "action": fields.get("action", ""), "target": fields.get("target", "")[:256],
            "addr": fields.get("addr", "")[:64], "before": fields.get("before") or None,
            "after": fields.get("after") or None, "detail": fields.get("detail") or None}


def view_of_row(r: Any) -> dict[str, Any]:
    """An archived row in the API's shape (router.ops.audit.view)."""
    return {"id": r["id"], "at": r["at"], "actor": r["actor"], "actor_name": r["actor_name"], "role": r["role"],
            "action": r["action"], "target": r["target"], "addr": r["addr"],
            "before": json.loads(r["before"]) if r["before"] else None,
            "after": json.loads(r["after"]) if r["after"] else None,
            "detail": json.loads(r["detail"]) if r["detail"] else None}


async def write(archive: Archive, rows: Sequence[dict[str, Any]]) -> None:
    """Insert the rows; ids already there are left as they are."""
    if not rows:
        return
    dialect: Any = sqlite if archive.dialect == "sqlite" else postgresql
    stmt = dialect.insert(audit).on_conflict_do_nothing(index_elements=["id"])
    async with archive.engine.begin() as conn:
        await conn.execute(stmt, list(rows))


async def newest_id(archive: Archive) -> str:
    """The newest entry the archive holds, '0-0' when none."""
    async with archive.engine.connect() as conn:
        row = (await conn.execute(sa.select(audit.c.id).order_by(audit.c.ms.desc(), audit.c.seq.desc())
                                  .limit(1))).first()
    return str(row[0]) if row else "0-0"


async def page(archive: Archive, f: AuditFilter, before: str | None, limit: int) -> list[dict[str, Any]]:
    """Up to `limit` entries older than the stream id `before` (None: from the newest), newest first."""
    q = sa.select(audit)
    if before is not None:
        ms, seq = split_id(before)
        q = q.where(sa.or_(audit.c.ms < ms, sa.and_(audit.c.ms == ms, audit.c.seq < seq)))
    if f.actor:
        q = q.where(audit.c.actor == f.actor)
    for col, pattern in ((audit.c.action, f.action), (audit.c.target, f.target)):
        if pattern.endswith("*"):
            prefix = pattern[:-1].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            q = q.where(col.like(prefix + "%", escape="\\"))
        elif pattern:
            q = q.where(col == pattern)
    if f.since is not None:
        q = q.where(audit.c.at >= f.since)
    if f.until is not None:
        q = q.where(audit.c.at <= f.until)
    q = q.order_by(audit.c.ms.desc(), audit.c.seq.desc()).limit(limit)
    async with archive.engine.connect() as conn:
        rows = (await conn.execute(q)).mappings().all()
    return [view_of_row(r) for r in rows]


class AuditCopier(Loop):
    """Copies the audit stream into the archive, a batch at a time, once the archive is migrated."""

    name = "audit copier"

    def __init__(self, store: Store, archive: Archive, poll_s: float = 1.0, max_poll_s: float = 30.0) -> None:
        super().__init__()
        self.store = store
        self.archive = archive
        self.poll_s = poll_s
        self.max_poll_s = max_poll_s
        """An idle copier looks half as often each time it finds nothing, down to this: a record
        made in this process wakes it at once, and what another process's copier missed (it died
        first) is copied within this long. Polling every second was 3% of a busy process's samples."""
        self._idle_s = poll_s
        self._mark: str | None = None
        """The newest entry this copier knows the archive holds; None: ask the archive."""
        self.copied = 0

    async def run(self) -> None:
        while not self.archive.ready.is_set():  # the archive worker migrates it
            if self._stopping.is_set():
                return
            await self.pause(0.5)
        await keep_going(log, "audit copier", self._stopping, self._turn)

    async def _turn(self) -> None:
        woken = self._wake.is_set()
        self._wake.clear()  # before looking: an entry added meanwhile wakes the next look
        try:
            copied_before = self.copied
            more = await self.copy_once()
        except DB_ERRORS as exc:
            self._mark = None  # what the archive holds is asked again once it answers
            log.warning("audit copier: the archive did not answer, retrying in 5s: %s", exc)
            await self.pause(5.0)
            return
        if more:
            return
        if woken or self.copied > copied_before:
            self._idle_s = self.poll_s
        else:
            self._idle_s = min(self._idle_s * 2, self.max_poll_s)
        await self.pause(self._idle_s)

    async def copy_once(self) -> bool:
        """Copy the next batch; True when there may be more right away. The archive is asked for
        its newest entry once; after that this copier goes on from what it wrote (another copier's
        rows after it are written again, which changes nothing)."""
        if self._mark is None:
            self._mark = await newest_id(self.archive)
        rows = await self.store.audit.after(self._mark, BATCH)
        await write(self.archive, [row_of(eid, fields) for eid, fields in rows])
        if rows:
            self._mark = rows[-1][0]
        self.copied += len(rows)
        return len(rows) == BATCH
