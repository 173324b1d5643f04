"""What the agent console needs beyond the core API: its session cookie, and a customer's
history across channels and their orders beside the conversation."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from kefu_common.errors import AuthError, ProtocolError
from router.accounts import apikeys
from router.archive.db import DB_ERRORS
from router.auth import COOKIE_TTL_S, Principal
from router.bot.orders import STATE_LABELS, Order, OrderService
from router.ops.supervise import visible_to
from router.runtime import RUNTIME, Runtime
from router.web import access, csrf
from router.web.api import SESSION_COOKIE, cookie_session, json_body, principal
from router.web.proxy import PROXIES

routes = web.RouteTableDef()

HISTORY_CONVERSATIONS = 20
"""Conversations shown in a customer's history; older ones are reached through the API's limit."""
HISTORY_MESSAGES = 50
"""Messages per earlier conversation; the open one is already on screen in full."""


def _me(who: Principal) -> dict[str, str]:
    return {"id": who.agent_id, "name": who.name, "role": who.role.value}


@routes.post("/api/v1/session")
async def sign_in(request: web.Request) -> web.Response:
    """Trade an agent token for a signed, HttpOnly session cookie (the console signs in once)."""
    rt = request.app[RUNTIME]
    body = await json_body(request)
    token = body.get("token")
    if not isinstance(token, str) or apikeys.looks_like(token) or token.startswith("v1."):
        raise AuthError("bad or missing token")  # the config's agent token only: a key stays a key
    who = await rt.accounts.bearer(token)
    return await signed_in_answer(request, who, await rt.sessions.open(who))


async def signed_in_answer(request: web.Request, who: Principal, cookie: str) -> web.Response:
    """The answer to a sign-in: who, the CSRF token, the session token (a Bearer token for
    scripts), and the HttpOnly cookie the console uses."""
    rt = request.app[RUNTIME]
    response = web.json_response({"agent": _me(who), "token": cookie, "pending": who.pending or None,
                                  "csrf": rt.sessions.csrf_token(rt.sessions.session_id(cookie))})
    response.set_cookie(SESSION_COOKIE, cookie, max_age=COOKIE_TTL_S, path="/", httponly=True,
                        samesite="Strict", secure=request.app[PROXIES].cookie_secure(request))
    return response


@routes.get("/api/v1/session")
async def whoami(request: web.Request) -> web.Response:
    """Who is signed in; with a cookie, also the session's token for `X-Kefu-CSRF`."""
    who = principal(request)
    answer: dict[str, Any] = {"agent": _me(who), "pending": who.pending or None}
    if not request.headers.get("Authorization", "").startswith("Bearer "):
        answer["csrf"] = request.app[RUNTIME].sessions.csrf_token(cookie_session(request)[1])
    return web.json_response(answer)


@routes.delete("/api/v1/session")
async def sign_out(request: web.Request) -> web.Response:
    """End the session in Redis, so the cookie stops working everywhere at once, not just here."""
    rt = request.app[RUNTIME]
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer v1."):  # a script signs its own login token out
        await rt.sessions.close(header[7:])
        return web.json_response({"signed_out": True})
    cookie = request.cookies.get(SESSION_COOKIE)
    try:
        _, sid = cookie_session(request)
    except AuthError:
        sid = None  # already ended or never ours: only the cookie is left to clear
    if sid is not None:
        csrf.check(request, rt.sessions.csrf_token(sid))  # another page may not sign the agent out
        await rt.sessions.close(cookie)
    response = web.json_response({"signed_out": True})
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


async def _allowed(rt: Runtime, who: Principal, cust: str) -> None:
    """Agents see the customers of their own conversations; supervisors see everyone."""
    if not await access.may_see_customer(rt, who, cust):
        raise AuthError("this customer is not in one of your conversations", status=403)


@routes.get("/api/v1/customers/{id}/history")
async def history(request: web.Request) -> web.Response:
    """The customer and their conversations on every channel, newest first, with messages."""
    who = principal(request)
    rt = request.app[RUNTIME]
    cust = request.match_info["id"]
    customer = await rt.store.customers.get(cust)
    if customer is None:
        raise ProtocolError("not_found", f"no customer {cust}", 404)
    await _allowed(rt, who, cust)
    ids = await rt.store.customers.conversation_ids(cust, HISTORY_CONVERSATIONS)
    out = []
    for conv in await rt.store.conversations.many(ids):
        out.append({**conv.view(), "chat": conv.chat, "archived": False,
                    "transcript": visible_to(await rt.transcript.public(conv.id, HISTORY_MESSAGES), who)})
    archived, archive_state = await _archived_history(rt, who, cust, {c["id"] for c in out})
    out = sorted(out + archived, key=lambda c: c.get("created") or 0, reverse=True)[:HISTORY_CONVERSATIONS]
    return web.json_response({"customer": customer.view(), "conversations": out, "archive": archive_state})


async def _archived_history(rt: Runtime, who: Principal, cust: str,
                            live: set[str]) -> tuple[list[dict[str, Any]], str]:
    """The customer's conversations only the archive holds now (retention dropped them from
    Redis), so months-old chats show beside today's. The panel still answers from Redis while
    the archive is starting or unreachable, and says so ("starting" / "unavailable")."""
    if not rt.archive.ready.is_set():
        return [], "starting"
    try:
        # The archive keeps the customer a conversation was created under: a merged-in
        # customer's archived conversations are this one's history too.
        rows = []
        for one in [cust, *sorted(await rt.store.customers.merged_ids(cust))]:
            rows += await rt.archive.customer_conversations(one, HISTORY_CONVERSATIONS)
        out = []
        for row in rows:
            if row["id"] in live:
                continue
            out.append({**row, "transcript": visible_to(await rt.archive.transcript(row["id"], HISTORY_MESSAGES), who)})
    except DB_ERRORS:
        return [], "unavailable"
    return out, "ok"


def order_service(rt: Runtime) -> OrderService | None:
    """The shop's order service, the one the bot uses, when one is configured."""
    for holder in (getattr(rt, "bot", None), rt):
        service = getattr(holder, "orders", None)
        if isinstance(service, OrderService):
            return service
    return None


ORDER_SERVICE = order_service
"""Looked up per request through this name, so tests can hand in a service of their own."""


def _order_view(o: Order) -> dict[str, Any]:
    return {
        "id": o.id, "state": o.state.value, "state_label": STATE_LABELS[o.state],
        "created_at": o.created_at.isoformat(), "total": f"{o.total:.2f}",
        "items": [{"title": i.title, "quantity": i.quantity, "price": f"{i.price:.2f}"} for i in o.items],
        "courier": o.courier, "tracking_no": o.tracking_no,
    }


@routes.get("/api/v1/customers/{id}/orders")
async def orders(request: web.Request) -> web.Response:
    """The customer's orders from the shop's OrderService, newest first."""
    who = principal(request)
    rt = request.app[RUNTIME]
    cust = request.match_info["id"]
    await _allowed(rt, who, cust)
    service = ORDER_SERVICE(rt)
    if service is None:
        raise ProtocolError("no_order_service", "no order service is configured", 404)
    proved, talked = await _chat_order_ids(rt, cust, request.query.get("conversation", ""))
    known = await rt.store.customers.get(cust)
    identities = frozenset(known.identities) if known else frozenset()
    try:
        found = await service.list_orders(cust)
        listed = {o.id for o in found}
        extra = []
        for oid in dict.fromkeys([*proved, *talked]):
            order = None if oid in listed else await service.get_order(oid)
            # An order only talked about shows when it is the customer's own (by a channel
            # identity the service's listing by customer id does not see).
            if order is not None and (oid in proved or order.owned_by(cust, identities)):
                extra.append(order)
    except Exception as exc:  # the contract: any failure means "could not look it up"
        raise ProtocolError("orders_unavailable", f"the order service failed: {type(exc).__name__}", 503) from None
    views = [{**_order_view(o), "verified_in_chat": True} for o in extra] + [_order_view(o) for o in found]
    return web.json_response({"orders": views[:50]})


async def _chat_order_ids(rt: Runtime, cust: str, cid: str) -> tuple[list[str], list[str]]:
    """The orders of this conversation: those the customer proved (the buyer's phone digits to
    the bot) or the router tied to it, and the one the bot last talked about. The service may not
    list them as this customer's (a web visitor is known by a channel identity, not by id), and
    the panel should not say "no orders" beside the bot's answer about one (issue 19). Only for a
    conversation of this customer."""
    if not cid:
        return [], []
    conv = await rt.store.conversations.get(cid)
    if conv is None or conv.customer_id != cust:
        raise ProtocolError("bad_request", "that conversation is not this customer's", 400)
    memory = json.loads(await rt.store.bot.memory(cid) or "{}")
    proved = [str(o) for o in memory.get("verified") or []]
    if conv.linked_order:
        proved.append(conv.linked_order)
    talked = [str(memory["order_id"])] if memory.get("order_id") else []
    return proved, talked
