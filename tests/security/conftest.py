"""The hardening suite: the router in-process on loopback, against a private redis-server that the
tests may stall (SIGSTOP) or kill, with web chat, a WeChat account and a Telegram bot."""

from __future__ import annotations

import os
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from helpers.app import BASIC, running
from helpers.fake_telegram import FakeTelegram, fake_telegram
from helpers.fake_wechat import FakeWechat, fake_wechat
from helpers.redis_server import RedisServer

from router.config.settings import Settings, parse_settings
from router.runtime import Runtime

WX_TOKEN = "wx-callback-token"
TG_SECRET = "tg-secret_123"


def stack_settings(wx: FakeWechat, tg: FakeTelegram, extra: str = "") -> Settings:
    """BASIC's pools and agents, plus one WeChat account (plaintext mode) and one Telegram bot."""
    channels = f"""
channels:
  wechat:
    - account: shop
      app_id: {wx.app_id}
      app_secret: {wx.app_secret}
      token: {WX_TOKEN}
      api_base: {wx.base}
  telegram:
    - bot: shopbot
      token: "{tg.token}"
      secret_token: {TG_SECRET}
      api_base: {tg.base}
"""
    return parse_settings(BASIC.format(cap=5) + channels + extra, "<security-test>")


@dataclass
class Stack:
    rt: Runtime
    base: str
    redis: RedisServer
    http: aiohttp.ClientSession
    wx: FakeWechat
    tg: FakeTelegram


@pytest.fixture
def stack_extra() -> str:
    """YAML appended to the stack's config; a test module overrides this fixture to change limits."""
    return ""


@pytest.fixture
async def stack(tmp_path: Path, stack_extra: str) -> AsyncIterator[Stack]:
    server = RedisServer(tmp_path / "redis")
    server.start()
    try:
        async with fake_wechat() as wx, fake_telegram() as tg:
            settings = stack_settings(wx, tg, stack_extra)
            async with running(settings, server.url) as (rt, base), aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
                yield Stack(rt, base, server, http, wx, tg)
    finally:
        if server.proc is not None and server.proc.poll() is None:
            os.kill(server.proc.pid, signal.SIGCONT)  # a test may leave it stopped
        server.stop()
