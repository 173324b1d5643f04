"""Checks of the load-bearing limits: the Redis client's pool and timeouts, the rate limits and
the per-socket send queue. settings.py embeds the structs and calls these checks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kefu_common.errors import ConfigError

if TYPE_CHECKING:
    from kefu_common.yamlpos import YamlDoc
    from router.config.settings import RedisSettings


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
