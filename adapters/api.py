"""The generic API channel: a shop's own bridge (抖店, 千牛, its app's chat) posts customers'
messages as JSON, and gets agents' replies POSTed to its URL, signed like outbound webhooks.

Inbound, `POST /api/v1/channels/api/{account}/messages` with the account's key
(`Authorization: Bearer KEY` or `X-Kefu-Api-Key: KEY`) and a body
`{customer_ref, text | media: {url, name?, kind?}, native_id, name?}`; `native_id` is the bridge's
own id for the message, so a retried POST is taken once. Anything over `max_body_bytes` is 413 and
over `max_text_chars` 400, each with its reason and nothing stored. A `media.url` is fetched off
the request path (router/pipeline/media_fetch.py) under the same SSRF rule as webhooks.

Outbound, each part of a reply is a POST to `reply_url` of `{id, type: "message.reply", ts,
data}` with `X-Kefu-Signature: sha256=HMAC(reply_secret, body)`; the id is the same on every
retry. A 2xx is taken; 408, 429 and 5xx, timeouts and refused connections are retried by the
outbox; any other answer is a permanent failure the agent sees with its status.
"""

from __future__ import annotations

import hmac
import re
import time
from collections.abc import Sequence
from typing import Any, ClassVar

import aiohttp
import msgspec
from aiohttp import web

from adapters.base import Accepted, Capabilities, Deps, Fetched, Limits, WebhookAdapter
from adapters.registry import Problem, register
from kefu_common import safejson
from kefu_common.errors import AuthError, PermanentChannelError, ProtocolError, RetryableChannelError
from router.hooks.events import DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, body, sign
from router.hooks.ssrf import GuardedResolver, RefusedAddress, check_url
from router.models import Channel, Kind, MediaRef, Message, Reply, new_id

CHANNEL = Channel("api")
_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_REF = re.compile(r"^[^\s\x00-\x1f\x7f]{1,128}$")
MIN_KEY = 16
MAX_MEDIA_BYTES = 25 * 1024 * 1024
_MEDIA_KINDS = {"image": Kind.IMAGE, "voice": Kind.VOICE, "video": Kind.VIDEO, "file": Kind.FILE}
REPLY_TYPE = "message.reply"


class ApiAccountSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """One bridge under `channels.api` (a list)."""

    account: str
    api_key: str
    """What the bridge sends in `Authorization: Bearer ...`; at least 16 characters."""
    reply_url: str | None = None
    """Where agents' replies are POSTed; without one, a reply fails with that reason."""
    reply_secret: str | None = None
    """Signs each reply's body; required with reply_url."""
    max_text_chars: int = 4000
    max_body_bytes: int = 64 * 1024
    allow_private_networks: bool = False
    """Let reply_url and media URLs reach loopback, link-local and private addresses."""
    timeout_s: float = 10.0


@register
class ApiAdapter(WebhookAdapter):
    channel: ClassVar[Channel] = CHANNEL
    settings_type: ClassVar[type[Any]] = ApiAccountSettings
    capabilities: ClassVar[Capabilities] = Capabilities(media=True)
    limits: ClassVar[Limits] = Limits(max_text_chars=4000, max_parts=10)

    def __init__(self, cfg: ApiAccountSettings, deps: Deps) -> None:
        super().__init__(cfg.account, deps)
        self.cfg = cfg
        self.limits = Limits(max_text_chars=cfg.max_text_chars, max_parts=10)  # type: ignore[misc]
        self.max_body_bytes = cfg.max_body_bytes  # type: ignore[misc]
        self.session: aiohttp.ClientSession | None = None

    @classmethod
    def from_settings(cls, settings: Any, deps: Deps) -> ApiAdapter:
        return cls(settings, deps)

    @classmethod
    def validate(cls, settings: Any) -> list[Problem]:
        problems: list[Problem] = []
        if not _ID.match(settings.account):
            problems.append((("account",), f"account {settings.account!r} must be 1-64 of A-Z a-z 0-9 _ . -"))
        if len(settings.api_key) < MIN_KEY:
            problems.append((("api_key",), f"api_key: at least {MIN_KEY} characters"))
        if settings.reply_url is not None:
            problem = check_url(settings.reply_url, settings.allow_private_networks)
            if problem:
                problems.append((("reply_url",), f"reply_url: {problem}"))
            if not settings.reply_secret or len(settings.reply_secret) < MIN_KEY:
                problems.append((("reply_secret",), f"reply_secret: at least {MIN_KEY} characters, to sign "
                                                    "the replies POSTed to reply_url"))
        if not 1 <= settings.max_text_chars <= 100_000:
            problems.append((("max_text_chars",), "max_text_chars: expected 1 to 100000"))
        if not 1024 <= settings.max_body_bytes <= 1024 * 1024:
            problems.append((("max_body_bytes",), "max_body_bytes: expected 1024 to 1048576"))
        return problems

    @classmethod
    def secrets(cls, settings: Any) -> list[str]:
        return [settings.api_key, settings.reply_secret or ""]

    def routes(self) -> Sequence[web.RouteDef]:
        return [web.post(f"/api/v1/channels/api/{self.account}/messages", self.handle)]

    async def start(self) -> None:
        if self.session is None:
            self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(
                resolver=GuardedResolver(self.cfg.allow_private_networks)))

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None

    # -- inbound ------------------------------------------------------------------------------
    def precheck(self, request: web.Request) -> None:
        """The key, then the content type, before the body is read."""
        given = request.headers.get("X-Kefu-Api-Key", "")
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            given = auth[7:]
        if not given or not hmac.compare_digest(given.encode(), self.cfg.api_key.encode()):
            raise AuthError("a valid API key for this account is required (Authorization: Bearer KEY)")
        if request.content_type != "application/json":
            raise ProtocolError("bad_request", "Content-Type must be application/json", 415)

    def verify(self, request: web.Request, body: bytes) -> bytes:
        return body

    def parse(self, payload: bytes) -> Sequence[Message]:
        try:
            doc = safejson.loads(payload)
        except ProtocolError as exc:
            if exc.code == "too_deep":
                raise
            raise ProtocolError("bad_json", "the body is not valid JSON") from None
        if not isinstance(doc, dict):
            raise ProtocolError("bad_request", "the body must be a JSON object")
        unknown = sorted(set(doc) - {"customer_ref", "text", "media", "native_id", "name"})
        if unknown:
            raise ProtocolError("bad_request", f"unknown field(s) {', '.join(unknown)}; a message has customer_ref, "
                                               "native_id, text and/or media, and name")
        ref, native_id = doc.get("customer_ref"), doc.get("native_id")
        if not isinstance(ref, str) or not _REF.match(ref):
            raise ProtocolError("bad_request", '"customer_ref" is required: the bridge\'s id for the customer, '
                                               "1-128 characters without spaces")
        if not isinstance(native_id, str) or not _REF.match(native_id):
            raise ProtocolError("bad_request", '"native_id" is required: the bridge\'s id for this message, '
                                               "1-128 characters without spaces; a retry sends the same")
        text = doc.get("text", "")
        if not isinstance(text, str):
            raise ProtocolError("bad_request", '"text" must be a string')
        if len(text) > self.cfg.max_text_chars:
            raise ProtocolError("too_long", f"text is {len(text)} characters, at most {self.cfg.max_text_chars}")
        name = doc.get("name", "")
        if not isinstance(name, str) or len(name) > 64:
            raise ProtocolError("bad_request", '"name" must be a string of at most 64 characters')
        kind, media_url, media_name = Kind.TEXT, None, None
        media = doc.get("media")
        if media is not None:
            kind, media_url, media_name = self._media(media)
        elif not text.strip():
            raise ProtocolError("bad_request", 'a message needs "text" or "media"')
        return [Message(id=new_id("m"), channel=CHANNEL, account=self.account, native_id=native_id, sender_ref=ref,
                        kind=kind, text=text, native_media=media_url, native_name=media_name,
                        customer_name=name or None, ts=time.time(), raw=doc)]

    def _media(self, media: Any) -> tuple[Kind, str, str | None]:
        if not isinstance(media, dict) or not isinstance(media.get("url"), str):
            raise ProtocolError("bad_request", '"media" must be {"url": ..., "name"?: ..., "kind"?: image|voice|'
                                               "video|file}")
        url = media["url"]
        problem = check_url(url, self.cfg.allow_private_networks)
        if problem:
            raise ProtocolError("url_refused", f"media.url: {problem}")
        kind = _MEDIA_KINDS.get(str(media.get("kind", "file")))
        if kind is None:
            raise ProtocolError("bad_request", "media.kind must be image, voice, video or file")
        name = media.get("name")
        if name is not None and (not isinstance(name, str) or len(name) > 200):
            raise ProtocolError("bad_request", "media.name must be a string of at most 200 characters")
        return kind, url, name

    def ack(self, request: web.Request, messages: Sequence[Message],
            accepted: Sequence[Accepted]) -> web.StreamResponse:
        a = accepted[0]
        return web.json_response({"message_id": a.message_id, "duplicate": a.duplicate},
                                 status=200 if a.duplicate else 202)

    async def fetch_media(self, reference: str) -> Fetched:
        """The file at the URL the bridge gave, under the SSRF rule, no redirects, size capped."""
        refused = check_url(reference, self.cfg.allow_private_networks)
        if refused:
            raise PermanentChannelError(refused)
        await self.start()
        assert self.session is not None
        try:
            async with self.session.get(reference, allow_redirects=False,
                                        timeout=aiohttp.ClientTimeout(total=120)) as r:
                if r.status >= 500 or r.status in (408, 429):
                    raise RetryableChannelError(f"the bridge's file answered HTTP {r.status}")
                if r.status != 200:
                    raise PermanentChannelError(f"the bridge's file could not be fetched (HTTP {r.status})")
                data = bytearray()
                async for chunk in r.content.iter_chunked(64 * 1024):
                    data += chunk
                    if len(data) > MAX_MEDIA_BYTES:
                        raise PermanentChannelError(f"the file is over {MAX_MEDIA_BYTES // (1024 * 1024)} MB")
                return Fetched(bytes(data), r.content_disposition.filename if r.content_disposition else None)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise RetryableChannelError(f"the bridge's file could not be fetched: {exc}") from None

    # -- outbound -----------------------------------------------------------------------------
    def undeliverable_file(self, media: MediaRef) -> str | None:
        return "the API channel carries text replies only; write the answer instead"

    async def send_part(self, reply: Reply, text: str, index: int) -> None:
        """POST one part of the reply to the bridge, signed; the same id on every retry."""
        if not self.cfg.reply_url or not self.cfg.reply_secret:
            raise PermanentChannelError(f"API account {self.account!r} has no reply_url: replies cannot be delivered")
        refused = check_url(self.cfg.reply_url, self.cfg.allow_private_networks)
        if refused:
            raise PermanentChannelError(refused)
        rid = f"rpl_{reply.id}_{index}"
        payload = body(rid, REPLY_TYPE, reply.ts, {
            "account": self.account, "customer_ref": reply.chat, "conversation_id": reply.conversation_id,
            "message_id": reply.id, "part": index, "text": text, "sender": reply.sender.value,
            "author": reply.author}).encode()
        headers = {"Content-Type": "application/json; charset=utf-8", SIGNATURE_HEADER: sign(self.cfg.reply_secret,
                                                                                              payload),
                   EVENT_HEADER: REPLY_TYPE, DELIVERY_HEADER: rid}
        await self.start()
        assert self.session is not None
        try:
            async with self.session.post(self.cfg.reply_url, data=payload, headers=headers, allow_redirects=False,
                                         timeout=aiohttp.ClientTimeout(total=self.cfg.timeout_s)) as r:
                await r.read()
                status = r.status
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, RefusedAddress):
                raise PermanentChannelError(str(exc.os_error)) from None
            raise RetryableChannelError(f"the bridge did not take the reply: {exc}") from None
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise RetryableChannelError(f"the bridge did not take the reply: {exc or type(exc).__name__}") from None
        if 200 <= status < 300:
            return
        if status >= 500 or status in (408, 429):
            raise RetryableChannelError(f"the bridge answered HTTP {status}", code=status)
        raise PermanentChannelError(f"the bridge refused the reply (HTTP {status})", code=status)
