"""GET /api/v1/webchat/widget (the welcome card and whether anyone is online) and the logo."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
from helpers.app import BASIC, basic_settings, running
from helpers.clients import agent
from helpers.images import png

from router.config.settings import parse_settings


async def test_defaults_then_someone_comes_online(redis_url: str) -> None:
    async with running(basic_settings(), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        async with http.get(f"{base}/api/v1/webchat/widget") as r:
            assert r.status == 200
            assert r.headers["Cache-Control"] == "no-store"
            body = await r.json()
        assert body == {"online": False, "availability": "nobody", "welcome": {"name": "kefu-router demo shop", "logo": None,
                                                     "colour": "#0a66c2", "text_colour": "#ffffff", "greeting": {}}}
        async with http.get(f"{base}/api/v1/webchat/logo") as r:
            assert r.status == 404
        alice = await agent(http, base, "alice-token-1234")
        online = False
        for _ in range(60):  # a process reuses its answer for 3 s
            async with http.get(f"{base}/api/v1/webchat/widget") as r:
                online = (await r.json())["online"]
            if online:
                break
            await asyncio.sleep(0.1)
        assert online
        await alice.close()


async def test_configured_card_and_logo(redis_url: str, tmp_path: Path) -> None:
    (tmp_path / "logo.png").write_bytes(png(32, 32))
    text = BASIC.format(cap=5) + """
channels:
  webchat:
    title: 云裳在线客服
    welcome: {logo: logo.png, colour: "#FDE047", greeting: {en: Hi}}
"""
    async with running(parse_settings(text, "<test>", base_dir=str(tmp_path)), redis_url) as (_rt, base), \
            aiohttp.ClientSession() as http:
        async with http.get(f"{base}/api/v1/webchat/widget") as r:
            welcome = (await r.json())["welcome"]
        assert welcome == {"name": "云裳在线客服", "logo": "/api/v1/webchat/logo", "colour": "#FDE047",
                           "text_colour": "#000000", "greeting": {"en": "Hi"}}
        async with http.get(f"{base}/api/v1/webchat/logo") as r:
            assert r.status == 200
            assert r.headers["Content-Type"] == "image/png"
            assert r.headers["X-Content-Type-Options"] == "nosniff"
            assert await r.read() == (tmp_path / "logo.png").read_bytes()


async def test_web_chat_switched_off_has_no_card(redis_url: str) -> None:
    text = BASIC.format(cap=5) + "\nchannels:\n  webchat:\n    enabled: false\n"
    async with running(parse_settings(text, "<test>"), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        async with http.get(f"{base}/api/v1/webchat/widget") as r:
            assert r.status == 404
