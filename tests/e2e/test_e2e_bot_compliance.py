"""Every outgoing agent text is checked: a warning frame (warn mode) or a refusal (block mode);
personal data never reaches the logs."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import aiohttp
import pytest
from helpers.app import running
from helpers.bot_app import bot_settings
from helpers.clients import Socket, agent, customer, msg_id


async def handed_to_alice(http: aiohttp.ClientSession, base: str) -> tuple[Socket, Socket, str]:
    alice = await agent(http, base, "alice-token-1234")
    cust, _ = await customer(http, base)
    await cust.send({"type": "message", "text": "转人工", "client_msg_id": msg_id()})
    assigned = await alice.expect(lambda f: f["type"] == "assigned", timeout=15)
    return alice, cust, assigned["conversation"]["id"]


async def test_warn_mode_warns_before_sending_and_still_sends(redis_url: str, tmp_path: Path) -> None:
    async with running(bot_settings(tmp_path), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        alice, cust, cid = await handed_to_alice(http, base)
        ref = msg_id()
        await alice.send({"type": "reply", "conversation_id": cid, "text": "这是全网最低价，质量最好", "client_msg_id": ref})
        ack = await alice.expect(lambda f: f["type"] == "ack" and f["client_msg_id"] == ref)
        warning = await alice.expect(lambda f: f["type"] == "warning")
        assert alice.frames.index(warning) < alice.frames.index(ack)
        assert warning["code"] == "compliance" and warning["client_msg_id"] == ref
        assert warning["terms"] == ["全网最低", "最好"]
        await cust.expect(lambda f: f["type"] == "message" and f["message"]["text"] == "这是全网最低价，质量最好")

        # Quoting the customer is not the shop's claim.
        quoted = msg_id()
        await alice.send({"type": "reply", "conversation_id": cid, "text": "您说的「最好的」是指哪一款？",
                          "client_msg_id": quoted})
        await alice.expect(lambda f: f["type"] == "ack" and f["client_msg_id"] == quoted)
        assert len(alice.of("warning")) == 1
        for s in (alice, cust):
            await s.close()


async def test_block_mode_refuses_and_sends_nothing(redis_url: str, tmp_path: Path) -> None:
    settings = bot_settings(tmp_path, "  compliance_mode: block\n")
    async with running(settings, redis_url) as (rt, base), aiohttp.ClientSession() as http:
        alice, cust, cid = await handed_to_alice(http, base)
        ref = msg_id()
        await alice.send({"type": "reply", "conversation_id": cid, "text": "国家级品质，100%满意", "client_msg_id": ref})
        err = await alice.expect(lambda f: f["type"] == "error")
        assert err["code"] == "compliance_blocked" and err["ref"] == ref
        assert "国家级" in err["detail"]
        fine = msg_id()
        await alice.send({"type": "reply", "conversation_id": cid, "text": "品质有保障，请放心", "client_msg_id": fine})
        await cust.expect(lambda f: f["type"] == "message" and f["message"]["from"] == "agent")
        await alice.expect(lambda f: f["type"] == "delivery")
        texts = [m.text for m in await rt.transcript.messages(cid) if m.sender.value == "agent"]
        assert texts == ["品质有保障，请放心"]
        assert not [f for f in alice.of("ack") if f["client_msg_id"] == ref]
        for s in (alice, cust):
            await s.close()


async def test_compliance_check_api(redis_url: str, tmp_path: Path) -> None:
    async with running(bot_settings(tmp_path), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        auth = {"Authorization": "Bearer alice-token-1234"}
        async with http.post(f"{base}/api/v1/compliance/check", json={"text": "全网最低价"}, headers=auth) as r:
            assert r.status == 200
            assert await r.json() == {"mode": "warn", "findings": [{"term": "全网最低", "start": 0, "end": 4}]}
        async with http.post(f"{base}/api/v1/compliance/check", json={"text": 5}, headers=auth) as r:
            assert r.status == 400 and (await r.json())["error"] == "bad_request"
        async with http.post(f"{base}/api/v1/compliance/check", json={"text": "x"}) as r:
            assert r.status == 401


async def test_personal_data_is_masked_in_logs(redis_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="kefu")
    async with running(bot_settings(tmp_path), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        cust, _ = await customer(http, base)
        await cust.send({"type": "message", "text": "我手机13812345678收不到紫色验证码短信",
                         "client_msg_id": msg_id()})
        await cust.expect(lambda f: f["type"] == "message" and f["message"]["from"] == "bot")
        await asyncio.sleep(0.2)
        await cust.close()
    logged = [r.getMessage() for r in caplog.records if r.name.startswith("kefu")]
    assert any("138****5678" in m for m in logged), logged
    assert not any("13812345678" in m for m in logged)
