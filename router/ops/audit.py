"""The audit log: an append-only record of every change a person makes.

Each entry says who (the signed-in principal, or nobody for the system acting on a person's
behalf, e.g. a lockout), when, from where (the client address, through the trusted proxies of
router/web/proxy.py), what (an action such as 'rules.activate' and its target) and how (the
state before and after, and any detail). Secret-looking fields are replaced before anything is
stored: passwords, one-time codes, TOTP secrets, tokens and API keys never reach the log.

Entries go to a capped Redis stream (keys.audit_log) at once, and from there to the archive's
`audit` table (router/archive/audit.py), which keeps them. Reads page newest first through Redis,
then on into the archive for what Redis no longer holds.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from router.archive import audit as archived
from router.archive.audit import AuditFilter
from router.archive.db import DB_ERRORS, Archive
from router.store import Store

if TYPE_CHECKING:
    from router.auth import Principal

REDACTED = "[redacted]"

SECRET_FIELD = re.compile(
    r"pass(word|wd|phrase)?|otp|totp|secret|token|api_?key|apikey|key_hash|hash|cookie|authorization"
    r"|credential|private_key|session|signature", re.IGNORECASE)
"""Field names whose values never go into the log, at any depth ('password_hash', 'totp_secret',
'token_env', 'api_key' ...): the entry keeps the field, so a reader sees that it changed."""

REDIS_MAX_ENTRIES = 100_000
"""The Redis stream keeps about this many newest entries; the archive keeps them all."""

SCAN_BATCH = 500


def scrub(value: Any) -> Any:
    """`value` with every secret-looking field's value replaced, recursively; JSON-safe."""
    if isinstance(value, Mapping):
        return {str(k): (REDACTED if value[k] not in (None, "") else value[k]) if SECRET_FIELD.search(str(k))
                else scrub(value[k]) for k in value}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [scrub(v) for v in items]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _dump(value: Mapping[str, Any] | None) -> str:
    return "" if value is None else json.dumps(scrub(value), ensure_ascii=False, sort_keys=True)


def _load(raw: str | None) -> Any:
    return json.loads(raw) if raw else None


def view(eid: str, fields: Mapping[str, str]) -> dict[str, Any]:
    """A stream entry in the API's shape."""
    return {"id": eid, "at": float(fields.get("at") or 0), "actor": fields.get("actor", ""),
            "actor_name": fields.get("name", ""), "role": fields.get("role", ""),
            "action": fields.get("action", ""), "target": fields.get("target", ""), "addr": fields.get("addr", ""),
            "before": _load(fields.get("before")), "after": _load(fields.get("after")),
            "detail": _load(fields.get("detail"))}


class Audit:
    """Record and read the audit log (rt.audit)."""

    def __init__(self, store: Store, archive: Archive | None = None, *, max_entries: int = REDIS_MAX_ENTRIES,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.archive = archive
        self.max_entries = max_entries
        self.clock = clock
        self.on_record: list[Callable[[], None]] = []
        """Called after each entry (the archive copier's wake-up)."""

    async def record(self, who: Principal | None, action: str, target: str, *,
                     before: Mapping[str, Any] | None = None, after: Mapping[str, Any] | None = None,
                     addr: str = "", detail: Mapping[str, Any] | None = None) -> None:
        """Append one entry. Raises the store's errors: a change that cannot be recorded is not
        silently unrecorded."""
        role = getattr(who, "role", None) if who is not None else None
        fields = {
            "at": repr(self.clock()), "actor": who.agent_id if who is not None else "",
            "name": str(getattr(who, "name", "") or "") if who is not None else "",
            "role": str(getattr(role, "value", role or "")), "action": action, "target": target,
            "addr": addr or "", "before": _dump(before), "after": _dump(after), "detail": _dump(detail),
        }
        await self.store.audit.append(fields, self.max_entries)
        for wake in self.on_record:
            wake()

    async def query(self, f: AuditFilter, cursor: str | None = None,
                    limit: int = 50) -> tuple[list[dict[str, Any]], str | None, bool]:
        """A page of entries matching `f`, newest first, older than `cursor` (an entry id).

        Returns (entries, the cursor of the next page or None at the end, whether the archive
        could be read when the page needed it)."""
        out: list[dict[str, Any]] = []
        pos = cursor or "+"
        last_seen: str | None = None
        while True:
            rows = await self.store.audit.newest_first(pos, SCAN_BATCH)
            for eid, fields in rows:
                last_seen = eid
                entry = view(eid, fields)
                if f.since is not None and entry["at"] < f.since:
                    return out, None, True  # older than asked: the page ends here
                if f.matches(entry):
                    out.append(entry)
                    if len(out) == limit:
                        return out, eid, True
            if len(rows) < SCAN_BATCH:
                break
            pos = rows[-1][0]
        # Redis has no more; the archive may hold older entries that were trimmed from it.
        if self.archive is None or not self.archive.ready.is_set():
            return out, None, self.archive is None
        older_than = last_seen or (None if pos == "+" else pos)
        try:
            rows_db = await archived.page(self.archive, f, older_than, limit - len(out) + 1)
        except DB_ERRORS:
            return out, None, False
        more = len(rows_db) > limit - len(out)
        out += rows_db[:limit - len(out)]
        return out, (out[-1]["id"] if more and out else None), True
