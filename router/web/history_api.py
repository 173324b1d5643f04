"""History for people: search across archived and live conversations, and conversation views
with cursor paging (`mine`, `unassigned`, `open`, `closed`, `recent`, `all`) and filters
(router/web/view_filters.py)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import sqlalchemy as sa
from aiohttp import web

from kefu_common.errors import ProtocolError
from router.archive import reports
from router.archive.db import DB_ERRORS, view
from router.archive.schema import conversations
from router.archive.search import snippet_of
from router.archive.tokens import query_clauses, query_tokens
from router.auth import Principal
from router.models import Role
from router.runtime import RUNTIME, Runtime
from router.web.api import principal
from router.web.proxy import client
from router.web.view_filters import Filters
from router.web.view_filters import parse as parse_filters

routes = web.RouteTableDef()

VIEWS = ("mine", "unassigned", "open", "closed", "recent", "all")
OPEN_STATES = ("new", "bot", "queued", "assigned")
LIVE_SCAN = 500
"""Live conversations a search reads (newest first); older ones are in the archive."""
PAGE_MAX = 200


def when(request: web.Request, name: str) -> float | None:
    """An ISO 8601 time (or epoch seconds) from the query; None when absent."""
    raw = request.query.get(name, "").strip()
    if not raw:
        return None
    try:
        at = float(raw)
    except ValueError:
        pass
    else:
        if not math.isfinite(at):
            raise ProtocolError("bad_query", f"{name} must be a finite time")
        return at
    try:
        t = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ProtocolError("bad_query", f"{name} must be an ISO 8601 time like 2024-11-11T00:00:00+08:00") from None
    return (t if t.tzinfo else t.replace(tzinfo=dt.UTC)).timestamp()


def _limit(request: web.Request, default: int = 50) -> int:
    try:
        n = int(request.query.get("limit", str(default)))
    except ValueError:
        raise ProtocolError("bad_query", "limit must be a whole number") from None
    if not 1 <= n <= PAGE_MAX:
        raise ProtocolError("bad_query", f"limit must be 1 to {PAGE_MAX}")
    return n


@routes.get("/api/v1/search")
async def search(request: web.Request) -> web.Response:
    """Conversations whose messages, customer name or identities hold every word of `q`, live
    ones first, then the archive's, newest first. Agents find only their own conversations."""
    who = principal(request)
    rt = request.app[RUNTIME]
    q = request.query.get("q", "").strip()
    if not q:
        raise ProtocolError("bad_query", "q is required")
    if len(q) > 200:
        raise ProtocolError("bad_query", "q is longer than 200 characters")
    since, until = when(request, "from"), when(request, "to")
    if since is not None and until is not None and since > until:
        raise ProtocolError("bad_query", "from is after to")
    limit = _limit(request)
    toks = query_tokens(q)
    if not toks:
        raise ProtocolError("bad_query", "q has no word to look for")
    mine = None if who.can(Role.SUPERVISOR) else who.agent_id
    live = await _live_matches(rt, who, toks, since, until)
    try:
        # Until the archive is migrated (the first seconds after a start) only live ones count.
        archived = await rt.archive.search(toks, mine, since, until, limit, query_clauses(q)) \
            if rt.archive.ready.is_set() else []
    except DB_ERRORS:
        raise ProtocolError("archive_unavailable", "the archive database is not reachable; try again", 503) from None
    seen = {r["conversation_id"] for r in live}
    results = (live + [r for r in archived if r["conversation_id"] not in seen])[:limit]
    return web.json_response({"results": results, "tokens": toks})


async def _live_matches(rt: Runtime, who: Principal, toks: list[str], since: float | None,
                        until: float | None) -> list[dict[str, Any]]:
    if who.can(Role.SUPERVISOR):
        ids = await rt.store.conversations.recent_ids(LIVE_SCAN)
    else:
        ids = await rt.store.agents.conversation_ids(who.agent_id)
    out = []
    for conv in [c.view() for c in await rt.store.conversations.many(ids)]:
        if since is not None and (conv["updated"] or 0) < since:
            continue
        if until is not None and (conv["created"] or 0) > until:
            continue
        if not who.can(Role.SUPERVISOR) and conv["agent"] != who.agent_id:
            continue
        msgs = [m for m in await rt.store.transcripts.messages(conv["id"])
                if who.can(Role.SUPERVISOR) or m.whisper_to() in (None, who.agent_id)]
        customer = await rt.store.customer(conv["customer_id"] or "") or {}
        hay = "\n".join([m.text for m in msgs] + [customer.get("name", "")] + customer.get("identities", [])).lower()
        if all(t in hay for t in toks):
            snippet, ts = snippet_of([(m.text, m.ts) for m in msgs], toks, conv["updated"] or 0.0)
            out.append({"conversation_id": conv["id"], "customer_id": conv["customer_id"],
                        "customer_name": customer.get("name", ""), "channel": conv["channel"], "agent": conv["agent"],
                        "snippet": snippet, "ts": ts, "state": conv["state"], "archived": False})
    out.sort(key=lambda r: r["ts"], reverse=True)
    return out


@routes.get("/api/v1/conversations")
async def list_conversations(request: web.Request) -> web.Response:
    """One page of a view, newest first, and the cursor of the next page (null at the end).

    mine: the caller's open conversations and those they closed; unassigned: waiting for a
    person (new, bot, queued); open: every conversation not closed; closed: closed ones, from
    Redis while it holds them, then from the archive; recent: closed in the last `days` (7);
    all: open and closed. Agents see only their own conversations in every view. ?pool=,
    ?channel=, ?tag= (the routing decision's tags) and ?state= narrow further; pass them again
    with each cursor."""
    who = principal(request)
    rt = request.app[RUNTIME]
    default = "all" if who.can(Role.SUPERVISOR) else "mine"
    view_name = request.query.get("view", default)
    if view_name not in VIEWS:
        raise ProtocolError("bad_query", f"view must be one of {', '.join(VIEWS)}")
    limit = _limit(request)
    filters = parse_filters(request, view_name)
    cursor = request.query.get("cursor") or ""
    phase, _, rest = cursor.partition(":")
    if cursor and phase not in ("r", "a"):
        raise ProtocolError("bad_query", "cursor is not one this API gave")
    state = request.query.get("state")
    out: list[dict[str, Any]] = []
    next_cursor: str | None = None
    if phase in ("", "r"):
        out, next_cursor = await _redis_page(rt, who, view_name, rest if phase == "r" else "", limit, filters)
        if next_cursor is None and view_name in ("closed", "recent", "all", "mine"):
            next_cursor = "a:"
    if phase == "a" or (next_cursor == "a:" and len(out) < limit):
        more, next_cursor = await _archive_page(rt, who, view_name, rest if phase == "a" else "", limit - len(out),
                                                {c["id"] for c in out}, filters)
        out += more
    if state:
        out = [c for c in out if c["state"] == state]
    # The name the customer gave, for rows Redis answered (archived rows carry theirs).
    names = await rt.store.customers.names([c["customer_id"] for c in out if not c.get("customer_name")])
    for c in out:
        if not c.get("customer_name") and c.get("customer_id") in names:
            c["customer_name"] = names[c["customer_id"]]
    return web.json_response({"conversations": out, "next_cursor": next_cursor, "filters": filters.query()})


def _fits(who: Principal, view_name: str, c: dict[str, Any], filters: Filters) -> bool:
    own = c["agent"] == who.agent_id
    if not who.can(Role.SUPERVISOR) and not own and view_name != "unassigned":
        return False
    if not filters.fits(c):
        return False
    return bool({
        "mine": own,
        "unassigned": c["state"] in ("new", "bot", "queued"),
        "open": c["state"] in OPEN_STATES,
        "closed": c["state"] == "closed",
        "recent": c["state"] == "closed",
        "all": True,
    }[view_name])


async def _redis_page(rt: Runtime, who: Principal, view_name: str, after: str,
                      limit: int, filters: Filters) -> tuple[list[dict[str, Any]], str | None]:
    """Conversations Redis holds, by last update; the cursor is 'r:SCORE:ID' of the last one."""
    if not who.can(Role.SUPERVISOR):
        # An agent's live conversations are their open set (small); what they closed is read
        # from the archive, where it is within a second of the close.
        if view_name == "unassigned":
            return [], None
        own = await rt.store.agents.conversation_ids(who.agent_id)
        mine = [c.view() for c in await rt.store.conversations.many(own)]
        mine.sort(key=lambda c: c["updated"] or 0, reverse=True)
        return [{**c, "archived": False} for c in mine if _fits(who, view_name, c, filters)], None
    hi = "+inf"
    skip_id = ""
    if after:
        score, _, skip_id = after.partition(":")
        try:
            hi = str(float(score))
        except ValueError:
            raise ProtocolError("bad_query", "cursor is not one this API gave") from None
    out: list[dict[str, Any]] = []
    offset = 0
    while len(out) < limit:
        # A close is an update: nothing updated before the recent view's start closed after it.
        lowest = "-inf" if filters.closed_since is None else str(filters.closed_since)
        # Filters skip rows: read bigger batches then, so a rare pool or tag costs fewer trips.
        batch = max(limit * 2, 200) if filters.any else limit * 2
        page = await rt.store.conversations.updated_before(hi, offset, batch, lowest)
        if not page:
            return out, None
        offset += len(page)
        scores = dict(page)
        for conv in [c.view() for c in await rt.store.conversations.many([cid for cid, _ in page])]:
            if after and scores[conv["id"]] == float(hi) and conv["id"] >= skip_id:
                continue
            if _fits(who, view_name, conv, filters):
                out.append({**conv, "archived": False})
                if len(out) == limit:
                    last = out[-1]["id"]
                    return out, f"r:{scores[last]!r}:{last}"
    return out, None


async def _archive_page(rt: Runtime, who: Principal, view_name: str, after: str, limit: int,
                        shown: set[str], filters: Filters) -> tuple[list[dict[str, Any]], str | None]:
    """Closed conversations only the archive holds now, by close time; cursor 'a:CLOSED_AT:ID'.

    Rows Redis still holds were listed by the Redis phase and are skipped here, so the archive is
    read batch after batch until the page is full: a page is short only at the end of the view."""
    if view_name in ("unassigned", "open") or limit <= 0 or not rt.archive.ready.is_set():
        return [], None
    c = conversations.c
    base = sa.select(conversations).order_by(c.closed_at.desc(), c.id.desc()).limit(limit * 2)
    if not who.can(Role.SUPERVISOR) or view_name == "mine":
        base = base.where(c.agent == who.agent_id)
    for cond in filters.where(c):
        base = base.where(cond)
    at: float | None = None
    last_id = ""
    if after:
        score, _, last_id = after.partition(":")
        try:
            at = float(score)
        except ValueError:
            raise ProtocolError("bad_query", "cursor is not one this API gave") from None
    out: list[dict[str, Any]] = []
    while True:
        q = base if at is None else base.where(
            sa.or_(c.closed_at < at, sa.and_(c.closed_at == at, c.id < last_id)))
        try:
            async with rt.archive.engine.connect() as conn:
                rows = (await conn.execute(q)).mappings().all()
        except DB_ERRORS:
            raise ProtocolError("archive_unavailable", "the archive database is not reachable; try again",
                                503) from None
        # For supervisors the Redis phase listed every conversation Redis still holds.
        live = await rt.store.conversations.held([r["id"] for r in rows]) if who.can(Role.SUPERVISOR) \
            else [False] * len(rows)
        for r, in_redis in zip(rows, live, strict=True):
            at, last_id = r["closed_at"], r["id"]
            if in_redis or r["id"] in shown:
                continue
            row = view(r)
            if not filters.fits(row):
                continue  # the SQL narrowed by tag with LIKE; this is the exact check
            out.append(row)
            if len(out) == limit:
                return out, f"a:{at!r}:{last_id}"
        if len(rows) < limit * 2:
            return out, None


def _range(request: web.Request) -> tuple[float, float]:
    since, until = when(request, "from"), when(request, "to")
    if since is None or until is None:
        raise ProtocolError("bad_query", "from and to are required (ISO 8601)")
    if since > until:
        raise ProtocolError("bad_query", "from is after to")
    return since, until


@routes.get("/api/v1/reports/summary")
async def report_summary(request: web.Request) -> web.Response:
    """Volumes, first response and resolution (p50, p90), SLA breaches, deflection and CSAT of
    the conversations created in [from, to): the archived ones, and from Redis those the archive
    does not hold yet (`live` counts them), with a breakdown per pool, agent, channel and hour.
    Supervisors and admins."""
    principal(request, Role.SUPERVISOR)
    rt = request.app[RUNTIME]
    since, until = _range(request)
    q = request.query
    if not rt.archive.ready.is_set():
        raise ProtocolError("archive_unavailable", "the archive is starting; try again", 503)
    live = await reports.live_rows(rt.store, since, until)
    try:
        async with rt.archive.engine.connect() as conn:
            body = await reports.summary(conn, since, until, q.get("pool") or None, q.get("agent") or None,
                                         q.get("channel") or None, live=live)
    except DB_ERRORS:
        raise ProtocolError("archive_unavailable", "the archive database is not reachable; try again", 503) from None
    return web.json_response({"from": since, "to": until, **body})


@routes.get("/api/v1/reports/export.csv")
async def report_export(request: web.Request) -> web.Response:
    """One row per archived conversation created in [from, to), a header row first."""
    who = principal(request, Role.SUPERVISOR)
    rt = request.app[RUNTIME]
    since, until = _range(request)
    if not rt.archive.ready.is_set():
        raise ProtocolError("archive_unavailable", "the archive is starting; try again", 503)
    try:
        async with rt.archive.engine.connect() as conn:
            text = await reports.export_csv(conn, since, until)
    except DB_ERRORS:
        raise ProtocolError("archive_unavailable", "the archive database is not reachable; try again", 503) from None
    # Who took the shop's conversations away, and which: exports leave the system for good.
    await rt.audit.record(who, "export.conversations_csv", "reports", addr=client(request),
                          detail={"from": since, "to": until, "rows": max(0, text.count("\n") - 1)})
    return web.Response(text=text, content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": 'attachment; filename="conversations.csv"'})
