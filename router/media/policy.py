"""What the media store takes, and what it makes of it: the type sniffed from the bytes against
the channel's allow-list, the size limit of the kind, and images re-encoded by Pillow.

Re-encoding is the point, not a side effect: a decoded and re-encoded image keeps its pixels and
loses everything else a camera or an attacker put in the file (EXIF with the GPS position of a
customer's home, comments, trailing bytes, a polyglot's second payload). A file that will not
decode, or whose header claims more pixels than `max_pixels`, is refused before any pixel is
decoded, so a 50,000 x 50,000 PNG costs a header read.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps

from kefu_common.errors import MediaInvalid, MediaTooLarge, MediaTypeRefused
from router.config.media import MediaSettings
from router.media.sniff import kind_of, sniff
from router.models import Kind

IMAGES = ("image/jpeg", "image/png", "image/gif", "image/webp")
DOCUMENTS = ("application/pdf",)

DEFAULT_ALLOW: dict[str, tuple[str, ...]] = {
    # The page's own upload: photos and screenshots, a PDF invoice, a short phone video.
    "webchat": (*IMAGES, *DOCUMENTS, "video/mp4", "video/quicktime"),
    # What WeChat delivers (voice as AMR) and the browser-playable copy made of it.
    "wechat": (*IMAGES, *DOCUMENTS, "audio/amr", "audio/mpeg", "audio/ogg", "audio/wav", "video/mp4"),
    "wecom": (*IMAGES, *DOCUMENTS, "audio/amr", "audio/mpeg", "audio/ogg", "audio/wav", "video/mp4"),
    # Telegram: photos, stickers (WebP), Opus voice notes, videos and documents.
    "telegram": (*IMAGES, *DOCUMENTS, "audio/ogg", "audio/mpeg", "audio/mp4", "video/mp4", "video/webm",
                 "video/quicktime", "application/zip"),
}
"""Per channel, the sniffed types it may carry; `media.allow` replaces a channel's entry."""
FALLBACK_ALLOW = (*IMAGES, *DOCUMENTS)
"""A channel with no entry of its own (a new adapter) carries images and PDFs."""

IMAGE_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/gif": "GIF", "image/webp": "WEBP"}


@dataclass(frozen=True, slots=True)
class Vetted:
    """A file the policy took: the bytes to store (re-encoded for images) and what is known."""

    data: bytes
    mime: str
    kind: Kind
    width: int | None = None
    height: int | None = None
    thumb: bytes | None = None


class MediaPolicy:
    """The rules of admission, built once from `media:` settings."""

    def __init__(self, settings: MediaSettings) -> None:
        self.settings = settings
        self.allow = {**DEFAULT_ALLOW, **settings.allow}

    def allowed(self, channel: str) -> tuple[str, ...]:
        return self.allow.get(channel, FALLBACK_ALLOW)

    def limit(self, kind: Kind) -> int:
        limits = self.settings.limits
        return {Kind.IMAGE: limits.image, Kind.VOICE: limits.voice, Kind.VIDEO: limits.video}.get(kind, limits.file)

    @property
    def largest(self) -> int:
        """The most bytes any upload may be: a reader stops (413) past this before sniffing."""
        return self.settings.limits.largest()

    def vet(self, data: bytes, channel: str) -> Vetted:
        """Admit `data` for `channel`, or raise a MediaRefused saying why. CPU-bound for images:
        callers off the event loop (MediaStore.put runs it in a thread)."""
        if not data:
            raise MediaInvalid("the file is empty (zero bytes)")
        mime = sniff(data)
        if mime not in self.allowed(channel):
            raise MediaTypeRefused(f"{mime} is not a type {channel} takes; the name and header do not count", mime)
        kind = kind_of(mime)
        limit = self.limit(kind)
        if len(data) > limit:
            raise MediaTooLarge(f"{kind.value} files may be {limit} bytes at most; this one is {len(data)}", limit)
        if kind is Kind.IMAGE:
            return self._image(data, mime)
        return Vetted(data=data, mime=mime, kind=kind)

    def _image(self, data: bytes, mime: str) -> Vetted:
        max_pixels = self.settings.max_pixels
        try:
            with warnings.catch_warnings():
                # Pillow's own bomb guard warns (an error under -W error) before ours would speak.
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                with Image.open(io.BytesIO(data)) as img:
                    width, height = img.size
                    if width * height > max_pixels:
                        raise MediaInvalid(f"the image is {width} x {height} pixels; at most {max_pixels} "
                                           "pixels are taken (a decompression bomb is refused unread)")
                    animated = getattr(img, "n_frames", 1) > 1
                    img.load()
                    stored = self._reencode(img, mime, animated)
                    thumb = _thumbnail(img, self.settings.thumb_px)
        except Image.DecompressionBombError:
            raise MediaInvalid(f"the image has more than {max_pixels} pixels (a decompression bomb)") from None
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            # Truncated data, a broken chunk, a lying header: Pillow says which in words.
            if isinstance(exc, MediaInvalid):
                raise
            raise MediaInvalid(f"the image cannot be decoded ({exc})") from None
        return Vetted(data=stored, mime=mime, kind=Kind.IMAGE, width=width, height=height, thumb=thumb)

    @staticmethod
    def _reencode(img: Image.Image, mime: str, animated: bool) -> bytes:
        out = io.BytesIO()
        fmt = IMAGE_FORMATS[mime]
        if animated:
            # GIF and WebP stickers move; every frame is re-encoded, and nothing else is kept.
            img.save(out, format=fmt, save_all=True)
            return out.getvalue()
        upright = ImageOps.exif_transpose(img)  # the camera's rotation, applied before EXIF goes
        if fmt == "JPEG":
            upright = upright.convert("RGB") if upright.mode not in ("RGB", "L") else upright
            upright.save(out, format="JPEG", quality=90, optimize=True)
        else:
            upright.save(out, format=fmt)
        return out.getvalue()


def _thumbnail(img: Image.Image, px: int) -> bytes:
    """A JPEG of at most px x px for the console's thread (PNG when the image has transparency)."""
    small = ImageOps.exif_transpose(img.copy())
    small.thumbnail((px, px))
    out = io.BytesIO()
    if small.mode in ("RGBA", "LA", "P"):
        small.convert("RGBA").save(out, format="PNG")
    else:
        small.convert("RGB").save(out, format="JPEG", quality=80)
    return out.getvalue()
