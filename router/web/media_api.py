"""Files over HTTP: customers' and agents' uploads, and the one door files are read through.

- `POST /api/v1/webchat/uploads` (multipart `file`, `Authorization: Bearer SESSION`): a web chat
  customer's upload, owned by their chat address until the message that carries it is routed.
- `POST /api/v1/media` (multipart `file` and `conversation_id`, staff): an agent's attachment.
- `GET /api/v1/media/{id}[?thumb=1][&download=1]`: the bytes, to the conversation's customer
  (their session) and to staff who may see the conversation; 401 without a credential, 404 to
  anyone else (a file someone may not see and one that does not exist look the same).
- `GET /api/v1/media/{id}/link`: a URL signed for `media.signed_url_s`, for an `<img>` tag, which
  cannot send a bearer token. The signature names the file and the variant (thumbnail or not).

An upload is read as a stream and refused (413) as soon as it passes the largest limit, before
the media store sees it; every other refusal is the store's (router/media/policy.py).
"""

from __future__ import annotations

import hashlib
import hmac
import time
import urllib.parse
from dataclasses import dataclass

from aiohttp import BodyPartReader, MultipartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from kefu_common.errors import AuthError, MediaTooLarge, ProtocolError
from router.archive.db import DB_ERRORS
from router.auth import Principal
from router.media import MediaNotFound, MediaStore, avatar_customer, pending_owner, public_picture
from router.models import WEBCHAT, MediaRef, Role
from router.runtime import RUNTIME, Runtime
from router.web import access
from router.web.api import caller as api_caller
from router.web.api import principal

routes = web.RouteTableDef()

FIELD_BYTES = 256
"""The most a multipart text field (conversation_id) may hold."""


@dataclass(frozen=True, slots=True)
class Upload:
    data: bytes
    name: str | None
    fields: dict[str, str]


async def read_upload(request: web.Request, largest: int) -> Upload:
    """The multipart body's `file` (at most `largest` bytes) and its small text fields."""
    if request.content_length is not None and request.content_length > largest + 64 * 1024:
        raise MediaTooLarge(f"the upload is {request.content_length} bytes; files may be {largest} at most", largest)
    if not request.content_type.startswith("multipart/"):
        raise ProtocolError("bad_request", "send the file as multipart/form-data in a field named 'file'")
    try:
        data, name, fields = await _parts(await request.multipart(), largest)
    except ProtocolError:
        raise
    except (HttpProcessingError, ValueError, LookupError, AssertionError) as exc:
        # A broken boundary or part header: the client's body, not our fault (never a 500).
        raise ProtocolError("bad_multipart", f"the multipart body cannot be read ({type(exc).__name__})") from None
    if data is None:
        raise ProtocolError("bad_request", "no multipart field named 'file'")
    return Upload(data=data, name=name, fields=fields)


async def _parts(reader: MultipartReader, largest: int) -> tuple[bytes | None, str | None, dict[str, str]]:
    data: bytes | None = None
    name: str | None = None
    fields: dict[str, str] = {}
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            raise ProtocolError("bad_request", "nested multipart bodies are not accepted")
        if part.name == "file" and data is None:
            name = part.filename
            data = await _read_capped(part, largest)
        elif part.name and part.name != "file":
            raw = await _read_capped(part, FIELD_BYTES, field=True)
            fields[part.name] = raw.decode("utf-8", "replace")
        else:
            raise ProtocolError("bad_request", "one file per upload")
    return data, name, fields


async def _read_capped(part: BodyPartReader, cap: int, field: bool = False) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while chunk := await part.read_chunk(64 * 1024):
        size += len(chunk)
        if size > cap:
            if field:
                raise ProtocolError("bad_request", f"the field {part.name!r} is too long")
            raise MediaTooLarge(f"the file is over {cap} bytes, the most any upload may be", cap)
        chunks.append(chunk)
    return b"".join(chunks)


def _answer(ref: MediaRef, rt: Runtime) -> web.Response:
    return web.json_response({"media_id": ref.id, "kind": ref.kind.value, "mime": ref.mime, "size": ref.size,
                              "name": ref.name or "", "width": ref.width, "height": ref.height,
                              "url": signed_url(rt, ref.id), "thumb_url": signed_url(rt, ref.id, thumb=True)
                              if ref.thumb else None, "media": ref.public()}, status=201)


def customer_visitor(request: web.Request) -> str:
    """The web chat visitor whose session is the bearer token; 401 otherwise."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        raise AuthError("send the chat session as Authorization: Bearer SESSION")
    return request.app[RUNTIME].signer.verify(header[7:])


async def webchat_upload(request: web.Request, channel: str, wait: float) -> web.Response:
    """A web chat customer's upload (mounted by router/web/chat_socket.py beside its sessions)."""
    rt = request.app[RUNTIME]
    visitor = customer_visitor(request)
    if wait:
        raise ProtocolError("rate_limited", f"too many messages; try again in {wait:.1f} s", 429)
    upload = await read_upload(request, rt.media.policy.largest)
    ref = await rt.media.put(upload.data, conversation=pending_owner(channel, "web", visitor), channel=channel,
                             name=upload.name)
    return _answer(ref, rt)


@routes.post("/api/v1/media")
async def agent_upload(request: web.Request) -> web.Response:
    """An agent's attachment for a conversation they may see (the reply frame then names it)."""
    rt = request.app[RUNTIME]
    who = principal(request)
    upload = await read_upload(request, rt.media.policy.largest)
    cid = upload.fields.get("conversation_id", "")
    conv = await rt.store.conversation(cid) if cid else None
    if conv is None or not await access.may_see_conversation(rt, who, cid):
        raise ProtocolError("not_found", "no open conversation you can see by that conversation_id", 404)
    ref = await rt.media.put(upload.data, conversation=cid, channel=str(conv.get("channel") or WEBCHAT),
                             name=upload.name)
    return _answer(ref, rt)


def _key(rt: Runtime) -> bytes:
    return hmac.new(rt.signer.secret, b"kefu media url", hashlib.sha256).digest()


def _signature(rt: Runtime, media_id: str, exp: int, thumb: bool) -> str:
    body = f"{media_id}:{exp}:{'thumb' if thumb else 'file'}".encode()
    return hmac.new(_key(rt), body, hashlib.sha256).hexdigest()[:32]


def signed_url(rt: Runtime, media_id: str, thumb: bool = False, now: float | None = None) -> str:
    exp = int((now or time.time()) + rt.settings.media.signed_url_s)
    query = {"exp": str(exp), "sig": _signature(rt, media_id, exp, thumb)}
    if thumb:
        query["thumb"] = "1"
    return f"/api/v1/media/{media_id}?{urllib.parse.urlencode(query)}"


def _signed_ok(request: web.Request, media_id: str, thumb: bool) -> bool:
    rt = request.app[RUNTIME]
    sig, exp = request.query.get("sig", ""), request.query.get("exp", "")
    if not exp.isdigit():
        raise AuthError("a signed media link needs exp and sig")
    if int(exp) < time.time():
        raise AuthError("this media link has expired; ask for a new one")
    if not hmac.compare_digest(sig, _signature(rt, media_id, int(exp), thumb)):
        raise AuthError("bad media link signature")
    return True


def caller(request: web.Request) -> Principal | str:
    """Who asks: staff (agent token or the console's cookie) or a web chat visitor (their
    session as the bearer token). AuthError (401) when there is no good credential."""
    rt = request.app[RUNTIME]
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer ") and isinstance(api_caller(request), AuthError):
        return rt.signer.verify(header[7:])  # a customer's session, else 401
    return principal(request)


async def may_read(rt: Runtime, who: Principal | str, ref: MediaRef) -> bool:
    """Whether staff who may see its conversation, or the customer whose chat it belongs to."""
    if isinstance(who, str):
        return await _customer_may_read(rt, who, ref)
    return await _staff_may_read(rt, who, ref)


async def _staff_may_read(rt: Runtime, who: Principal, ref: MediaRef) -> bool:
    cust = avatar_customer(ref.conversation)
    if cust is not None:  # a customer's picture: whoever may see the customer
        return await access.may_see_customer(rt, who, cust)
    if ":" in ref.conversation:
        return False  # an upload its customer has not sent: theirs alone
    if who.can(Role.SUPERVISOR):
        return True
    if await rt.store.conversations.get(ref.conversation) is not None:
        return await access.may_see_conversation(rt, who, ref.conversation)
    # Retention dropped it from Redis: the history panel still shows it to the agent serving its
    # customer now, so its photos follow the same rule, the customer read from the archive.
    try:
        archived = await rt.archive.conversation(ref.conversation) if rt.archive.ready.is_set() else None
    except DB_ERRORS:
        return False
    if archived is not None and who.agent_id in archived["readers"]:
        return True  # its photos go with the conversation to whoever may read it (api.py)
    cust = (archived or {}).get("customer_id")
    return bool(cust) and await access.may_see_customer(rt, who, str(cust))


async def _customer_may_read(rt: Runtime, visitor: str, ref: MediaRef) -> bool:
    if ref.conversation == pending_owner(WEBCHAT, "web", visitor):
        return True
    conv = await rt.store.conversations.get(ref.conversation)
    return conv is not None and conv.channel == WEBCHAT and conv.chat == visitor


async def customer_owns(media: MediaStore, rt: Runtime, visitor: str, media_id: str) -> MediaRef:
    """The ref a customer's message frame names, if it is theirs to send; MediaNotFound otherwise
    (another customer's file and a forged id look the same)."""
    ref = await media.ref(media_id)
    if ref is None or not await _customer_may_read(rt, visitor, ref):
        raise MediaNotFound(media_id)
    return ref


@routes.get("/api/v1/media/{id}")
async def get_media(request: web.Request) -> web.StreamResponse:
    rt = request.app[RUNTIME]
    media_id = request.match_info["id"]
    thumb = request.query.get("thumb") == "1"
    public = False
    if "sig" in request.query:
        _signed_ok(request, media_id, thumb)
        ref, data = await rt.media.get(media_id, thumb=thumb)
    elif (found := await rt.media.ref(media_id)) is not None and public_picture(found.conversation):
        # An agent's picture or the shop's logo: every customer's chat page shows it, with no
        # credential an <img> could send (router/media/base.py, public_picture).
        ref, data = await rt.media.get(media_id, thumb=thumb)
        public = True
    else:
        who = caller(request)  # 401 first: a forged id tells a stranger nothing either way
        found = await rt.media.ref(media_id)
        if found is None or not await may_read(rt, who, found):
            raise MediaNotFound(media_id)
        ref, data = await rt.media.get(media_id, thumb=thumb)
    mime = ref.mime
    if thumb and ref.thumb:
        mime = "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"
    inline = ref.mime.split("/")[0] in ("image", "audio", "video") and request.query.get("download") != "1"
    filename = urllib.parse.quote(ref.name or ref.id)
    headers = {
        # A public picture's id changes with its bytes (a new upload is a new URL), so a day is safe.
        "Cache-Control": "public, max-age=86400" if public else "private, max-age=300",
        # Served bytes never run as a page of ours, whatever a PDF or an SVG-like file may hold.
        "Content-Security-Policy": "default-src 'none'; img-src 'self'; media-src 'self'; sandbox",
        "Content-Disposition": f"{'inline' if inline else 'attachment'}; filename*=UTF-8''{filename}",
    }
    return web.Response(body=data, content_type=mime, headers=headers)


@routes.get("/api/v1/media/{id}/link")
async def media_link(request: web.Request) -> web.Response:
    rt = request.app[RUNTIME]
    media_id = request.match_info["id"]
    who = caller(request)
    ref = await rt.media.ref(media_id)
    if ref is None or not await may_read(rt, who, ref):
        raise MediaNotFound(media_id)
    return web.json_response({"url": signed_url(rt, ref.id),
                              "thumb_url": signed_url(rt, ref.id, thumb=True) if ref.thumb else None,
                              "expires_in": rt.settings.media.signed_url_s, "media": ref.public()})
