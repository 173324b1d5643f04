"""The media store: where photos, voice notes, videos and files live, behind one small interface.

Every channel and the web layer use `MediaStore`; a backend fills in four key-value primitives
(`_read`, `_write`, `_delete`, `_list`) and the base class owns the rules, so a directory and an
S3 bucket behave the same:

- **What goes in.** `put` sniffs the type from the bytes, checks the channel's allow-list and the
  kind's size limit, and re-encodes images (EXIF and GPS gone, a thumbnail made); see
  router/media/policy.py. A refusal is a `MediaRefused` (kefu_common/errors.py: 413, 415 or
  422) raised before anything is written.
- **Addressing.** A file's id is `md_` + 32 hex digits of SHA-256 over its owner and the SHA-256
  of the stored bytes: the same bytes put twice for one conversation are one file, and an id
  cannot be guessed from the content alone.
- **Ownership.** Every file has one owner, a conversation id (`MediaRef.conversation`). A web chat
  upload made before the message that carries it is routed is owned by the visitor's chat address
  (`webchat:web:VISITOR`) until the route worker `claim`s it for the conversation.
- **Retention.** `delete_conversation` drops everything a conversation owns; the retention sweep
  calls it when it prunes the conversation from the archive (`retention.archive_days`), so a file
  lives as long as the conversation's history does. `sweep_pending` drops uploads never sent.

Layout, the same for every backend (keys are relative to the store's root or bucket prefix):

    blobs/<id>            the stored bytes
    blobs/<id>.thumb      the thumbnail (images)
    refs/<id>.json        the MediaRef: type, size, owner
    owners/<owner>/<id>   an empty marker: what delete_conversation finds

The ref is written last: a crash half way leaves an unreachable blob, never a ref without bytes.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
import urllib.parse
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import final

import msgspec

from kefu_common.errors import ProtocolError
from router.media.policy import MediaPolicy
from router.models import Kind, MediaRef

ID_RE = re.compile(r"^md_[0-9a-f]{32}$")
"""Any other id is refused before a backend sees it (no path or key can be smuggled in)."""


class MediaNotFound(ProtocolError):
    """No file by this id (or one the caller may not see: the web layer says the same 404)."""

    def __init__(self, media_id: str) -> None:
        super().__init__("not_found", "no such media", 404)
        self.media_id = media_id


_ref_decoder = msgspec.json.Decoder(MediaRef)


def pending_owner(channel: str, account: str, chat: str) -> str:
    """The owner of an upload not yet sent in a message: the customer's chat address."""
    return f"{channel}:{account}:{chat}"


AVATAR_OWNER = "avatar."
"""Owners of customers' pictures: `avatar.CUSTOMER_ID`. No colon, so the pending sweep leaves
them; no conversation, so retention does too (a picture is the customer's, not a chat's)."""


def avatar_owner(customer: str) -> str:
    """The owner of a customer's picture kept from their channel (a Telegram profile photo)."""
    return AVATAR_OWNER + customer


def avatar_customer(owner: str) -> str | None:
    """The customer a picture belongs to, when `owner` is an avatar's; else None."""
    return owner[len(AVATAR_OWNER):] or None if owner.startswith(AVATAR_OWNER) else None


AGENT_AVATAR_OWNER = "agent_avatar."
"""Owners of agents' profile pictures: `agent_avatar.AGENT_ID` (agent ids hold no colon, so the
pending sweep leaves them, and no conversation, so retention does too)."""
SHOP_LOGO_OWNER = "shop.logo"
"""The owner of the welcome card's logo an admin uploaded (router/ops/pictures.py)."""


def agent_avatar_owner(aid: str) -> str:
    """The owner of an agent's profile picture, uploaded in the console."""
    return AGENT_AVATAR_OWNER + aid


def public_picture(owner: str) -> bool:
    """Whether a file is one anybody may read: an agent's picture or the shop's logo. Both are
    shown to every customer of the shop on the chat page, before and without any sign-in, so
    guarding them would guard nothing; their ids still cannot be guessed (see `put`)."""
    return owner.startswith(AGENT_AVATAR_OWNER) or owner == SHOP_LOGO_OWNER


class MediaStore(ABC):
    """Files owned by conversations. Build one with `router.media.build_store(settings, data_dir)`.

    Async and safe to share by every task of a process, and by several processes over one
    directory or bucket (writes are whole-object: a reader sees an old or a new file, never half).
    """

    def __init__(self, policy: MediaPolicy) -> None:
        self.policy = policy

    # -- the interface -------------------------------------------------------------------------

    @final
    async def put(self, data: bytes, *, conversation: str, channel: str, name: str | None = None,
                  duration: float | None = None, original: str | None = None) -> MediaRef:
        """Store `data`, sent in `conversation` over `channel`, and return its ref.

        `name` is the sender's file name (kept for downloads, never trusted for the type);
        `duration` the seconds of a voice note or video when the channel said; `original` the id
        of the file this one was converted from (keep both: put the original first).
        Raises MediaTooLarge (413), MediaTypeRefused (415) or MediaInvalid (422), storing nothing.
        Putting the same bytes for the same conversation again returns the same ref.
        """
        vetted = await asyncio.to_thread(self.policy.vet, data, channel)
        digest = hashlib.sha256(vetted.data).hexdigest()
        media_id = "md_" + hashlib.sha256(f"{conversation}\0{digest}".encode()).hexdigest()[:32]
        existing = await self.ref(media_id)
        if existing is not None:
            return existing
        ref = MediaRef(id=media_id, kind=vetted.kind, mime=vetted.mime, size=len(vetted.data),
                       name=_clean_name(name), width=vetted.width, height=vetted.height, duration=duration,
                       conversation=conversation, channel=channel, thumb=vetted.thumb is not None,
                       original=original, created=time.time())
        await self._write(f"blobs/{media_id}", vetted.data)
        if vetted.thumb is not None:
            await self._write(f"blobs/{media_id}.thumb", vetted.thumb)
        await self._write(_owner_key(conversation, media_id), b"")
        await self._write(f"refs/{media_id}.json", msgspec.json.encode(ref))
        return ref

    async def ref(self, media_id: str) -> MediaRef | None:
        """The ref of a stored file, without its bytes; None for an unknown or malformed id."""
        if not ID_RE.match(media_id):
            return None
        raw = await self._read(f"refs/{media_id}.json")
        return _ref_decoder.decode(raw) if raw is not None else None

    async def get(self, media_id: str, *, thumb: bool = False) -> tuple[MediaRef, bytes]:
        """The ref and the bytes (the thumbnail's, with `thumb`, when there is one); MediaNotFound."""
        ref = await self.ref(media_id)
        if ref is None:
            raise MediaNotFound(media_id)
        data = await self._read(f"blobs/{media_id}.thumb" if thumb and ref.thumb else f"blobs/{media_id}")
        if data is None:
            raise MediaNotFound(media_id)
        return ref, data

    async def claim(self, media_id: str, conversation: str) -> MediaRef:
        """Make `conversation` the owner (a web chat upload, once its message is routed). The id
        stays; claiming again for the same conversation changes nothing."""
        ref = await self.ref(media_id)
        if ref is None:
            raise MediaNotFound(media_id)
        if ref.conversation == conversation:
            return ref
        moved = msgspec.structs.replace(ref, conversation=conversation)
        await self._write(_owner_key(conversation, media_id), b"")
        await self._write(f"refs/{media_id}.json", msgspec.json.encode(moved))
        await self._delete([_owner_key(ref.conversation, media_id)])
        return moved

    async def delete(self, media_id: str) -> bool:
        """Delete one file (a customer's picture replaced by a newer one); False when it was not
        there. Safe to repeat."""
        ref = await self.ref(media_id)
        if ref is None:
            return False
        await self._delete([f"refs/{media_id}.json"])  # first, as in delete_conversation
        await self._delete([f"blobs/{media_id}", f"blobs/{media_id}.thumb", _owner_key(ref.conversation, media_id)])
        return True

    async def delete_conversation(self, conversation: str) -> int:
        """Delete every file `conversation` owns; returns how many. Safe to repeat."""
        prefix = _owner_prefix(conversation)
        ids = [key.rsplit("/", 1)[1] for key in await self._list(prefix)]
        for media_id in ids:
            # The ref first: from then on the file is gone for readers, whatever happens next.
            await self._delete([f"refs/{media_id}.json"])
            await self._delete([f"blobs/{media_id}", f"blobs/{media_id}.thumb", prefix + media_id])
        return len(ids)

    async def delete_conversations(self, conversations: Sequence[str]) -> int:
        """delete_conversation for each (the archive prune's batch); returns how many files went."""
        return sum([await self.delete_conversation(cid) for cid in conversations])

    async def sweep_pending(self, older_than: float) -> int:
        """Delete uploads still owned by a chat address (never sent) and created before `older_than`."""
        gone = 0
        for key in await self._list("owners/"):
            owner_part, media_id = key[len("owners/"):].rsplit("/", 1)
            if ":" not in urllib.parse.unquote(owner_part):
                continue  # a conversation's: retention's business
            ref = await self.ref(media_id)
            if ref is None or ref.created < older_than:
                await self._delete([f"refs/{media_id}.json"])
                await self._delete([f"blobs/{media_id}", f"blobs/{media_id}.thumb", key])
                gone += 1
        return gone

    async def aclose(self) -> None:
        """Release the backend's connections (a directory holds none)."""
        return None

    # -- the backend's part --------------------------------------------------------------------

    @abstractmethod
    async def _read(self, key: str) -> bytes | None:
        """The object's bytes, or None when there is none."""

    @abstractmethod
    async def _write(self, key: str, data: bytes) -> None:
        """Write the whole object at once (readers never see part of it)."""

    @abstractmethod
    async def _delete(self, keys: list[str]) -> None:
        """Delete the objects that exist; missing ones are no error."""

    @abstractmethod
    async def _list(self, prefix: str) -> list[str]:
        """Every key under `prefix` (a folder-like prefix ending in '/')."""


def _owner_prefix(owner: str) -> str:
    return f"owners/{urllib.parse.quote(owner, safe='')}/"


def _owner_key(owner: str, media_id: str) -> str:
    return _owner_prefix(owner) + media_id


def _clean_name(name: str | None) -> str | None:
    """The base name only, printable, at most 120 characters: it ends up in a download header."""
    if not name:
        return None
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    kept = "".join(ch for ch in base if ch.isprintable() and ch not in "\"\r\n")[:120].strip()
    return kept or None


def media_kind(ref: MediaRef | None) -> Kind:
    """The kind of a message that carries `ref` (text when it carries none)."""
    return ref.kind if ref is not None else Kind.TEXT
