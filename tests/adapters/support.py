"""Shared constants and helpers of the adapter tests (plain functions, no fixtures)."""

from __future__ import annotations

from helpers.fake_telegram import FakeTelegram
from helpers.fake_wechat import FakeWechat

from adapters.telegram import TelegramBotSettings
from adapters.wechat import WechatAccountSettings
from router.models import Message, decode_message
from router.store import Store

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
WX_TOKEN = "wx-callback-token"
TG_SECRET = "tg-secret_123"


def wx_settings(api: FakeWechat, account: str = "shop", aes: bool = True,
                encryption: str | None = "compatible") -> WechatAccountSettings:
    """Compatible mode by default: most adapter tests post both plaintext and encrypted callbacks
    (tests/security/test_wechat_safe_mode.py covers safe mode, the default with a key)."""
    return WechatAccountSettings(account=account, app_id=api.app_id, app_secret=api.app_secret,
                                 token=WX_TOKEN, encoding_aes_key=AES_KEY if aes else None,
                                 encryption=encryption if aes else None,  # type: ignore[arg-type]
                                 api_base=api.base)


def tg_settings(api: FakeTelegram, bot: str = "shopbot", mode: str = "webhook") -> TelegramBotSettings:
    return TelegramBotSettings(bot=bot, token=api.token, secret_token=TG_SECRET,
                               mode=mode,  # type: ignore[arg-type]
                               api_base=api.base)


async def inbound(store: Store) -> list[Message]:
    """Every message in the inbound stream, in order."""
    entries = await store.client.xrange(store.keys.inbound)
    return [decode_message(fields["m"]) for _, fields in entries]


async def snapshot(store: Store) -> tuple[int, list[str]]:
    """DBSIZE and every key: a refused request must leave both as they were."""
    return int(await store.client.dbsize()), sorted(await store.client.keys("*"))
