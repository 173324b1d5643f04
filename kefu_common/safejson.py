"""JSON from strangers, with its nesting bounded before it is decoded.

`json.loads` recurses once per level: a 60 KB frame of 30,000 brackets raises RecursionError,
which no `ValueError` handler catches, so a socket dropped without an error frame and the API
answered 500. Nothing we accept nests anywhere near `MAX_DEPTH` (a Telegram update with a
reply inside is about 8 deep), so deeper input is refused before the decoder sees it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from kefu_common.errors import ProtocolError

MAX_DEPTH = 64

# A whole string literal (so brackets inside text do not count), or one bracket.
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def depth_ok(text: str, max_depth: int = MAX_DEPTH) -> bool:
    """Whether no array or object in `text` nests deeper than `max_depth`; linear time."""
    if text.count("[") + text.count("{") <= max_depth:
        return True  # too few brackets to be too deep: the common case costs two counts
    depth = 0
    for m in _TOKEN.finditer(text):
        c = m.group()
        if c == "[" or c == "{":
            depth += 1
            if depth > max_depth:
                return False
        elif c == "]" or c == "}":
            depth -= 1
    return True


def loads(data: str | bytes, max_depth: int = MAX_DEPTH) -> Any:
    """Decode JSON, or raise ProtocolError: `too_deep` past `max_depth`, `bad_json` otherwise."""
    if isinstance(data, bytes):
        try:
            data = data.decode()
        except UnicodeDecodeError:
            raise ProtocolError("bad_json", "the body is not UTF-8") from None
    if not depth_ok(data, max_depth):
        raise ProtocolError("too_deep", f"JSON nested deeper than {max_depth} levels")
    try:
        return json.loads(data)
    except ValueError:
        raise ProtocolError("bad_json", "not valid JSON") from None
