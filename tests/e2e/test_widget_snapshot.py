"""The snapshot a web chat page starts every connect with tells a waiting customer their place in
line, as the `queue` frames they missed while away (not stored) would have."""

from __future__ import annotations

import aiohttp
from helpers.app import basic_settings, running
from helpers.clients import Socket, agent, customer, customer_writes


async def snapshot(http: aiohttp.ClientSession, base: str, token: str) -> dict[str, object]:
    page, _ = await customer(http, base, token=token)
    frame = await page.expect(lambda f: f["type"] == "conversation")
    await page.close()
    conv = frame["conversation"]
    assert isinstance(conv, dict)
    return conv


async def test_a_reconnecting_page_learns_its_place_in_line(redis_url: str) -> None:
    async with running(basic_settings(cap=1), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        alice = await agent(http, base, "alice-token-1234")
        socks: list[Socket] = []
        tokens: list[str] = []
        for text in ("第一位", "第二位", "第三位"):
            sock, token = await customer_writes(http, base, text)
            socks.append(sock)
            tokens.append(token)
        first = (await alice.expect(lambda f: f["type"] == "assigned"))["conversation"]["id"]
        third = (await socks[2].expect(lambda f: f["type"] == "queue"))

        snap = await snapshot(http, base, tokens[2])
        assert snap["state"] == "queued" and snap["id"] == third["conversation_id"]
        assert snap["queue"] == {"position": 2, "eta_s": third["eta_s"]} and third["eta_s"] > 0

        # The one ahead is taken: the third is next, and once taken it has no place in line.
        await alice.send({"type": "close", "conversation_id": first})
        second = (await alice.expect(lambda f: f["type"] == "assigned" and f["conversation"]["id"] != first))
        place = (await snapshot(http, base, tokens[2]))["queue"]
        assert isinstance(place, dict) and place["position"] == 1 and place["eta_s"] > 0  # the close moved the average
        await alice.send({"type": "close", "conversation_id": second["conversation"]["id"]})
        await alice.expect(lambda f: f["type"] == "assigned" and f["conversation"]["id"] == third["conversation_id"])
        snap = await snapshot(http, base, tokens[2])
        assert snap["state"] == "assigned" and snap["queue"] is None
        for s in (alice, *socks):
            await s.close()
