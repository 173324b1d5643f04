"""Settings of the media store (router/media): where files go, what each channel may carry and how
big each kind may be. settings.py embeds the struct and calls the check.

```yaml
media:
  store: dir                 # dir (under the data dir) | s3
  path: media                # dir: relative to the data dir
  s3: {bucket: kefu-media, endpoint_url: https://s3.example.com, region: us-east-1,
       access_key_id: ..., secret_access_key_env: KEFU_S3_SECRET, prefix: shop1/}
  limits: {image: 10485760, voice: 5242880, video: 20971520, file: 20971520}
  allow: {webchat: [image/jpeg, image/png]}   # per channel, replaces that channel's default
```
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import msgspec

from kefu_common.errors import ConfigError

if TYPE_CHECKING:
    from kefu_common.yamlpos import YamlDoc

MB = 1024 * 1024


class MediaLimits(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """The largest file of each kind, in bytes: over it is 413. Defaults sit under what the
    channels themselves take (WeChat: 10 MB images, 2 MB voice, 10 MB video; Telegram bots send
    up to 50 MB), so what a customer sent can be sent on."""

    image: int = 10 * MB
    voice: int = 5 * MB
    video: int = 20 * MB
    file: int = 20 * MB

    def largest(self) -> int:
        return max(self.image, self.voice, self.video, self.file)


class S3Settings(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    bucket: str
    endpoint_url: str | None = None
    """Any S3-compatible service; unset is AWS itself."""
    region: str = "us-east-1"
    access_key_id: str | None = None
    secret_access_key: str | None = None
    """Or secret_access_key_env: NAME. Both unset: the usual AWS environment and profile."""
    prefix: str = ""
    """Put before every key, so several shops can share a bucket."""


class MediaSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    store: str = "dir"
    path: str = "media"
    """The directory store's folder, relative to the data dir unless absolute."""
    s3: S3Settings | None = None
    limits: MediaLimits = MediaLimits()
    allow: dict[str, tuple[str, ...]] = msgspec.field(default_factory=dict)
    """Per channel, the MIME types (as sniffed from the bytes) it may carry; a channel not named
    keeps its default (router/media/policy.py)."""
    max_pixels: int = 40_000_000
    """An image with more pixels is refused before it is decoded (a decompression bomb)."""
    thumb_px: int = 320
    """The thumbnail's longer side."""
    signed_url_s: int = 300
    """How long a signed media URL (for an <img> tag) stays good."""
    pending_s: float = 86400.0
    """A web chat upload never sent in a message is deleted this long after it came."""


_MIME = re.compile(r"^[a-z]+/[a-z0-9.+-]+$")


def check_media(doc: YamlDoc, m: MediaSettings) -> list[ConfigError]:
    errors: list[ConfigError] = []
    if m.store not in ("dir", "s3"):
        errors.append(doc.error(("media", "store"), f"media.store: expected dir or s3, not {m.store!r}"))
    if m.store == "s3" and m.s3 is None:
        errors.append(doc.error(("media", "store"), "media.store is s3 but there is no media.s3 section "
                                                    "(bucket, endpoint_url, ...)"))
    if m.s3 is not None and not re.match(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", m.s3.bucket):
        errors.append(doc.error(("media", "s3", "bucket"), f"media.s3.bucket: {m.s3.bucket!r} is not a bucket name"))
    if m.s3 is not None and m.s3.endpoint_url is not None and not re.match(r"^https?://", m.s3.endpoint_url):
        errors.append(doc.error(("media", "s3", "endpoint_url"), "media.s3.endpoint_url: expected http(s)://HOST"))
    for kind in ("image", "voice", "video", "file"):
        if not 1 <= getattr(m.limits, kind) <= 2048 * MB:
            errors.append(doc.error(("media", "limits", kind), f"media.limits.{kind}: expected 1 byte to 2 GB"))
    for channel, types in m.allow.items():
        for i, mime in enumerate(types):
            if not _MIME.match(mime):
                errors.append(doc.error(("media", "allow", channel, i),
                                        f"media.allow.{channel}: {mime!r} is not a MIME type like image/jpeg"))
    if m.max_pixels < 1 or not 16 <= m.thumb_px <= 2048 or m.signed_url_s < 1 or m.pending_s <= 0:
        errors.append(doc.error(("media",), "media: max_pixels and signed_url_s must be at least 1, thumb_px "
                                            "16 to 2048, pending_s more than 0"))
    return errors
