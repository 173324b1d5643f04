"""Issue 17, Bad input: webhook URLs that reach the router's own network are refused unless an
admin allows it: by name and literal when saved, and by what the name resolves to on every
delivery (spellings of 127.0.0.1 that are not IP literals, or DNS that changes its answer)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time

import pytest
from helpers.hook_receiver import receiver

from router.config.webhooks import WebhookDeliverySettings
from router.hooks.delivery import HookSender
from router.hooks.events import body
from router.hooks.ssrf import GuardedResolver, RefusedAddress, check_url, refused_reason
from router.store import Store
from router.store.calls.hooks import HookEnqueue

REFUSED = ["http://127.0.0.1/", "http://localhost:8080/x", "http://LOCALHOST./", "http://api.localhost/",
           "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", "http://172.16.5.4/",
           "http://192.168.1.1/", "http://[::1]/", "http://[fe80::1]/", "http://[fc00::1]/",
           "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/", "http://100.64.0.1/", "http://224.0.0.1/",
           "ftp://example.com/", "https://user:pw@example.com/", "not a url"]
TAKEN = ["https://hooks.example.com/in", "http://8.8.8.8/x", "https://[2001:4860:4860::8888]/x"]


@pytest.mark.parametrize("url", REFUSED)
def test_internal_urls_are_refused_unless_allowed(url: str) -> None:
    assert check_url(url, allow_private=False)
    if url.startswith("http") and "@" not in url:
        assert check_url(url, allow_private=True) is None


@pytest.mark.parametrize("url", TAKEN)
def test_public_urls_are_taken(url: str) -> None:
    assert check_url(url, allow_private=False) is None


async def test_the_resolver_refuses_names_that_resolve_inside() -> None:
    resolver = GuardedResolver(allow_private=False)
    with pytest.raises(RefusedAddress, match="loopback"):
        await resolver.resolve("localhost", 80)
    assert await GuardedResolver(allow_private=True).resolve("localhost", 80)
    await resolver.close()


@pytest.mark.parametrize("spelling", ["hostname", "127.1", "2130706433"])
async def test_a_delivery_to_a_disguised_loopback_is_refused(store: Store, spelling: str) -> None:
    """This machine's own name resolves inside (loopback here, a private address in most
    containers) but is no IP literal: a webhook saved while the name pointed elsewhere (DNS
    rebinding), or written by hand, is refused by the resolver when it is sent. `127.1` and
    `2130706433` are 127.0.0.1 to some resolvers; the HTTP client refuses them outright."""
    if spelling == "hostname":
        spelling = socket.gethostname()
        # The premise: the name resolves, and only inside.
        addrs = {i[4][0] for i in socket.getaddrinfo(spelling, None)}
        assert addrs and all(refused_reason(ipaddress.ip_address(a)) for a in addrs), addrs
    async with receiver() as rec:
        port = rec.url.rsplit(":", 1)[1]
        url = f"http://{spelling}:{port}"
        assert check_url(url, allow_private=False) is None  # what a save-time look at the URL sees
        await store.hooks.put({"id": "h", "url": url, "secret": rec.secret, "events": ["sla.breached"],
                               "enabled": True, "source": "api"})
        now = time.time()
        await store.run(HookEnqueue("h", "evt_1", "sla.breached", "c1",
                                    body("evt_1", "sla.breached", now, {"conversation_id": "c1"}), now, 3600, 10))
        sender = HookSender(store, WebhookDeliverySettings(max_attempts=2, base_delay_s=0.01, max_delay_s=0.02))
        task = asyncio.create_task(sender.run())
        try:
            deadline = time.monotonic() + 10
            while (await store.hooks.record("h", "evt_1")).get("status") != "dead":
                assert time.monotonic() < deadline, await store.hooks.record("h", "evt_1")
                await asyncio.sleep(0.05)
        finally:
            sender.stop()
            await asyncio.wait_for(task, 10)
        record = await store.hooks.record("h", "evt_1")
        assert record["attempts"] == "2"
        if not spelling[0].isdigit():
            assert "resolves to a" in record["last_error"] and "allow_private_networks" in record["last_error"]
        assert rec.requests == []
