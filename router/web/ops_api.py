"""Operations endpoints: live caps, the supervisor overview, handovers, approvals, transfer."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from kefu_common.errors import AuthError, ProtocolError
from router.models import Role
from router.pipeline.streams import DEAD_LETTER_STREAMS, dead_letter_counts, dead_letters
from router.runtime import RUNTIME, Runtime
from router.store.calls.agents import SetCap
from router.web.api import APPROVALS, DESK, json_body, principal
from router.web.proxy import client

routes = web.RouteTableDef()

MAX_CAP = 100


def _limit(request: web.Request, default: int, most: int) -> int:
    try:
        return max(1, min(int(request.query.get("limit", str(default))), most))
    except ValueError:
        raise ProtocolError("bad_query", "limit must be a whole number") from None


@routes.put("/api/v1/agents/{id}/cap")
async def set_cap(request: web.Request) -> web.Response:
    """A raised cap takes waiting conversations at once; a lowered one takes no new ones until
    the load is under it (nobody's chats are taken away). The cap overrides the config's
    `max_chats`, restarts included, until cleared: `{"cap": null}` or DELETE."""
    principal(request, Role.SUPERVISOR)
    body = await json_body(request)
    if "cap" not in body:
        raise ProtocolError("bad_request", f'"cap" is required: a whole number from 0 to {MAX_CAP}, or null')
    cap = body["cap"]
    if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or not 0 <= cap <= MAX_CAP):
        raise ProtocolError("bad_request", f'"cap" must be a whole number from 0 to {MAX_CAP}, or null')
    return await _cap(request, cap)


@routes.delete("/api/v1/agents/{id}/cap")
async def clear_cap(request: web.Request) -> web.Response:
    """Clear a live cap: the config's `max_chats` is in force again (a raise drains at once)."""
    principal(request, Role.SUPERVISOR)
    return await _cap(request, None)


async def _cap(request: web.Request, cap: int | None) -> web.Response:
    rt = request.app[RUNTIME]
    aid = request.match_info["id"]
    was = await rt.store.agents.get(aid)
    await rt.store.run(SetCap(aid, cap, time.time()))
    agent = await rt.store.agents.get(aid)
    await rt.audit.record(principal(request, Role.SUPERVISOR), "agent.cap", aid,
                          before={"cap_override": was.cap_override if was else None,
                                  "max_chats": was.max_chats if was else None},
                          after={"cap_override": cap, "max_chats": agent.max_chats if agent else None},
                          addr=client(request))
    return web.json_response({"agent": agent and agent.view()})


@routes.get("/api/v1/supervisor/overview")
async def overview(request: web.Request) -> web.Response:
    """Queues per pool, agents with status and load, and SLA breaches of open conversations."""
    principal(request, Role.SUPERVISOR)
    rt = request.app[RUNTIME]
    now = time.time()
    pools = []
    for q in await rt.store.ops.pool_queues(first=500):
        waits = await rt.store.conversations.queued_since(list(q.waiting))
        pools.append({"id": q.id, "queued": q.queued, "free_agents": q.free_agents,
                      "longest_wait_s": round(now - min(waits), 1) if waits else 0.0})
    agents = [{"id": a.id, "name": a.name, "role": a.role.value, "status": a.status.value, "load": a.load,
               "cap": a.max_chats, "cap_configured": a.cap_configured, "cap_override": a.cap_override,
               "pools": list(a.pools), "avatar": a.avatar or None, "away_reason": a.away_reason,
               "status_since": a.status_since, "away_today": a.away_today} for a in await rt.store.agents.all()]
    pending = await rt.store.ops.approvals_pending()
    return web.json_response({"pools": pools, "agents": agents, "breaches": await _breaches(rt),
                              "approvals_pending": pending, "dead_letters": await dead_letter_counts(rt.store)})


@routes.get("/api/v1/dead-letters")
async def list_dead_letters(request: web.Request) -> web.Response:
    """Stream entries that could not be parsed or handled, newest first, with the reason (admin).
    `stream` picks `inbound`, `outbound` or `archive`; all by default."""
    principal(request, Role.ADMIN)
    which = request.query.get("stream")
    store = request.app[RUNTIME].store
    streams = DEAD_LETTER_STREAMS
    if which is not None and which not in streams:
        raise ProtocolError("bad_query", f"stream must be one of {', '.join(streams)}")
    limit = _limit(request, 100, 1000)
    counts = await dead_letter_counts(store)
    return web.json_response({name: {"count": counts[name], "entries": await dead_letters(store, name, limit)}
                              for name in streams if which in (None, name)})


async def _breaches(rt: Runtime) -> list[dict[str, Any]]:
    """Open conversations whose SLA state says breached. The SLA view may be missing entirely
    (SLA profiles not configured): then there is nothing to report."""
    out = []
    for conv in await rt.store.conversations.many(await rt.store.conversations.recent_ids(1000)):
        sla = conv.sla
        if conv.state == "closed" or not isinstance(sla, dict):
            continue
        if sla.get("state") != "breached" and not sla.get("breaches"):
            continue
        out.append({"conversation_id": conv.id, "agent": conv.agent, "pool": conv.pool,
                    "state": conv.state.value, "sla": sla})
    return out


@routes.get("/api/v1/handovers")
async def handovers(request: web.Request) -> web.Response:
    """Newest first: who had which conversation, when they went offline and why, where it went,
    and where it is now; `cleared` once someone has it or it is closed."""
    principal(request, Role.SUPERVISOR)
    rt = request.app[RUNTIME]
    try:
        since = float(request.query.get("since", "0"))
    except ValueError:
        raise ProtocolError("bad_query", "since must be epoch seconds") from None
    if not 0 <= since < 1e11:  # a stream id is milliseconds in 64 bits; beyond it Redis refuses the range
        raise ProtocolError("bad_query", "since must be epoch seconds between 0 and 1e11")
    entries = await rt.store.ops.handovers(since, _limit(request, 200, 2000))
    convs = {c.id: c for c in await rt.store.conversations.many([h.conversation_id for h in entries])}
    out = []
    for h in entries:
        now = convs.get(h.conversation_id)
        out.append({"id": h.id, "conversation_id": h.conversation_id, "from": h.from_agent, "pool": h.pool,
                    "to": h.to, "reason": h.reason, "at": h.at,
                    "now": {"state": now and now.state.value, "agent": now and now.agent,
                            "pool": now and now.pool},
                    "cleared": now is not None and (now.state == "closed" or bool(now.agent))})
    return web.json_response({"handovers": out})


@routes.get("/api/v1/approvals")
async def list_approvals(request: web.Request) -> web.Response:
    who = principal(request)
    return web.json_response({"approvals": await request.app[APPROVALS].listing(who)})


@routes.post("/api/v1/approvals/{id}")
async def answer_approval(request: web.Request) -> web.Response:
    who = principal(request)
    if not who.can(Role.SUPERVISOR):
        raise AuthError("only supervisors and admins answer approval requests", status=403)
    body = await json_body(request)
    approved, note = body.get("approved"), body.get("note", "")
    if not isinstance(approved, bool):
        raise ProtocolError("bad_request", '"approved" must be true or false')
    if not isinstance(note, str) or len(note) > 2000:
        raise ProtocolError("bad_request", '"note" must be a string of at most 2000 characters')
    approval = await request.app[APPROVALS].answer(who, request.match_info["id"], approved, note,
                                                   addr=client(request))
    return web.json_response({"approval": approval})


@routes.post("/api/v1/conversations/{id}/transfer")
async def transfer(request: web.Request) -> web.Response:
    """To an agent or a pool; supervisors may move any conversation, e.g. to themselves."""
    who = principal(request)
    body = await json_body(request)
    to_agent, to_pool, note = body.get("to_agent"), body.get("to_pool"), body.get("note") or ""
    if bool(to_agent) == bool(to_pool) or not isinstance(to_agent or to_pool, str):
        raise ProtocolError("bad_request", 'give exactly one of "to_agent" or "to_pool"')
    if not isinstance(note, str) or len(note) > 2000:
        raise ProtocolError("bad_request", '"note" must be a string of at most 2000 characters')
    kind, target = ("agent", to_agent) if to_agent else ("pool", to_pool)
    cid = request.match_info["id"]
    outcome = await request.app[DESK].transfer(cid, who, kind, str(target), note, addr=client(request))
    return web.json_response({"conversation_id": cid, **outcome})
