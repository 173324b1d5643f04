"""An agent's status change reaches every console of that agent and every supervisor once, and
no other agent (status.lua's `status` and `agent_status` frames, the hub's every-agent address)."""

from __future__ import annotations

import asyncio

import aiohttp
from helpers.app import basic_settings, running
from helpers.clients import Socket, agent


async def test_every_console_of_the_agent_and_every_supervisor_hear_each_change_once(redis_url: str) -> None:
    async with running(basic_settings(), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        alice = [await agent(http, base, "alice-token-1234") for _ in range(3)]
        bob = await agent(http, base, "bob-token-12345")
        sues = [await agent(http, base, "sue-token-12345") for _ in range(2)]
        await asyncio.sleep(0.3)
        marks = {id(s): len(s.frames) for s in [*alice, bob, *sues]}

        def since(s: Socket, kind: str) -> list[dict[str, object]]:
            return [f for f in s.frames[marks[id(s)]:] if f.get("type") == kind]

        changes = [("away", "break"), ("away", "training"), ("online", ""), ("away", "busy")]
        for status, reason in changes:
            frame = {"type": "status", "status": status, **({"reason": reason} if reason else {})}
            await alice[0].send(frame)
            for s in alice:
                await s.expect(lambda f, st=status, r=reason: f["type"] == "status" and f["status"] == st
                               and f["reason"] == r, timeout=1.0, start=marks[id(s)])
            for s in sues:
                await s.expect(lambda f, st=status, r=reason: f["type"] == "agent_status"
                               and f["agent"] == "alice" and f["status"] == st and f["reason"] == r, timeout=1.0,
                               start=marks[id(s)])
        # The same status again changes nothing and says nothing.
        await alice[1].send({"type": "status", "status": "away", "reason": "busy"})
        await alice[1].expect(lambda f: f["type"] == "status" and f.get("why") is None, start=marks[id(alice[1])])
        await asyncio.sleep(0.3)

        # Pushed, each once: the two sockets that did not ask heard only the pushed frames.
        for s in alice[1:]:
            pushed = [(f["status"], f["reason"]) for f in since(s, "status") if f.get("why") == "agent_set"]
            assert pushed == changes
        for s in sues:
            seen = [(f["status"], f["reason"]) for f in since(s, "agent_status") if f["agent"] == "alice"]
            assert seen == changes
            assert all(isinstance(f["since"], float) for f in since(s, "agent_status"))
        # An agent is not told a teammate's status, nor another agent's own.
        assert since(bob, "agent_status") == [] and since(bob, "status") == []
        for s in [*alice, bob, *sues]:
            await s.close()
