"""What channels keep per account: WeChat's ``{wx:NS:<account>}``, Telegram's ``{tg:NS:<bot>}``,
any other channel's ``{ch:NS:<channel>:<account>}``, and each webhook's recent signatures in
``{hook:NS:<channel>:<account>}``.
"""

from __future__ import annotations

from router.store.keys.base import KeysBase


class ChannelKeys(KeysBase):
    """Keys channels keep per account: tokens, quotas, uploads, migrations, nonces."""

    __slots__ = ()

    def wechat_token(self, account: str) -> str:
        """String: the account's access token, shared by every process; each refresh invalidates
        the previous token at WeChat, so processes must not each keep their own."""
        return f"{{wx:{self.ns}:{account}}}:token"

    def wechat_token_lock(self, account: str) -> str:
        """String (SET NX PX): held by the one process refreshing the token, so refreshes don't overlap."""
        return f"{{wx:{self.ns}:{account}}}:token:lock"

    def wechat_quota(self, account: str, openid: str) -> str:
        """Hash: replies used in the customer's 48-hour window, opened by their last message; it
        expires with the window, because WeChat allows only a few replies per window."""
        return f"{{wx:{self.ns}:{account}}}:quota:{openid}"

    def wechat_upload(self, account: str, media_id: str) -> str:
        """String: the WeChat media id of one of our files uploaded to this account, so a retried
        reply sends it without a second upload; it expires before WeChat's three days do."""
        return f"{{wx:{self.ns}:{account}}}:upload:{media_id}"

    # Telegram {tg:NS:bot}.

    def telegram_file(self, bot: str, media_id: str) -> str:
        """String: the file_id Telegram gave one of our files when this bot first sent it; sending
        by file_id again costs no upload."""
        return f"{{tg:{self.ns}:{bot}}}:file:{media_id}"

    def telegram_migrated(self, bot: str, chat: str) -> str:
        """String: a group's new supergroup chat id after ChatMigrated; later replies go there."""
        return f"{{tg:{self.ns}:{bot}}}:migrated:{chat}"

    # Any other channel {ch:NS:channel:account}.

    def channel_state(self, channel: str, account: str, *parts: str) -> str:
        """Any key a channel keeps for itself (tokens, windows, migrations), under one tag per
        account so one account's keys share a slot. A new channel names its keys here, through
        this function, instead of adding methods to this module."""
        return ":".join((f"{{ch:{self.ns}:{channel}:{account}}}", *parts))

    # Webhook freshness {hook:NS:channel:account}.

    def webhook_nonce(self, channel: str, account: str, timestamp: str, nonce: str) -> str:
        """String (EX, until the timestamp leaves the replay window): SHA-256 of the body first
        seen with this signed (timestamp, nonce), so a captured triple cannot carry another body
        (adapters/replay.py)."""
        return f"{{hook:{self.ns}:{channel}:{account}}}:nonce:{timestamp}:{nonce}"
