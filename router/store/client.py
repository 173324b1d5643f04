"""The Redis client: a plain one, or redis-py's cluster client that follows MOVED/ASK and failovers.

Both take the same commands here. The differences that matter to callers:

- Scripts go into pipelines as `execute_command("EVALSHA", ...)`: the cluster pipeline refuses its
  `evalsha` method, yet routes the raw command by its first key like any other.
- The cluster client raises `RedisClusterException` (slots not covered while a failover settles,
  no node reachable), which is not a `RedisError`; loops catch `REDIS_ERRORS`.
"""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import RedisClusterException, RedisError

from kefu_common.errors import StoreError
from router.config.limits import RedisSettings

REDIS_ERRORS = (RedisError, RedisClusterException)
"""What a failing Redis or Cluster raises; a loop that catches these survives a failover."""

MIN_VERSION = (6, 2)


def make_client(url: str, cluster: bool, o: RedisSettings | None = None, decode: bool = True) -> Any:
    """Typed Any on purpose: redis-py types every reply as bytes | str whatever decode_responses
    says, and these clients decode to str (`decode=False`: bytes, for DUMP payloads).

    Socket timeouts make a stalled server an error in seconds rather than a hang. The plain
    client's pool blocks: at the peak a command waits (up to `pool_timeout_s`) for a connection
    instead of failing with "Too many connections" as redis-py's default pool does past 100.
    """
    o = o or RedisSettings()
    timeouts = {"socket_timeout": o.socket_timeout_s, "socket_connect_timeout": o.connect_timeout_s}
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
        return RedisCluster.from_url(url, decode_responses=decode, health_check_interval=30, retry=retry,
                                     max_connections=max(o.max_connections, 1000), reinitialize_steps=0,
                                     **timeouts)
    pool = aioredis.BlockingConnectionPool.from_url(
        url, decode_responses=decode, health_check_interval=30, max_connections=o.max_connections,
        timeout=o.pool_timeout_s, **timeouts)
    return aioredis.Redis.from_pool(pool)


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
