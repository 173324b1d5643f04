"""The Telegram adapter: webhook checks, dedupe, parsing, splitting, pacing and send errors."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp
import pytest
from helpers.fake_telegram import (
    FakeTelegram,
    blocked,
    chat_not_found,
    migrated,
    server_error,
    too_many,
)

from adapters.base import Deps, Limits
from adapters.telegram import TelegramAdapter, set_webhook
from adapters.telegram_parse import parse_update
from adapters.telegram_send import Pacer, split_text, u16
from kefu_common.errors import PermanentChannelError, RetryableChannelError
from router.models import Channel, Kind, Reply
from router.pipeline.ingest import Ingestor
from router.store import Store
from tests.adapters.support import TG_SECRET, inbound, snapshot, tg_settings

CHAT = 424242


def update(uid: int, text: str = "hello", chat: int = CHAT, **extra: Any) -> dict[str, Any]:
    msg: dict[str, Any] = {"message_id": uid, "date": 1_700_000_000, "chat": {"id": chat, "type": "private"},
                           "from": {"id": chat, "is_bot": False, "first_name": "Ivan", "last_name": "P"}}
    msg.update(extra or {"text": text})
    return {"update_id": uid, "message": msg}


def reply(text: str, chat: int | str = CHAT, rid: str = "r1") -> Reply:
    return Reply(id=rid, conversation_id=f"c{chat}", customer_id="cu", channel=Channel("telegram"),
                 account="shopbot", chat=str(chat), text=text, author="alice")


async def post(base: str, body: Any, secret: str | None = TG_SECRET,
               content_type: str = "application/json") -> int:
    headers = {"Content-Type": content_type}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    async with aiohttp.ClientSession() as http, http.post(
            f"{base}/webhooks/telegram/shopbot", data=json.dumps(body), headers=headers) as r:
        return r.status


# -- inbound ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("secret", "ctype", "status"), [
    ("wrong", "application/json", 403), (None, "application/json", 403), ("", "application/json", 403),
    (TG_SECRET, "text/plain", 415),
])
async def test_webhook_refusals_leave_no_trace(telegram_base: str, store: Store, secret: str | None,
                                               ctype: str, status: int) -> None:
    before = await snapshot(store)
    assert await post(telegram_base, update(1), secret, ctype) == status
    assert await snapshot(store) == before


async def test_duplicate_update_id_is_accepted_once(telegram_base: str, store: Store) -> None:
    for _ in range(3):
        assert await post(telegram_base, update(77, "hi")) == 200
    assert await post(telegram_base, update(78, "again")) == 200
    msgs = await inbound(store)
    assert [(m.native_id, m.text, m.sender_ref) for m in msgs] == [("77", "hi", str(CHAT)), ("78", "again", str(CHAT))]
    ttl = await store.client.ttl(store.keys.inbound_seen(msgs[0].dedupe_key()))
    assert ttl > 24 * 3600  # longer than Telegram keeps an undelivered update


async def test_bad_json_and_missing_update_id_are_400(telegram_base: str, store: Store) -> None:
    before = await snapshot(store)
    assert await post(telegram_base, {"message": {}}) == 400
    async with aiohttp.ClientSession() as http, http.post(
            f"{telegram_base}/webhooks/telegram/shopbot", data=b"{not json",
            headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": TG_SECRET}) as r:
        assert r.status == 400
    assert await snapshot(store) == before


@pytest.mark.parametrize(("extra", "kind", "text", "media"), [
    ({"text": "привет"}, Kind.TEXT, "привет", None),
    ({"photo": [{"file_id": "small", "width": 90}, {"file_id": "big", "width": 1280}], "caption": "this one"},
     Kind.IMAGE, "this one", "big"),
    ({"voice": {"file_id": "v1", "duration": 3}}, Kind.VOICE, "", "v1"),
    ({"document": {"file_id": "d1", "file_name": "invoice.pdf"}}, Kind.FILE, "invoice.pdf", "d1"),
    ({"location": {"latitude": 55.75, "longitude": 37.61}}, Kind.LOCATION, "55.75, 37.61", None),
    ({"contact": {"phone_number": "+7123", "first_name": "Ivan"}}, Kind.TEXT, "[contact] Ivan +7123", None),
    ({"sticker": {"file_id": "s1", "emoji": "😢"}}, Kind.IMAGE, "[sticker 😢]", "s1"),
    ({"sticker": {"file_id": "s2"}}, Kind.IMAGE, "[sticker]", "s2"),
    ({"video": {"file_id": "vid", "duration": 4}, "caption": "see"}, Kind.VIDEO, "see", "vid"),
    ({"video_note": {"file_id": "round"}}, Kind.VIDEO, "", "round"),
    ({"audio": {"file_id": "a1", "file_name": "a.mp3"}}, Kind.VOICE, "", "a1"),
    ({"animation": {"file_id": "gif"}, "document": {"file_id": "gif"}}, Kind.VIDEO, "", "gif"),
    ({"poll": {"id": "p"}}, Kind.UNKNOWN, "[poll]", None),
])
def test_parse_kinds(extra: dict[str, Any], kind: Kind, text: str, media: str | None) -> None:
    m = parse_update("shopbot", update(5, **extra))
    assert m is not None
    assert (m.kind, m.text, m.native_media, m.native_id, m.customer_name) == (kind, text, media, "5", "Ivan P")
    assert m.raw == update(5, **extra)


def test_parse_edited_and_callback() -> None:
    edited = {"update_id": 9, "edited_message": {**update(9)["message"], "edit_date": 1_700_000_100}}
    m = parse_update("shopbot", edited)
    assert m is not None and m.text == "(edited) hello" and m.ts == 1_700_000_100
    cq = {"update_id": 10, "callback_query": {"id": "q1", "from": {"id": CHAT, "first_name": "Ivan"},
                                              "data": "order:17", "message": update(3)["message"]}}
    m = parse_update("shopbot", cq)
    assert m is not None and (m.kind, m.text, m.sender_ref) == (Kind.EVENT, "[button: order:17]", str(CHAT))
    assert parse_update("shopbot", {"update_id": 11, "my_chat_member": {}}) is None


# -- outbound ---------------------------------------------------------------------------------
def test_split_prefers_paragraphs_then_sentences() -> None:
    para = "第一段。" * 10
    assert split_text(f"{para}\n\n{para}", limit=50) == [para, para]
    sentences = "This is one sentence. " * 300
    parts = split_text(sentences, limit=4096)
    assert all(p.endswith(".") for p in parts[:-1]) and all(u16(p) <= 4096 for p in parts)
    emoji = "😀" * 3000  # two UTF-16 units each
    assert [u16(p) for p in split_text(emoji)] == [4096, 1904]
    assert split_text("") == [""]


async def test_ten_thousand_chars_arrive_as_three_ordered_messages(
        telegram: TelegramAdapter, tg_api: FakeTelegram) -> None:
    text = " ".join(f"Sentence number {i} explains the order status in some detail." for i in range(200))
    text = text[:10_000]
    assert len(text) == 10_000
    await telegram.send(reply(text))
    got = tg_api.sent_to(CHAT)
    assert len(got) == 3 and all(len(p) <= 4096 for p in got)
    assert " ".join(got).replace("  ", " ") == text.strip()
    gaps = [b - a for a, b in zip(tg_api.sent_at, tg_api.sent_at[1:], strict=False)]
    assert all(g >= 0.9 for g in gaps)  # one message per second per chat


async def test_a_part_slow_to_arrive_does_not_shorten_the_spacing_at_telegram(
        telegram: TelegramAdapter, tg_api: FakeTelegram) -> None:
    """Spacing counted from each send's start let a part that arrived late sit closer than the
    spacing to the next, prompt one (the 10,000-character test failed so under load 28)."""
    telegram.pacer = Pacer(per_chat_s=0.5)
    tg_api.arrival_delays = [0.4, 0, 0.4, 0]
    await telegram.send(reply("\n\n".join(c * 4000 for c in "abcde")))
    assert [p[0] for p in tg_api.sent_to(CHAT)] == list("abcde")
    gaps = [b - a for a, b in zip(tg_api.sent_at, tg_api.sent_at[1:], strict=False)]
    assert min(gaps) >= 0.49, gaps


async def test_a_split_reply_failing_midway_resumes_without_resending(
        telegram: TelegramAdapter, tg_api: FakeTelegram) -> None:
    telegram.pacer = Pacer(per_chat_s=0)
    text = "\n\n".join(["a" * 4000, "b" * 4000, "c" * 100])
    tg_api.script[str(CHAT)] = [(200, {}), server_error()]
    with pytest.raises(RetryableChannelError):
        await telegram.send(reply(text))
    assert [p[0] for p in tg_api.sent_to(CHAT)] == ["a"]
    await telegram.send(reply(text))  # the outbox's retry
    assert [p[0] for p in tg_api.sent_to(CHAT)] == ["a", "b", "c"]


async def test_429_in_one_chat_does_not_stall_another(telegram: TelegramAdapter, tg_api: FakeTelegram) -> None:
    tg_api.script["111"] = [too_many(5)]
    with pytest.raises(RetryableChannelError) as info:
        await telegram.send(reply("to A", chat=111, rid="a1"))
    assert info.value.retry_after == 5
    start = time.monotonic()
    await asyncio.gather(*(telegram.send(reply(f"to {c}", chat=c, rid=f"b{c}")) for c in (222, 333, 444)))
    assert time.monotonic() - start < 1.0
    assert tg_api.sent_to(222) == ["to 222"] and tg_api.sent_to(444) == ["to 444"]
    # Chat A stays blocked without calling Telegram until its retry_after passes.
    calls = len(tg_api.calls)
    with pytest.raises(RetryableChannelError) as again:
        await telegram.send(reply("to A", chat=111, rid="a1"))
    assert again.value.retry_after is not None and 4 < again.value.retry_after <= 5
    assert len(tg_api.calls) == calls


@pytest.mark.parametrize(("answer", "kind", "reason"), [
    (blocked(), PermanentChannelError, "blocked the bot"),
    ((403, {"ok": False, "error_code": 403, "description": "Forbidden: user is deactivated"}),
     PermanentChannelError, "deactivated"),
    (chat_not_found(), PermanentChannelError, "chat not found"),
    (server_error(), RetryableChannelError, "Internal Server Error"),
    ((502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}), RetryableChannelError, "Bad Gateway"),
])
async def test_send_errors(telegram: TelegramAdapter, tg_api: FakeTelegram, answer: Any,
                           kind: type[Exception], reason: str) -> None:
    tg_api.script[str(CHAT)] = [answer]
    with pytest.raises(kind, match=reason):
        await telegram.send(reply("hi"))


async def test_chat_migration_is_followed_and_remembered(
        telegram: TelegramAdapter, tg_api: FakeTelegram) -> None:
    telegram.pacer = Pacer(per_chat_s=0)
    tg_api.script["-100"] = [migrated(-1009999)]
    await telegram.send(reply("one", chat=-100, rid="m1"))
    await telegram.send(reply("two", chat=-100, rid="m2"))
    assert tg_api.sent_to(-1009999) == ["one", "two"] and tg_api.sent_to(-100) == []


async def test_group_pacing_is_twenty_a_minute() -> None:
    pacer = Pacer(per_chat_s=0, group_per_min=3)
    for _ in range(3):
        await pacer.wait("-5")
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(pacer.wait("-5"), 0.3)
    await asyncio.wait_for(pacer.wait("5"), 0.3)  # a private chat is not held by the group


# -- set-webhook, media, polling --------------------------------------------------------------
async def test_set_webhook_sends_secret_and_allowed_updates(tg_api: FakeTelegram) -> None:
    await set_webhook(tg_settings(tg_api), "https://shop.example/webhooks/telegram/shopbot")
    assert tg_api.webhook is not None
    assert tg_api.webhook["url"] == "https://shop.example/webhooks/telegram/shopbot"
    assert tg_api.webhook["secret_token"] == TG_SECRET
    assert tg_api.webhook["allowed_updates"] == ["message", "edited_message", "callback_query"]


async def test_polling_ingests_and_confirms_updates(store: Store, tg_api: FakeTelegram) -> None:
    tg_api.updates = [update(500, "via polling"), update(501, "second")]
    adapter = TelegramAdapter(tg_settings(tg_api, mode="polling"), Deps(Ingestor(store), store))
    await adapter.start()
    try:
        for _ in range(100):
            if len(await inbound(store)) == 2 and not tg_api.updates:
                break
            await asyncio.sleep(0.05)
    finally:
        await adapter.close()
    assert [m.text for m in await inbound(store)] == ["via polling", "second"]
    assert not tg_api.updates  # confirmed through the offset


async def test_pacing_keeps_the_rates_the_adapter_declares(store: Store, tg_api: FakeTelegram) -> None:
    shipped = TelegramAdapter(tg_settings(tg_api), Deps(Ingestor(store), store))
    assert (shipped.pacer.per_chat_s, shipped.pacer.group_per_min, shipped.pacer.overall_per_s) == (1.0, 20, 30)

    class Careful(TelegramAdapter):  # a bot the shop wants slower than Telegram allows
        limits = Limits(max_text_chars=4096, per_chat_per_s=0.5, per_group_per_min=6, overall_per_s=5)

    careful = Careful(tg_settings(tg_api), Deps(Ingestor(store), store))
    assert (careful.pacer.per_chat_s, careful.pacer.group_per_min, careful.pacer.overall_per_s) == (2.0, 6, 5)
    await shipped.close()
    await careful.close()
