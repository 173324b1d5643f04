"""Settings of the load-bearing limits: the Redis client's pool and timeouts, the rate limits and
the per-socket send queue. settings.py embeds the structs and calls the checks; the store imports
this module alone, since settings import the store's keys."""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from kefu_common.errors import ConfigError

if TYPE_CHECKING:
    from kefu_common.yamlpos import YamlDoc


class RedisSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    url: str | None = None
    namespace: str = "kefu"
    cluster: bool = False
    """`url` is one node of a Redis Cluster; the client follows MOVED/ASK and failovers."""
    max_connections: int = 64
    """Per process. When all are busy a command waits for one (up to `pool_timeout_s`)."""
    pool_timeout_s: float = 10.0
    socket_timeout_s: float = 5.0
    """A command with no answer this long fails (a stalled server); above `worker.block_ms`."""
    connect_timeout_s: float = 10.0
    ready_timeout_s: float = 1.0
    """`/readyz` answers 503 when a PING takes longer than this."""
    ingest_timeout_s: float = 3.0
    """Longest a webhook or customer message waits for Redis before it is told to retry; below
    WeChat's 5 s answer deadline."""


def check_redis(doc: YamlDoc, r: RedisSettings, block_ms: int) -> list[ConfigError]:
    errors: list[ConfigError] = []
    if not 1 <= r.max_connections <= 10_000:
        errors.append(doc.error(("redis", "max_connections"), "redis.max_connections: expected 1 to 10000"))
    for name in ("pool_timeout_s", "socket_timeout_s", "connect_timeout_s", "ready_timeout_s", "ingest_timeout_s"):
        if getattr(r, name) <= 0:
            errors.append(doc.error(("redis", name), f"redis.{name}: expected more than 0"))
    # XREADGROUP BLOCK waits on the same sockets: a shorter socket timeout would fail every idle read.
    if r.socket_timeout_s * 1000 < block_ms + 1000:
        errors.append(doc.error(("redis", "socket_timeout_s"),
                                f"redis.socket_timeout_s: must be at least worker.block_ms + 1 s "
                                f"({(block_ms + 1000) / 1000:g} s)"))
    return errors
