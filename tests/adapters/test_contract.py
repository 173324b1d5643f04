"""One adapter contract suite, run for web chat, WeChat, Telegram, mini programs and the API channel (see adapters/base.py):
parse, dedupe key, send, permanent versus retryable errors, limits."""

from __future__ import annotations

import abc
import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from helpers.app import BASIC, running
from helpers.clients import Socket, agent, customer
from helpers.fake_telegram import FakeTelegram, blocked, server_error
from helpers.fake_wechat import FakeWechat, safe_body, signed_query, text_xml
from helpers.fake_wecom import AES_KEY as WC_AES_KEY
from helpers.fake_wecom import CB_TOKEN as WC_TOKEN
from helpers.fake_wecom import KFID, FakeWecom, callback_xml, encrypted_callback
from helpers.fake_wecom import text as wecom_text
from helpers.hook_receiver import Receiver, receiver

from adapters.base import Adapter
from adapters.wechat_crypto import MessageCrypto
from kefu_common.errors import PermanentChannelError, RetryableChannelError
from router.config.settings import parse_settings
from router.models import WEBCHAT, Channel, Message, Reply
from router.runtime import Runtime
from tests.adapters.support import AES_KEY, TG_SECRET, WX_TOKEN


class Harness(abc.ABC):
    """Drives one channel natively: what its customers send and what they receive."""

    channel: Channel
    account: str

    def __init__(self, rt: Runtime, base: str, http: aiohttp.ClientSession) -> None:
        self.rt, self.base, self.http = rt, base, http
        self.ingested: list[tuple[Message, bool]] = []

    @property
    def adapter(self) -> Adapter:
        return self.rt.adapters[(self.channel, self.account)]

    async def setup(self) -> None:  # noqa: B027 -- optional
        pass

    @property
    @abc.abstractmethod
    def chat(self) -> str: ...

    @abc.abstractmethod
    async def deliver(self, n: int, text: str) -> None:
        """The customer sends `text` as native message number `n` (a retry reuses `n`)."""

    @abc.abstractmethod
    def native_id(self, n: int) -> str: ...

    @abc.abstractmethod
    async def received(self) -> list[str]: ...

    def fail_next(self, permanent: bool) -> None:
        """Make the channel API refuse the next send; only channels with an API of their own."""
        raise NotImplementedError(f"{self.channel} has no channel API that can refuse a send")

    def reply(self, text: str, rid: str = "r1") -> Reply:
        return Reply(id=rid, conversation_id=f"c-{self.channel}", customer_id="cu",
                     channel=self.channel, account=self.account, chat=self.chat, text=text, author="alice")


class WebchatHarness(Harness):
    channel, account = WEBCHAT, "web"

    async def setup(self) -> None:
        async with self.http.post(f"{self.base}/api/v1/webchat/sessions") as r:
            body = await r.json()
        self.visitor, token = body["visitor"], body["session"]
        self.sock: Socket = (await customer(self.http, self.base, token=token))[0]

    @property
    def chat(self) -> str:
        return str(self.visitor)

    async def deliver(self, n: int, text: str) -> None:
        await self.sock.send({"type": "message", "text": text, "client_msg_id": f"c{n}"})
        await self.sock.expect(lambda f: f["type"] == "ack" and f["client_msg_id"] == f"c{n}")

    def native_id(self, n: int) -> str:
        return f"{self.visitor}:c{n}"

    async def received(self) -> list[str]:
        feed = await self.rt.store.client.xrange(self.rt.store.keys.feed(self.visitor))
        return [json.loads(f["m"])["message"]["text"] for _, f in feed]


class WechatHarness(Harness):
    channel, account = Channel("wechat"), "shop"
    api: FakeWechat
    chat = "oContractCustomer"  # type: ignore[assignment]

    async def deliver(self, n: int, text: str) -> None:
        enc = MessageCrypto(AES_KEY, self.api.app_id).encrypt(text_xml(self.chat, text, n, int(time.time())))
        async with self.http.post(f"{self.base}/webhooks/wechat/shop", data=safe_body(enc).encode(),
                                  params=signed_query(WX_TOKEN, enc)) as r:
            assert (r.status, await r.text()) == (200, "success")

    def native_id(self, n: int) -> str:
        return str(n)

    async def received(self) -> list[str]:
        return [s["text"]["content"] for s in self.api.sent if s["touser"] == self.chat]

    def fail_next(self, permanent: bool) -> None:
        self.api.script = [45015 if permanent else -1]


class TelegramHarness(Harness):
    channel, account = Channel("telegram"), "shopbot"
    api: FakeTelegram
    chat = "777001"  # type: ignore[assignment]

    async def deliver(self, n: int, text: str) -> None:
        update = {"update_id": n, "message": {"message_id": n, "date": int(time.time()), "text": text,
                                              "chat": {"id": int(self.chat), "type": "private"}}}
        async with self.http.post(f"{self.base}/webhooks/telegram/shopbot", json=update,
                                  headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET}) as r:
            assert r.status == 200

    def native_id(self, n: int) -> str:
        return str(n)

    async def received(self) -> list[str]:
        return self.api.sent_to(self.chat)

    def fail_next(self, permanent: bool) -> None:
        self.api.script[self.chat] = [blocked() if permanent else server_error()]


class MiniProgramHarness(WechatHarness):
    """A mini program's push in JSON, encrypted: the Official Account's code with another token."""

    channel, account = Channel("miniprogram"), "mp"
    chat = "oMiniCustomer"  # type: ignore[assignment]

    async def deliver(self, n: int, text: str) -> None:
        plain = json.dumps({"ToUserName": "gh_mp", "FromUserName": self.chat, "CreateTime": int(time.time()),
                            "MsgType": "text", "Content": text, "MsgId": n}, ensure_ascii=False)
        enc = MessageCrypto(AES_KEY, self.api.app_id).encrypt(plain)
        async with self.http.post(f"{self.base}/webhooks/miniprogram/mp", json={"ToUserName": "gh_mp", "Encrypt": enc},
                                  params=signed_query(WX_TOKEN, enc)) as r:
            assert (r.status, await r.text()) == (200, "success")


class ApiHarness(Harness):
    """A bridge on the generic API channel; its reply URL is a receiver on loopback."""

    channel, account = Channel("api"), "bridge"
    api: Receiver
    chat = "buyer-contract"  # type: ignore[assignment]

    async def deliver(self, n: int, text: str) -> None:
        async with self.http.post(f"{self.base}/api/v1/channels/api/bridge/messages",
                                  json={"customer_ref": self.chat, "native_id": str(n), "text": text},
                                  headers={"Authorization": f"Bearer {API_KEY}"}) as r:
            assert r.status in (200, 202), await r.text()

    def native_id(self, n: int) -> str:
        return str(n)

    async def received(self) -> list[str]:
        return [b["data"]["text"] for b in self.api.taken if b["data"]["customer_ref"] == self.chat]

    def fail_next(self, permanent: bool) -> None:
        self.api.fail_first, self.api.fail_status = 1, (400 if permanent else 503)


class WecomHarness(Harness):
    """A WeCom 微信客服 customer: the message waits at the fake sync_msg, the callback says to pull."""

    channel, account = Channel("wecom"), "corp"
    api: FakeWecom
    chat = f"wmContract@{KFID}"  # type: ignore[assignment]

    async def deliver(self, n: int, text: str) -> None:
        seen = sum(1 for m, _ in self.ingested if m.native_id == self.native_id(n))
        self.api.push(KFID, wecom_text("wmContract", text, msgid=self.native_id(n)))
        body, q = encrypted_callback(callback_xml(KFID, self.api.callback_token()))
        async with self.http.post(f"{self.base}/webhooks/wecom/corp", data=body.encode(), params=q) as r:
            assert (r.status, await r.text()) == (200, "success")
        # Acked first, pulled after: the message is in once the pull handed it to ingest.
        for _ in range(500):
            if sum(1 for m, _ in self.ingested if m.native_id == self.native_id(n)) > seen:
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"message {n} was not pulled")

    def native_id(self, n: int) -> str:
        return f"wcmsg{n}"

    async def received(self) -> list[str]:
        return self.api.texts_to("wmContract")

    def fail_next(self, permanent: bool) -> None:
        self.api.script = [95001 if permanent else -1]


API_KEY = "contract-key-0123456789"

CHANNELS = """
channels:
  wechat:
    - {{account: shop, app_id: {app_id}, app_secret: {secret}, token: {token}, encoding_aes_key: {aes}, api_base: "{wx}"}}
  telegram:
    - {{bot: shopbot, token: "{tg_token}", secret_token: {tg_secret}, api_base: "{tg}"}}
  miniprogram:
    - {{account: mp, app_id: {app_id}, app_secret: {secret}, token: {token}, encoding_aes_key: {aes}, api_base: "{wx}"}}
  wecom:
    - {{account: corp, corp_id: {wc_corp}, secret: {wc_secret}, token: {wc_token}, encoding_aes_key: {wc_aes},
       api_base: "{wc}"}}
  api:
    - {{account: bridge, api_key: {api_key}, reply_url: "{bridge}", reply_secret: {bridge_secret},
       allow_private_networks: true}}
"""


@pytest.fixture
async def bridge() -> AsyncIterator[Receiver]:
    async with receiver() as rec:
        yield rec


@pytest.fixture(params=[WebchatHarness, WechatHarness, TelegramHarness, MiniProgramHarness, ApiHarness,
                        WecomHarness],
                ids=["webchat", "wechat", "telegram", "miniprogram", "api", "wecom"])
async def harness(request: pytest.FixtureRequest, redis_url: str, wx_api: FakeWechat,
                  tg_api: FakeTelegram, bridge: Receiver, wc_api: FakeWecom) -> AsyncIterator[Harness]:
    async for h in _harness(request.param, redis_url, wx_api, tg_api, bridge, wc_api):
        yield h


# Web chat has no channel API of its own that could refuse a send, so the error cases run on
# the channels that have one, rather than being skipped for web chat.
@pytest.fixture(params=[WechatHarness, TelegramHarness, MiniProgramHarness, ApiHarness, WecomHarness],
                ids=["wechat", "telegram", "miniprogram", "api", "wecom"])
async def api_harness(request: pytest.FixtureRequest, redis_url: str, wx_api: FakeWechat,
                      tg_api: FakeTelegram, bridge: Receiver, wc_api: FakeWecom) -> AsyncIterator[Harness]:
    async for h in _harness(request.param, redis_url, wx_api, tg_api, bridge, wc_api):
        yield h


async def _harness(cls: type[Harness], redis_url: str, wx_api: FakeWechat,
                   tg_api: FakeTelegram, bridge: Receiver, wc_api: FakeWecom) -> AsyncIterator[Harness]:
    text = BASIC.format(cap=5) + CHANNELS.format(
        app_id=wx_api.app_id, secret=wx_api.app_secret, token=WX_TOKEN, aes=AES_KEY, wx=wx_api.base,
        tg_token=tg_api.token, tg_secret=TG_SECRET, tg=tg_api.base, api_key=API_KEY, bridge=bridge.url,
        bridge_secret=bridge.secret, wc_corp=wc_api.corp_id, wc_secret=wc_api.secret, wc_token=WC_TOKEN,
        wc_aes=WC_AES_KEY, wc=wc_api.base)
    async with running(parse_settings(text, "<test>"), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        h: Harness = cls(rt, base, http)
        h.api = {WechatHarness: wx_api, TelegramHarness: tg_api, MiniProgramHarness: wx_api,  # type: ignore[attr-defined]
                 ApiHarness: bridge, WecomHarness: wc_api}.get(cls)
        # Record what the adapters hand to ingest: the route worker consumes the stream itself.
        real = rt.ingestor.ingest

        async def recording(msg: Message, new_sender: bool = False) -> Any:
            accepted = await real(msg, new_sender)
            h.ingested.append((msg, accepted.duplicate))
            return accepted

        rt.ingestor.ingest = recording  # type: ignore[method-assign]
        # An agent online, so the customer is assigned at once: a queued customer would also be
        # texted their queue position, which is the router's send, not the one under test.
        alice = await agent(http, base, "alice-token-1234")
        await h.setup()
        yield h
        await alice.close()


async def mine(h: Harness) -> list[Message]:
    """The messages the router accepted as new from this channel."""
    return [m for m, duplicate in h.ingested if not duplicate and m.channel is h.channel]


async def test_parse(harness: Harness) -> None:
    await harness.deliver(101, "第一条消息 first message")
    [m] = await mine(harness)
    assert (m.channel, m.account, m.sender_ref, m.text) == (
        harness.channel, harness.account, harness.chat, "第一条消息 first message")
    assert m.raw


async def test_dedupe_key(harness: Harness) -> None:
    for _ in range(3):
        await harness.deliver(102, "again")
    await harness.deliver(103, "new")
    assert len(harness.ingested) == 4
    msgs = await mine(harness)
    assert [m.text for m in msgs] == ["again", "new"]
    assert msgs[0].native_id == harness.native_id(102)
    assert msgs[0].dedupe_key() == f"{harness.channel}:{harness.account}:{harness.native_id(102)}"


async def test_send(harness: Harness) -> None:
    await harness.deliver(104, "hi")
    await harness.adapter.send(harness.reply("你好 hello"))
    assert await harness.received() == ["你好 hello"]


@pytest.mark.parametrize("permanent", [True, False], ids=["permanent", "retryable"])
async def test_errors(api_harness: Harness, permanent: bool) -> None:
    harness = api_harness
    await harness.deliver(105, "hi")
    harness.fail_next(permanent)
    kind = PermanentChannelError if permanent else RetryableChannelError
    with pytest.raises(kind) as info:
        await harness.adapter.send(harness.reply("won't arrive"))
    assert info.value.reason  # read by the agent
    assert await harness.received() == []


async def test_limits(harness: Harness) -> None:
    await harness.deliver(106, "hi")
    limit = harness.adapter.limits.max_text_chars
    assert limit >= 1000
    await harness.adapter.send(harness.reply("x" * limit))
    assert await harness.received() == ["x" * limit]
