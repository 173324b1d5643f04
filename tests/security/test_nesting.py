"""Item 7: input nested far deeper than anything we accept gets an error frame or a 400, and
the socket stays open; before, json.loads' RecursionError dropped sockets and answered 500."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from helpers.app import BASIC, running
from helpers.clients import Socket, agent, customer
from helpers.fake_telegram import fake_telegram

from router.config.settings import parse_settings

TG_SECRET = "tg-secret_nesting"
DEEP_FRAME = "[" * 30_000 + "]" * 30_000          # 60 KB, under the 64 KB frame limit
DEEP_UPDATE = ('{"update_id": 1, "message": {"chat": {"id": 1}, "text": "hi", "entities": '
               + "[" * 100_000 + "]" * 100_000 + "}}")    # 200 KB, under the 256 KB update limit


@pytest.fixture
async def base(redis_url: str) -> AsyncIterator[str]:
    async with fake_telegram() as tg:
        text = BASIC.format(cap=5) + f"""
channels:
  telegram:
    - bot: shopbot
      token: "{tg.token}"
      secret_token: {TG_SECRET}
      api_base: {tg.base}
"""
        async with running(parse_settings(text, "<test>"), redis_url) as (_rt, url):
            yield url


async def _still_open(sock: Socket) -> None:
    await sock.send({"type": "ping"})
    await sock.expect(lambda f: f["type"] == "pong")


async def test_a_deep_frame_gets_an_error_frame_on_both_sockets(base: str) -> None:
    async with aiohttp.ClientSession() as http:
        alice = await agent(http, base, "alice-token-1234")
        shopper, _ = await customer(http, base)
        for sock in (alice, shopper):
            await sock.ws.send_str(DEEP_FRAME)
            err = await sock.expect(lambda f: f["type"] == "error")
            assert err["code"] == "too_deep", err
            await _still_open(sock)
            await sock.close()


async def test_a_deep_json_body_is_a_400(base: str) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base}/api/v1/conversations/c1/close", data=DEEP_FRAME,
                             headers={"Authorization": "Bearer alice-token-1234",
                                      "Content-Type": "application/json"}) as r:
            assert r.status == 400, await r.text()
            assert (await r.json())["error"] == "too_deep"
        async with http.post(f"{base}/api/v1/webchat/sessions", data=DEEP_FRAME,
                             headers={"Content-Type": "application/json"}) as r:
            assert r.status < 500, await r.text()


async def test_a_deep_telegram_update_is_a_400(base: str) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base}/webhooks/telegram/shopbot", data=DEEP_UPDATE,
                             headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET,
                                      "Content-Type": "application/json"}) as r:
            assert r.status == 400, await r.text()
            assert (await r.json())["error"] == "too_deep"


async def test_deep_rules_yaml_is_refused_not_a_500(base: str) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base}/api/v1/rules/validate", data="rules: " + "[" * 5000 + "]" * 5000,
                             headers={"Authorization": "Bearer sue-token-12345",
                                      "Content-Type": "application/yaml"}) as r:
            assert r.status < 500, await r.text()


def test_depth_check_counts_brackets_outside_strings_only() -> None:
    from kefu_common import safejson

    assert safejson.depth_ok('{"a": "' + "[" * 500 + '"}', 8)
    assert safejson.depth_ok('"\\"' + "[" * 100 + '"', 8)
    assert not safejson.depth_ok("[" * 9 + "]" * 9, 8)
    assert safejson.depth_ok("[" * 8 + "]" * 8, 8)
    assert safejson.depth_ok("[[]]" * 1000, 8)
    assert safejson.loads('{"a": [1, {"b": "]]]"}]}') == {"a": [1, {"b": "]]]"}]}
