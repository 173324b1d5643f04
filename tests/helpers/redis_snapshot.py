"""Redis contents as typed JSON, so a test can load data a previous version wrote into any server
(DUMP payloads are tied to one RDB version; Redis 6.2 cannot RESTORE what 7.0 dumped)."""

from __future__ import annotations

from typing import Any

import redis


def dump(client: redis.Redis) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in sorted(client.scan_iter(count=1000)):
        kind = client.type(key)
        ttl = client.pttl(key)
        if kind == "string":
            value: Any = client.get(key)
        elif kind == "hash":
            value = client.hgetall(key)
        elif kind == "set":
            value = sorted(client.smembers(key))
        elif kind == "zset":
            value = client.zrange(key, 0, -1, withscores=True)
        elif kind == "list":
            value = client.lrange(key, 0, -1)
        elif kind == "stream":
            value = {
                "entries": client.xrange(key),
                "groups": [{"name": g["name"], "last": g["last-delivered-id"]} for g in client.xinfo_groups(key)],
            }
        else:
            raise ValueError(f"{key}: type {kind} not handled")
        out[key] = {"type": kind, "ttl_ms": ttl if ttl > 0 else None, "value": value}
    return out


def load(client: Any, data: dict[str, Any]) -> None:
    """Write `data` into a plain or Cluster client's server(s), one key at a time."""
    for key, item in data.items():
        kind, value = item["type"], item["value"]
        if kind == "string":
            client.set(key, value)
        elif kind == "hash":
            client.hset(key, mapping=value)
        elif kind == "set":
            client.sadd(key, *value)
        elif kind == "zset":
            client.zadd(key, {m: s for m, s in value})
        elif kind == "list":
            client.rpush(key, *value)
        elif kind == "stream":
            for eid, fields in value["entries"]:
                client.xadd(key, fields, id=eid)
            if not value["entries"]:
                client.xgroup_create(key, "__tmp", id="0", mkstream=True)
                client.xgroup_destroy(key, "__tmp")
            for g in value["groups"]:
                client.xgroup_create(key, g["name"], id=g["last"])
        if item["ttl_ms"]:
            client.pexpire(key, item["ttl_ms"])
