"""Order privacy through a channel adapter: a Telegram chat the order lists as its owner's gets
the status; another chat asking about the same number gets the phone-digits question only."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest
from helpers.app import running
from helpers.bot_app import REPO, bot_config
from helpers.fake_telegram import FakeTelegram

from router.bot.brain_texts import BotTexts
from router.config.settings import parse_settings
from tests.adapters.support import TG_SECRET
from tests.adapters.test_e2e_channels import telegram_says

ORDER = "2024111100012301"
ORDERS = f"""orders:
  - id: "{ORDER}"
    customer_id: shop-member-7
    identities: ["telegram:shopbot:555001"]
    buyer_phone: "13800131234"
    state: shipped
    created_at: 2024-11-11T00:12:05+08:00
    courier: 中通快递
    tracking_no: "75310012345678"
    tracking:
      - {{at: 2024-11-14T09:15:00+08:00, status: 已到达北京转运中心, location: 北京}}
"""


async def texts_to(tg: FakeTelegram, chat: int, n: int) -> list[str]:
    for _ in range(200):  # bounded: 10 s
        if len(tg.sent_to(chat)) >= n:
            return tg.sent_to(chat)
        await asyncio.sleep(0.05)
    raise AssertionError(f"{n} texts to {chat} expected; got {tg.sent_to(chat)}")


async def test_the_owners_chat_sees_the_order_and_another_chat_does_not(
    tg_api: FakeTelegram, redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KEFU_TEST_TG_TOKEN", tg_api.token)
    (tmp_path / "orders.yaml").write_text(ORDERS, encoding="utf-8")
    demo_orders = str(REPO / "config" / "orders-demo.yaml")
    text = bot_config(tmp_path).replace(demo_orders, str(tmp_path / "orders.yaml")).replace(
        "bot:\n", f"""channels:
  telegram:
    - bot: shopbot
      token_env: KEFU_TEST_TG_TOKEN
      secret_token: {TG_SECRET}
      api_base: {tg_api.base}
bot:
""")
    settings = parse_settings(text, "<test>", base_dir=str(tmp_path))
    async with running(settings, redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        assert await telegram_says(http, base, 9101, chat=555001, text=f"where is my order {ORDER}") == 200
        owner = await texts_to(tg_api, 555001, 2)  # the greeting, then the answer
        assert "已发货" in owner[-1] and "北京转运中心" in owner[-1]

        assert await telegram_says(http, base, 9102, chat=555002, text=f"where is my order {ORDER}") == 200
        other = await texts_to(tg_api, 555002, 2)
        assert not any(s in t for t in other for s in ("已发货", "中通", "北京", "75310012345678"))
        assert other[-1] == BotTexts().verify_ask.format(order_id=ORDER)
