"""The audit log's Redis stream ({audit} slot): append, page backwards, read forwards for the
archive's copy. Entries are flat string fields; router/ops/audit.py says what they mean."""

from __future__ import annotations

from typing import Any

from router.store.keys import Keys

Entry = tuple[str, dict[str, str]]


class AuditRecords:
    def __init__(self, client: Any, keys: Keys) -> None:
        self._r = client
        self._k = keys

    async def append(self, fields: dict[str, str], max_len: int) -> str:
        """Add one entry; the stream is trimmed to about `max_len` (whole nodes, cheap)."""
        eid: str = await self._r.xadd(self._k.audit_log, fields, maxlen=max_len, approximate=True)
        return eid

    async def newest_first(self, before: str, count: int) -> list[Entry]:
        """Up to `count` entries older than `before` ('+' for the newest), newest first."""
        top = "+" if before == "+" else f"({before}"
        rows: list[Entry] = await self._r.xrevrange(self._k.audit_log, max=top, min="-", count=count)
        return rows

    async def after(self, after: str, count: int) -> list[Entry]:
        """Up to `count` entries newer than `after` ('0-0' for the oldest kept), oldest first."""
        rows: list[Entry] = await self._r.xrange(self._k.audit_log, min=f"({after}", max="+", count=count)
        return rows

    async def oldest_id(self) -> str | None:
        """The oldest entry still in Redis; None when the stream is empty."""
        rows = await self._r.xrange(self._k.audit_log, count=1)
        return str(rows[0][0]) if rows else None

    async def length(self) -> int:
        return int(await self._r.xlen(self._k.audit_log))
