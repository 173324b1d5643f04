"""What a file is, from its first bytes: the only judge of type the media store believes.

A name (`photo.jpg`) or a Content-Type header costs nothing to forge, so neither is read. The
signatures below are the published magic numbers of each format; anything else is
`application/octet-stream`, which no channel allows by default.
"""

from __future__ import annotations

from router.models import Kind

OCTET = "application/octet-stream"


def sniff(data: bytes) -> str:
    """The MIME type the bytes declare themselves to be."""
    head = data[:64]
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"#!AMR\n") or head.startswith(b"#!AMR-WB\n"):
        return "audio/amr"
    if head.startswith(b"OggS"):
        return "audio/ogg"  # Telegram voice notes: Opus in Ogg
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0
                                   and head[1] & 0x06 != 0):
        return "audio/mpeg"  # an ID3 tag, or an MPEG audio frame sync with a layer set
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"M4A ", b"M4B "):
            return "audio/mp4"
        if brand == b"qt  ":
            return "video/quicktime"
        return "video/mp4"
    if head.startswith(b"\x1aE\xdf\xa3"):
        return "video/webm"
    if head.startswith(b"PK\x03\x04"):
        return "application/zip"  # docx, xlsx and plain zip alike
    if head.startswith(b"MZ"):
        return "application/x-msdownload"
    if head.startswith(b"\x7fELF"):
        return "application/x-executable"
    return OCTET


def kind_of(mime: str) -> Kind:
    """The message kind a file of this type makes."""
    major = mime.split("/", 1)[0]
    if major == "image":
        return Kind.IMAGE
    if major == "audio":
        return Kind.VOICE
    if major == "video":
        return Kind.VIDEO
    return Kind.FILE


EXTENSIONS = {
    "image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp", "audio/wav": "wav",
    "application/pdf": "pdf", "audio/amr": "amr", "audio/ogg": "ogg", "audio/mpeg": "mp3", "audio/mp4": "m4a",
    "video/quicktime": "mov", "video/mp4": "mp4", "video/webm": "webm", "application/zip": "zip",
}
"""For a download's file name when the sender gave none."""
