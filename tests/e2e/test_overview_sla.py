"""The supervisor overview lists open conversations whose SLA was breached, from the SLA timers."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
from helpers.app import running
from helpers.clients import agent, customer, msg_id

from router.config.settings import parse_settings

CONFIG = """
pools:
  - id: presale
agents:
  - {id: alice, name: Alice, token: alice-token-1234, pools: [presale], max_chats: 2}
  - {id: sue, name: Sue, token: sue-token-12345, role: supervisor, pools: [presale]}
routing:
  rules: rules.yaml
sla:
  profiles: sla.yaml
  timer_max_sleep_s: 0.05
"""
RULES = """
default: {pool: presale}
rules:
  - name: quick
    when: {contains: "#quick"}
    then: {pool: presale, sla: quick}
"""
PROFILES = """
profiles:
  quick:
    first_response: 0.4s
"""
SUE = {"Authorization": "Bearer sue-token-12345"}


async def test_overview_lists_breached_open_conversations(redis_url: str, tmp_path: Path) -> None:
    (tmp_path / "rules.yaml").write_text(RULES)
    (tmp_path / "sla.yaml").write_text(PROFILES)
    s = parse_settings(CONFIG, "<test>", base_dir=str(tmp_path))
    async with running(s, redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        alice = await agent(http, base, "alice-token-1234")
        slow, _ = await customer(http, base)
        await slow.send({"type": "message", "text": "#quick 在吗", "client_msg_id": msg_id()})
        calm, _ = await customer(http, base)
        await calm.send({"type": "message", "text": "随便问问", "client_msg_id": msg_id()})
        frames = await alice.expect_count(lambda f: f["type"] == "assigned", 2)
        quick = next(f["conversation"]["id"] for f in frames if f["messages"][0]["text"].startswith("#quick"))
        breaches: list[dict[str, object]] = []
        for _ in range(60):
            async with http.get(f"{base}/api/v1/supervisor/overview", headers=SUE) as r:
                breaches = (await r.json())["breaches"]
            if breaches:
                break
            await asyncio.sleep(0.1)
        assert [b["conversation_id"] for b in breaches] == [quick]
        assert breaches[0]["agent"] == "alice" and breaches[0]["sla"]["profile"] == "quick"  # type: ignore[index]
        # Closed, it leaves the overview.
        await alice.send({"type": "close", "conversation_id": quick})
        await alice.expect(lambda f: f["type"] == "closed" and f["conversation_id"] == quick)
        async with http.get(f"{base}/api/v1/supervisor/overview", headers=SUE) as r:
            assert (await r.json())["breaches"] == []
        for s_ in (alice, slow, calm):
            await s_.close()
