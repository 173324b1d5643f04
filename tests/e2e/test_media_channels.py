"""Photos, voice notes, videos and files through the running router on WeChat and Telegram, with
the real wechatpy parsing callbacks and python-telegram-bot calling the fake Bot API.

Inbound, the webhook is answered before the file is fetched; the agent sees the message at once
and then a `media` frame with the stored file, or a placeholder that says why there is none.
Outbound, a reply with a file reaches the fake API as the channel's own media message."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from helpers.app import BASIC, running
from helpers.clients import Socket, agent
from helpers.fake_telegram import DOWNLOAD_FAILS, FakeTelegram, chat_not_found, fake_telegram
from helpers.fake_wechat import FakeWechat, fake_wechat, media_xml, signed_query, text_xml
from helpers.media_samples import amr, jpeg, mp4, pdf, picture, png
from PIL import Image

from router.config.settings import parse_settings
from router.models import Channel, Kind, MediaRef, Reply, new_id
from router.pipeline import media_fetch
from router.runtime import Runtime
from tests.adapters.support import TG_SECRET, WX_TOKEN

OPENID = "oPhotoCustomer"
CHAT = 777001

CHANNELS = """
channels:
  wechat:
    - account: shop
      app_id: {app_id}
      app_secret: {secret}
      token: {wx_token}
      api_base: {wx}
  telegram:
    - bot: shopbot
      token: "{tg_token}"
      secret_token: {tg_secret}
      api_base: {tg}
"""


class Router:
    def __init__(self, rt: Runtime, base: str, http: aiohttp.ClientSession, wx: FakeWechat,
                 tg: FakeTelegram) -> None:
        self.rt, self.base, self.http, self.wx, self.tg = rt, base, http, wx, tg
        self.msg_no = 0

    async def wechat(self, xml: str) -> tuple[int, str, float]:
        """Post a plaintext callback as WeChat does; (status, body, seconds it took)."""
        start = time.monotonic()
        async with self.http.post(f"{self.base}/webhooks/wechat/shop", params=signed_query(WX_TOKEN),
                                  data=xml.encode()) as r:
            return r.status, await r.text(), time.monotonic() - start

    def next_no(self) -> int:
        self.msg_no += 1
        return 8_000_000 + self.msg_no

    async def telegram(self, uid: int, chat: int = CHAT, **content: Any) -> int:
        update = {"update_id": uid, "message": {
            "message_id": uid, "date": int(time.time()), "chat": {"id": chat, "type": "private"},
            "from": {"id": chat, "is_bot": False, "first_name": "Ivan"}, **content}}
        async with self.http.post(f"{self.base}/webhooks/telegram/shopbot", json=update,
                                  headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET}) as r:
            return r.status

    async def stored(self, media: dict[str, Any]) -> tuple[MediaRef, bytes]:
        return await self.rt.media.get(str(media["id"]))


@pytest.fixture
async def router(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Router]:
    # Retries come quickly here; the shipped waits are seconds to hours.
    monkeypatch.setattr(media_fetch, "DELAYS_S", (0.05, 0.1, 0.2))
    async with fake_wechat() as wx, fake_telegram() as tg:
        text = BASIC.format(cap=100) + CHANNELS.format(
            app_id=wx.app_id, secret=wx.app_secret, wx_token=WX_TOKEN, wx=wx.base, tg_token=tg.token,
            tg_secret=TG_SECRET, tg=tg.base)
        async with running(parse_settings(text, "<test>"), redis_url) as (rt, base), \
                aiohttp.ClientSession() as http:
            yield Router(rt, base, http, wx, tg)


async def assigned(sock: Socket, channel: str, start: int = 0) -> dict[str, Any]:
    return await sock.expect(lambda f: f["type"] == "assigned" and f["conversation"]["channel"] == channel,
                             start=start)


async def media_frame(sock: Socket, message_id: str) -> dict[str, Any]:
    return await sock.expect(lambda f: f["type"] == "media" and f["message_id"] == message_id, timeout=20)


def pixels(data: bytes) -> tuple[str, tuple[int, int]]:
    img = Image.open(io.BytesIO(data))
    img.load()
    return str(img.format), img.size


# -- WeChat in ------------------------------------------------------------------------------------
async def test_wechat_photo_reaches_the_agent_after_a_fast_ack(router: Router) -> None:
    alice = await agent(router.http, router.base, "alice-token-1234")
    photo = jpeg(640, 480, seed=3)
    media_id = router.wx.add_media(photo, "image/jpeg", "IMG_0001.jpg")
    router.wx.get_gate = asyncio.Event()  # WeChat's media server is slow today
    status, body, took = await router.wechat(media_xml(OPENID, "image", media_id, router.next_no()))
    assert (status, body) == (200, "success") and took < 5  # acked while the download still hangs
    conv = await assigned(alice, "wechat")
    [first] = conv["messages"]
    assert (first["kind"], first["media_status"]) == ("image", "pending")
    assert "media" not in first

    router.wx.get_gate.set()
    got = await media_frame(alice, first["id"])
    ref, data = await router.stored(got["media"])
    assert (ref.mime, ref.conversation, ref.channel) == ("image/jpeg", conv["conversation"]["id"], "wechat")
    assert pixels(data) == ("JPEG", (640, 480))
    assert got["media"]["url"] == f"/api/v1/media/{ref.id}"
    # Anyone opening the conversation later reads the file in the transcript.
    [again] = await router.rt.transcript.public(conv["conversation"]["id"])
    assert again["media"]["id"] == ref.id and "media_status" not in again
    assert router.wx.gets == [media_id]
    await alice.close()


async def test_wechat_voice_is_kept_as_amr_and_mp3(router: Router) -> None:
    alice = await agent(router.http, router.base, "alice-token-1234")
    media_id = router.wx.add_media(amr(), "audio/amr", f"{'v' * 8}.amr")
    await router.wechat(media_xml(OPENID, "voice", media_id, router.next_no(), recognition="衣服破了"))
    conv = await assigned(alice, "wechat")
    [first] = conv["messages"]
    assert (first["kind"], first["text"]) == ("voice", "衣服破了")
    got = await media_frame(alice, first["id"])
    mp3, mp3_bytes = await router.stored(got["media"])
    assert (mp3.mime, mp3.duration, mp3.name) == ("audio/mpeg", 2.0, "vvvvvvvv.mp3")
    assert mp3.original is not None
    original, amr_bytes = await router.rt.media.get(mp3.original)
    assert (original.mime, amr_bytes, original.conversation) == ("audio/amr", amr(), mp3.conversation)
    assert mp3_bytes[:3] == b"ID3"
    await alice.close()


async def test_wechat_video_and_file(router: Router) -> None:
    alice = await agent(router.http, router.base, "alice-token-1234")
    clip = router.wx.add_media(mp4(), "video/mp4")
    await router.wechat(media_xml(OPENID, "video", clip, router.next_no()))
    conv = await assigned(alice, "wechat")
    got = await media_frame(alice, conv["messages"][0]["id"])
    assert (await router.stored(got["media"]))[0].mime == "video/mp4"

    doc = router.wx.add_media(pdf(), "application/pdf", "invoice.pdf")
    no = router.next_no()
    xml = (f"<xml><ToUserName><![CDATA[gh_shop]]></ToUserName><FromUserName><![CDATA[{OPENID}]]></FromUserName>"
           f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[file]]></MsgType>"
           f"<Title><![CDATA[invoice.pdf]]></Title><MediaId><![CDATA[{doc}]]></MediaId><MsgId>{no}</MsgId></xml>")
    assert (await router.wechat(xml))[:2] == (200, "success")
    line = await alice.expect(lambda f: f["type"] == "message" and f["message"]["kind"] == "file")
    got = await media_frame(alice, line["message"]["id"])
    ref, data = await router.stored(got["media"])
    assert (ref.mime, ref.name, data) == ("application/pdf", "invoice.pdf", pdf())
    await alice.close()


async def test_a_fetch_that_keeps_failing_shows_a_placeholder_and_why(router: Router) -> None:
    alice = await agent(router.http, router.base, "alice-token-1234")
    gone = router.wx.add_media(jpeg(), "image/jpeg")
    router.wx.get_script.extend([40007])  # WeChat lost it: trying again cannot help
    await router.wechat(media_xml(OPENID, "image", gone, router.next_no()))
    conv = await assigned(alice, "wechat")
    cid, mid = conv["conversation"]["id"], conv["messages"][0]["id"]
    got = await media_frame(alice, mid)
    assert "older than 3 days" in got["media_error"] and "media" not in got
    [line] = await router.rt.transcript.public(cid)
    assert (line["media_status"], line["media_error"]) == ("failed", got["media_error"])
    assert router.wx.gets == [gone]  # a permanent error is not retried

    busy = router.wx.add_media(jpeg(seed=9), "image/jpeg")
    router.wx.get_script.extend([503, -1, 503, 503])  # busy more times than there are tries
    await router.wechat(media_xml(OPENID, "image", busy, router.next_no()))
    line2 = await alice.expect(lambda f: f["type"] == "message" and f["message"]["id"] != mid)
    got = await media_frame(alice, line2["message"]["id"])
    assert "gave up after 4 tries" in got["media_error"]
    assert router.wx.gets.count(busy) == 4
    await alice.close()


async def test_a_busy_channel_is_tried_again_until_the_file_comes(router: Router) -> None:
    alice = await agent(router.http, router.base, "alice-token-1234")
    media_id = router.wx.add_media(png(seed=4), "image/png")
    router.wx.get_script.extend([503, -1])
    await router.wechat(media_xml(OPENID, "image", media_id, router.next_no()))
    conv = await assigned(alice, "wechat")
    got = await media_frame(alice, conv["messages"][0]["id"])
    assert (await router.stored(got["media"]))[0].mime == "image/png"
    assert router.wx.gets == [media_id] * 3
    deadline = time.monotonic() + 10  # counted just after the frame went
    while router.rt.fetcher.fetched < 1 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert (router.rt.fetcher.fetched, router.rt.fetcher.failed) == (1, 0)
    async with router.http.get(f"{router.base}/metrics") as r:
        text = await r.text()
    assert 'kefu_media_fetches_total{channel="wechat",outcome="fetched"} 1.0' in text
    assert 'kefu_media_fetches_total{channel="wechat",outcome="retried"} 2.0' in text
    await alice.close()


# -- Telegram in ----------------------------------------------------------------------------------
async def test_telegram_photo_document_voice_video_and_sticker(router: Router) -> None:
    alice = await agent(router.http, router.base, "alice-token-1234")
    small, large = jpeg(90, 67, seed=1), jpeg(800, 600, seed=1)
    sizes = [{"file_id": router.tg.add_file(small, "photos/s.jpg"), "width": 90, "height": 67},
             {"file_id": router.tg.add_file(large, "photos/l.jpg"), "width": 800, "height": 600}]
    assert await router.telegram(1, photo=sizes, caption="the seam is torn") == 200
    conv = await assigned(alice, "telegram")
    [first] = conv["messages"]
    assert (first["kind"], first["text"]) == ("image", "the seam is torn")
    got = await media_frame(alice, first["id"])
    ref, data = await router.stored(got["media"])
    assert pixels(data) == ("JPEG", (800, 600))  # the largest size, never the thumbnail

    kinds = {
        "document": ({"file_id": router.tg.add_file(pdf(), "documents/file_9.pdf"), "file_name": "receipt.pdf"},
                     "file", "application/pdf"),
        "video": ({"file_id": router.tg.add_file(mp4(), "videos/v.mp4"), "duration": 1}, "video", "video/mp4"),
        "sticker": ({"file_id": router.tg.add_file(picture(128, 128, "WEBP"), "stickers/s.webp"), "emoji": "😢"},
                    "image", "image/webp"),
    }
    for uid, (field, (content, kind, mime)) in enumerate(kinds.items(), start=2):
        assert await router.telegram(uid, **{field: content}) == 200
        line = await alice.expect(lambda f, k=kind, n=uid: f["type"] == "message" and f["message"]["kind"] == k
                                  and f["message"]["text"] != "the seam is torn")
        got = await media_frame(alice, line["message"]["id"])
        ref, _ = await router.stored(got["media"])
        assert (field, ref.mime) == (field, mime)
        if field == "document":
            assert ref.name == "receipt.pdf"
    await alice.close()


async def test_telegram_download_failure_is_retried_then_works(router: Router) -> None:
    alice = await agent(router.http, router.base, "alice-token-1234")
    fid = router.tg.add_file(jpeg(seed=5), "photos/x.jpg")
    router.tg.file_script.extend([DOWNLOAD_FAILS])
    assert await router.telegram(50, photo=[{"file_id": fid, "width": 320, "height": 240}]) == 200
    conv = await assigned(alice, "telegram")
    got = await media_frame(alice, conv["messages"][0]["id"])
    assert "media" in got
    router.tg.file_script.extend([chat_not_found()])  # any 400: Telegram will not give it
    fid2 = router.tg.add_file(jpeg(seed=6), "photos/y.jpg")
    assert await router.telegram(51, photo=[{"file_id": fid2, "width": 320, "height": 240}]) == 200
    line = await alice.expect(lambda f: f["type"] == "message" and f["message"]["id"] != conv["messages"][0]["id"])
    got = await media_frame(alice, line["message"]["id"])
    assert "Telegram cannot give this file" in got["media_error"]
    await alice.close()


# -- out ------------------------------------------------------------------------------------------
async def send(router: Router, alice: Socket, cid: str, channel: str, chat: str, text: str,
               media: MediaRef | None) -> dict[str, Any]:
    """An agent's reply with a file, queued as the agent socket queues one; its delivery frame."""
    reply = Reply(id=new_id("m"), conversation_id=cid, customer_id="", channel=Channel(channel), account=(
        "shop" if channel == "wechat" else "shopbot"), chat=chat, text=text, author="alice", media=media,
        kind=media.kind if media else Kind.TEXT, ts=time.time())
    mid, _ = await router.rt.outbox.enqueue(reply)
    return await alice.expect(lambda f: f["type"] == "delivery" and f["message_id"] == mid, timeout=20)


async def test_wechat_reply_with_a_picture_is_two_messages_of_the_quota(router: Router) -> None:
    alice = await agent(router.http, router.base, "alice-token-1234")
    assert (await router.wechat(text_xml(OPENID, "退货怎么寄？", router.next_no(), int(time.time()))))[0] == 200
    conv = await assigned(alice, "wechat")
    cid = conv["conversation"]["id"]
    label = await router.rt.media.put(png(300, 200, seed=7), conversation=cid, channel="wechat", name="label.png")

    delivery = await send(router, alice, cid, "wechat", OPENID, "请打印这张面单", label)
    assert delivery["status"] == "sent"
    texts = [m for m in router.wx.sent if m["msgtype"] == "text"]
    assert [m["text"]["content"] for m in texts] == ["请打印这张面单"]
    [upload] = router.wx.sent_media(OPENID)
    assert (upload.type, upload.filename) == ("image", "label.png")
    assert pixels(upload.data) == ("PNG", (300, 200))
    assert [m["msgtype"] for m in router.wx.sent] == ["text", "image"]  # the text first, as written
    async with router.http.get(f"{router.base}/api/v1/wechat/shop/quota/{OPENID}",
                               headers={"Authorization": "Bearer alice-token-1234"}) as r:
        assert (await r.json())["quota_left"] == 3  # two of five

    # The same picture again: no second upload, one more of the quota.
    assert (await send(router, alice, cid, "wechat", OPENID, "", label))["status"] == "sent"
    assert len(router.wx.uploaded) == 1 and len(router.wx.sent_media(OPENID)) == 2
    # Two of five left; one text, then a text with a picture would take two: refused whole.
    assert (await send(router, alice, cid, "wechat", OPENID, "收到了吗", None))["status"] == "sent"
    before = list(router.wx.sent)
    refused = await send(router, alice, cid, "wechat", OPENID, "看图", label)
    assert refused["status"] == "failed" and "takes 2 messages, but only 1" in refused["reason"]
    assert router.wx.sent == before  # neither part went
    assert (await send(router, alice, cid, "wechat", OPENID, "", label))["status"] == "sent"  # the last one
    refused = await send(router, alice, cid, "wechat", OPENID, "", label)
    assert refused["status"] == "failed" and "no replies left" in refused["reason"]
    assert len(router.wx.sent) == len(before) + 1
    await alice.close()


async def test_wechat_refuses_a_file_it_cannot_send(router: Router) -> None:
    alice = await agent(router.http, router.base, "alice-token-1234")
    await router.wechat(text_xml(OPENID, "发票", router.next_no(), int(time.time())))
    conv = await assigned(alice, "wechat")
    cid = conv["conversation"]["id"]
    doc = await router.rt.media.put(pdf(), conversation=cid, channel="wechat", name="x.pdf")
    refused = await send(router, alice, cid, "wechat", OPENID, "", doc)
    assert refused["status"] == "failed" and "cannot send this file (application/pdf)" in refused["reason"]
    assert router.wx.sent == [] and router.wx.uploaded == {}
    async with router.http.get(f"{router.base}/api/v1/wechat/shop/quota/{OPENID}",
                               headers={"Authorization": "Bearer alice-token-1234"}) as r:
        assert (await r.json())["quota_left"] == 5  # a refusal costs none of the quota
    # The agent socket refuses it before anything is queued, saying why.
    await alice.send({"type": "reply", "conversation_id": cid, "text": "发票在这里", "media_id": doc.id,
                      "client_msg_id": "pdf-1"})
    error = await alice.expect(lambda f: f["type"] == "error" and f.get("code") == "undeliverable")
    assert "cannot send this file (application/pdf)" in error["detail"]
    assert not [f for f in alice.of("ack") if f["client_msg_id"] == "pdf-1"]
    assert router.wx.sent == []
    await alice.close()


async def test_telegram_reply_sends_bytes_then_the_cached_file_id(router: Router) -> None:
    alice = await agent(router.http, router.base, "alice-token-1234")
    assert await router.telegram(70, text="How do I return this?") == 200
    conv = await assigned(alice, "telegram")
    cid = conv["conversation"]["id"]
    label = await router.rt.media.put(jpeg(400, 300, seed=8), conversation=cid, channel="telegram", name="label.jpg")
    doc = await router.rt.media.put(pdf(), conversation=cid, channel="telegram", name="form.pdf")

    assert (await send(router, alice, cid, "telegram", str(CHAT), "Print this label", label))["status"] == "sent"
    assert (await send(router, alice, cid, "telegram", str(CHAT), "", label))["status"] == "sent"
    assert (await send(router, alice, cid, "telegram", str(CHAT), "", doc))["status"] == "sent"
    assert router.tg.sent_to(CHAT) == ["Print this label"]
    first, second, third = router.tg.sent_media
    assert (first.field, first.by_file_id, pixels(first.data)) == ("photo", None, ("JPEG", (400, 300)))
    assert second.field == "photo" and second.by_file_id is not None  # no second upload
    assert (third.field, third.name, third.data) == ("document", "form.pdf", pdf())
    await alice.close()


async def test_many_customers_send_photos_at_once(router: Router) -> None:
    """A burst of 60 photos from 60 customers: every one is acked fast and fetched once."""
    alice = await agent(router.http, router.base, "alice-token-1234")
    ids = [router.wx.add_media(jpeg(64, 48, seed=i), "image/jpeg") for i in range(30)]
    files = [router.tg.add_file(jpeg(64, 48, seed=100 + i), f"photos/{i}.jpg") for i in range(30)]
    posts = [router.wechat(media_xml(f"oCust{i}", "image", mid, router.next_no())) for i, mid in enumerate(ids)]
    posts += [router.telegram(1000 + i, chat=900_000 + i, photo=[{"file_id": f, "width": 64, "height": 48}])
              for i, f in enumerate(files)]
    results = await asyncio.gather(*posts)
    assert all((r[0] if isinstance(r, tuple) else r) == 200 for r in results)

    def files_seen() -> dict[str, str]:
        """Message id -> media id, from `media` frames and from `assigned` frames whose
        transcript already had the file (fetched before the conversation reached alice)."""
        seen = {f["message_id"]: f["media"]["id"] for f in alice.of("media") if "media" in f}
        for f in alice.of("assigned"):
            seen.update({m["id"]: m["media"]["id"] for m in f["messages"] if "media" in m})
        return seen

    deadline = time.monotonic() + 90
    while len(files_seen()) < 60 and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    assert len(files_seen()) == 60 and len(set(files_seen().values())) == 60
    assert not [f for f in alice.of("media") if "media_error" in f]
    assert sorted(router.wx.gets) == sorted(ids)  # each fetched once
    await alice.close()


# -- a return with a photo, end to end, through the public doors only --------------------------
@pytest.mark.parametrize("channel", ["wechat", "telegram"])
async def test_a_return_with_a_photo_end_to_end(router: Router, channel: str) -> None:
    """The customer sends a photo of the torn seam; the agent sees it, downloads it through
    GET /api/v1/media/{id}, uploads the return label and replies with text and the label; the
    channel's API receives both."""
    alice = await agent(router.http, router.base, "alice-token-1234")
    auth = {"Authorization": "Bearer alice-token-1234"}
    torn = jpeg(800, 600, seed=21)
    if channel == "wechat":
        media_id = router.wx.add_media(torn, "image/jpeg", "seam.jpg")
        assert (await router.wechat(media_xml(OPENID, "image", media_id, router.next_no())))[:2] == (200, "success")
    else:
        fid = router.tg.add_file(torn, "photos/seam.jpg")
        assert await router.telegram(4242, photo=[{"file_id": fid, "width": 800, "height": 600}]) == 200
    conv = await assigned(alice, channel)
    cid, first = conv["conversation"]["id"], conv["messages"][0]
    photo = (await media_frame(alice, first["id"]))["media"]
    async with router.http.get(f"{router.base}{photo['url']}", headers=auth) as r:
        assert r.status == 200
        assert pixels(await r.read()) == ("JPEG", (800, 600))
    async with router.http.get(f"{router.base}{photo['url']}") as r:
        assert r.status == 401
    async with router.http.get(f"{router.base}{photo['url']}", headers={"Authorization": "Bearer bob-token-12345"}) as r:
        assert r.status == 404  # bob may not see alice's conversation

    form = aiohttp.FormData()
    form.add_field("conversation_id", cid)
    form.add_field("file", png(500, 300, seed=22), filename="return-label.png", content_type="image/png")
    async with router.http.post(f"{router.base}/api/v1/media", data=form, headers=auth) as r:
        assert r.status == 201, await r.text()
        label_id = (await r.json())["media_id"]
    await alice.send({"type": "reply", "conversation_id": cid, "text": "Print this label, please",
                      "media_id": label_id, "client_msg_id": "label-1"})
    ack = await alice.expect(lambda f: f["type"] == "ack" and f["client_msg_id"] == "label-1")
    delivered = await alice.expect(lambda f: f["type"] == "delivery" and f["message_id"] == ack["message_id"],
                                   timeout=20)
    assert delivered["status"] == "sent"
    if channel == "wechat":
        assert [m["msgtype"] for m in router.wx.sent] == ["text", "image"]
        [upload] = router.wx.sent_media(OPENID)
        assert (upload.filename, pixels(upload.data)) == ("return-label.png", ("PNG", (500, 300)))
    else:
        assert router.tg.sent_to(CHAT) == ["Print this label, please"]
        [sent] = router.tg.sent_media
        assert (sent.field, sent.name, pixels(sent.data)) == ("photo", "return-label.png", ("PNG", (500, 300)))
    # The transcript shows both files as the console reads it.
    lines = await router.rt.transcript.public(cid)
    assert [line.get("media", {}).get("id") for line in lines] == [photo["id"], label_id]
    await alice.close()


async def test_archived_conversations_keep_the_fetched_files(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The file fetched after the message was appended goes to the archive with the message, so a
    conversation Redis has dropped still shows its customer's photo."""
    async with fake_wechat() as wx, fake_telegram() as tg:
        text = BASIC.format(cap=100) + CHANNELS.format(
            app_id=wx.app_id, secret=wx.app_secret, wx_token=WX_TOKEN, wx=wx.base, tg_token=tg.token,
            tg_secret=TG_SECRET, tg=tg.base) + "retention:\n  redis_after_close_s: 1\n  sweep_interval_s: 3600\n"
        async with running(parse_settings(text, "<test>"), redis_url) as (rt, base), \
                aiohttp.ClientSession() as http:
            router = Router(rt, base, http, wx, tg)
            alice = await agent(http, base, "alice-token-1234")
            photos: dict[str, str] = {}
            for i in range(20):  # ten conversations on each channel, each with a photo
                start = len(alice.frames)
                if i % 2:
                    fid = tg.add_file(jpeg(64, 48, seed=200 + i), f"photos/{i}.jpg")
                    await router.telegram(5000 + i, chat=CHAT + 1000 + i, photo=[{"file_id": fid, "width": 64}])
                else:
                    mid = wx.add_media(jpeg(64, 48, seed=200 + i), "image/jpeg")
                    await router.wechat(media_xml(f"oArch{i}", "image", mid, router.next_no()))
                conv = await alice.expect(lambda f: f["type"] == "assigned", start=start)
                cid, line = conv["conversation"]["id"], conv["messages"][0]
                photos[cid] = line["media"]["id"] if "media" in line else (
                    await media_frame(alice, line["id"]))["media"]["id"]
                await alice.send({"type": "close", "conversation_id": cid})
            await rt.archive.ready.wait()
            deadline = time.monotonic() + 60
            while await rt.archive.count() < len(photos):
                assert time.monotonic() < deadline, "the closed conversations were not archived"
                await asyncio.sleep(0.2)
            await rt.retention.sweep(now=time.time() + 5)
            for cid, media_id in list(photos.items())[::3]:
                async with http.get(f"{base}/api/v1/conversations/{cid}",
                                    headers={"Authorization": "Bearer sue-token-12345"}) as r:
                    body = await r.json()
                assert body["archived"] is True
                [photo] = [m for m in body["messages"] if m["kind"] == "image"]
                assert photo["media"]["id"] == media_id
                async with http.get(f"{base}{photo['media']['url']}",
                                    headers={"Authorization": "Bearer sue-token-12345"}) as r:
                    assert r.status == 200 and r.content_type == "image/jpeg"
            await alice.close()


async def test_a_retried_reply_sends_its_picture_once_and_its_text_once(router: Router) -> None:
    """WeChat is busy when the picture goes (errcode -1): the outbox retries the reply, which
    resumes after the text the customer already has; the busy try costs no reply of the quota."""
    alice = await agent(router.http, router.base, "alice-token-1234")
    await router.wechat(text_xml(OPENID, "面单呢", router.next_no(), int(time.time())))
    cid = (await assigned(alice, "wechat"))["conversation"]["id"]
    label = await router.rt.media.put(png(200, 100, seed=31), conversation=cid, channel="wechat", name="l.png")
    router.wx.script = [0, -1]  # the text goes; the picture's first send meets a busy WeChat
    assert (await send(router, alice, cid, "wechat", OPENID, "面单如下", label))["status"] == "sent"
    assert [m["msgtype"] for m in router.wx.sent] == ["text", "image"]
    assert [a["msgtype"] for a in router.wx.attempts] == ["text", "image", "image"]
    assert len(router.wx.uploaded) == 1  # the retry reused the upload
    async with router.http.get(f"{router.base}/api/v1/wechat/shop/quota/{OPENID}",
                               headers={"Authorization": "Bearer alice-token-1234"}) as r:
        assert (await r.json())["quota_left"] == 3
    await alice.close()
