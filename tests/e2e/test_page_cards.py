"""Mini program page cards from an agent, through a real `kefu serve` and the fake WeChat API on
loopback (issue 17 item 2): the agent's reply frame carries a card, its thumbnail (a file uploaded
to the router) is uploaded to WeChat first, and custom/send gets a miniprogrampage with the right
fields, one reply of the customer's window each; the transcript keeps the card. Refused before
anything is stored: cards with missing, long or doubled fields, a thumbnail from elsewhere, and a
card in an Official Account conversation. WeChat's errors reach the agent as for any send."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import aiohttp
from helpers.clients import Socket, agent, msg_id
from helpers.fake_wechat import FakeWechat, fake_wechat, signed_query, text_xml
from helpers.media import upload
from helpers.media_samples import png
from helpers.procs import Serve

from tests.adapters.support import WX_TOKEN

CONFIG = """
pools:
  - id: presale
agents:
  - id: alice
    token: alice-token-1234
    pools: [presale]
    max_chats: 50
channels:
  wechat:
    - {{account: shop, app_id: {app}, app_secret: {secret}, token: {token}, api_base: "{api}"}}
  miniprogram:
    - {{account: shop, app_id: {app}, app_secret: {secret}, token: {token}, api_base: "{api}"}}
"""
ALICE = "alice-token-1234"


async def until(check: Any, timeout: float = 30) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def mp_text(http: aiohttp.ClientSession, base: str, openid: str, n: int, text: str) -> None:
    body = {"ToUserName": "gh_mp", "FromUserName": openid, "CreateTime": int(time.time()), "MsgType": "text",
            "Content": text, "MsgId": n}
    async with http.post(f"{base}/webhooks/miniprogram/shop", data=json.dumps(body, ensure_ascii=False).encode(),
                         params=signed_query(WX_TOKEN), headers={"Content-Type": "application/json"}) as r:
        assert (r.status, await r.text()) == (200, "success")


async def transcript(http: aiohttp.ClientSession, base: str, cid: str) -> list[dict[str, Any]]:
    async with http.get(f"{base}/api/v1/conversations/{cid}", headers={"Authorization": f"Bearer {ALICE}"}) as r:
        assert r.status == 200, await r.text()
        return list((await r.json())["messages"])


async def quota_left(http: aiohttp.ClientSession, base: str, openid: str) -> int:
    async with http.get(f"{base}/api/v1/miniprogram/shop/quota/{openid}",
                        headers={"Authorization": f"Bearer {ALICE}"}) as r:
        assert r.status == 200, await r.text()
        return int((await r.json())["quota_left"])


def cards(wx: FakeWechat) -> list[dict[str, Any]]:
    return [s for s in wx.sent if s["msgtype"] == "miniprogrampage"]


async def refused(alice: Socket, frame: dict[str, Any], code: str, words: str) -> None:
    cmid = msg_id()
    await alice.send({"type": "reply", "client_msg_id": cmid, **frame})
    err = await alice.expect(lambda f: f["type"] == "error" and f.get("ref") == cmid)
    assert err["code"] == code and words in err["detail"], err


async def test_agent_sends_page_cards_through_custom_send(redis_url: str, tmp_path: Path) -> None:
    async with fake_wechat() as wx, aiohttp.ClientSession() as http:
        config = tmp_path / "kefu.yaml"
        config.write_text(CONFIG.format(app=wx.app_id, secret=wx.app_secret, token=WX_TOKEN, api=wx.base), "utf-8")
        serve = Serve(config, redis_url, tmp_path, data_dir=tmp_path / "data")
        try:
            serve.wait_ready()
            base = serve.base
            alice = await agent(http, base, ALICE)
            await mp_text(http, base, "oCardBuyer", 1, "羽绒服还有黑色M码吗")
            conv = (await alice.expect(lambda f: f["type"] == "assigned", timeout=30))["conversation"]
            cid = conv["id"]
            assert conv["channel"] == "miniprogram"

            # Refusals: nothing stored, nothing sent.
            before = await transcript(http, base, cid)
            good = {"title": "羽绒服 黑色 M", "pagepath": "pages/goods/detail?id=1001", "thumb_media_id": "THUMB_X"}
            for card, code, words in (
                ({"pagepath": "pages/a"}, "bad_frame", '"title"'),
                ({**good, "title": "长" * 65}, "too_long", '"title"'),
                ({**good, "pagepath": "p" * 513}, "too_long", '"pagepath"'),
                ({"title": "t", "pagepath": "pages/a"}, "bad_frame", "exactly one"),
                ({**good, "thumb_url": "/api/v1/media/m_x"}, "bad_frame", "exactly one"),
                ({"title": "t", "pagepath": "p", "thumb_url": "https://evil.example/x.png"}, "bad_frame",
                 "uploaded to this router"),
                ({"title": "t", "pagepath": "p", "thumb_url": "/api/v1/media/f_notours"}, "unknown_media",
                 "upload it first"),
                ("a card", "bad_frame", '"card" must be an object'),
            ):
                await refused(alice, {"conversation_id": cid, "card": card}, code, words)
            assert await transcript(http, base, cid) == before and not cards(wx)

            # The thumbnail is a picture the agent uploads for this conversation.
            status, up = await upload(http, base, ALICE, png(300, 240, seed=3), path="/api/v1/media",
                                      name="down.png", conversation_id=cid)
            assert status == 201, up
            cmid = msg_id()
            await alice.send({"type": "reply", "conversation_id": cid, "text": "有的，这是商品页", "client_msg_id": cmid,
                              "card": {"title": "羽绒服 黑色 M", "pagepath": "pages/goods/detail?id=1001",
                                       "thumb_url": up["url"]}})
            ack = await alice.expect(lambda f: f["type"] == "ack" and f["client_msg_id"] == cmid)
            sent = await alice.expect(lambda f: f["type"] == "delivery" and f["message_id"] == ack["message_id"],
                                      timeout=30)
            assert sent["status"] == "sent", sent
            mine = [s for s in wx.sent if s["touser"] == "oCardBuyer"]
            assert [s["msgtype"] for s in mine] == ["text", "miniprogrampage"]  # the text first, then the card
            card = mine[1]["miniprogrampage"]
            assert (card["title"], card["pagepath"]) == ("羽绒服 黑色 M", "pages/goods/detail?id=1001")
            thumb = wx.uploaded[card["thumb_media_id"]]  # uploaded to WeChat before the send
            assert (thumb.type, thumb.content_type, thumb.data) == ("image", "image/png", png(300, 240, seed=3))
            assert await quota_left(http, base, "oCardBuyer") == 3  # the text and the card: two replies

            # A card alone, with a media id WeChat already holds; the same thumbnail is not uploaded again.
            cmid = msg_id()
            await alice.send({"type": "reply", "conversation_id": cid, "client_msg_id": cmid,
                              "card": {"title": "尺码表", "pagepath": "pages/size", "thumb_media_id": "THUMB_KEPT"}})
            ack2 = await alice.expect(lambda f: f["type"] == "ack" and f["client_msg_id"] == cmid)
            await alice.expect(lambda f: f["type"] == "delivery" and f["message_id"] == ack2["message_id"]
                               and f["status"] == "sent", timeout=30)
            assert cards(wx)[-1]["miniprogrampage"] == {"title": "尺码表", "pagepath": "pages/size",
                                                        "thumb_media_id": "THUMB_KEPT"}
            assert len(wx.uploaded) == 1 and await quota_left(http, base, "oCardBuyer") == 2

            # The transcript keeps the cards, for the console and the archive.
            shown = {m["id"]: m for m in await transcript(http, base, cid)}
            first, second = shown[ack["message_id"]], shown[ack2["message_id"]]
            assert first["kind"] == "link" and first["text"] == "有的，这是商品页"
            assert first["card"]["title"] == "羽绒服 黑色 M"
            assert first["card"]["thumb_url"] == f"/api/v1/media/{up['media_id']}"
            assert second["card"] == {"title": "尺码表", "pagepath": "pages/size", "thumb_media_id": "THUMB_KEPT"}
            assert second["text"] == "尺码表\npages/size"  # what search and older clients read

            # WeChat refuses (the window closed): the agent reads why, and the window is closed here too.
            wx.script = [45015]
            cmid = msg_id()
            await alice.send({"type": "reply", "conversation_id": cid, "client_msg_id": cmid,
                              "card": {"title": "再看看", "pagepath": "pages/a", "thumb_media_id": "THUMB_KEPT"}})
            ack3 = await alice.expect(lambda f: f["type"] == "ack" and f["client_msg_id"] == cmid)
            failed = await alice.expect(lambda f: f["type"] == "delivery" and f["message_id"] == ack3["message_id"],
                                        timeout=30)
            assert failed["status"] == "failed" and "48-hour" in failed["reason"], failed
            assert await quota_left(http, base, "oCardBuyer") == 0

            # An Official Account conversation cannot take a card: refused up front.
            async with http.post(f"{base}/webhooks/wechat/shop", params=signed_query(WX_TOKEN),
                                 data=text_xml("oOaBuyer", "公众号来的", 77).encode()) as r:
                assert r.status == 200
            oa = (await alice.expect(lambda f: f["type"] == "assigned" and f["conversation"]["id"] != cid,
                                     timeout=30))["conversation"]
            assert oa["channel"] == "wechat"
            await refused(alice, {"conversation_id": oa["id"], "card": good}, "undeliverable", "cannot send page cards")
            assert len(cards(wx)) == 2
            await alice.close()
        finally:
            serve.stop()
