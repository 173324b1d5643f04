"""Outbound webhooks in a running router: every event signed and in order per conversation, the
same id on every retry, a slow receiver never in routing's way, dead letters and redelivery, and
the admin API (SSRF refusals included)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import pytest
from helpers.app import BASIC, running
from helpers.clients import agent, msg_id
from helpers.fake_channel import ScriptedChannel
from helpers.hook_receiver import receiver

from adapters.base import Deps
from kefu_common.errors import ConfigErrors
from router.config.settings import Settings, parse_settings
from router.hooks import fanout

ADMIN = """
  - id: root
    name: Root
    token: root-token-12345
    role: admin
    pools: [aftersale]
"""


def settings_for(url: str, secret: str, events: str = "", delivery: str = "", allow: bool = True) -> Settings:
    text = BASIC.format(cap=50).replace("agents:\n", "agents:\n" + ADMIN.lstrip("\n"), 1)
    text += f"""
webhooks:
  - id: erp
    url: {url}
    secret: {secret}
{events}
webhook_delivery:
  allow_private_networks: {"true" if allow else "false"}
  base_delay_s: 0.05
  max_delay_s: 0.2
  timeout_s: 2
{delivery}
"""
    return parse_settings(text, "<test>")


def by_conversation(bodies: list[dict[str, Any]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for b in bodies:
        out.setdefault(b["data"]["conversation_id"], []).append(b["type"])
    return out


async def test_every_event_signed_in_order_with_stable_ids_through_failures(redis_url: str) -> None:
    async with receiver(fail_first=6) as rec:
        settings = settings_for(rec.url, rec.secret)
        async with running(settings, redis_url) as (rt, base), aiohttp.ClientSession() as http:
            chan = ScriptedChannel("fake", Deps(rt.ingestor, rt.store))
            rt.adapters[(chan.channel, chan.account)] = chan
            alice = await agent(http, base, "alice-token-1234")
            await rt.ingestor.ingest(chan.inbound("chat-1", "hello"))
            assigned = await alice.expect(lambda f: f["type"] == "assigned")
            cid = assigned["conversation"]["id"]
            await alice.send({"type": "reply", "conversation_id": cid, "text": "hi there", "client_msg_id": msg_id()})
            await alice.expect(lambda f: f["type"] == "delivery")
            async with http.post(f"{base}/api/v1/conversations/{cid}/close",
                                 headers={"Authorization": "Bearer alice-token-1234"}) as r:
                assert r.status == 200, await r.text()
            taken = await rec.wait_for(lambda t: any(b["type"] == "conversation.closed" for b in t))
            assert by_conversation(taken)[cid] == ["conversation.created", "message.created", "conversation.assigned",
                                                   "message.created", "conversation.closed"]
            assert all(r["signed"] for r in rec.requests)
            msgs = [b for b in taken if b["type"] == "message.created"]
            assert [(m["data"]["direction"], m["data"]["message"]["text"]) for m in msgs] == [
                ("in", "hello"), ("out", "hi there")]
            assert taken[2]["data"]["agent_id"] == "alice"
            # The first event was refused six times and taken on the seventh try, with one id.
            first_id = taken[0]["id"]
            tries = [r for r in rec.requests if r["body"]["id"] == first_id]
            assert len(tries) == 7 and {r["headers"]["X-Kefu-Delivery"] for r in tries} == {first_id}
            assert len({b["id"] for b in taken}) == len(taken)  # each taken once
            # The delivery log says so.
            root = {"Authorization": "Bearer root-token-12345"}
            async with http.get(f"{base}/api/v1/webhooks/erp/deliveries", headers=root) as r:
                log = (await r.json())["deliveries"]
            first = next(d for d in log if d["id"] == first_id)
            assert first["status"] == "delivered" and first["attempts"] == 7
            assert first["last_status"] == 200 or "last_error" in first
            await alice.close()


async def test_a_slow_receiver_never_holds_up_routing(redis_url: str) -> None:
    async with receiver(sleep_s=1.5) as rec:
        settings = settings_for(rec.url, rec.secret)
        async with running(settings, redis_url) as (rt, base), aiohttp.ClientSession() as http:
            chan = ScriptedChannel("fake", Deps(rt.ingestor, rt.store))
            rt.adapters[(chan.channel, chan.account)] = chan
            bob = await agent(http, base, "bob-token-12345")
            started = time.monotonic()
            for i in range(30):
                await rt.ingestor.ingest(chan.inbound(f"chat-{i}", f"question {i}"))
            await bob.expect_count(lambda f: f["type"] == "assigned", 30, timeout=20)
            routed_in = time.monotonic() - started
            # 30 conversations, 3 events each, 1.5 s per POST: delivered one by one that would be
            # over two minutes; routing all of them took a fraction of one POST's wait.
            assert routed_in < 1.5, routed_in
            assert len(rec.taken) < 90
            await rec.wait_for(lambda t: len(t) >= 90, timeout=60)
            await bob.close()


async def test_dead_letter_after_max_attempts_then_redeliver(redis_url: str) -> None:
    async with receiver(fail_first=10_000, fail_status=500) as rec:
        settings = settings_for(rec.url, rec.secret, events="    events: [conversation.created]",
                                delivery="  max_attempts: 3")
        async with running(settings, redis_url) as (rt, base), aiohttp.ClientSession() as http:
            chan = ScriptedChannel("fake", Deps(rt.ingestor, rt.store))
            rt.adapters[(chan.channel, chan.account)] = chan
            await rt.ingestor.ingest(chan.inbound("chat-9", "anyone?"))
            root = {"Authorization": "Bearer root-token-12345"}
            deadline = time.monotonic() + 20
            while True:
                async with http.get(f"{base}/api/v1/webhooks/erp/deliveries", headers=root) as r:
                    log = (await r.json())["deliveries"]
                if log and log[0]["status"] == "dead":
                    break
                assert time.monotonic() < deadline, log
                await asyncio.sleep(0.1)
            dead = log[0]
            assert dead["attempts"] == 3 and dead["last_error"] == "the receiver answered HTTP 500"
            assert dead["last_status"] == 500
            assert len(rec.requests) == 3 and rt.hook_sender.dead == 1
            # The receiver is back; an admin sends it again: same id, same body, taken.
            rec.fail_first = 0
            async with http.post(f"{base}/api/v1/webhooks/erp/deliveries/{dead['id']}/redeliver", headers=root) as r:
                assert r.status == 202
            taken = await rec.wait_for(lambda t: len(t) == 1)
            assert taken[0]["id"] == dead["id"] and taken[0]["type"] == "conversation.created"
            assert rec.requests[0]["body"] == taken[0]
            async with http.post(f"{base}/api/v1/webhooks/erp/deliveries/evt_nope/redeliver", headers=root) as r:
                assert r.status == 404


async def test_an_event_written_before_the_fan_outs_first_turn_is_delivered(
        redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A chat opened the moment the process started: its `conversation.created` is written (by
    the ingest script) before the webhook fan-out has read the event stream once. It is delivered,
    not taken for an event from before the webhook: the fan-out's cursor is placed when events
    are turned on, not at its first turn. The fan-out is held back here until the event is in."""
    go = asyncio.Event()
    start = fanout.Fanout.run

    async def held(self: fanout.Fanout) -> None:
        await go.wait()
        await start(self)

    monkeypatch.setattr(fanout.Fanout, "run", held)
    async with receiver() as rec:
        settings = settings_for(rec.url, rec.secret, events="    events: [conversation.created]")
        async with running(settings, redis_url) as (rt, _):
            chan = ScriptedChannel("fake", Deps(rt.ingestor, rt.store))
            rt.adapters[(chan.channel, chan.account)] = chan
            await rt.ingestor.ingest(chan.inbound("chat-1", "在吗"))
            assert await rt.store.client.xlen(rt.store.keys.hook_events) >= 1  # written, not yet read
            go.set()
            taken = await rec.wait_for(lambda t: len(t) == 1, timeout=20)
            assert taken[0]["type"] == "conversation.created"


async def test_admin_api_and_ssrf_refusals(redis_url: str) -> None:
    async with receiver() as rec:
        # The config itself refuses a loopback URL without the allowance (kefu check says where).
        with pytest.raises(ConfigErrors, match=r"<test>:\d+:\d+: webhooks.url: .* loopback"):
            settings_for(rec.url, rec.secret, allow=False)
        strict = settings_for("https://hooks.example.com/in", "s" * 20, allow=False)
        async with running(strict, redis_url) as (rt, base), aiohttp.ClientSession() as http:
            root = {"Authorization": "Bearer root-token-12345"}
            for url in (rec.url, "http://169.254.169.254/latest/meta-data", "http://10.1.2.3/x",
                        "http://localhost:8080/", "http://[::1]/x", "ftp://example.com/x"):
                async with http.post(f"{base}/api/v1/webhooks", json={"url": url}, headers=root) as r:
                    assert r.status == 400, (url, await r.text())
                    assert (await r.json())["error"] in ("url_refused",), await r.text()
            assert list(await rt.store.hooks.all()) == ["erp"]  # nothing stored
            async with http.post(f"{base}/api/v1/webhooks", json={"url": "https://x.example.com", "events": ["nope"]},
                                 headers=root) as r:
                assert r.status == 400 and (await r.json())["error"] == "bad_request"
            async with http.get(f"{base}/api/v1/webhooks", headers={"Authorization": "Bearer alice-token-1234"}) as r:
                assert r.status == 403
            async with http.patch(f"{base}/api/v1/webhooks/erp", json={"enabled": False}, headers=root) as r:
                assert r.status == 409 and "config" in (await r.json())["detail"]
        # With the allowance, an admin makes, changes and deletes a webhook to the loopback receiver.
        async with running(settings_for(rec.url, rec.secret), redis_url) as (rt, base), \
                aiohttp.ClientSession() as http:
            root = {"Authorization": "Bearer root-token-12345"}
            async with http.post(f"{base}/api/v1/webhooks", headers=root,
                                 json={"id": "crm", "url": rec.url, "events": ["conversation.created"]}) as r:
                assert r.status == 201, await r.text()
                made = (await r.json())["webhook"]
            assert len(made["secret"]) >= 32 and made["secret_hint"].endswith(made["secret"][-4:])
            async with http.get(f"{base}/api/v1/webhooks", headers=root) as r:
                listed = (await r.json())["webhooks"]
            assert [h["id"] for h in listed] == ["crm", "erp"] and all("secret" not in h for h in listed)
            async with http.patch(f"{base}/api/v1/webhooks/crm", headers=root,
                                  json={"events": ["csat.created", "sla.breached"], "enabled": False}) as r:
                assert r.status == 200
                assert (await r.json())["webhook"]["events"] == ["csat.created", "sla.breached"]
            async with http.patch(f"{base}/api/v1/webhooks/crm", headers=root, json={"url": "http://10.0.0.1/"}) as r:
                assert r.status == 200  # allowed here: the admin said so
            async with http.delete(f"{base}/api/v1/webhooks/crm", headers=root) as r:
                assert r.status == 200
            async with http.delete(f"{base}/api/v1/webhooks/crm", headers=root) as r:
                assert r.status == 404
            # Each change is in the audit log, the secret never.
            async with http.get(f"{base}/api/v1/audit", headers=root) as r:
                entries = (await r.json())["entries"]
            actions = [e["action"] for e in entries if e["target"] == "webhook:crm"]
            assert actions == ["webhook.delete", "webhook.update", "webhook.update", "webhook.create"], actions
            assert made["secret"] not in str(entries)

