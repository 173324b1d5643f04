"""WeChat's AMR voice notes become MP3 a browser plays; the original's length is read exactly."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers.media_samples import amr, jpeg

from kefu_common.errors import MediaInvalid
from router.media.voice import amr_seconds, amr_to_mp3


def probe(data: bytes, tmp: Path) -> str:
    """What ffprobe makes of the bytes: codec, sample rate, channels, seconds (from a file: on a
    pipe it cannot tell an MP3's length)."""
    path = tmp / "probe.mp3"
    path.write_bytes(data)
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,sample_rate,channels:format=duration",
         "-of", "default=nw=1", str(path)], capture_output=True, check=True)
    return out.stdout.decode()


async def test_amr_becomes_mp3_of_the_same_length(tmp_path: Path) -> None:
    voice = amr()
    assert amr_seconds(voice) == 2.0  # 100 frames of 20 ms, read from the headers
    mp3 = await amr_to_mp3(voice)
    assert mp3[:3] == b"ID3" or mp3[0] == 0xFF  # an MP3 stream, as browsers sniff it
    info = probe(mp3, tmp_path)
    assert "codec_name=mp3" in info and "sample_rate=16000" in info and "channels=1" in info
    seconds = float(info.split("duration=")[1].split()[0])
    assert abs(seconds - 2.0) < 0.15


async def test_many_notes_at_once_all_convert() -> None:
    outs = await asyncio.gather(*(amr_to_mp3(amr()) for _ in range(8)))
    assert len({len(o) for o in outs}) == 1 and all(outs)


@pytest.mark.parametrize("data", [b"", jpeg(), b"#!AMR\n", b"#!AMR\n" + b"\x3c" + b"\x00" * 3],
                         ids=["empty", "a picture", "no frames", "a truncated frame"])
async def test_what_is_not_a_whole_voice_note_is_refused(data: bytes) -> None:
    with pytest.raises(MediaInvalid):
        await amr_to_mp3(data)


async def test_without_ffmpeg_the_caller_is_told(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(FileNotFoundError, match="apt-get install ffmpeg"):
        await amr_to_mp3(amr())


def test_length_of_what_is_not_amr_is_unknown() -> None:
    assert amr_seconds(jpeg()) is None
