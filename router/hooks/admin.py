"""The webhooks as admins see and change them: the config's (read-only through the API, written
to Redis at every start) and those made through the API (kept in Redis, edited there).

A secret is shown once, when the webhook is made; views carry only its last four characters.
A URL is checked when it is saved, by name and by what it resolves to now (router/hooks/ssrf.py).
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from kefu_common.errors import ProtocolError
from router.config.webhooks import (
    HOOK_ID,
    MIN_SECRET,
    WebhookDeliverySettings,
    WebhookSettings,
    check_events,
    config_hook_id,
)
from router.hooks.events import EVENT_TYPES
from router.hooks.ssrf import check_resolved
from router.models import new_id
from router.store import Store

MAX_HOOKS = 100
FIELDS = frozenset({"url", "secret", "events", "enabled", "id"})


def view(hook: dict[str, Any]) -> dict[str, Any]:
    """What the API shows: everything but the secret."""
    secret = str(hook.get("secret", ""))
    return {"id": hook["id"], "url": hook.get("url", ""), "events": list(hook.get("events", ())),
            "enabled": bool(hook.get("enabled", True)), "source": hook.get("source", "api"),
            "secret_hint": f"…{secret[-4:]}" if secret else "", "created": hook.get("created"),
            "updated": hook.get("updated")}


async def sync_config(store: Store, hooks: tuple[WebhookSettings, ...]) -> None:
    """Make Redis hold the config's webhooks as the config says; the API's stay."""
    now = time.time()
    wanted = {config_hook_id(i, h.id): h for i, h in enumerate(hooks)}
    for hid, stored in (await store.hooks.all()).items():
        if stored.get("source") == "config" and hid not in wanted:
            await store.hooks.delete(hid)
    for hid, h in wanted.items():
        await store.hooks.put({"id": hid, "url": h.url, "secret": h.secret, "events": list(h.events),
                               "enabled": h.enabled, "source": "config", "created": now, "updated": now})
    await store.hooks.refresh_on()


async def _checked(store: Store, body: dict[str, Any], settings: WebhookDeliverySettings,
                   current: dict[str, Any] | None) -> dict[str, Any]:
    unknown = sorted(set(body) - FIELDS)
    if unknown:
        raise ProtocolError("bad_request", f"unknown field(s) {', '.join(unknown)}; a webhook has "
                                           "url, secret, events and enabled")
    hook = dict(current or {})
    if "secret" in body:
        secret = body["secret"]
        if not isinstance(secret, str) or len(secret) < MIN_SECRET:
            raise ProtocolError("bad_request", f'"secret" must be a string of at least {MIN_SECRET} characters')
        hook["secret"] = secret
    if "events" in body or current is None:
        events = body.get("events", list(EVENT_TYPES))
        problem = check_events(events)
        if problem:
            raise ProtocolError("bad_request", problem)
        hook["events"] = list(dict.fromkeys(events))
    if "enabled" in body:
        if not isinstance(body["enabled"], bool):
            raise ProtocolError("bad_request", '"enabled" must be true or false')
        hook["enabled"] = body["enabled"]
    # Last: it may wait for DNS, and a body wrong in a cheaper way should not.
    if "url" in body or current is None:
        url = body.get("url")
        if not isinstance(url, str) or not url:
            raise ProtocolError("bad_request", '"url" is required: the http(s) URL events are POSTed to')
        problem = await check_resolved(url, settings.allow_private_networks)
        if problem:
            raise ProtocolError("url_refused", problem)
        hook["url"] = url
    return hook


async def create(store: Store, body: dict[str, Any], settings: WebhookDeliverySettings) -> dict[str, Any]:
    """A new webhook; its view with the secret (given, or made here), shown this once."""
    hook = await _checked(store, body, settings, None)
    hid = body.get("id") or new_id("wh")
    if not isinstance(hid, str) or not HOOK_ID.match(hid):
        raise ProtocolError("bad_request", '"id" must be 1-64 of A-Z a-z 0-9 _ . -')
    existing = await store.hooks.all()
    if hid in existing:
        raise ProtocolError("exists", f"a webhook {hid!r} exists", 409)
    if len(existing) >= MAX_HOOKS:
        raise ProtocolError("too_many", f"at most {MAX_HOOKS} webhooks", 409)
    now = time.time()
    hook.update(id=hid, source="api", created=now, updated=now)
    hook.setdefault("secret", secrets.token_urlsafe(32))
    hook.setdefault("enabled", True)
    await store.hooks.put(hook)
    return {**view(hook), "secret": hook["secret"]}


async def _editable(store: Store, hid: str) -> dict[str, Any]:
    hook = await store.hooks.get(hid)
    if hook is None:
        raise ProtocolError("not_found", f"no webhook {hid!r}", 404)
    if hook.get("source") == "config":
        raise ProtocolError("from_config", f"webhook {hid!r} is defined in the config file; change it there "
                                           "(it is written again at every start)", 409)
    return hook


async def update(store: Store, hid: str, body: dict[str, Any], settings: WebhookDeliverySettings) -> dict[str, Any]:
    hook = await _checked(store, {k: v for k, v in body.items() if k != "id"}, settings, await _editable(store, hid))
    if "id" in body and body["id"] != hid:
        raise ProtocolError("bad_request", "a webhook's id cannot change")
    hook["updated"] = time.time()
    await store.hooks.put(hook)
    return view(hook)


async def delete(store: Store, hid: str) -> None:
    await _editable(store, hid)
    await store.hooks.delete(hid)
