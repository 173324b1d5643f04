"""A reply's mini program page card, read from the agent's frame (docs/protocol.md, Page cards)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from kefu_common.errors import ProtocolError
from router.models import PageCard
from router.web import frames

CARD_TITLE_MAX = 64
"""The longest card title taken; WeChat cuts longer ones on the customer's screen."""
CARD_PATH_MAX = 512
_THUMB_PATH = re.compile(r"^/api/v1/media/([A-Za-z0-9_-]{1,64})$")


def page_card(frame: dict[str, Any]) -> PageCard | None:
    """A reply's `card`, checked: a title, a page path, and one thumbnail, either `thumb_url`, a
    file uploaded to this router (never fetched from elsewhere: no request leaves on an agent's
    say-so), or `thumb_media_id`, a media id the mini program already holds."""
    raw = frame.get("card")
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ProtocolError("bad_frame", '"card" must be an object {title, pagepath, thumb_url | thumb_media_id}')
    if frame.get("media_id"):
        raise ProtocolError("bad_frame", 'a reply carries a "card" or a "media_id", not both')
    title = frames.text_field(raw, "title", max_len=CARD_TITLE_MAX)
    pagepath = frames.text_field(raw, "pagepath", max_len=CARD_PATH_MAX)
    thumb_url = frames.text_field(raw, "thumb_url", max_len=512, required=False)
    thumb_media_id = frames.text_field(raw, "thumb_media_id", max_len=128, required=False)
    if bool(thumb_url) == bool(thumb_media_id):
        raise ProtocolError("bad_frame", 'a card needs exactly one of "thumb_url" or "thumb_media_id"')
    thumb_media = ""
    if thumb_url:
        found = _THUMB_PATH.match(urlsplit(thumb_url).path)
        if found is None:
            raise ProtocolError("bad_frame", '"thumb_url" must be a file uploaded to this router '
                                '(the url POST /api/v1/media answers)')
        thumb_media = found.group(1)
    return PageCard(title=title, pagepath=pagepath, thumb_media=thumb_media, thumb_media_id=thumb_media_id)
