"""Pictures a person uploads in the console: an agent's profile picture and the welcome card's
logo. Both live in the media store under an owner of their own (router/media/base.py) and are
named by a URL in Redis: the agent's hash (`avatar`) and `keys.webchat_logo`.

A picture is checked before anything changes: the size first (no decoding of 20 MB to refuse
it), then the type from its bytes (PNG, JPEG or WebP; a name or Content-Type is not believed),
then the media store decodes and re-encodes it (a broken or lying image is a 422, and EXIF is
gone). Only then is the new URL written, and the picture it replaced deleted, so a refusal
leaves the old picture in place and a replaced one leaves no orphan behind.
"""

from __future__ import annotations

from kefu_common.errors import MediaTooLarge, MediaTypeRefused, ProtocolError
from router.media import MediaStore, agent_avatar_owner
from router.media.base import SHOP_LOGO_OWNER
from router.media.sniff import sniff
from router.store import Store

AVATAR_MAX_BYTES = 2 * 1024 * 1024
"""A profile picture is drawn at 24-40 CSS px; 2 MB is any phone photo, and no more."""
LOGO_MAX_BYTES = 512 * 1024
"""The same as a logo file next to the config (router/config/widget.py)."""
PICTURE_TYPES = ("image/png", "image/jpeg", "image/webp")
"""GIF is left out (an avatar that moves distracts in a list); SVG can carry script."""
MEDIA_PATH = "/api/v1/media/"
CHANNEL = "console"
"""The media store's channel for these files: not a chat channel, so the fallback allow-list
(images) applies, and PICTURE_TYPES narrows it."""


def check_picture(data: bytes, cap: int) -> None:
    """Refuse before the media store is asked: too big (413) or not a picture type (415)."""
    if len(data) > cap:
        raise MediaTooLarge(f"the picture is {len(data)} bytes; at most {cap} are taken", cap)
    if not data:
        raise ProtocolError("bad_request", "the picture is empty (zero bytes)")
    mime = sniff(data)
    if mime not in PICTURE_TYPES:
        raise MediaTypeRefused(f"{mime} is not a PNG, JPEG or WebP picture; the name and header do not count", mime)


class Pictures:
    """Set and remove agents' pictures and the shop's uploaded logo."""

    def __init__(self, store: Store, media: MediaStore) -> None:
        self.store = store
        self.media = media

    async def set_avatar(self, aid: str, data: bytes) -> str:
        """Store `data` as the agent's picture; returns its URL. The previous one is deleted."""
        check_picture(data, AVATAR_MAX_BYTES)
        owner = agent_avatar_owner(aid)
        ref = await self.media.put(data, conversation=owner, channel=CHANNEL, name="avatar")
        url = MEDIA_PATH + ref.id
        await self._drop(await self.store.agents.set_avatar(aid, url), url, owner)
        return url

    async def remove_avatar(self, aid: str) -> bool:
        """Remove the agent's picture (initials again); False when there was none."""
        before = await self.store.agents.set_avatar(aid, "")
        await self._drop(before, "", agent_avatar_owner(aid))
        return bool(before)

    async def logo(self) -> str:
        """The uploaded logo's URL; '' when none (the config's logo, if any, is shown)."""
        return await self.store.live.logo()

    async def set_logo(self, data: bytes) -> str:
        check_picture(data, LOGO_MAX_BYTES)
        ref = await self.media.put(data, conversation=SHOP_LOGO_OWNER, channel=CHANNEL, name="logo")
        url = MEDIA_PATH + ref.id
        await self._drop(await self.store.live.set_logo(url), url, SHOP_LOGO_OWNER)
        return url

    async def remove_logo(self) -> bool:
        before = await self.store.live.set_logo("")
        await self._drop(before, "", SHOP_LOGO_OWNER)
        return bool(before)

    async def _drop(self, before: str, now: str, owner: str) -> None:
        """Delete the replaced picture, unless it is the same file (the same bytes uploaded
        again keep their id) or not one of this owner's (never another's file by a stale URL)."""
        if not before.startswith(MEDIA_PATH) or before == now:
            return
        old = await self.media.ref(before[len(MEDIA_PATH):])
        if old is not None and old.conversation == owner:
            await self.media.delete(old.id)
