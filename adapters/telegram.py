"""Telegram bots: the webhook (or long polling in development), replies through
python-telegram-bot's `Bot`, and customers' files fetched into the media store (router/media).

Updates are parsed by adapters.telegram_parse; sending is split and paced by
adapters.telegram_send. Parts of a split reply that Telegram took are remembered in Redis per
reply id, so an outbox retry resumes after them.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, ClassVar, Literal

import aiohttp
import msgspec
from aiohttp import web
from telegram import Bot, InputFile
from telegram import Message as TgMessage
from telegram.error import BadRequest, ChatMigrated, RetryAfter, TelegramError
from telegram.request import HTTPXRequest

from adapters.base import Accepted, Capabilities, ChannelProfile, Deps, Fetched, Limits, WebhookAdapter
from adapters.registry import Problem, register
from adapters.telegram_parse import ALLOWED_UPDATES, CHANNEL, parse_update
from adapters.telegram_send import MAX_TEXT, Pacer, channel_error, pacer_for, retry_seconds, u16
from kefu_common import safejson
from kefu_common.errors import AuthError, PermanentChannelError, ProtocolError, RetryableChannelError
from router.models import Channel, Kind, MediaRef, Message, Reply

log = logging.getLogger("kefu.telegram")

MAX_UPDATE_BYTES = 256 * 1024
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
"""The Bot API lets a bot download files up to 20 MB."""
FILE_ID_TTL_S = 30 * 86400
"""A sent file's file_id stays good for the bot; kept a month, then sent as bytes again."""
POLL_TIMEOUT_S = 25
AVATAR_MIN_PX = 64
"""The console shows avatars at 32-48 CSS px: 64 px stays sharp on a 2x screen."""
MAX_AVATAR_BYTES = 1024 * 1024
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def make_bot(cfg: TelegramBotSettings) -> tuple[Bot, tuple[HTTPXRequest, HTTPXRequest]]:
    """A PTB Bot against `api_base` (the real API, a local Bot API server, or a test fake),
    and its two HTTP clients, which the caller shuts down."""
    base = cfg.api_base.rstrip("/")
    requests = (HTTPXRequest(connection_pool_size=64),
                HTTPXRequest(read_timeout=POLL_TIMEOUT_S + 10))
    bot = Bot(cfg.token, base_url=f"{base}/bot", base_file_url=f"{base}/file/bot",
              request=requests[0], get_updates_request=requests[1])
    return bot, requests


async def set_webhook(cfg: TelegramBotSettings, url: str) -> None:
    """Point the bot at `url`, with our secret token and the updates we handle."""
    bot, _ = make_bot(cfg)
    async with bot:
        await bot.set_webhook(url, secret_token=cfg.secret_token, allowed_updates=ALLOWED_UPDATES)


class TelegramBotSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """One bot under `channels.telegram` (a list: several bots side by side)."""

    bot: str
    token: str
    secret_token: str | None = None
    """Telegram sends it with every update; webhook mode needs it, so nobody else can post."""
    mode: Literal["webhook", "polling"] = "webhook"
    api_base: str = "https://api.telegram.org"


@register
class TelegramAdapter(WebhookAdapter):
    channel: ClassVar[Channel] = CHANNEL
    settings_type: ClassVar[type[Any]] = TelegramBotSettings
    capabilities: ClassVar[Capabilities] = Capabilities(media=True, media_messages=True)
    limits: ClassVar[Limits] = Limits(max_text_chars=MAX_TEXT, max_parts=10, per_chat_per_s=1.0,
                                      per_group_per_min=20, overall_per_s=30.0)
    max_body_bytes: ClassVar[int] = MAX_UPDATE_BYTES

    def __init__(self, cfg: TelegramBotSettings, deps: Deps, pacer: Pacer | None = None) -> None:
        super().__init__(cfg.bot, deps)
        self.cfg = cfg
        self.moves = deps.store.telegram
        self.bot, self._requests = make_bot(cfg)
        self.pacer = pacer or pacer_for(self.limits)
        self._tasks: set[asyncio.Task[None]] = set()
        self._http: aiohttp.ClientSession | None = None

    @classmethod
    def from_settings(cls, settings: Any, deps: Deps) -> TelegramAdapter:
        return cls(settings, deps)

    @classmethod
    def account_of(cls, settings: Any) -> str:
        return str(settings.bot)

    @classmethod
    def validate(cls, settings: Any) -> list[Problem]:
        problems: list[Problem] = []
        if not _ID.match(settings.bot):
            problems.append((("bot",), f"bot {settings.bot!r} must be 1-64 of A-Z a-z 0-9 _ . -"))
        if settings.secret_token is not None and not _SECRET.match(settings.secret_token):
            problems.append((("secret_token",), "secret_token must be 1-256 of A-Z a-z 0-9 _ -"))
        if settings.mode == "webhook" and not settings.secret_token:
            problems.append((("mode",), "webhook mode needs secret_token (or secret_token_env), "
                                        "so nobody else can post updates"))
        return problems

    @classmethod
    def secrets(cls, settings: Any) -> list[str]:
        return [settings.token, settings.secret_token or ""]

    def measure(self, text: str) -> int:
        return u16(text)

    def routes(self) -> Sequence[web.RouteDef]:
        return [
            web.post(f"/webhooks/telegram/{self.account}", self.handle),
        ]

    async def start(self) -> None:
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120))
        if self.cfg.mode == "polling":
            self._spawn(self._poll())

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._http is not None:
            await self._http.close()
        for request in self._requests:
            with contextlib.suppress(Exception):
                await request.shutdown()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- inbound ------------------------------------------------------------------------------
    def precheck(self, request: web.Request) -> None:
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not hmac.compare_digest(given.encode(), (self.cfg.secret_token or "").encode()) or not given:
            raise AuthError("bad X-Telegram-Bot-Api-Secret-Token", status=403)
        if request.content_type != "application/json":
            raise ProtocolError("unsupported_media_type", "updates must be application/json", 415)

    def verify(self, request: web.Request, body: bytes) -> bytes:
        return body  # the secret token, checked before the body was read, is the proof

    def parse(self, payload: bytes) -> Sequence[Message]:
        return self.parse_data(safejson.loads(payload))

    def parse_data(self, data: object) -> Sequence[Message]:
        msg = parse_update(self.account, data)
        return [msg] if msg is not None else []

    async def ingested(self, messages: Sequence[Message], accepted: Sequence[Accepted]) -> None:
        """Buttons are answered once the update is durable, in the background: losing that is
        harmless, and the ack must not wait for Telegram."""
        for msg, acc in zip(messages, accepted, strict=True):
            cq = msg.raw.get("callback_query") if msg.raw else None
            if isinstance(cq, dict) and not acc.duplicate and cq.get("id"):
                self._spawn(self._answer(str(cq["id"])))

    async def accept(self, data: object) -> None:
        """Parse and ingest one update that arrived by polling."""
        await self.take_in(self.parse_data(data))

    async def _answer(self, query_id: str) -> None:
        """Stops the spinner on the customer's button; losing this is harmless."""
        with contextlib.suppress(TelegramError):
            await self.bot.answer_callback_query(query_id)

    async def _poll(self) -> None:
        """Long polling for development; getUpdates' offset confirms only ingested updates."""
        with contextlib.suppress(TelegramError):
            await self.bot.delete_webhook()
        offset: int | None = None
        while True:
            try:
                updates = await self.bot.get_updates(offset=offset, timeout=POLL_TIMEOUT_S,
                                                     allowed_updates=ALLOWED_UPDATES)
                for update in updates:
                    try:
                        await self.accept(update.to_dict())
                    except ProtocolError as exc:  # skip it, or the same update comes back forever
                        log.warning("telegram %s: dropping malformed update %s: %s",
                                    self.account, update.update_id, exc.detail)
                    offset = update.update_id + 1
            except RetryAfter as exc:
                await asyncio.sleep(retry_seconds(exc))
            except Exception as exc:  # Telegram or Redis down: keep polling, never die quietly
                log.warning("telegram %s: polling failed, retrying: %s", self.account, exc)
                await asyncio.sleep(1)

    async def fetch_media(self, reference: str) -> Fetched:
        """A customer's file by its file_id: getFile, then the download, before its URL expires."""
        try:
            tg_file = await self.bot.get_file(reference)
            if tg_file.file_size is not None and tg_file.file_size > MAX_DOWNLOAD_BYTES:
                raise PermanentChannelError("the file is over Telegram's 20 MB limit for bots; it was not kept")
            data = bytes(await tg_file.download_as_bytearray())
        except BadRequest as exc:  # "file is too big", "invalid file_id": asking again cannot help
            raise PermanentChannelError(f"Telegram cannot give this file: {exc.message}") from None
        except TelegramError as exc:
            raise channel_error(exc) from None
        except RuntimeError:  # PTB: a File without a file_path cannot be downloaded
            raise PermanentChannelError("Telegram has no download for this file") from None
        name = tg_file.file_path.rsplit("/", 1)[-1] if tg_file.file_path else None
        return Fetched(data, name)

    # -- who the customer is -------------------------------------------------------------------
    async def profile(self, user: str) -> ChannelProfile | None:
        """A private chat's user's current profile photo, as bytes: the smallest size at least
        AVATAR_MIN_PX on its short side (else the largest). Its download URL carries the bot token,
        so it never reaches a browser; the router keeps the bytes in the media store. The name
        comes with every message already. None for groups and users without a photo."""
        if not user.isdigit():  # a group (negative id) or a channel name: no user to ask about
            return None
        try:
            found = await self.bot.get_user_profile_photos(int(user), limit=1)
            if not found.photos or not found.photos[0]:
                return None
            sizes = sorted(found.photos[0], key=lambda p: min(p.width, p.height))
            size = next((p for p in sizes if min(p.width, p.height) >= AVATAR_MIN_PX), sizes[-1])
            if size.file_size is not None and size.file_size > MAX_AVATAR_BYTES:
                return None
            tg_file = await self.bot.get_file(size.file_id)
            data = bytes(await tg_file.download_as_bytearray())
        except BadRequest:  # the user is gone or never wrote to this bot: nothing to show
            return None
        except TelegramError as exc:
            raise channel_error(exc) from None
        return ChannelProfile(photo=data) if len(data) <= MAX_AVATAR_BYTES else None

    # -- outbound -----------------------------------------------------------------------------
    async def send_part(self, reply: Reply, text: str, index: int) -> None:
        chat = await self.moves.moved_to(self.account, reply.chat) or reply.chat
        await self._send_part(reply.chat, chat, lambda to: self.bot.send_message(chat_id=_chat_id(to), text=text))

    async def send_media(self, reply: Reply, media: MediaRef, index: int) -> None:
        """The file by the file_id Telegram gave it the last time this bot sent it, else its bytes
        (sendPhoto for pictures, sendVoice, sendVideo, sendDocument for the rest)."""
        chat = await self.moves.moved_to(self.account, reply.chat) or reply.chat
        known = await self.moves.file_id(self.account, media.id)
        method, field = _send_method(media)
        payload: str | InputFile = known if known else InputFile(
            await self.media_bytes(media), filename=media.name or f"{media.kind.value}")
        sent = await self._send_part(reply.chat, chat, lambda to: getattr(self.bot, method)(
            chat_id=_chat_id(to), **{field: payload}))
        file_id = _file_id(sent, field)
        if file_id and file_id != known:
            await self.moves.remember_file_id(self.account, media.id, file_id, FILE_ID_TTL_S)

    async def _send_part(self, original: str, chat: str,
                         call: Callable[[str], Awaitable[TgMessage]]) -> TgMessage:
        """Send one message to `chat`, following a group that migrated; returns what Telegram
        made of it."""
        for follow in (True, False):
            left = self.pacer.blocked_for(chat)
            if left > 0:
                raise RetryableChannelError("Telegram asked us to slow down in this chat", retry_after=left)
            await self.pacer.wait(chat)
            try:
                try:
                    return await call(chat)
                finally:
                    self.pacer.answered(chat)
            except ChatMigrated as exc:
                if not follow:
                    raise PermanentChannelError("the Telegram group moved twice while sending") from None
                chat = str(exc.new_chat_id)
                await self.moves.record_move(self.account, original, chat)
            except RetryAfter as exc:
                seconds = retry_seconds(exc)
                self.pacer.block(chat, seconds)
                raise RetryableChannelError("Telegram flood control: waiting before this chat",
                                            retry_after=seconds) from None
            except TelegramError as exc:
                raise channel_error(exc) from None
        raise AssertionError("unreachable")


def _chat_id(chat: str) -> int | str:
    return int(chat) if chat.lstrip("-").isdigit() else chat


def _send_method(media: MediaRef) -> tuple[str, str]:
    """The Bot method and its file parameter for a file: Telegram shows photos, voice notes and
    videos inline only when sent as such."""
    if media.kind is Kind.IMAGE and media.mime in ("image/jpeg", "image/png", "image/webp"):
        return "send_photo", "photo"
    if media.kind is Kind.VOICE and media.mime in ("audio/ogg", "audio/mpeg"):
        return "send_voice", "voice"
    if media.kind is Kind.VIDEO and media.mime == "video/mp4":
        return "send_video", "video"
    return "send_document", "document"


def _file_id(sent: TgMessage, field: str) -> str | None:
    """The file_id Telegram gave what it took (a photo's largest size)."""
    if field == "photo":
        return sent.photo[-1].file_id if sent.photo else None
    attachment = getattr(sent, field, None) or sent.document
    return str(attachment.file_id) if attachment is not None else None
