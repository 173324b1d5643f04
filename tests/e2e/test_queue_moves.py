"""A waiting customer hears their new place when someone ahead leaves the queue, without writing:
the script step that moves a conversation schedules one announcement for its pool (lib.lua's
`queue_moved`); no process has to see the move's frame and call Redis about it."""

from __future__ import annotations

import aiohttp
from helpers.app import basic_settings, running
from helpers.clients import Socket, agent, customer_writes


async def test_a_move_ahead_pushes_the_new_place_and_an_empty_queue_schedules_nothing(redis_url: str) -> None:
    async with running(basic_settings(cap=1), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        keys, client = rt.store.keys, rt.store.client
        alice = await agent(http, base, "alice-token-1234")
        socks: list[Socket] = []
        for text in ("第一位", "第二位", "第三位"):
            sock, _ = await customer_writes(http, base, text)
            socks.append(sock)
            if len(socks) == 1:
                # Assigned at once, nobody waiting: no announcement is owed.
                assert await client.zscore(keys.timers_due, "announce:presale") is None
        first = (await alice.expect(lambda f: f["type"] == "assigned"))["conversation"]["id"]
        third = await socks[2].expect(lambda f: f["type"] == "queue")
        assert third["position"] == 2

        # The close hands the second chat to alice: the third customer, who wrote nothing more,
        # is told they are next, by the announcement the close and the assignment scheduled once.
        await alice.send({"type": "close", "conversation_id": first})
        moved = await socks[2].expect(lambda f: f["type"] == "queue" and f["position"] == 1, timeout=10)
        assert moved["conversation_id"] == third["conversation_id"] and moved["ahead"] == 0
        for s in (alice, *socks):
            await s.close()
