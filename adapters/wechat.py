"""WeChat Official Account: the callback (plaintext, compatible and safe mode) and replies through
the customer-service API.

Inbound, every callback is checked (size, markup declarations, `signature`, and in safe mode
`msg_signature` and the AES payload) before anything is stored; then it is parsed with wechatpy,
ingested, and answered `success`. Replies go later through `message/custom/send`
(adapters.wechat_api), within the customer's reply quota kept here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from aiohttp import web
from wechatpy import parse_message

from adapters.base import Adapter, Limits, Sink, console_access, read_capped
from adapters.replay import ReplayGuard
from adapters.wechat_api import UNANSWERED_LIMIT, WINDOW_CLOSED, WechatApi
from adapters.wechat_crypto import (
    MAX_BODY_BYTES,
    MessageCrypto,
    parse_envelope,
    refuse_hostile,
    signature_ok,
)
from kefu_common.errors import AuthError, ConfigError, PermanentChannelError, ProtocolError
from router.config.settings import WechatAccountSettings
from router.models import Channel, Kind, Message, Reply, new_id
from router.store import Store
from router.store.calls.channels import QuotaRefund, QuotaTake

QUOTA = 5
"""Replies WeChat lets an account send a customer in the window after the customer wrote."""
WINDOW_S = 48 * 3600
MAX_TEXT = 2000

_KINDS = {"text": Kind.TEXT, "image": Kind.IMAGE, "voice": Kind.VOICE, "video": Kind.VIDEO,
          "shortvideo": Kind.VIDEO, "location": Kind.LOCATION, "link": Kind.LINK}
_EVENTS = {"subscribe", "subscribe_scan", "unsubscribe", "click", "scan"}



class WechatAdapter(Adapter):
    channel: ClassVar[Channel] = Channel.WECHAT
    limits: ClassVar[Limits] = Limits(max_text_chars=MAX_TEXT)

    def __init__(self, cfg: WechatAccountSettings, sink: Sink, store: Store,
                 source: str = "<config>") -> None:
        super().__init__(cfg.account, sink)
        self.cfg = cfg
        self.store = store
        self.records = store.wechat
        self.keys = store.keys
        self.crypto: MessageCrypto | None = None
        if cfg.encoding_aes_key is not None:
            try:
                self.crypto = MessageCrypto(cfg.encoding_aes_key, cfg.app_id)
            except ValueError as exc:
                raise ConfigError(f"channels.wechat account {cfg.account!r}: {exc}", source) from None
        if cfg.mode != "plaintext" and self.crypto is None:
            raise ConfigError(f"channels.wechat account {cfg.account!r}: encryption: {cfg.mode} needs "
                              "encoding_aes_key", source)
        self.api = WechatApi(cfg.account, cfg.app_id, cfg.app_secret, cfg.api_base, store)
        self.replay = ReplayGuard(
            store.client, lambda ts, nonce: store.keys.webhook_nonce(self.channel.value, self.account, ts, nonce),
            cfg.replay_window_s)

    def routes(self) -> Sequence[web.RouteDef]:
        # A literal path per account: several accounts side by side each get their own handler.
        path = f"/webhooks/wechat/{self.account}"
        return [
            web.get(path, self.handshake),
            web.post(path, self.callback),
        ]

    def console_routes(self) -> Sequence[web.RouteDef]:
        return [web.get(f"/api/v1/wechat/{self.account}/quota/{{openid}}", self.quota)]

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

    async def callback(self, request: web.Request) -> web.Response:
        """Verify, decrypt, parse, ingest; `success` only once the message is durable."""
        body = await read_capped(request, MAX_BODY_BYTES)
        refuse_hostile(body)
        self._check_signature(request)
        xml = self._plaintext(request, body)
        msg = self.parse(xml)
        # Last of the checks, so a refused body leaves nothing behind, not even its nonce.
        await self.replay.check(request.query.get("timestamp", ""), request.query.get("nonce", ""), body)
        accepted = await self.sink.ingest(msg)
        if not accepted.duplicate and str((msg.raw or {}).get("Event", "")).lower() != "unsubscribe":
            await self.open_window(msg.sender_ref)
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
        encrypted = parse_envelope(body).get("Encrypt")
        if not isinstance(encrypted, str):
            raise ProtocolError("bad_xml", "safe mode body without <Encrypt>")
        q = request.query
        if not signature_ok(q.get("msg_signature"), self.cfg.token, q.get("timestamp", ""),
                            q.get("nonce", ""), encrypted):
            raise AuthError("bad WeChat msg_signature", status=403)
        plain = self.crypto.decrypt(encrypted).encode()
        refuse_hostile(plain)
        return plain

    def parse(self, xml: bytes) -> Message:
        """WeChat XML to a Message; unknown types are kept as Kind.UNKNOWN with the raw fields."""
        raw = parse_envelope(xml)
        try:
            native = parse_message(xml.decode())
        except Exception:  # wechatpy assumes well-formed input and raises whatever it hits
            raise ProtocolError("bad_xml", "not a WeChat message") from None
        return normalise(self.account, native, raw)

    async def open_window(self, openid: str) -> None:
        """The customer wrote: a fresh 48-hour window with the full reply quota."""
        await self.records.open_window(self.account, openid, WINDOW_S)

    async def replies_left(self, openid: str) -> int:
        """How many replies the agent may still send this customer; 0 when the window closed."""
        window = await self.records.window(self.account, openid)
        return 0 if window is None else max(0, QUOTA - window[0])

    async def quota(self, request: web.Request) -> web.Response:
        """GET /api/v1/wechat/{account}/quota/{openid}: what the console shows next to the reply box.
        Only for a customer in a conversation the caller may see; any other openid is 404, which
        says nothing about whether that person wrote lately."""
        openid = request.match_info["openid"]
        if not await console_access(request).user(self.channel, self.account, openid):
            raise ProtocolError("not_found", "no conversation you can see is with this openid", 404)
        window = await self.records.window(self.account, openid)
        opened = window[1] if window else None
        return web.json_response({
            "account": self.account, "openid": openid, "quota": QUOTA,
            "quota_left": await self.replies_left(openid),
            "window_ends": float(opened) + WINDOW_S if opened else None,
        })

    # -- outbound -----------------------------------------------------------------------------
    async def send(self, reply: Reply) -> None:
        if len(reply.text) > MAX_TEXT:
            raise PermanentChannelError(f"too long for WeChat: {len(reply.text)} characters, at most {MAX_TEXT}")
        left = await self.store.run(QuotaTake(self.account, reply.chat, QUOTA))
        if left == -1:
            raise PermanentChannelError("the customer's 48-hour reply window has closed; "
                                        "they must write first (quota_left 0)")
        if left == -2:
            raise PermanentChannelError(f"no replies left: WeChat allows {QUOTA} replies in the 48 hours "
                                        "after the customer's last message (quota_left 0)")
        try:
            await self.api.send_text(reply.chat, reply.text)
        except PermanentChannelError as exc:
            if exc.code == WINDOW_CLOSED:
                await self.records.close_window(self.account, reply.chat)
            elif exc.code == UNANSWERED_LIMIT:
                await self.records.use_up(self.account, reply.chat, QUOTA)
            else:
                await self.store.run(QuotaRefund(self.account, reply.chat))
            raise
        except Exception:
            await self.store.run(QuotaRefund(self.account, reply.chat))
            raise


def normalise(account: str, native: Any, raw: dict[str, Any]) -> Message:
    """A wechatpy message or event as our Message."""
    sender, created = raw.get("FromUserName"), raw.get("CreateTime")
    if not isinstance(sender, str) or not sender or not isinstance(created, str):
        raise ProtocolError("bad_xml", "a WeChat message needs FromUserName and CreateTime")
    try:
        ts = float(int(created))
    except ValueError:
        raise ProtocolError("bad_xml", "CreateTime is not a number") from None
    mtype = str(raw.get("MsgType", "")).lower()
    msg_id = raw.get("MsgId")
    # Messages are retried with the same MsgId; events have none, and WeChat's own advice is
    # FromUserName + CreateTime.
    native_id = str(msg_id) if mtype != "event" and msg_id else f"{sender}:{created}"
    kind, text, media = Kind.UNKNOWN, f"[{mtype or 'unknown'}]", None
    if mtype == "event":
        event = str(getattr(native, "event", "") or raw.get("Event", "")).lower()
        if event in _EVENTS:
            kind = Kind.EVENT
            key = getattr(native, "scene_id", None) or getattr(native, "key", None)
            text = f"[{event}{': ' + str(key) if key else ''}]"
        else:
            text = f"[event {event}]"
    elif mtype in _KINDS:
        kind = _KINDS[mtype]
        if mtype == "text":
            text = str(native.content or "")
        elif mtype == "location":
            text = f"{native.label or ''} ({native.location_x}, {native.location_y})".strip()
        elif mtype == "link":
            text = f"{native.title or ''}\n{native.url or ''}".strip()
        else:
            media = str(native.media_id or "") or None
            text = str(raw.get("Recognition") or "") if mtype == "voice" else ""
    return Message(id=new_id("m"), channel=Channel.WECHAT, account=account, native_id=native_id,
                   sender_ref=sender, kind=kind, text=text, media=media, ts=ts, raw=raw)
