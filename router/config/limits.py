"""Settings of the load-bearing limits: the Redis client's pool and timeouts, the rate limits and
the per-socket send queue. settings.py embeds the structs and calls the checks; the store imports
this module alone, since settings import the store's keys."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

import msgspec

from kefu_common.errors import ConfigError

if TYPE_CHECKING:
    from kefu_common.yamlpos import YamlDoc


MAX_PARTITIONS = 64


class RedisSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    url: str | None = None
    namespace: str = "kefu"
    cluster: bool = False
    """`url` is one node of a Redis Cluster; the client follows MOVED/ASK and failovers."""
    min_replicas_ack: int = 0
    """> 0: ingest, the outbox and the route worker WAIT for this many replicas to have a write
    before a channel is told "accepted" (or an entry is acked), so a master lost right after an
    ack loses nothing (docs/operations.md, "Acknowledged means replicated")."""
    replica_ack_timeout_ms: int = 1000
    """How long that WAIT may take; past it the write is refused as not durable (the channel
    retries, and idempotency makes the retry a no-op)."""
    partitions: int = 1
    """How many partitions the inbound and outbound streams have: one stream, consumer group and
    hash tag each, so on a Cluster they spread over the masters. Every process consumes every
    partition. Change it only with both streams drained (`kefu serve` refuses otherwise)."""
    max_connections: int = 64
    """Per process. When all are busy a command waits for one (up to `pool_timeout_s`)."""
    pool_timeout_s: float = 20.0
    """Not below `chat_ingest_timeout_s`: a waiting chat message would otherwise be cut short here."""
    socket_timeout_s: float = 5.0
    """A command with no answer this long fails (a stalled server); above `worker.block_ms`."""
    connect_timeout_s: float = 10.0
    ready_timeout_s: float = 1.0
    """`/readyz` answers 503 when a PING takes longer than this."""
    ingest_timeout_s: float = 3.0
    """Longest a webhook waits for Redis before it is answered 503 and retried; below WeChat's
    5 s answer deadline."""
    chat_ingest_timeout_s: float = 20.0
    """Longest a web chat customer's message waits for Redis before the page is told to send it
    again. No platform deadline binds a socket, and each refusal is a resend that adds load: at
    3 s, 3,000 customers over three processes on a 2-core machine spent the burst on 14,496
    refusals and resends and did not finish in 600 s; at 20 s the same run was clean in 279 s
    (docs/performance.md)."""


class Rate(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A token bucket: `burst` at once, then `per_s` a second on average."""

    per_s: float
    burst: int


class RateLimitSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Web chat limits, kept in each process (a visitor's socket lives on one process; per-address
    limits therefore allow N processes times the rate). A refusal is an error frame or 429 with
    the seconds to wait, and a log line."""

    enabled: bool = True
    customer_messages: Rate = Rate(per_s=1.0, burst=20)
    """A shopper types well under one message a second; 20 at once covers pasted lines."""
    address_messages: Rate = Rate(per_s=20.0, burst=200)
    """One address may be a whole office or a carrier's NAT: many shoppers."""
    address_sessions: Rate = Rate(per_s=1.0, burst=30)
    """New web chat sessions (`POST /api/v1/webchat/sessions`) per address."""
    customer_connects: Rate = Rate(per_s=0.5, burst=20)
    """Socket opens per visitor; a page reconnects with backoff, far below this."""
    exempt_addresses: tuple[str, ...] = ("127.0.0.0/8", "::1/128")
    """Peers the per-address limits skip. A proxy on this host that is not in
    `web.trusted_proxies` would otherwise put every customer in one bucket."""


def check_rate_limits(doc: YamlDoc, r: RateLimitSettings) -> list[ConfigError]:
    errors: list[ConfigError] = []
    for name in ("customer_messages", "address_messages", "address_sessions", "customer_connects"):
        rate: Rate = getattr(r, name)
        if rate.per_s <= 0 or rate.burst < 1:
            errors.append(doc.error(("rate_limits", name), f"rate_limits.{name}: per_s must be more than 0 "
                                                          "and burst at least 1"))
    for i, net in enumerate(r.exempt_addresses):
        try:
            ipaddress.ip_network(net, strict=False)
        except ValueError:
            errors.append(doc.error(("rate_limits", "exempt_addresses", i),
                                    f"rate_limits.exempt_addresses: {net!r} is not an address or network"))
    return errors


def check_redis(doc: YamlDoc, r: RedisSettings, block_ms: int) -> list[ConfigError]:
    errors: list[ConfigError] = []
    if not 1 <= r.partitions <= MAX_PARTITIONS:
        errors.append(doc.error(("redis", "partitions"), f"redis.partitions: expected 1 to {MAX_PARTITIONS}"))
    elif r.partitions * 2 + 8 > r.max_connections and not r.cluster:
        # Each partition's route worker and sender hold a connection in XREADGROUP BLOCK.
        errors.append(doc.error(("redis", "partitions"), f"redis.partitions: {r.partitions} partitions block "
                                f"{r.partitions * 2} connections; raise redis.max_connections above "
                                f"{r.partitions * 2 + 8}"))
    if not 1 <= r.max_connections <= 10_000:
        errors.append(doc.error(("redis", "max_connections"), "redis.max_connections: expected 1 to 10000"))
    for name in ("pool_timeout_s", "socket_timeout_s", "connect_timeout_s", "ready_timeout_s", "ingest_timeout_s",
                 "chat_ingest_timeout_s"):
        if getattr(r, name) <= 0:
            errors.append(doc.error(("redis", name), f"redis.{name}: expected more than 0"))
    # XREADGROUP BLOCK waits on the same sockets: a shorter socket timeout would fail every idle read.
    if r.socket_timeout_s * 1000 < block_ms + 1000:
        errors.append(doc.error(("redis", "socket_timeout_s"),
                                f"redis.socket_timeout_s: must be at least worker.block_ms + 1 s "
                                f"({(block_ms + 1000) / 1000:g} s)"))
    return errors
