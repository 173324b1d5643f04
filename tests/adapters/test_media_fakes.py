"""The fake channel APIs' media calls answer real clients as the real APIs do: python-telegram-bot's
Bot against the fake Bot API, and plain HTTP against the fake WeChat API (the adapter's own way)."""

from __future__ import annotations

import io
import json

import aiohttp
from helpers.fake_telegram import DOWNLOAD_FAILS, fake_telegram
from helpers.fake_wechat import fake_wechat
from helpers.media_samples import amr, jpeg, mp4, pdf
from PIL import Image
from telegram import Bot, InputFile
from telegram.request import HTTPXRequest


async def test_fake_telegram_media_round_trip() -> None:
    photo = jpeg(seed=1)
    async with fake_telegram() as tg:
        req = HTTPXRequest()
        bot = Bot(tg.token, base_url=f"{tg.base}/bot", base_file_url=f"{tg.base}/file/bot", request=req)
        async with bot:
            fid = tg.add_file(photo, "photos/file_7.jpg")
            got = await bot.get_file(fid)
            assert bytes(await got.download_as_bytearray()) == photo

            sent = await bot.send_photo(42, InputFile(io.BytesIO(photo), filename="p.jpg"), caption="look")
            assert sent.photo[-1].width == 800
            again = await bot.send_photo(42, sent.photo[-1].file_id)
            doc = await bot.send_document(42, InputFile(io.BytesIO(pdf()), filename="label.pdf"))
            assert doc.document is not None and doc.document.file_name == "label.pdf"
        [first, second, third] = tg.sent_media
        assert (first.field, first.data, first.caption, first.by_file_id) == ("photo", photo, "look", None)
        assert (second.data, second.by_file_id) == (photo, sent.photo[-1].file_id)
        assert again.photo[-1].file_id == sent.photo[-1].file_id
        assert third.data.startswith(b"%PDF")
        Image.open(io.BytesIO(first.data)).verify()  # a real picture went over the wire

        tg.file_script.append(DOWNLOAD_FAILS)
        async with bot:
            got = await bot.get_file(fid)
        async with aiohttp.ClientSession() as http, http.get(str(got.file_path)) as r:
            assert r.status == 500


async def test_fake_wechat_media_get_and_upload() -> None:
    async with fake_wechat() as wx, aiohttp.ClientSession() as http:
        async with http.get(f"{wx.base}/cgi-bin/token", params={
                "grant_type": "client_credential", "appid": wx.app_id, "secret": wx.app_secret}) as r:
            token = (await r.json())["access_token"]
        voice = wx.add_media(amr(), "audio/amr", "v.amr")
        clip = wx.add_media(mp4(), "video/mp4")
        get = f"{wx.base}/cgi-bin/media/get"
        async with http.get(get, params={"access_token": token, "media_id": voice}) as r:
            assert (r.content_type, await r.read()) == ("audio/amr", amr())
            assert 'filename="v.amr"' in r.headers["Content-Disposition"]
        async with http.get(get, params={"access_token": token, "media_id": clip}) as r:
            url = (await r.json())["video_url"]
        async with http.get(url) as r:
            assert await r.read() == mp4()
        async with http.get(get, params={"access_token": token, "media_id": "nope"}) as r:
            assert r.content_type == "text/plain"
            assert json.loads(await r.text())["errcode"] == 40007
        wx.get_script.extend([503, -1])
        async with http.get(get, params={"access_token": token, "media_id": voice}) as r:
            assert r.status == 503
        async with http.get(get, params={"access_token": token, "media_id": voice}) as r:
            assert json.loads(await r.text())["errcode"] == -1

        form = aiohttp.FormData()
        form.add_field("media", jpeg(), filename="reply.jpg", content_type="image/jpeg")
        async with http.post(f"{wx.base}/cgi-bin/media/upload", params={"access_token": token, "type": "image"},
                             data=form) as r:
            media_id = (await r.json())["media_id"]
        assert wx.uploaded[media_id].data == jpeg()
        send = f"{wx.base}/cgi-bin/message/custom/send"
        for mid, code in ((media_id, 0), ("never-uploaded", 40007)):
            body = {"touser": "o1", "msgtype": "image", "image": {"media_id": mid}}
            async with http.post(send, params={"access_token": token}, json=body) as r:
                assert (await r.json())["errcode"] == code
        assert [u.data for u in wx.sent_media("o1")] == [jpeg()]
