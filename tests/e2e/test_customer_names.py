"""Customers by the name they gave (issue 19 item 12, issue 16 linking): the WeChat nickname and
avatar from user/info (the real wechatpy parsing the callback, the fake API answering), one
customer across two WeChat accounts by unionid, the Telegram profile name, and the name typed
into the web chat's leave-a-message form."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
from helpers.app import BASIC, running
from helpers.clients import agent, customer, msg_id
from helpers.fake_telegram import fake_telegram
from helpers.fake_wechat import FakeWechat, fake_wechat, signed_query, text_xml

from router.config.settings import parse_settings
from router.runtime import Runtime
from tests.adapters.support import TG_SECRET, WX_TOKEN

CHANNELS = """
channels:
  wechat:
    - account: shop
      app_id: {a_id}
      app_secret: {a_secret}
      token: {wx_token}
      api_base: {a}
    - account: shop2
      app_id: {b_id}
      app_secret: {b_secret}
      token: {wx_token}
      api_base: {b}
  telegram:
    - bot: shopbot
      token: "{tg_token}"
      secret_token: {tg_secret}
      api_base: {tg}
"""
AVATAR = "https://thirdwx.qlogo.cn/mmopen/abc/132"


async def _until(pred: Any, timeout: float = 10) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = await pred()
        if got:
            return got
        assert time.monotonic() < deadline, "not reached in time"
        await asyncio.sleep(0.05)


async def _wechat(http: aiohttp.ClientSession, base: str, account: str, openid: str, text: str, n: int) -> None:
    async with http.post(f"{base}/webhooks/wechat/{account}", params=signed_query(WX_TOKEN),
                         data=text_xml(openid, text, n).encode()) as r:
        assert r.status == 200


async def _name_of(rt: Runtime, channel: str, account: str, user: str) -> dict[str, Any] | None:
    cust = await rt.store.customers.by_identity(channel, account, user)
    return await rt.store.customer(cust) if cust else None


async def test_customers_are_called_by_the_names_their_channels_and_forms_gave(redis_url: str) -> None:
    a: FakeWechat
    async with fake_wechat(app_id="wxA", app_secret="sa") as a, fake_wechat(app_id="wxB", app_secret="sb") as b, \
            fake_telegram() as tg:
        a.users["oA-1"] = {"nickname": "小林", "headimgurl": AVATAR, "unionid": "UNION-42"}
        b.users["oB-1"] = {"nickname": "小林", "headimgurl": AVATAR, "unionid": "UNION-42"}
        text = BASIC.format(cap=50) + CHANNELS.format(
            a_id=a.app_id, a_secret=a.app_secret, a=a.base, b_id=b.app_id, b_secret=b.app_secret, b=b.base,
            wx_token=WX_TOKEN, tg_token=tg.token, tg_secret=TG_SECRET, tg=tg.base)
        async with running(parse_settings(text, "<test>"), redis_url) as (rt, base), \
                aiohttp.ClientSession() as http:
            alice = await agent(http, base, "alice-token-1234")
            await _wechat(http, base, "shop", "oA-1", "在吗", 5_000_001)

            async def named_a() -> dict[str, Any] | None:
                c = await _name_of(rt, "wechat", "shop", "oA-1")
                return c if c and c["name"] == "小林" else None
            first = await _until(named_a)
            assert first["avatar"] == AVATAR and "unionid:wechat:UNION-42" in first["identities"]
            # The same person writes to the shop's second Official Account: one customer.
            await _wechat(http, base, "shop2", "oB-1", "我换了个号问", 5_000_002)

            async def linked() -> bool:
                return await rt.store.customers.by_identity("wechat", "shop2", "oB-1") == first["id"]
            await _until(linked)
            async with http.get(f"{base}/api/v1/customers/{first['id']}/history",
                                headers={"Authorization": "Bearer sue-token-12345"}) as r:
                history = await r.json()
            assert {c["account"] for c in history["conversations"]} >= {"shop"}
            assert set(history["customer"]["identities"]) >= {"wechat:shop:oA-1", "wechat:shop2:oB-1"}
            # A burst of lines asks WeChat once, not per line.
            for n in range(3):
                await _wechat(http, base, "shop", "oA-1", f"第{n}句", 5_000_010 + n)
            await asyncio.sleep(0.5)
            assert a.user_info_calls == ["oA-1"]

            # Telegram: the profile's first and last name.
            update = {"update_id": 501, "message": {
                "message_id": 501, "date": int(time.time()), "chat": {"id": 9001, "type": "private"},
                "from": {"id": 9001, "is_bot": False, "first_name": "Ivan", "last_name": "Petrov"},
                "text": "hello"}}
            async with http.post(f"{base}/webhooks/telegram/shopbot", json=update,
                                 headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET}) as r:
                assert r.status == 200
            frame = await alice.expect(lambda f: f["type"] == "assigned" and f["conversation"]["channel"] == "telegram")
            assert frame["conversation"]["customer"]["name"] == "Ivan Petrov"

            # Web chat: the name typed into the leave-a-message form rides on its message frame.
            page, _ = await customer(http, base)
            await page.send({"type": "message", "text": "[留言 / message left]\n姓名 / name: 陈女士\n...",
                             "client_msg_id": msg_id(), "name": "陈女士"})
            frame = await alice.expect(lambda f: f["type"] == "assigned" and f["conversation"]["channel"] == "webchat")
            assert frame["conversation"]["customer"]["name"] == "陈女士"
            await page.send({"type": "message", "text": "x", "client_msg_id": msg_id(), "name": "n" * 65})
            assert (await page.expect(lambda f: f["type"] == "error"))["code"] == "too_long"
            # A name a person set is kept: the channel's nickname no longer replaces it.
            async with http.patch(f"{base}/api/v1/customers/{first['id']}", json={"name": "林先生（老客）"},
                                  headers={"Authorization": "Bearer sue-token-12345"}) as r:
                assert r.status == 200
            await rt.store.client.delete(rt.store.keys.profile_asked("wechat:shop:oA-1"))
            rt.profile_fetcher._asked.clear()
            await _wechat(http, base, "shop", "oA-1", "再问一句", 5_000_020)
            await _until(lambda: _called_twice(a))
            await asyncio.sleep(0.3)
            assert (await rt.store.customer(first["id"]) or {})["name"] == "林先生（老客）"
            await page.close()
            await alice.close()


async def _called_twice(a: FakeWechat) -> bool:
    return len(a.user_info_calls) >= 2
