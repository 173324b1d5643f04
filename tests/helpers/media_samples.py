"""Real media bytes for tests: pictures made with Pillow, and the voice note and video clip in
tests/fixtures/media (made by the script there with real encoders)."""

from __future__ import annotations

import functools
import io
from pathlib import Path

from PIL import Image, ImageDraw

FIXTURES = Path(__file__).parent.parent / "fixtures" / "media"


def picture(width: int = 320, height: int = 240, fmt: str = "JPEG", seed: int = 0) -> bytes:
    """A photo-like picture (a gradient with a shape on it); `seed` makes the bytes differ."""
    img = Image.new("RGB", (width, height))
    img.putdata([((x * 255) // width, (y * 255) // height, (seed * 37) % 256)
                 for y in range(height) for x in range(width)])
    ImageDraw.Draw(img).ellipse((width // 4, height // 4, 3 * width // 4, 3 * height // 4),
                                outline=(255, 255, 255), width=3)
    out = io.BytesIO()
    img.save(out, fmt)
    return out.getvalue()


def jpeg(width: int = 320, height: int = 240, seed: int = 0) -> bytes:
    return picture(width, height, "JPEG", seed)


def png(width: int = 320, height: int = 240, seed: int = 0) -> bytes:
    return picture(width, height, "PNG", seed)


def amr() -> bytes:
    """A two-second AMR-NB voice note, as WeChat delivers voice messages."""
    return (FIXTURES / "voice.amr").read_bytes()


def mp4() -> bytes:
    """A one-second H.264/AAC clip."""
    return (FIXTURES / "clip.mp4").read_bytes()


@functools.cache
def pdf() -> bytes:
    """A one-page PDF, for files and documents (made once: Pillow stamps the time in it)."""
    out = io.BytesIO()
    Image.new("RGB", (200, 100), (255, 255, 255)).save(out, "PDF")
    return out.getvalue()
