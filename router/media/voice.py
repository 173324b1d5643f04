"""Voice notes a browser can play: WeChat sends AMR-NB, which no browser decodes.

ffmpeg (Debian's package; its built-in AMR decoder is enough, no encoder needed) turns the AMR into
MP3, which every browser and the WeChat webview play. The caller keeps the AMR too: it is what
the customer sent, and the copy is only a convenience. ffmpeg runs as a child process on pipes,
with a deadline, off the event loop's thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil

from kefu_common.errors import MediaInvalid

AMR_MAGIC = b"#!AMR\n"
_FRAME_BYTES = (13, 14, 16, 18, 20, 21, 27, 32, 6, 1, 1, 1, 1, 1, 1, 1)
"""AMR-NB storage format: bytes per 20 ms frame (header included), by the header's frame type."""

BROWSER_MIME = "audio/mpeg"
TIMEOUT_S = 30.0
"""A voice note is at most 60 s; decoding one takes well under a second."""


def amr_seconds(data: bytes) -> float | None:
    """The length of an AMR-NB file, read from its frame headers; None when it is not one."""
    if not data.startswith(AMR_MAGIC):
        return None
    pos, frames = len(AMR_MAGIC), 0
    while pos < len(data):
        pos += _FRAME_BYTES[(data[pos] >> 3) & 0x0F]
        frames += 1
    return round(frames * 0.02, 2)


def ffmpeg_path() -> str | None:
    return shutil.which("ffmpeg")


async def amr_to_mp3(data: bytes, timeout_s: float = TIMEOUT_S) -> bytes:
    """The AMR voice note as MP3 (mono, 16 kHz: MPEG-2 layer III, which every browser plays).
    Raises MediaInvalid when the bytes are not AMR or ffmpeg cannot decode them, and
    FileNotFoundError when ffmpeg is not installed."""
    if not amr_seconds(data):
        raise MediaInvalid("not an AMR voice note, or one without a single frame")
    exe = ffmpeg_path()
    if exe is None:
        raise FileNotFoundError("ffmpeg is not installed (Debian: apt-get install ffmpeg)")
    proc = await asyncio.create_subprocess_exec(
        exe, "-hide_banner", "-loglevel", "error",
        "-f", "amr", "-i", "pipe:0", "-vn", "-ac", "1", "-ar", "16000", "-c:a", "libmp3lame", "-b:a", "32k",
        "-f", "mp3", "pipe:1",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(proc.communicate(data), timeout_s)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        raise MediaInvalid(f"the voice note did not convert within {timeout_s:g} s") from None
    if proc.returncode != 0 or not out:
        reason = err.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise MediaInvalid(f"the voice note could not be decoded: {reason[0][:200]}")
    return out
