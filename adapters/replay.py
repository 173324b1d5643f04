"""Freshness for webhooks signed over (timestamp, nonce): WeChat Official Accounts now, WeCom
callbacks later (same scheme).

WeChat's `signature` covers only the token, the timestamp and the nonce. Anyone who captured one
callback's query (from a proxy log, say) could otherwise send it again, years later, with a body
of their own. So a triple is taken only while its timestamp is within `window_s` of our clock, and
for that long we remember the SHA-256 of the first body it came with:

- the same triple with the same body is the channel's own retry: it goes on, and the ingest's
  dedupe key makes sure it has no second effect (letting it through, rather than answering at
  once, means a first attempt that failed half-way is still completed by the retry);
- the same triple with another body is a forgery, refused with 403.

Call `check` after the signature is verified: an unsigned request must not fill the memory.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

from kefu_common.errors import AuthError, ProtocolError
from router.store.channels import ChannelRecords

DEFAULT_WINDOW_S = 300

_MAX_NONCE = 64


class ReplayGuard:
    def __init__(self, records: ChannelRecords, key: Callable[[str, str], str], window_s: float = DEFAULT_WINDOW_S,
                 clock: Callable[[], float] = time.time) -> None:
        self.records = records
        self.key = key
        """(timestamp, nonce) -> the Redis key remembering that pair's body."""
        self.window_s = window_s
        self.clock = clock

    def fresh(self, timestamp: str) -> float:
        """The timestamp as a number, or AuthError when it is outside the window either way."""
        if not timestamp.isdigit() or len(timestamp) > 12:
            raise ProtocolError("bad_timestamp", "timestamp must be whole seconds since 1970")
        skew = self.clock() - int(timestamp)
        if abs(skew) > self.window_s:
            raise AuthError(f"timestamp is {abs(skew):.0f} s {'old' if skew > 0 else 'ahead'}; "
                            f"callbacks are taken within {self.window_s:.0f} s", status=403)
        return int(timestamp)

    async def check(self, timestamp: str, nonce: str, body: bytes) -> bool:
        """True for a triple seen first now, False for a retry of the same body; raises for a
        stale timestamp or a triple that came with another body."""
        ts = self.fresh(timestamp)
        if not nonce or len(nonce) > _MAX_NONCE:
            raise ProtocolError("bad_nonce", f"nonce must be 1-{_MAX_NONCE} characters")
        digest = hashlib.sha256(body).hexdigest()
        key = self.key(timestamp, nonce)
        # Kept while the timestamp is still inside the window; after that `fresh` refuses it.
        ttl = max(1, int(ts + self.window_s - self.clock()) + 1)
        first, seen = await self.records.first_body(key, digest, ttl)
        if first:
            return True
        if seen is not None and seen != digest:
            raise AuthError("this timestamp and nonce were already used with another body", status=403)
        return False
