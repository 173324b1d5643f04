"""The roster sets agents online and offline at their shift's edges, once across two processes,
and hands open chats over at a shift's end, keeping a handover list. The clock is fixed."""

from __future__ import annotations

import asyncio
from datetime import datetime
from zoneinfo import ZoneInfo

import aiohttp
from helpers.app import BASIC, running
from helpers.clients import agent, customer, msg_id

from router.config.settings import parse_settings

SUE = {"Authorization": "Bearer sue-token-12345"}
TZ = ZoneInfo("Asia/Shanghai")
ROSTER = """ops:
  shift_tick_s: 3600
shifts:
  - name: day
    start: "09:00"
    end: 22:00
    timezone: Asia/Shanghai
    agents: [alice, sue]
  - name: night
    start: 22:00
    end: "09:00"
    timezone: Asia/Shanghai
    agents: [bob, sue]
"""


def at(hour: int, minute: int = 0) -> float:
    """Monday 2 March 2026 in Shanghai."""
    return datetime(2026, 3, 2, hour, minute, tzinfo=TZ).timestamp()



async def test_shift_edges_once_across_two_processes_with_handover(redis_url: str) -> None:
    now = [at(8, 0)]
    s = parse_settings(BASIC.format(cap=3) + ROSTER, "<test>")
    async with running(s, redis_url, clock=lambda: now[0]) as (rt1, base), \
            running(s, redis_url, clock=lambda: now[0]) as (rt2, _), aiohttp.ClientSession() as http:
        async def status(aid: str) -> str:
            return str((await rt1.store.agents.get(aid)).status)

        assert await rt1.roster.tick() == [] and await status("alice") == "offline"

        now[0] = at(9, 0) + 5
        one, two = await asyncio.gather(rt1.roster.tick(), rt2.roster.tick())
        assert sorted(one + two) == ["day/2026-03-02/start", "night/2026-03-01/end"]
        assert [await status(a) for a in ("alice", "bob", "sue")] == ["online", "offline", "online"]

        alice = await agent(http, base, "alice-token-1234")
        cust, _ = await customer(http, base)
        await cust.send({"type": "message", "text": "还有货吗", "client_msg_id": msg_id()})
        cid = (await alice.expect(lambda f: f["type"] == "assigned"))["conversation"]["id"]

        # 22:00: the day ends (Alice hands over) before the night starts (Bob takes the chat);
        # Sue works straight through, so she is never set offline.
        now[0] = at(22, 0) + 1
        one, two = await asyncio.gather(rt2.roster.tick(), rt1.roster.tick())
        assert sorted(one + two) == ["day/2026-03-02/end", "night/2026-03-02/start"]
        assert [await status(a) for a in ("alice", "bob", "sue")] == ["offline", "online", "online"]
        await alice.expect(lambda f: f["type"] == "shift" and f["edge"] == "end")
        await alice.expect(lambda f: f["type"] == "unassigned" and f["reason"] == "shift_end")
        conv = await rt1.store.conversations.get(cid)
        assert conv and conv.agent == "bob"
        await cust.expect(lambda f: f["type"] == "agent_left" and f["reason"] == "shift_end")

        # Nothing fires twice, whoever ticks again.
        assert await rt1.roster.tick() == [] and await rt2.roster.tick() == []
        async with http.get(f"{base}/api/v1/handovers", headers=SUE) as r:
            handovers = (await r.json())["handovers"]
        assert len(handovers) == 1
        h = handovers[0]
        assert (h["conversation_id"], h["from"], h["reason"], h["pool"]) == (cid, "alice", "shift_end", "presale")
        assert h["to"] is None  # at that moment nobody was free: it waited at the front ...
        assert h["now"]["agent"] == "bob" and h["cleared"]  # ... and Bob took it as his shift began
        async with http.get(f"{base}/api/v1/handovers", headers={"Authorization": "Bearer bob-token-12345"}) as r:
            assert r.status == 403
        assert len(cust.of("agent_left")) == 1
        await alice.close()
        await cust.close()


async def test_a_restart_after_an_edge_still_acts_on_it_within_catch_up(redis_url: str) -> None:
    now = [at(9, 3)]  # every process was down at 09:00; three minutes late is within catch-up
    s = parse_settings(BASIC.format(cap=3) + ROSTER, "<test>")
    async with running(s, redis_url, clock=lambda: now[0]) as (rt, _):
        for _ in range(50):
            if (await rt.store.agents.get("alice")).status == "online":
                break
            await asyncio.sleep(0.05)
        assert (await rt.store.agents.get("alice")).status == "online"
        now[0] = at(22, 0) + 3600  # an hour after the day ended is too late to act on it
        assert await rt.roster.tick() == []
        assert (await rt.store.agents.get("alice")).status == "online"


async def test_an_agent_without_a_console_at_shift_start_goes_offline_after_the_grace(redis_url: str) -> None:
    now = [at(8, 0)]
    s = parse_settings(BASIC.format(cap=3) + ROSTER.replace("shift_tick_s: 3600", "shift_tick_s: 3600\n"
                                                            "  disconnect_grace_s: 0.3"), "<test>")
    async with running(s, redis_url, clock=lambda: now[0]) as (rt, base), aiohttp.ClientSession() as http:
        sue = await agent(http, base, "sue-token-12345")  # Sue's console is open; Alice's is not
        now[0] = at(9, 0) + 1
        assert "day/2026-03-02/start" in await rt.roster.tick()
        assert (await rt.store.agents.get("alice")).status == "online"
        for _ in range(40):
            if (await rt.store.agents.get("alice")).status == "offline":
                break
            await asyncio.sleep(0.05)
        assert (await rt.store.agents.get("alice")).status == "offline"
        assert (await rt.store.agents.get("sue")).status == "online"
        await sue.close()
