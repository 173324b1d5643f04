"""WeChat's temporary media through the adapter's API client: `media/get` (bytes, a video's
`video_url`, errors sent as text/plain JSON, a stale token) and `media/upload` then `custom/send`."""

from __future__ import annotations

import pytest
from helpers.fake_wechat import FakeWechat
from helpers.media_samples import amr, jpeg, mp4

from adapters.wechat import WechatAdapter
from kefu_common.errors import PermanentChannelError, RetryableChannelError


async def test_media_get_returns_the_bytes_and_name(wechat: WechatAdapter, wx_api: FakeWechat) -> None:
    photos = [wx_api.add_media(jpeg(seed=i), "image/jpeg", f"p{i}.jpg") for i in range(30)]
    voice = wx_api.add_media(amr(), "audio/amr", "v.amr")
    for i, media_id in enumerate(photos):
        assert await wechat.api.download(media_id) == (jpeg(seed=i), f"p{i}.jpg")
    assert await wechat.api.download(voice) == (amr(), "v.amr")
    assert wx_api.token_calls == 1  # one shared token for every download


async def test_a_video_comes_by_its_video_url(wechat: WechatAdapter, wx_api: FakeWechat) -> None:
    clip = wx_api.add_media(mp4(), "video/mp4")
    data, _ = await wechat.api.download(clip)
    assert data == mp4()


async def test_a_stale_token_is_refreshed_once_for_a_download(wechat: WechatAdapter, wx_api: FakeWechat) -> None:
    media_id = wx_api.add_media(jpeg(), "image/jpeg")
    await wechat.api.download(media_id)
    wx_api.expire_tokens()
    assert (await wechat.api.download(media_id))[0] == jpeg()
    assert wx_api.token_calls == 2


@pytest.mark.parametrize(("script", "error", "words"), [
    ([40007], PermanentChannelError, "older than 3 days"),
    ([503], RetryableChannelError, "HTTP 503"),
    ([-1], RetryableChannelError, "busy"),
    ([45009], RetryableChannelError, "quota"),
])
async def test_download_errors_say_whether_to_try_again(
        wechat: WechatAdapter, wx_api: FakeWechat, script: list[int], error: type[Exception], words: str) -> None:
    media_id = wx_api.add_media(jpeg(), "image/jpeg")
    wx_api.get_script.extend(script)
    with pytest.raises(error, match=words):
        await wechat.api.download(media_id)
    assert (await wechat.api.download(media_id))[0] == jpeg()  # the next try works


async def test_an_unknown_media_id_is_permanent(wechat: WechatAdapter) -> None:
    with pytest.raises(PermanentChannelError) as caught:
        await wechat.api.download("MEDIA_never")
    assert caught.value.code == 40007


async def test_upload_then_send_each_kind(wechat: WechatAdapter, wx_api: FakeWechat) -> None:
    for mtype, data, name, mime in (("image", jpeg(), "a.jpg", "image/jpeg"), ("voice", amr(), "v.amr", "audio/amr"),
                                    ("video", mp4(), "c.mp4", "video/mp4")):
        media_id = await wechat.api.upload(mtype, data, name, mime)
        await wechat.api.send_media("oCust", mtype, media_id)
    assert [(u.type, u.data, u.filename) for u in wx_api.sent_media("oCust")] == [
        ("image", jpeg(), "a.jpg"), ("voice", amr(), "v.amr"), ("video", mp4(), "c.mp4")]
    assert wx_api.sent[-1]["video"]["title"] == ""


async def test_an_upload_wechat_refuses_is_permanent(wechat: WechatAdapter) -> None:
    with pytest.raises(PermanentChannelError, match="size limit"):
        await wechat.api.upload("thumb", jpeg(1200, 1200) * 10, "big.jpg", "image/jpeg")
