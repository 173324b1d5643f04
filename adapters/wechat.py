"""WeChat Official Account: the callback (plaintext, compatible and safe mode) and replies through
the customer-service API (adapters.wechat_api); the callback's checks and crypto are in
adapters.wechat_crypto, its payload to a `Message` in adapters.wechat_parse.

The mini program's customer service (adapters/wechat_miniprogram.py) is this adapter with another
token, its own payloads (JSON or XML) and card type: it subclasses `WechatAdapter`, which names
the parts that differ (`route_name`, `records_name`, `out_types`, `parse`), and shares the rest.

Inbound, every callback is checked (size, markup declarations, `signature`, and in safe mode
`msg_signature` and the AES payload) before anything is stored; then it is parsed with wechatpy,
ingested, and answered `success`. Replies go later through `message/custom/send`
(adapters.wechat_api), within the customer's reply quota kept here.
"""

from __future__ import annotations

import re
from collections.abc import Coroutine, Sequence
from typing import Any, ClassVar, Literal

import msgspec
from aiohttp import web

from adapters.base import (
    Accepted,
    Capabilities,
    ChannelProfile,
    Deps,
    Fetched,
    Limits,
    WebhookAdapter,
    console_access,
)
from adapters.registry import Problem, register
from adapters.replay import ReplayGuard
from adapters.wechat_api import UNANSWERED_LIMIT, WINDOW_CLOSED, WechatApi
from adapters.wechat_crypto import (
    MAX_BODY_BYTES,
    MessageCrypto,
    check_aes_key,
    parse_envelope,
    refuse_hostile,
    signature_ok,
)
from adapters.wechat_parse import CHANNEL, native_message, normalise
from kefu_common.errors import AuthError, PermanentChannelError, ProtocolError
from router.models import Channel, MediaRef, Message, Reply
from router.store.calls.channels import QuotaRefund, QuotaTake

_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")

QUOTA = 5
"""Replies WeChat lets an account send a customer in the window after the customer wrote."""
WINDOW_S = 48 * 3600
MAX_TEXT = 2000

_OUT_TYPES = {"image": "image", "voice": "voice", "video": "video"}
"""What an agent's file goes out as, by its kind; WeChat's customer-service API has no file message."""
_OUT_MIMES = {"image": ("image/jpeg", "image/png", "image/gif"), "voice": ("audio/amr", "audio/mpeg"),
              "video": ("video/mp4",)}
_EXT = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "audio/amr": "amr", "audio/mpeg": "mp3",
        "video/mp4": "mp4"}
UPLOAD_TTL_S = 2 * 86400
"""How long an uploaded file's WeChat media id is reused: WeChat keeps temporary media 3 days."""

class WechatAccountSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """One Official Account under `channels.wechat` (a list: several accounts side by side)."""

    account: str
    app_id: str
    app_secret: str
    token: str
    encoding_aes_key: str | None = None
    """Safe mode's key: 43 characters from the account's console; none means plaintext mode."""
    encryption: Literal["plaintext", "compatible", "safe"] | None = None
    """Which callbacks are taken: `safe` (the default with an AES key) only encrypted ones;
    `compatible` also plaintext ones, while the WeChat console is switched over; `plaintext`
    (the default without a key) plaintext ones. docs/security.md."""
    replay_window_s: int = 300
    """A callback whose signed timestamp is further than this from our clock is refused."""
    api_base: str = "https://api.weixin.qq.com"

    @property
    def mode(self) -> str:
        return self.encryption or ("safe" if self.encoding_aes_key else "plaintext")


@register
class WechatAdapter(WebhookAdapter):
    channel: ClassVar[Channel] = CHANNEL
    settings_type: ClassVar[type[Any]] = WechatAccountSettings
    capabilities: ClassVar[Capabilities] = Capabilities(media=True, quota=True, media_messages=True)
    # Each part of a split reply spends one of the window's replies, so no reply needs more.
    limits: ClassVar[Limits] = Limits(max_text_chars=MAX_TEXT, max_parts=QUOTA)
    max_body_bytes: ClassVar[int] = MAX_BODY_BYTES

    out_types: ClassVar[dict[str, tuple[str, ...]]] = _OUT_MIMES
    """What an agent's file may go out as: WeChat message type -> the types it takes."""
    product: ClassVar[str] = "WeChat Official Accounts"
    takes: ClassVar[str] = "pictures (JPEG, PNG, GIF), voice notes (AMR, MP3) and MP4 videos"

    def __init__(self, cfg: WechatAccountSettings, deps: Deps) -> None:
        super().__init__(cfg.account, deps)
        self.cfg = cfg
        self.store = deps.store
        self.crypto = MessageCrypto(cfg.encoding_aes_key, cfg.app_id) if cfg.encoding_aes_key is not None else None
        self.records_name = self.records_of(cfg.account)
        """The name its token, quotas and uploads are kept under in Redis ({wx:NS:<name>})."""
        self.api = WechatApi(self.records_name, cfg.app_id, cfg.app_secret, cfg.api_base, deps.store)
        self.replay = ReplayGuard(
            deps.store.channels, lambda ts, nonce: deps.keys.webhook_nonce(self.channel, self.account, ts, nonce),
            cfg.replay_window_s)

    @classmethod
    def from_settings(cls, settings: Any, deps: Deps) -> WechatAdapter:
        return cls(settings, deps)

    @classmethod
    def records_of(cls, account: str) -> str:
        """An Official Account's records are under its own name."""
        return account

    @classmethod
    def validate(cls, settings: Any) -> list[Problem]:
        problems: list[Problem] = []
        if not _ID.match(settings.account):
            problems.append((("account",), f"account {settings.account!r} must be 1-64 of A-Z a-z 0-9 _ . -"))
        if settings.encoding_aes_key is not None:
            try:
                check_aes_key(settings.encoding_aes_key)
            except ValueError as exc:
                problems.append((("encoding_aes_key",), str(exc)))
        if settings.encryption in ("safe", "compatible") and not settings.encoding_aes_key:
            problems.append((("encryption",), f"encryption: {settings.encryption} needs encoding_aes_key "
                                              "(or encoding_aes_key_env)"))
        if settings.encryption == "plaintext" and settings.encoding_aes_key:
            problems.append((("encryption",), "encryption: plaintext with an encoding_aes_key: say compatible "
                                              "to also take encrypted callbacks, or remove the key"))
        if not 30 <= settings.replay_window_s <= 3600:
            problems.append((("replay_window_s",), "replay_window_s: expected 30 to 3600 seconds"))
        return problems

    @classmethod
    def secrets(cls, settings: Any) -> list[str]:
        return [settings.app_secret, settings.token, settings.encoding_aes_key or ""]

    def routes(self) -> Sequence[web.RouteDef]:
        # A literal path per account: several accounts side by side each get their own handler.
        path = f"/webhooks/{self.channel}/{self.account}"
        return [
            web.get(path, self.handshake),
            web.post(path, self.handle),
        ]

    def console_routes(self) -> Sequence[web.RouteDef]:
        return [web.get(f"/api/v1/{self.channel}/{self.account}/quota/{{openid}}", self.quota)]

    async def start(self) -> None:
        await self.api.start()

    async def close(self) -> None:
        await self.api.close()

    # -- inbound ------------------------------------------------------------------------------
    def _check_signature(self, request: web.Request) -> None:
        """The signature, then its timestamp's age: a captured query is good for minutes only."""
        q = request.query
        if not signature_ok(q.get("signature"), self.cfg.token, q.get("timestamp", ""), q.get("nonce", "")):
            raise AuthError("bad WeChat signature", status=403)
        self.replay.fresh(q.get("timestamp", ""))

    async def handshake(self, request: web.Request) -> web.Response:
        """The URL check WeChat makes when the callback is configured: echo `echostr` back."""
        q = request.query
        echostr = q.get("echostr", "")
        if "msg_signature" in q and self.crypto is not None:  # the enterprise-style encrypted echo
            if not signature_ok(q["msg_signature"], self.cfg.token, q.get("timestamp", ""),
                                q.get("nonce", ""), echostr):
                raise AuthError("bad WeChat msg_signature", status=403)
            self.replay.fresh(q.get("timestamp", ""))
            return web.Response(text=self.crypto.decrypt(echostr))
        self._check_signature(request)
        return web.Response(text=echostr)

    def verify(self, request: web.Request, body: bytes) -> bytes:
        """Size and markup first, then `signature`; in safe mode also `msg_signature`, and the
        payload decrypted."""
        refuse_hostile(body)
        self._check_signature(request)
        return self._plaintext(request, body)

    def parse(self, payload: bytes) -> Sequence[Message]:
        return [self.parse_xml(payload)]

    def encrypted_field(self, body: bytes) -> object:
        """Safe mode's `Encrypt` from the body's envelope."""
        return parse_envelope(body).get("Encrypt")

    async def admit(self, request: web.Request, body: bytes) -> None:
        """Last of the checks, so a refused body leaves nothing behind, not even its nonce."""
        await self.replay.check(request.query.get("timestamp", ""), request.query.get("nonce", ""), body)

    async def ingested(self, messages: Sequence[Message], accepted: Sequence[Accepted]) -> None:
        """A new message (not an unsubscribe) opens the customer's reply window."""
        for msg, acc in zip(messages, accepted, strict=True):
            if not acc.duplicate and str((msg.raw or {}).get("Event", "")).lower() != "unsubscribe":
                await self.open_window(msg.sender_ref)

    def ack(self, request: web.Request, messages: Sequence[Message],
            accepted: Sequence[Accepted]) -> web.StreamResponse:
        return web.Response(text="success")

    def _plaintext(self, request: web.Request, body: bytes) -> bytes:
        if request.query.get("encrypt_type", "raw").lower() != "aes":
            if self.cfg.mode == "safe":
                # `signature` does not cover a plaintext body: taking one would let anyone who
                # saw a signed query write as any customer.
                raise ProtocolError("encryption_required", "this account is in safe mode: only encrypted "
                                    "callbacks (encrypt_type=aes) are taken", 403)
            return body
        if self.crypto is None:
            raise ProtocolError("not_configured", "safe mode needs encoding_aes_key in the config")
        encrypted = self.encrypted_field(body)
        if not isinstance(encrypted, str):
            raise ProtocolError("bad_xml", "safe mode body without <Encrypt>")
        q = request.query
        if not signature_ok(q.get("msg_signature"), self.cfg.token, q.get("timestamp", ""),
                            q.get("nonce", ""), encrypted):
            raise AuthError("bad WeChat msg_signature", status=403)
        plain = self.crypto.decrypt(encrypted).encode()
        refuse_hostile(plain)
        return plain

    def parse_xml(self, xml: bytes) -> Message:
        """WeChat XML to a Message; unknown types are kept as Kind.UNKNOWN with the raw fields."""
        raw = parse_envelope(xml)
        try:
            native = native_message(raw)
        except Exception:  # wechatpy assumes well-formed input and raises whatever it hits
            raise ProtocolError("bad_xml", "not a WeChat message") from None
        return normalise(self.account, native, raw)

    async def profile(self, user: str) -> ChannelProfile | None:
        info = await self.api.user_info(user)
        avatar = str(info.get("headimgurl") or "")
        return ChannelProfile(name=str(info.get("nickname") or "")[:64],
                              avatar=avatar if avatar.startswith("https://") else "",
                              union_id=str(info.get("unionid") or ""))

    async def open_window(self, openid: str) -> None:
        """The customer wrote: a fresh 48-hour window with the full reply quota."""
        await self.store.wechat.open_window(self.records_name, openid, WINDOW_S)

    async def replies_left(self, openid: str) -> int:
        """How many replies the agent may still send this customer; 0 when the window closed."""
        return _left(await self.store.wechat.window(self.records_name, openid))

    async def quota(self, request: web.Request) -> web.Response:
        """GET /api/v1/wechat/{account}/quota/{openid}: what the console shows next to the reply box.
        Only for a customer in a conversation the caller may see; any other openid is 404, which
        says nothing about whether that person wrote lately."""
        openid = request.match_info["openid"]
        if not await console_access(request).user(self.channel, self.account, openid):
            raise ProtocolError("not_found", "no conversation you can see is with this openid", 404)
        window = await self.store.wechat.window(self.records_name, openid)
        return web.json_response({
            "account": self.account, "openid": openid, "quota": QUOTA,
            "quota_left": _left(window),
            "window_ends": window[1] + WINDOW_S if window is not None and window[1] else None,
        })

    # -- media ----------------------------------------------------------------------------------
    async def fetch_media(self, reference: str) -> Fetched:
        """A customer's image, voice note, video or file, by its media id (good for 3 days)."""
        data, name = await self.api.download(reference)
        return Fetched(data, name)

    # -- outbound -----------------------------------------------------------------------------
    async def check_parts(self, reply: Reply, parts: int) -> None:
        """A reply of text and a picture is two messages, each one of the window's replies: with
        fewer left, none of it goes (a closed window is said by the first send)."""
        left = await self.replies_left(reply.chat)
        if 0 < left < parts:
            raise PermanentChannelError(f"this reply takes {parts} messages, but only {left} of WeChat's {QUOTA} "
                                        "replies are left until the customer writes again; send less")

    async def send_part(self, reply: Reply, text: str, index: int) -> None:
        """One message of the reply, taking one reply from the customer's window."""
        await self._spend(reply.chat, self.api.send_text(reply.chat, text))

    def undeliverable_file(self, media: MediaRef) -> str | None:
        msgtype = _OUT_TYPES.get(media.kind.value)
        if msgtype is None or media.mime not in self.out_types.get(msgtype, ()):
            return (f"{self.product} cannot send this file ({media.mime}) to customers; "
                    f"they take {self.takes}")
        return None

    async def send_media(self, reply: Reply, media: MediaRef, index: int) -> None:
        """Upload the file (once per file and account, while WeChat keeps it), then send it as an
        image, voice or video message, taking one reply from the window."""
        refused = self.undeliverable_file(media)
        if refused is not None:
            raise PermanentChannelError(refused)
        msgtype = _OUT_TYPES[media.kind.value]
        wechat_id = await self.uploaded(media, msgtype)
        await self._spend(reply.chat, self.api.send_media(reply.chat, msgtype, wechat_id, media.name or ""))

    async def uploaded(self, media: MediaRef, msgtype: str) -> str:
        """WeChat's media id for a file of ours: uploaded once per file and account, while WeChat
        keeps it (3 days; we forget it sooner)."""
        wechat_id = await self.store.wechat.uploaded(self.records_name, media.id)
        if wechat_id is None:
            data = await self.media_bytes(media)
            wechat_id = await self.api.upload(msgtype, data, media.name or f"{media.id}.{_EXT[media.mime]}",
                                              media.mime)
            await self.store.wechat.remember_upload(self.records_name, media.id, wechat_id, UPLOAD_TTL_S)
        return wechat_id

    async def _spend(self, openid: str, send: Coroutine[Any, Any, None]) -> None:
        """Run one send within the customer's window, taking one reply from it (given back when
        the send fails in a way that did not use it)."""
        left = await self.store.run(QuotaTake(self.records_name, openid, QUOTA))
        if left < 0:
            send.close()  # never awaited: nothing went out
        if left == -1:
            raise PermanentChannelError("the customer's 48-hour reply window has closed; "
                                        "they must write first (quota_left 0)")
        if left == -2:
            raise PermanentChannelError(f"no replies left: WeChat allows {QUOTA} replies in the 48 hours "
                                        "after the customer's last message (quota_left 0)")
        try:
            await send
        except PermanentChannelError as exc:
            if exc.code == WINDOW_CLOSED:
                await self.store.wechat.close_window(self.records_name, openid)
            elif exc.code == UNANSWERED_LIMIT:
                await self.store.wechat.use_up(self.records_name, openid, QUOTA)
            else:
                await self.store.run(QuotaRefund(self.records_name, openid))
            raise
        except Exception:
            await self.store.run(QuotaRefund(self.records_name, openid))
            raise


def _left(window: tuple[int, float] | None) -> int:
    """Replies left in a window (replies used, when it opened); 0 once it has closed."""
    return 0 if window is None else max(0, QUOTA - window[0])
