"""Issue 16, the real-process test: an admin creates an agent on one `kefu serve`, the agent signs
in with a password on another and takes chats, and disabling them (back on the first) requeues
their chats for the rest of the team. And the demo prints an admin who signs in with a password."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis
from helpers.accounts import call, login
from helpers.clients import agent, customer, msg_id
from helpers.procs import Serve

from router.accounts.passwords import hash_password

CONFIG = """
pools:
  - id: presale
agents:
  - id: root
    token: root-admin-token-1
    role: admin
    password_hash: "{hash}"
    max_chats: 0
  - id: bob
    token: bob-token-123456
    pools: [presale]
    max_chats: 20
ops:
  disconnect_grace_s: 2
"""
RT = "{rt:kefu}:"
CUSTOMERS = 12


async def _held(r: Any, aid: str) -> set[str]:
    return set(await r.smembers(f"{RT}agent:{aid}:convs"))


@pytest.mark.slow
async def test_created_on_one_process_signed_in_on_another_then_disabled(redis_url: str, tmp_path: Path) -> None:
    cfg = tmp_path / "kefu.yaml"
    cfg.write_text(CONFIG.format(hash=hash_password("root-password-1")))
    one, two = Serve(cfg, redis_url, tmp_path), Serve(cfg, redis_url, tmp_path)
    r = aioredis.from_url(redis_url, decode_responses=True)
    try:
        one.wait_ready()
        two.wait_ready()
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
            status, _, signed = await login(http, one.base, "root", "root-password-1")
            assert status == 200, signed
            admin = signed["token"]
            status, _, made = await call(http, "POST", f"{one.base}/api/v1/agents", admin,
                                         {"id": "carol", "name": "Carol", "pools": ["presale"], "max_chats": CUSTOMERS,
                                          "skills": {"presale": 4}})
            assert status == 201, made
            # No restart: the other process signs her in with the one-time password.
            status, _, carol_in = await login(http, two.base, "carol", made["password"])
            assert status == 200, carol_in
            carol = await agent(http, two.base, carol_in["token"])
            socks = [(await customer(http, (one, two)[i % 2].base))[0] for i in range(CUSTOMERS)]
            await asyncio.gather(*(s.send({"type": "message", "text": f"有现货吗 {i}", "client_msg_id": msg_id()})
                                   for i, s in enumerate(socks)))
            got = await carol.expect_count(lambda f: f["type"] == "assigned", CUSTOMERS, timeout=60)
            cids = {f["conversation"]["id"] for f in got}
            assert len(cids) == CUSTOMERS and await _held(r, "carol") == cids
            # She answers one: a real chat, not just an assignment.
            first = sorted(cids)[0]
            await carol.send({"type": "reply", "conversation_id": first, "text": "有的亲", "client_msg_id": msg_id()})
            await carol.expect(lambda f: f["type"] == "delivery" or f.get("conversation_id") == first, timeout=30)
            # Bob comes online on the first process; the admin disables Carol there.
            bob = await agent(http, one.base, "bob-token-123456")
            status, _, data = await call(http, "POST", f"{one.base}/api/v1/agents/carol/disable", admin)
            assert status == 200 and data["chats_handed_on"] == CUSTOMERS
            handed = await bob.expect_count(lambda f: f["type"] == "assigned", CUSTOMERS, timeout=60)
            assert {f["conversation"]["id"] for f in handed} == cids
            assert await _held(r, "carol") == set() and await _held(r, "bob") == cids
            deadline = time.monotonic() + 10
            while not carol.ws.closed and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            assert carol.ws.close_code == 4401  # her console was signed out on the other process
            assert (await login(http, two.base, "carol", made["password"]))[0] == 403
            # The handover wrote its note in each transcript, as going offline does.
            status, _, conv = await call(http, "GET", f"{one.base}/api/v1/conversations/{first}", admin)
            assert any("account disabled" in (m.get("text") or "") for m in conv["messages"]), conv["messages"][-3:]
            entries = (await call(http, "GET", f"{two.base}/api/v1/audit?action=agent.*", admin))[2]["entries"]
            assert [e["action"] for e in entries][:2] == ["agent.disable", "agent.create"]
            for s in (*socks, bob, carol):
                await s.close()
    finally:
        await r.aclose()
        one.stop()
        two.stop()


@pytest.mark.slow
async def test_the_demo_prints_an_admin_who_signs_in_with_a_password(tmp_path: Path) -> None:
    demo = Serve(None, None, tmp_path, data_dir=tmp_path / "data")
    try:
        demo.wait_ready()
        line = next(x for x in demo.output().splitlines() if x.startswith("admin sign-in:"))
        password = line.split(" password ")[1].split()[0]
        async with aiohttp.ClientSession() as http:
            status, _, data = await login(http, demo.base, "admin", password)
            assert status == 200 and data["agent"]["role"] == "admin"
            status, _, made = await call(http, "POST", f"{demo.base}/api/v1/agents", data["token"],
                                         {"id": "dora", "name": "Dora", "pools": ["presale"]})
            assert status == 201, made
    finally:
        demo.stop()
