"""Reading client frames: every refusal is a ProtocolError that becomes an error frame."""

from __future__ import annotations

from typing import Any

import msgspec

from kefu_common import safejson
from kefu_common.errors import ProtocolError


def parse(text: str) -> dict[str, Any]:
    try:
        frame = safejson.loads(text)
    except ProtocolError as exc:
        if exc.code == "too_deep":
            raise
        raise ProtocolError("bad_json", "frame is not valid JSON") from None
    if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
        raise ProtocolError("bad_frame", 'a frame is a JSON object with a string "type"')
    return frame


def text_field(frame: dict[str, Any], name: str, *, max_len: int = 128, required: bool = True) -> str:
    value = frame.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise ProtocolError("bad_frame", f'"{name}" must be a non-empty string', params={"field": name})
    if len(value) > max_len:
        raise ProtocolError("too_long", f'"{name}" is longer than {max_len} characters',
                            params={"field": name, "limit": max_len})
    return value


def error(code: str, detail: str, **extra: Any) -> str:
    """An error frame; `extra` are the refusal's params (limit, field) and the frame's `ref`."""
    return dump({**extra, "type": "error", "code": code, "detail": detail})


_ENCODER = msgspec.json.Encoder()


def dump(frame: dict[str, Any]) -> str:
    """A frame's text. msgspec rather than json.dumps: an `assigned` frame with its transcript and
    decision record is a few KB, and every socket frame of a new chat goes through here; the
    output is the same JSON (UTF-8 as it is, as ensure_ascii=False gave), a few times faster."""
    return _ENCODER.encode(frame).decode()
