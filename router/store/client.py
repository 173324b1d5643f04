"""The Redis client: a plain one, or redis-py's cluster client that follows MOVED/ASK and failovers.

Both take the same commands here. The differences that matter to callers:

- Scripts go into pipelines as `execute_command("EVALSHA", ...)`: the cluster pipeline refuses its
  `evalsha` method, yet routes the raw command by its first key like any other.
- The cluster client raises `RedisClusterException` (slots not covered while a failover settles,
  no node reachable), which is not a `RedisError`; loops catch `REDIS_ERRORS`.

The plain client's connection, pool and pipeline, cheaper than redis-py's own, are in
router/store/connection.py.
"""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import RedisClusterException, RedisError
from redis.utils import HIREDIS_AVAILABLE

from kefu_common.errors import StoreError
from router.config.limits import RedisSettings
from router.store.connection import _CONNECTIONS, _Parser, _Pool, _Redis

REDIS_ERRORS = (RedisError, RedisClusterException)
"""What a failing Redis or Cluster raises; a loop that catches these survives a failover."""

MIN_VERSION = (6, 2)

RESP = 2
"""The protocol every client of kefu's speaks (`make_client`)."""

_STREAMS_FROM = {"XREAD": 0, "XREADGROUP": 3}
"""Where each stream read's STREAMS keyword may start, counted after the command's name
(XREADGROUP's GROUP, group and consumer come first): where Redis's own key spec starts looking."""


def _is_streams(arg: Any) -> bool:
    return isinstance(arg, str | bytes) and len(arg) == 7 and arg.upper() in ("STREAMS", b"STREAMS")


class _Cluster(RedisCluster):
    """redis-py's cluster client, finding a stream read's keys itself.

    XREAD and XREADGROUP name their keys after a STREAMS keyword, which redis-py's key-spec
    parser does not follow: it asked a server (COMMAND GETKEYS) before every read, a round trip
    in front of each route worker's, archiver's and sender's read
    (tests/router/test_redis_connection.py counts them)."""

    async def _determine_slot(self, command: str, *args: Any) -> int:
        name = (command.decode() if isinstance(command, bytes) else str(command)).upper()
        start = _STREAMS_FROM.get(name)
        if start is not None:
            at = next((i for i in range(start, len(args)) if _is_streams(args[i])), None)
            rest = args[at + 1:] if at is not None else ()
            if rest and len(rest) % 2 == 0:
                slots = {self.keyslot(k) for k in rest[:len(rest) // 2]}
                if len(slots) == 1:
                    return slots.pop()
            # Malformed or across slots: redis-py's own way, and its error.
        return await super()._determine_slot(command, *args)


def make_client(url: str, cluster: bool, o: RedisSettings | None = None, decode: bool = True) -> Any:
    """Typed Any on purpose: redis-py types every reply as bytes | str whatever decode_responses
    says, and these clients decode to str (`decode=False`: bytes, for DUMP payloads).

    Socket timeouts make a stalled server an error in seconds rather than a hang. The plain
    client's pool blocks: at the peak a command waits (up to `pool_timeout_s`) for a connection
    instead of failing with "Too many connections" as redis-py's default pool does past 100.
    """
    o = o or RedisSettings()
    # RESP2, said outright: redis-py 8.2 made RESP3 its default (HELLO 3 on every new
    # connection). Every reply shape, script reply and figure here was built and measured on
    # RESP2, which Redis 6.2 and 7 both speak; a change of protocol is a decision of its own, not
    # a side effect of a minor release.
    # driver_info=None: no CLIENT SETINFO on a new connection. redis-py sends two (library name and
    # version) and waits for them before a new connection's first command: at a burst, every
    # connection a pool adds paid a round trip before its work, and Redis 6.2 refuses both
    # (counted as failed calls on every connect). The plain client's connections now go straight
    # to their command (router/store/connection.py); the cluster client's, redis-py's own
    # class, send a health-check PING instead, one command where there were two. CLIENT LIST
    # loses the words "redis-py" and its version.
    timeouts = {"socket_timeout": o.socket_timeout_s, "socket_connect_timeout": o.connect_timeout_s,
                "protocol": RESP, "driver_info": None}
    if cluster:
        # A failover takes the cluster a node timeout or two to settle; the client refreshes its
        # slot map on MOVED and on connection errors and retries, so a command rides it out.
        retry = Retry(ExponentialWithJitterBackoff(base=0.05, cap=1.0), retries=8)
        # Its pool does not block: past `max_connections` per node it fails at once, so it gets
        # room for a peak's concurrent commands rather than the plain pool's blocking bound.
        # reinitialize_steps=0: a MOVED patches the one slot it names. redis-py's default (a full
        # refresh every 5th MOVED) closes every node's connections, including those other tasks
        # are using at that moment; while a slot is resharded under load they then fail with
        # AttributeError, which is no Redis error, and services crash and frames are dropped.
        return _Cluster.from_url(url, decode_responses=decode, health_check_interval=30, retry=retry,
                                 max_connections=max(o.max_connections, 1000), reinitialize_steps=0,
                                 **timeouts)
    # TCP and unix sockets; rediss:// keeps redis-py's own connection class (its TLS reads).
    connection = _CONNECTIONS.get(url.partition("://")[0]) if HIREDIS_AVAILABLE else None
    ours: dict[str, Any] = {"connection_class": connection, "parser_class": _Parser} if connection else {}
    pool = (_Pool if ours else aioredis.BlockingConnectionPool).from_url(
        url, decode_responses=decode, health_check_interval=30, max_connections=o.max_connections,
        timeout=o.pool_timeout_s, **timeouts, **ours)
    return (_Redis if ours else aioredis.Redis).from_pool(pool)


async def server_info(client: Any, cluster: bool) -> dict[str, Any]:
    """INFO server and cluster of one node (the cluster client's INFO would ask every node)."""
    if cluster:
        node = client.get_random_node()
        info: dict[str, Any] = await client.info("server", target_nodes=node)
        info.update(await client.info("cluster", target_nodes=node))
        return info
    info = await client.info("server")
    info.update(await client.info("cluster"))
    if int(info.get("cluster_enabled") or 0):
        reply = await client.execute_command("CLUSTER", "INFO")
        if isinstance(reply, dict):
            info.update(reply)
        else:
            for line in str(reply).splitlines():
                name, sep, value = line.partition(":")
                if sep:
                    info[name] = value.strip()
    return info


def check_server(url: str, info: dict[str, Any], cluster: bool) -> None:
    """Refuse a server this mode cannot use, in one line that says what to set."""
    version = tuple(int(x) for x in str(info["redis_version"]).split(".")[:2])
    if version < MIN_VERSION:
        raise StoreError(f"Redis {info['redis_version']} is too old; kefu-router needs >= 6.2")
    enabled = int(info.get("cluster_enabled") or 0) == 1
    # A lone node serving every slot never redirects, so a plain client works there (the routing
    # scripts' tests use one to meet Cluster's rules); a node with peers would answer MOVED.
    alone = int(info.get("cluster_known_nodes") or 1) == 1
    if enabled and not cluster and not alone:
        raise StoreError(f"Redis at {url} is a Cluster node: set `redis: {{cluster: true}}` in the config "
                         "or pass `kefu serve --redis-cluster`")
    if cluster and not enabled:
        raise StoreError(f"Redis at {url} is not a Cluster node: remove `redis.cluster` "
                         "(and --redis-cluster) to use it as a single server")


def server_version(info: dict[str, Any]) -> tuple[int, int]:
    major, minor = str(info["redis_version"]).split(".")[:2]
    return int(major), int(minor)
