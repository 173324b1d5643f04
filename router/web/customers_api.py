"""Customer profiles over HTTP: read and edit one (staff), merge two and undo it (staff, audited),
and what the web chat embed tells us about its visitor: a signed identify and the product on the
page. The checks live in router/ops/profiles.py; the writes in router/store/customers.py and
customer_link.lua."""

from __future__ import annotations

import json
import time
from typing import Any

from aiohttp import web

from kefu_common.errors import AuthError, ProtocolError
from router.auth import Principal
from router.models import WEBCHAT, new_id
from router.ops import profiles
from router.runtime import RUNTIME, Runtime
from router.store.calls.customers import Claim, Link, Merge, Unmerge
from router.web import access
from router.web.api import json_body, principal
from router.web.proxy import client

routes = web.RouteTableDef()


async def phone_key(rt: Runtime) -> bytes:
    return await rt.store.shared_secret(rt.store.keys.phone_secret)


async def audit(request: web.Request, who: Principal | None, action: str, target: str, *,
                before: dict[str, Any] | None = None, after: dict[str, Any] | None = None) -> None:
    """Into the audit log (router/ops/audit.py): who, from where, before and after."""
    await request.app[RUNTIME].audit.record(who, action, target, before=before, after=after,
                                            addr=client(request))


async def _customer(rt: Runtime, who: Principal, cust: str) -> dict[str, Any]:
    found = await rt.store.customer(cust)
    if found is None:
        raise ProtocolError("not_found", f"no customer {cust}", 404)
    if not await access.may_see_customer(rt, who, cust):
        raise AuthError("this customer is not in one of your conversations", status=403)
    return found


@routes.get("/api/v1/customers/{id}")
async def get_customer(request: web.Request) -> web.Response:
    who = principal(request)
    rt = request.app[RUNTIME]
    cust = request.match_info["id"]
    found = await _customer(rt, who, cust)
    # The customers merged into this one, each of which an unmerge can split off again.
    found["merged"] = sorted(await rt.store.customers.merged_ids(cust))
    return web.json_response({"customer": found})


@routes.patch("/api/v1/customers/{id}")
async def patch_customer(request: web.Request) -> web.Response:
    """Set name, phone, segment, tags or attributes. The customer's next message is routed with
    them (resolve.lua reads segment and tags), so a VIP rule fires from then on."""
    who = principal(request)
    rt = request.app[RUNTIME]
    cust = request.match_info["id"]
    body = await json_body(request)
    edit = profiles.check_edit(body, await phone_key(rt))  # every check before any write
    before = await _customer(rt, who, cust)
    if before.get("merged_into"):
        raise ProtocolError("merged", f"customer {cust} was merged into {before['merged_into']}; edit that one", 409)
    await rt.store.customers.update(cust, edit.fields, lock_name=True)
    # A number another customer gave already is not merged on an agent's word alone: the answer
    # names that customer, and a person merges them (POST .../merge) if they are one.
    same_phone = [owner for anchor in edit.anchors
                  if (owner := await rt.store.run(Claim(cust, anchor))) != cust]
    after = await rt.store.customer(cust) or {}
    await audit(request, who, "customer.edit", cust, before={k: before.get(k) for k in edit.view},
                after=edit.view)
    answer: dict[str, Any] = {"customer": after}
    if same_phone:
        answer["same_phone_as"] = same_phone[0]
    return web.json_response(answer)


@routes.post("/api/v1/customers/{id}/merge")
async def merge_customer(request: web.Request) -> web.Response:
    """Fold customer `other` into this one: their identities, conversations and tags; undone by
    POST /api/v1/customers/{other}/unmerge."""
    who = principal(request)
    rt = request.app[RUNTIME]
    cust = request.match_info["id"]
    body = await json_body(request)
    other = body.get("other")
    if not isinstance(other, str) or not other.strip():
        raise ProtocolError("bad_request", '"other" must be the id of the customer to merge in')
    kept = await _customer(rt, who, cust)
    gone = await _customer(rt, who, other)
    await rt.store.run(Merge(other, cust, time.time(), who.agent_id))
    await audit(request, who, "customer.merge", cust, before={"kept": kept, "merged": gone},
                after={"merged_into": cust, "customer": other})
    return web.json_response({"customer": await rt.store.customer(cust), "merged": other})


@routes.post("/api/v1/customers/{id}/unmerge")
async def unmerge_customer(request: web.Request) -> web.Response:
    """Undo the merge of this customer: identities, conversations and copied fields go back."""
    who = principal(request)
    rt = request.app[RUNTIME]
    cust = request.match_info["id"]
    found = await rt.store.customer(cust)
    if found is None:
        raise ProtocolError("not_found", f"no customer {cust}", 404)
    if not found.get("merged_into"):
        raise ProtocolError("not_merged", f"customer {cust} is not merged into another", 409)
    await _customer(rt, who, found["merged_into"])
    into = await rt.store.run(Unmerge(cust))
    await audit(request, who, "customer.unmerge", cust, before={"merged_into": into}, after={"merged_into": None})
    return web.json_response({"customer": await rt.store.customer(cust), "unmerged_from": into})


async def _visitor(request: web.Request, body: dict[str, Any]) -> str:
    rt = request.app[RUNTIME]
    if not rt.settings.channels.webchat.enabled:
        raise ProtocolError("not_found", "web chat is not enabled", 404)
    session = body.get("session")
    try:
        return rt.signer.verify(session if isinstance(session, str) else None)
    except AuthError as exc:
        raise ProtocolError("unauthorized", exc.detail, 401) from None


@routes.post("/api/v1/webchat/identify")
async def identify(request: web.Request) -> web.Response:
    """kefu('identify', {profile, signature}) from the shop's page: the visitor is the shop's user
    `user_id`, with the profile the shop's backend signed. The same user on another device, or
    the same phone on another channel, is the same customer from now on."""
    rt = request.app[RUNTIME]
    body = await json_body(request)
    visitor = await _visitor(request, body)
    web_settings = rt.settings.channels.webchat
    key = await phone_key(rt)
    found = profiles.verify_identify(body, web_settings.identify_secret, web_settings.identify_max_age_s, key)
    ident = f"{WEBCHAT}:web:{visitor}"
    linked = await rt.store.run(Link(ident, f"user:web:{found.user_id}", new_id("cu"), time.time(), "identify"))
    cust, merged = linked.customer, linked.merged_from
    for anchor in found.edit.anchors:
        by_phone = await rt.store.run(Link(ident, anchor, cust, time.time(), "identify"))
        cust, merged = by_phone.customer, by_phone.merged_from or merged
    if found.edit.fields:
        await rt.store.customers.update(cust, found.edit.fields, lock_name=True)
    return web.json_response({"customer": cust, "merged": merged or None})


@routes.post("/api/v1/webchat/context")
async def context(request: web.Request) -> web.Response:
    """kefu('context', {product: {id, title, price, image, url}}): what the visitor is looking at.
    The agent sees it as a card and the rules match it on the next message (`product:`). Needs
    no signature: it is what the page shows, and nothing is trusted for money."""
    rt = request.app[RUNTIME]
    body = await json_body(request)
    visitor = await _visitor(request, body)
    product = profiles.check_product(body.get("product"))
    ident = f"{WEBCHAT}:web:{visitor}"
    linked = await rt.store.run(Link(ident, ident, new_id("cu"), time.time(), "context"))
    await rt.store.customers.update(linked.customer, {"product": json.dumps(product, ensure_ascii=False)})
    return web.json_response({"product": product})
