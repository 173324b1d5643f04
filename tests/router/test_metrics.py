"""GET /metrics: Prometheus text with the figures docs/operations.md lists, after real traffic;
a bearer token when metrics.token is set."""

from __future__ import annotations

import asyncio

import aiohttp
from helpers.app import BASIC, running
from helpers.clients import agent, customer, msg_id
from prometheus_client.parser import text_string_to_metric_families

from router.config.settings import parse_settings

WANTED = {
    "kefu_messages_in", "kefu_messages_out", "kefu_routed", "kefu_queue_depth", "kefu_queue_oldest_wait_seconds",
    "kefu_stream_pending", "kefu_stream_lag", "kefu_dead_letters", "kefu_sla_breaches",
    "kefu_bot_deflection_ratio", "kefu_channel_api_errors", "kefu_redis_rtt_seconds", "kefu_websocket_connections",
    "kefu_stream_dead_letters", "kefu_service_up", "kefu_service_crashes", "kefu_agents",
}


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


async def test_metrics_after_traffic(redis_url: str) -> None:
    settings = parse_settings(BASIC.format(cap=2), "<test>")
    async with running(settings, redis_url) as (_rt, base), aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0)) as http:
        alice = await agent(http, base, "alice-token-1234")
        bob = await agent(http, base, "bob-token-12345")
        socks = [(await customer(http, base))[0] for _ in range(150)]
        await asyncio.gather(*(s.send({"type": "message", "text": "在吗", "client_msg_id": msg_id()}) for s in socks))
        await asyncio.gather(*(s.expect(lambda f: f["type"] == "ack") for s in socks))
        await alice.expect_count(lambda f: f["type"] == "assigned", 2)
        await bob.expect_count(lambda f: f["type"] == "assigned", 2)
        first = alice.of("assigned")[0]["conversation"]["id"]
        await alice.send({"type": "reply", "conversation_id": first, "text": "您好", "client_msg_id": msg_id()})
        await bob.send({"type": "status", "status": "away", "reason": "break"})
        await bob.expect(lambda f: f["type"] == "status" and f["reason"] == "break")
        await asyncio.sleep(1.0)
        async with http.get(f"{base}/metrics") as r:
            assert r.status == 200
            assert r.headers["Content-Type"].startswith("text/plain")
            text = await r.text()
        names = {fam.name for fam in text_string_to_metric_families(text)}
        assert WANTED <= names, WANTED - names
        got = _samples(text)
        assert got[("kefu_messages_in_total", (("channel", "webchat"),))] == 150
        assert got[("kefu_messages_out_total", (("channel", "webchat"),))] == 1
        assert got[("kefu_routed_total", (("outcome", "assigned"), ("pool", "presale")))] == 4
        assert got[("kefu_routed_total", (("outcome", "queued"), ("pool", "presale")))] == 146
        assert got[("kefu_queue_depth", (("pool", "presale"),))] == 146
        assert got[("kefu_queue_oldest_wait_seconds", (("pool", "presale"),))] > 0
        assert got[("kefu_stream_pending", (("partition", "0"), ("stream", "inbound")))] == 0
        assert got[("kefu_websocket_connections", (("kind", "agent"),))] == 2
        assert got[("kefu_websocket_connections", (("kind", "customer"),))] == 150
        assert got[("kefu_redis_rtt_seconds", ())] > 0
        assert got[("kefu_agents", (("reason", ""), ("status", "online")))] == 1
        assert got[("kefu_agents", (("reason", "break"), ("status", "away")))] == 1
        assert got[("kefu_agents", (("reason", ""), ("status", "offline")))] == 1  # sue
        assert got[("kefu_service_up", (("service", "route worker"),))] == 1
        assert got[("kefu_service_crashes_total", (("service", "sender"),))] == 0
        assert got[("kefu_stream_dead_letters", (("stream", "inbound"),))] == 0
        for s in [alice, bob, *socks]:
            await s.close()


async def test_metrics_token(redis_url: str) -> None:
    settings = parse_settings(BASIC.format(cap=2) + "metrics:\n  token: scrape-secret-123\n", "<test>")
    async with running(settings, redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        async with http.get(f"{base}/metrics") as r:
            assert r.status == 401
            assert "metrics.token" in await r.text()
        async with http.get(f"{base}/metrics", headers={"Authorization": "Bearer wrong"}) as r:
            assert r.status == 401
        async with http.get(f"{base}/metrics", headers={"Authorization": "Bearer scrape-secret-123"}) as r:
            assert r.status == 200
            assert "kefu_queue_depth" in await r.text()
