"""WeCom 微信客服 (kf): the callback, the pull, replies, the 48-hour window and the kf session state.

Inbound, WeCom posts an encrypted event (WXBizMsgCrypt, the corp id as the receive id) that
carries no message: `kf_msg_or_event`, with a sync `Token` and the `OpenKfId` to pull. The
callback is checked (size, markup, `msg_signature`, freshness, replay) and acked once the pull is
marked pending in Redis; adapters/wecom_pull.py then reads `kf/sync_msg` pages off the request's
path, and adapters/wecom_parse.py turns each entry into a Message for ingest.

Outbound, replies go through `kf/send_msg` (text, then the file) within the customer's window of
5 messages in the 48 hours after their last message; the welcome of an `enter_session` through
`kf/send_msg_on_event` with its welcome_code. Before an agent's reply the session is moved to
"by a human" (3), before the bot's to "by the smart assistant" (1), with `kf/service_state/trans`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Coroutine, Sequence
from typing import Any, ClassVar

import msgspec
from aiohttp import web

from adapters.base import Accepted, Capabilities, Deps, Fetched, Limits, WebhookAdapter, console_access
from adapters.registry import Problem, register
from adapters.replay import ReplayGuard
from adapters.wechat_crypto import MAX_BODY_BYTES, MessageCrypto, check_aes_key, parse_envelope, signature_ok
from adapters.wecom_api import COUNT_USED_UP, DEFAULT_BASE, SESSION_ENDED, WINDOW_CLOSED, WecomApi, client_msgid
from adapters.wecom_parse import CHANNEL, Malformed, parse_entry, split_chat
from adapters.wecom_pull import Puller
from kefu_common.errors import AuthError, ChannelError, PermanentChannelError, ProtocolError
from router.models import Channel, Kind, MediaRef, Message, Reply, Sender

log = logging.getLogger("kefu.wecom")

_ACCOUNT = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_KFID = re.compile(r"^[A-Za-z0-9_\-]{1,128}$")
QUOTA = 5
"""Messages WeCom lets a kf account send a customer in the window after the customer wrote."""
WINDOW_S = 48 * 3600
MAX_TEXT = 2048
STATE_BOT, STATE_HUMAN, STATE_ENDED = 1, 3, 4
UPLOAD_TTL_S = 2 * 86400
WELCOME_TTL_S = 3600
_EVENT_KEY: web.RequestKey[dict[str, Any]] = web.RequestKey("wecom_event")
_OUT_TYPES = {"image": "image", "voice": "voice", "video": "video"}
_OUT_MIMES = {"image": ("image/jpeg", "image/png", "image/gif"), "voice": ("audio/amr",), "video": ("video/mp4",)}


class WecomAccountSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """One WeCom corp's 微信客服 under `channels.wecom` (a list: several corps side by side)."""

    account: str
    corp_id: str
    secret: str
    """The 微信客服 app's Secret (`secret_env: NAME` reads it from the environment)."""
    token: str
    """The callback Token set in the 微信客服 API settings."""
    encoding_aes_key: str
    open_kfids: list[str] = []
    """The kf accounts this router serves; empty: every kf account a callback names."""
    welcome: str = ""
    """Sent with send_msg_on_event when a customer enters a session; empty: no welcome."""
    servicer_userid: str = ""
    """The WeCom member shown as the human servicer when an agent answers (service_state 3);
    empty: the state is moved only for the bot (1) and at the end (4)."""
    servicers: dict[str, str] = {}
    """Agent id -> WeCom userid, for agents who are members of the corp themselves."""
    replay_window_s: int = 300
    sync_limit: int = 1000
    pull_lease_s: float = 30.0
    sweep_interval_s: float = 5.0
    api_base: str = DEFAULT_BASE


@register
class WecomAdapter(WebhookAdapter):
    channel: ClassVar[Channel] = CHANNEL
    settings_type: ClassVar[type[Any]] = WecomAccountSettings
    capabilities: ClassVar[Capabilities] = Capabilities(media=True, quota=True, media_messages=True)
    limits: ClassVar[Limits] = Limits(max_text_chars=MAX_TEXT, max_parts=QUOTA)
    max_body_bytes: ClassVar[int] = MAX_BODY_BYTES

    def __init__(self, cfg: WecomAccountSettings, deps: Deps) -> None:
        super().__init__(cfg.account, deps)
        self.cfg = cfg
        self.store = deps.store
        self.records = deps.store.wecom
        self.crypto = MessageCrypto(cfg.encoding_aes_key, cfg.corp_id)
        self.api = WecomApi(cfg.account, cfg.corp_id, cfg.secret, cfg.api_base, deps.store)
        self.replay = ReplayGuard(
            deps.store.channels, lambda ts, nonce: deps.keys.webhook_nonce(self.channel, self.account, ts, nonce),
            cfg.replay_window_s)
        self.puller = Puller(cfg.account, self.api, deps.store, self.take_page, limit=cfg.sync_limit,
                             lease_s=cfg.pull_lease_s, sweep_s=cfg.sweep_interval_s)
        self.skipped = 0
        """Malformed entries skipped by this process."""

    @classmethod
    def from_settings(cls, settings: Any, deps: Deps) -> WecomAdapter:
        return cls(settings, deps)

    @classmethod
    def validate(cls, settings: Any) -> list[Problem]:
        problems: list[Problem] = []
        if not _ACCOUNT.match(settings.account):
            problems.append((("account",), f"account {settings.account!r} must be 1-64 of A-Z a-z 0-9 _ . -"))
        try:
            check_aes_key(settings.encoding_aes_key)
        except ValueError as exc:
            problems.append((("encoding_aes_key",), str(exc)))
        if not settings.corp_id or not settings.secret or not settings.token:
            problems.append(((), "corp_id, secret and token are all needed"))
        for i, kfid in enumerate(settings.open_kfids):
            if not _KFID.match(kfid):
                problems.append((("open_kfids", i), f"open_kfid {kfid!r} must be 1-128 of A-Z a-z 0-9 _ -"))
        if not 30 <= settings.replay_window_s <= 3600:
            problems.append((("replay_window_s",), "replay_window_s: expected 30 to 3600 seconds"))
        if not 1 <= settings.sync_limit <= 1000:
            problems.append((("sync_limit",), "sync_limit: expected 1 to 1000 (WeCom's most per page)"))
        if not 1 <= settings.pull_lease_s <= 600:
            problems.append((("pull_lease_s",), "pull_lease_s: expected 1 to 600 seconds"))
        if not 0.1 <= settings.sweep_interval_s <= 600:
            problems.append((("sweep_interval_s",), "sweep_interval_s: expected 0.1 to 600 seconds"))
        if len(settings.welcome) > MAX_TEXT:
            problems.append((("welcome",), f"welcome: at most {MAX_TEXT} characters"))
        return problems

    @classmethod
    def secrets(cls, settings: Any) -> list[str]:
        return [settings.secret, settings.token, settings.encoding_aes_key]

    def routes(self) -> Sequence[web.RouteDef]:
        path = f"/webhooks/wecom/{self.account}"
        return [web.get(path, self.handshake), web.post(path, self.handle)]

    def console_routes(self) -> Sequence[web.RouteDef]:
        return [web.get(f"/api/v1/wecom/{self.account}/quota/{{chat}}", self.quota)]

    async def start(self) -> None:
        await self.api.start()
        self.puller.start()

    async def close(self) -> None:
        await self.puller.close()
        await self.api.close()

    # -- the callback ---------------------------------------------------------------------------
    def _signed(self, request: web.Request, encrypted: str) -> None:
        q = request.query
        if not signature_ok(q.get("msg_signature"), self.cfg.token, q.get("timestamp", ""), q.get("nonce", ""),
                            encrypted):
            raise AuthError("bad WeCom msg_signature", status=403)
        self.replay.fresh(q.get("timestamp", ""))

    async def handshake(self, request: web.Request) -> web.Response:
        """The URL check WeCom makes when the callback is saved: the decrypted `echostr` back."""
        echostr = request.query.get("echostr", "")
        self._signed(request, echostr)
        return web.Response(text=self.crypto.decrypt(echostr))

    def verify(self, request: web.Request, body: bytes) -> bytes:
        encrypted = parse_envelope(body).get("Encrypt")
        if not isinstance(encrypted, str):
            raise ProtocolError("bad_xml", "a WeCom callback without <Encrypt>")
        self._signed(request, encrypted)
        plain = self.crypto.decrypt(encrypted).encode()
        event = parse_envelope(plain)
        request[_EVENT_KEY] = event
        return plain

    def parse(self, payload: bytes) -> Sequence[Message]:
        return []  # the event carries no message: the pull brings them

    async def admit(self, request: web.Request, body: bytes) -> None:
        """The replay check, then the durable mark that a pull is owed (before the ack)."""
        q = request.query
        await self.replay.check(q.get("timestamp", ""), q.get("nonce", ""), body)
        event = request[_EVENT_KEY]
        if str(event.get("Event", "")) != "kf_msg_or_event":
            log.info("wecom %s: callback event %r ignored", self.account, event.get("Event"))
            return
        kfid, token = event.get("OpenKfId"), event.get("Token")
        if not isinstance(kfid, str) or not _KFID.match(kfid):
            raise ProtocolError("bad_event", "kf_msg_or_event without a valid OpenKfId")
        if self.cfg.open_kfids and kfid not in self.cfg.open_kfids:
            log.info("wecom %s: kf account %s is not served here; not pulled", self.account, kfid)
            return
        await self.puller.notify(kfid, token if isinstance(token, str) else "")

    def ack(self, request: web.Request, messages: Sequence[Message],
            accepted: Sequence[Accepted]) -> web.StreamResponse:
        return web.Response(text="success")

    # -- the pull's page ------------------------------------------------------------------------
    async def take_page(self, entries: list[Any]) -> None:
        """Ingest a page's entries in order; a malformed one is logged with its msgid and skipped."""
        for entry in entries:
            try:
                msg = parse_entry(self.account, entry)
            except Malformed as exc:
                self.skipped += 1
                log.warning("wecom %s: skipped malformed entry msgid=%r: %s", self.account, exc.msgid, exc)
                continue
            if msg is None:
                if isinstance(entry, dict) and isinstance(entry.get("event"), dict):
                    log.info("wecom %s: event %s", self.account, entry["event"].get("event_type"))
                continue
            [accepted] = await self.take_in([msg])
            if not accepted.duplicate:
                await self._after(msg)

    async def ingested(self, messages: Sequence[Message], accepted: Sequence[Accepted]) -> None:
        """A customer's own message opens a fresh window; events do not."""
        for msg, acc in zip(messages, accepted, strict=True):
            if not acc.duplicate and msg.kind is not Kind.EVENT:
                await self.records.open_window(self.account, msg.sender_ref, WINDOW_S)

    async def _after(self, msg: Message) -> None:
        """What an event asks of us once it is ingested: the welcome, the state WeCom moved."""
        event = (msg.raw or {}).get("event")
        if not isinstance(event, dict):
            return
        etype = event.get("event_type")
        if etype == "enter_session":
            code = event.get("welcome_code")
            if self.cfg.welcome and isinstance(code, str) and code \
                    and await self.records.first_welcome(self.account, code, WELCOME_TTL_S):
                try:
                    await self.api.send_on_event(code, client_msgid(msg.native_id, 0), self.cfg.welcome)
                except ChannelError as exc:  # the code lives 20 s; a late or refused welcome is only logged
                    log.warning("wecom %s: welcome not sent: %s", self.account, exc)
        elif etype == "session_status_change" and event.get("change_type") == 3:
            await self.records.keep_service_state(self.account, msg.sender_ref, f"{STATE_ENDED}:", WINDOW_S)

    # -- the window -----------------------------------------------------------------------------
    async def replies_left(self, chat: str) -> int:
        window = await self.records.window(self.account, chat)
        return 0 if window is None else max(0, QUOTA - window[0])

    async def quota(self, request: web.Request) -> web.Response:
        """GET /api/v1/wecom/{account}/quota/{chat}: what the console shows beside the reply box,
        only for a customer in a conversation the caller may see (else 404)."""
        chat = request.match_info["chat"]
        if not await console_access(request).user(self.channel, self.account, chat):
            raise ProtocolError("not_found", "no conversation you can see is with this customer", 404)
        window = await self.records.window(self.account, chat)
        return web.json_response({
            "account": self.account, "chat": chat, "quota": QUOTA,
            "quota_left": 0 if window is None else max(0, QUOTA - window[0]),
            "window_ends": window[1] + WINDOW_S if window is not None and window[1] else None,
        })

    # -- media ----------------------------------------------------------------------------------
    async def fetch_media(self, reference: str) -> Fetched:
        data, name = await self.api.download(reference)
        return Fetched(data, name)

    # -- outbound -------------------------------------------------------------------------------
    async def check_parts(self, reply: Reply, parts: int) -> None:
        left = await self.replies_left(reply.chat)
        if 0 < left < parts:
            raise PermanentChannelError(f"this reply takes {parts} messages, but only {left} of WeCom's {QUOTA} "
                                        "are left until the customer writes again; send less")

    async def send_part(self, reply: Reply, text: str, index: int) -> None:
        user, kfid = self._address(reply.chat)
        await self.sync_state(reply)
        await self._spend(reply.chat, self.api.send_msg(kfid, user, client_msgid(reply.id, index), "text",
                                                        {"content": text}))

    def undeliverable_file(self, media: MediaRef) -> str | None:
        out = _OUT_TYPES.get(media.kind.value)
        if out is not None and media.mime not in _OUT_MIMES[out]:
            if out != "image":
                return None  # sent as a file instead
            return f"WeCom takes pictures as JPEG, PNG or GIF, not {media.mime}"
        return None

    async def send_media(self, reply: Reply, media: MediaRef, index: int) -> None:
        """Upload once per file and account while WeCom keeps it, then send it as an image, voice
        note, video or, for anything else, a file."""
        refused = self.undeliverable_file(media)
        if refused is not None:
            raise PermanentChannelError(refused)
        user, kfid = self._address(reply.chat)
        out = _OUT_TYPES.get(media.kind.value)
        msgtype = out if out is not None and media.mime in _OUT_MIMES[out] else "file"
        wecom_id = await self.records.uploaded(self.account, media.id)
        if wecom_id is None:
            data = await self.media_bytes(media)
            wecom_id = await self.api.upload(msgtype, data, media.name or media.id, media.mime)
            await self.records.remember_upload(self.account, media.id, wecom_id, UPLOAD_TTL_S)
        await self.sync_state(reply)
        await self._spend(reply.chat, self.api.send_msg(kfid, user, client_msgid(reply.id, index), msgtype,
                                                        {"media_id": wecom_id}))

    def _address(self, chat: str) -> tuple[str, str]:
        try:
            return split_chat(chat)
        except ValueError as exc:
            raise PermanentChannelError(str(exc)) from None

    async def sync_state(self, reply: Reply) -> None:
        """Move the kf session to the one answering: a human (3) for an agent, the smart
        assistant (1) for the bot, so the customer's WeChat shows who it is. Best effort: a
        refused change is logged, and the reply still goes."""
        if reply.sender is Sender.AGENT:
            servicer = self.cfg.servicers.get(reply.author) or self.cfg.servicer_userid
            if not servicer:
                return
            await self.set_state(reply.chat, STATE_HUMAN, servicer)
        elif reply.sender is Sender.BOT:
            await self.set_state(reply.chat, STATE_BOT)

    async def set_state(self, chat: str, state: int, servicer: str = "") -> None:
        """`kf/service_state/trans` unless the session is already there (as we last set it)."""
        want = f"{state}:{servicer}"
        if await self.records.service_state(self.account, chat) == want:
            return
        user, kfid = self._address(chat)
        try:
            await self.api.trans_state(kfid, user, state, servicer)
        except ChannelError as exc:
            log.warning("wecom %s: service_state %s for %s refused: %s", self.account, state, chat, exc.reason)
            return
        await self.records.keep_service_state(self.account, chat, want, WINDOW_S)

    async def _spend(self, chat: str, send: Coroutine[Any, Any, None]) -> None:
        """Run one send within the customer's window, taking one message from it (given back when
        the send fails in a way that did not use it)."""
        left = await self.store.run(self.records.take(self.account, chat, QUOTA))
        if left < 0:
            send.close()
        if left == -1:
            raise PermanentChannelError("the customer's 48-hour window has closed; they must write first "
                                        "(quota_left 0)")
        if left == -2:
            raise PermanentChannelError(f"no messages left: WeCom allows {QUOTA} in the 48 hours after the "
                                        "customer's last message (quota_left 0)")
        try:
            await send
        except PermanentChannelError as exc:
            if exc.code in (WINDOW_CLOSED, SESSION_ENDED):
                await self.records.close_window(self.account, chat)
            elif exc.code == COUNT_USED_UP:
                await self.records.use_up(self.account, chat, QUOTA)
            else:
                await self.store.run(self.records.refund(self.account, chat))
            raise
        except Exception:
            await self.store.run(self.records.refund(self.account, chat))
            raise
