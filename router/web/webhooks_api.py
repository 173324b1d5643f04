"""Outbound webhooks, for admins: list, make, change and delete them, read each one's delivery log
and send a delivery again (router/hooks/; docs/channels.md, "Outbound webhooks")."""

from __future__ import annotations

from aiohttp import web

from kefu_common.errors import ProtocolError
from router.hooks import admin
from router.models import Role
from router.runtime import RUNTIME
from router.web.api import json_body, principal
from router.web.proxy import client

routes = web.RouteTableDef()


@routes.get("/api/v1/webhooks")
async def list_hooks(request: web.Request) -> web.Response:
    principal(request, Role.ADMIN)
    hooks = await request.app[RUNTIME].store.hooks.all()
    return web.json_response({"webhooks": [admin.view(h) for _, h in sorted(hooks.items())]})


@routes.post("/api/v1/webhooks")
async def create_hook(request: web.Request) -> web.Response:
    """`{url, secret?, events?, enabled?, id?}`; the answer carries the secret, this once."""
    who = principal(request, Role.ADMIN)
    rt = request.app[RUNTIME]
    made = await admin.create(rt.store, await json_body(request), rt.settings.webhook_delivery)
    await rt.audit.record(who, "webhook.create", f"webhook:{made['id']}", after=made, addr=client(request))
    return web.json_response({"webhook": made}, status=201)


@routes.get("/api/v1/webhooks/{id}")
async def get_hook(request: web.Request) -> web.Response:
    principal(request, Role.ADMIN)
    hook = await request.app[RUNTIME].store.hooks.get(request.match_info["id"])
    if hook is None:
        raise ProtocolError("not_found", f"no webhook {request.match_info['id']!r}", 404)
    return web.json_response({"webhook": admin.view(hook)})


@routes.patch("/api/v1/webhooks/{id}")
async def update_hook(request: web.Request) -> web.Response:
    who = principal(request, Role.ADMIN)
    rt = request.app[RUNTIME]
    hid = request.match_info["id"]
    before = await rt.store.hooks.get(hid)
    changed = await admin.update(rt.store, hid, await json_body(request), rt.settings.webhook_delivery)
    await rt.audit.record(who, "webhook.update", f"webhook:{hid}", before=before and admin.view(before),
                          after=changed, addr=client(request))
    return web.json_response({"webhook": changed})


@routes.delete("/api/v1/webhooks/{id}")
async def delete_hook(request: web.Request) -> web.Response:
    who = principal(request, Role.ADMIN)
    rt = request.app[RUNTIME]
    hid = request.match_info["id"]
    before = await rt.store.hooks.get(hid)
    await admin.delete(rt.store, hid)
    await rt.audit.record(who, "webhook.delete", f"webhook:{hid}", before=before and admin.view(before),
                          addr=client(request))
    return web.json_response({"deleted": request.match_info["id"]})


@routes.get("/api/v1/webhooks/{id}/deliveries")
async def deliveries(request: web.Request) -> web.Response:
    """Newest first: each delivery's event, status (pending, retrying, delivered, dead, skipped),
    attempts and last error. `before` (a `created` time) pages back; `limit` up to 500."""
    principal(request, Role.ADMIN)
    store = request.app[RUNTIME].store
    hid = request.match_info["id"]
    if await store.hooks.get(hid) is None:
        raise ProtocolError("not_found", f"no webhook {hid!r}", 404)
    try:
        limit = max(1, min(int(request.query.get("limit", "100")), 500))
        before = float(request.query["before"]) if "before" in request.query else None
    except ValueError:
        raise ProtocolError("bad_query", "limit must be a whole number and before a time in epoch seconds") from None
    rows = await store.hooks.log(hid, limit, before)
    return web.json_response({"webhook": hid, "deliveries": [_row(r) for r in rows]})


def _row(r: dict[str, str]) -> dict[str, object]:
    out: dict[str, object] = dict(r)
    for key in ("attempts",):
        if key in r:
            out[key] = int(r[key])
    for key in ("created", "updated", "delivered_at"):
        if key in r:
            out[key] = float(r[key])
    if r.get("last_status"):
        out["last_status"] = int(r["last_status"])
    else:
        out.pop("last_status", None)
    return out


@routes.post("/api/v1/webhooks/{id}/deliveries/{delivery}/redeliver")
async def redeliver(request: web.Request) -> web.Response:
    """Send a delivery again with the same body and event id (its attempts start over)."""
    who = principal(request, Role.ADMIN)
    store = request.app[RUNTIME].store
    hid, did = request.match_info["id"], request.match_info["delivery"]
    if await store.hooks.get(hid) is None:
        raise ProtocolError("not_found", f"no webhook {hid!r}", 404)
    if not await store.hooks.redeliver(hid, did):
        raise ProtocolError("not_found", f"no delivery {did!r} of webhook {hid!r} (kept for "
                            f"{request.app[RUNTIME].settings.webhook_delivery.record_ttl_s // 86400} days)", 404)
    await request.app[RUNTIME].audit.record(who, "webhook.redeliver", f"webhook:{hid}", detail={"delivery": did},
                                            addr=client(request))
    return web.json_response({"redelivering": did}, status=202)
