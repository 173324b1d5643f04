"""Real files for media tests, made on the spot: photos with GPS in their EXIF, a decompression
bomb, a truncated image, an executable dressed as a photo."""

from __future__ import annotations

import io
import struct
import zlib
from functools import cache

from PIL import Image

GPS_IFD = 0x8825
HOME = {1: "N", 2: (31.0, 14.0, 22.5), 3: "E", 4: (121.0, 28.0, 9.75)}
"""Latitude and longitude of a made-up home in Shanghai, as a phone writes them."""


def jpeg(width: int = 640, height: int = 480, gps: bool = True, color: tuple[int, int, int] = (200, 40, 40),
         orientation: int | None = None) -> bytes:
    """A JPEG photo; with `gps`, its EXIF carries the camera's position (and a make and model)."""
    img = Image.new("RGB", (width, height), color)
    for x in range(0, width, 16):  # some detail, so it is no single-colour file
        img.putpixel((x, height // 2), (255, 255, 255))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x0110] = "Model X"
    if orientation is not None:
        exif[0x0112] = orientation
    if gps:
        exif[GPS_IFD] = HOME
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif.tobytes(), quality=92)
    return out.getvalue()


def png(width: int = 64, height: int = 48, alpha: bool = False) -> bytes:
    img = Image.new("RGBA" if alpha else "RGB", (width, height), (10, 120, 200, 128) if alpha else (10, 120, 200))
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def _chunk(tag: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body) & 0xFFFFFFFF)


@cache
def png_bomb(side: int = 50_000) -> bytes:
    """A real PNG of side x side 1-bit pixels, all black: a few hundred KB that would decode to
    2.5 gigapixels. Made once per test process."""
    z = zlib.compressobj(9)
    row = b"\x00" * (1 + (side + 7) // 8)  # filter byte 0, then the packed bits
    parts = [z.compress(row) for _ in range(side)]
    parts.append(z.flush())
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", b"".join(parts)) + _chunk(b"IEND", b"")


def truncated_jpeg() -> bytes:
    """A photo cut off part way, as a dropped upload leaves it."""
    whole = jpeg(gps=False)
    return whole[: len(whole) // 2]


def exe_as_jpg() -> bytes:
    """A Windows executable's first bytes (MZ header and DOS stub), whatever name it is given."""
    return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + \
        b"This program cannot be run in DOS mode.\r\r\n$" + b"\x00" * 200


def pdf() -> bytes:
    return (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
            b"trailer<</Root 1 0 R>>\n%%EOF\n")


def big_file(size: int = 30 * 1024 * 1024) -> bytes:
    """A PDF-looking file of `size` bytes (30 MB by default: over every kind's limit)."""
    head = pdf()
    return head + b"0" * (size - len(head))


def product_photo(width: int = 1600, height: int = 1200) -> bytes:
    """A JPEG that looks like a customer's photo of a torn shirt (for screenshots), GPS included."""
    from PIL import ImageDraw

    img = Image.new("RGB", (width, height), (228, 222, 212))
    draw = ImageDraw.Draw(img)
    for y in range(0, height, 6):  # a wooden table, roughly
        shade = 200 + (y * 7 % 30)
        draw.line([(0, y), (width, y)], fill=(shade, shade - 30, shade - 70), width=6)
    w, h = width, height
    shirt = [(w * .28, h * .12), (w * .42, h * .08), (w * .58, h * .08), (w * .72, h * .12), (w * .9, h * .3),
             (w * .8, h * .42), (w * .7, h * .34), (w * .7, h * .92), (w * .3, h * .92), (w * .3, h * .34),
             (w * .2, h * .42), (w * .1, h * .3)]
    draw.polygon(shirt, fill=(44, 92, 160), outline=(30, 60, 110))
    draw.line([(w * .44, h * .5), (w * .5, h * .58), (w * .47, h * .66), (w * .53, h * .74)],
              fill=(240, 240, 235), width=max(4, w // 200))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[GPS_IFD] = HOME
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif.tobytes(), quality=88)
    return out.getvalue()
