"""Mini program customer service: the message push in JSON or XML, plaintext or AES, each kind it
carries (text, picture, page card, entering a session), refusals that store nothing, and replies
through custom/send with the mini program's own token: text, a picture and a page card."""

from __future__ import annotations

import json
import time
from typing import Any

import aiohttp
from helpers.app import BASIC, running
from helpers.clients import agent, msg_id
from helpers.fake_wechat import FakeWechat, safe_body, signed_query, text_xml

from adapters.wechat_crypto import MessageCrypto
from router.config.settings import parse_settings
from router.models import Kind, MediaRef
from tests.adapters.support import AES_KEY, WX_TOKEN, snapshot

HOOK = "/webhooks/miniprogram/shop"


def config(wx: FakeWechat) -> str:
    # An Official Account and a mini program both named "shop": their tokens and quotas stay apart.
    return BASIC.format(cap=20) + f"""
channels:
  wechat:
    - {{account: shop, app_id: {wx.app_id}, app_secret: {wx.app_secret}, token: {WX_TOKEN}, api_base: "{wx.base}"}}
  miniprogram:
    - {{account: shop, app_id: {wx.app_id}, app_secret: {wx.app_secret}, token: {WX_TOKEN},
       encoding_aes_key: {AES_KEY}, encryption: compatible, api_base: "{wx.base}"}}
"""


def push(openid: str, n: int, mtype: str, **fields: Any) -> dict[str, Any]:
    return {"ToUserName": "gh_mp", "FromUserName": openid, "CreateTime": int(time.time()), "MsgType": mtype,
            "MsgId": n, **fields}


async def test_push_kinds_refusals_and_replies(redis_url: str, wx_api: FakeWechat) -> None:
    settings = parse_settings(config(wx_api), "<test>")
    async with running(settings, redis_url) as (rt, base), aiohttp.ClientSession() as http:
        alice = await agent(http, base, "alice-token-1234")
        crypto = MessageCrypto(AES_KEY, wx_api.app_id)

        # The URL check echoes echostr.
        async with http.get(f"{base}{HOOK}", params={**signed_query(WX_TOKEN), "echostr": "hello-mp"}) as r:
            assert (r.status, await r.text()) == (200, "hello-mp")
        # JSON, plaintext: entering from a product page, then a text.
        enter = {k: v for k, v in push("oBuyer", 0, "event", Event="user_enter_tempsession",
                                       SessionFrom="goods:1001").items() if k != "MsgId"}
        for body in (enter, push("oBuyer", 1, "text", Content="这个有货吗")):
            async with http.post(f"{base}{HOOK}", data=json.dumps(body, ensure_ascii=False).encode(),
                                 params=signed_query(WX_TOKEN), headers={"Content-Type": "application/json"}) as r:
                assert (r.status, await r.text()) == (200, "success")
        # JSON, encrypted: a page card; XML, encrypted: a text.
        enc = crypto.encrypt(json.dumps(push("oBuyer", 2, "miniprogrampage", Title="羽绒服 黑色 M",
                                             AppId="wxmp", PagePath="pages/goods?id=1001",
                                             ThumbUrl="http://x", ThumbMediaId="T1"), ensure_ascii=False))
        async with http.post(f"{base}{HOOK}", json={"ToUserName": "gh_mp", "Encrypt": enc},
                             params=signed_query(WX_TOKEN, enc)) as r:
            assert (r.status, await r.text()) == (200, "success")
        enc = crypto.encrypt(text_xml("oBuyer", "XML 也可以", 3))
        async with http.post(f"{base}{HOOK}", data=safe_body(enc).encode(), params=signed_query(WX_TOKEN, enc)) as r:
            assert r.status == 200

        assigned = await alice.expect(lambda f: f["type"] == "assigned")
        conv = assigned["conversation"]
        assert (conv["channel"], conv["account"]) == ("miniprogram", "shop")
        texts = [m["text"] for m in assigned["messages"]]
        if len(texts) < 4:  # the rest came as message frames after the assignment
            await alice.expect_count(lambda f: f["type"] == "message", 4 - len(texts))
        texts += [f["message"]["text"] for f in alice.of("message")]
        assert len(texts) == 4
        assert texts[:1] == ["[user_enter_tempsession: goods:1001]"]
        assert "这个有货吗" in texts and "羽绒服 黑色 M\npages/goods?id=1001" in texts and "XML 也可以" in texts

        # Refused, each leaving Redis as it was: a forged signature, a stale one, bad JSON, a forged
        # msg_signature.
        before = await snapshot(rt.store)
        good = json.dumps(push("oBuyer", 9, "text", Content="x")).encode()
        forged = {**signed_query(WX_TOKEN), "signature": "0" * 40}
        stale = signed_query(WX_TOKEN, timestamp=str(int(time.time()) - 3600))
        enc = crypto.encrypt(good.decode())
        bad_msg_sig = {**signed_query(WX_TOKEN, enc), "msg_signature": "0" * 40}
        for data, params, status in ((good, forged, 403), (good, stale, 403), (b"{not json", signed_query(WX_TOKEN), 400),
                                     (json.dumps({"Encrypt": enc}).encode(), bad_msg_sig, 403)):
            async with http.post(f"{base}{HOOK}", data=data, params=params) as r:
                assert r.status == status, (r.status, await r.text())
        assert await snapshot(rt.store) == before

        # The agent answers: custom/send with the mini program's token, one reply of its window.
        await alice.send({"type": "reply", "conversation_id": conv["id"], "text": "有货的", "client_msg_id": msg_id()})
        await alice.expect(lambda f: f["type"] == "delivery" and f["status"] == "sent")
        assert [s["text"]["content"] for s in wx_api.sent if s["touser"] == "oBuyer"] == ["有货的"]
        mp = rt.adapters[("miniprogram", "shop")]
        assert await mp.replies_left("oBuyer") == 4  # type: ignore[attr-defined]
        oa = rt.adapters[("wechat", "shop")]
        assert await oa.replies_left("oBuyer") == 0  # type: ignore[attr-defined]  # the OA's window is its own
        # Files go as pictures only; a page card goes through the same API.
        video = MediaRef(id="f1", mime="video/mp4", size=10, kind=Kind.VIDEO)
        assert "mini programs cannot send this file" in (mp.undeliverable_file(video) or "")
        await mp.api.send_card("oBuyer", "羽绒服 黑色 M", "pages/goods?id=1001", "THUMB1")  # type: ignore[attr-defined]
        card = wx_api.sent[-1]
        assert card["msgtype"] == "miniprogrampage"
        assert card["miniprogrampage"] == {"title": "羽绒服 黑色 M", "pagepath": "pages/goods?id=1001",
                                           "thumb_media_id": "THUMB1"}
        await alice.close()
