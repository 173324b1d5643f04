"""Pub/sub as the fan-out and the rule sync use it: classic or sharded, decided by the server.

On Redis >= 7 frames travel on shard channels (SPUBLISH/SSUBSCRIBE). Each channel is tagged like
the keys of the scripts that publish on it (`{rt:NS}:events:agent`, `{rules:NS}:events`), so on
a Cluster a frame goes to the one node that owns its slot and the subscribers connected there,
instead of being broadcast over the cluster bus to every node. Redis 6.2 (the embedded server)
has no shard channels: there the same names are classic channels (PUBLISH/SUBSCRIBE). The Lua
scripts choose the same way, from the server's own version (lib.lua, `publish`).

A shard channel's subscription ends when its slot moves to another master: Redis tells the
subscriber with an `sunsubscribe` it did not ask for. That ends this subscription with a
ConnectionError, so its owner subscribes again (on the new owner) and replays what it missed.

The fan-out reads with `batch`: the first frame the way redis-py reads one (socket timeout, health
check, subscribe confirmations), then every further frame already whole in the parser's buffer
straight from hiredis, without redis-py's per-message machinery (a health check, a retry wrapper,
a metrics hook and a dict each: 9% of the samples of bench/bench_fanout.py's profile at 1,000
frames/s). A burst that one socket read brought is then one await, not one per frame.
"""

from __future__ import annotations

import contextlib
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError

from router.store.client import REDIS_ERRORS
from router.store.connection import _Peekable

SHARDED_SINCE = (7, 0)
"""The first Redis with shard channels."""

_DATA = frozenset({"message", "smessage"})

BATCH_MAX = 256
"""Frames one `batch` takes at most: the subscriber yields to the sockets' writers between batches."""


class Subscription:
    """One subscription to a fixed set of channels, on a connection of its own."""

    def __init__(self, client: Any, channels: tuple[str, ...], sharded: bool, cluster: bool) -> None:
        self._pubsub = client.pubsub()
        self.channels = channels
        self.sharded = sharded
        self._cluster = cluster
        self._open: set[str] = set()

    async def open(self) -> None:
        if self.sharded:
            await self._pubsub.ssubscribe(*self.channels)
        else:
            await self._pubsub.subscribe(*self.channels)

    async def next(self, wait_s: float) -> tuple[str, str] | None:
        """The next frame as (channel, data), or None when none came within `wait_s` seconds."""
        if self.sharded and self._cluster:
            msg = await self._pubsub.get_sharded_message(timeout=wait_s)
        else:
            msg = await self._pubsub.get_message(timeout=wait_s)
        if msg is None:
            return None
        kind, channel = str(msg["type"]), str(msg["channel"])
        if kind in _DATA:
            return channel, str(msg["data"])
        if kind in ("subscribe", "ssubscribe"):
            self._open.add(channel)
        elif kind in ("unsubscribe", "sunsubscribe") and channel in self._open:
            # Not asked for: the channel's slot moved away from the node we listened on.
            raise RedisConnectionError(f"subscription to {channel} ended by the server (its slot moved)")
        return None

    async def batch(self, wait_s: float) -> list[tuple[str, str]]:
        """The next frames as (channel, data), in the order published: at least one unless none
        came within `wait_s` seconds, plus those already whole in the buffer (up to BATCH_MAX)."""
        first = await self.next(wait_s)
        if first is None:
            return []
        got = [first]
        reader = self._buffered()
        if reader is None:
            return got
        while len(got) < BATCH_MAX:
            reply = reader.peek(False)
            # Anything but a whole data frame (a subscribe confirmation, an unsubscribe we did not
            # ask for, a pong, a half-read reply) is left for `next`, which knows what it means.
            if not isinstance(reply, list) or len(reply) != 3 or reply[0] not in _DATA:
                break
            reader.gets()
            got.append((str(reply[1]), str(reply[2])))
        return got

    def _buffered(self) -> Any:
        """The connection's hiredis reader that can look at a buffered reply without taking it
        (router/store/client.py); None where there is none (a Cluster, rediss://, no hiredis)."""
        if self.sharded and self._cluster:
            return None
        conn = getattr(self._pubsub, "connection", None)
        reader = getattr(getattr(conn, "_parser", None), "_reader", None)
        return reader if isinstance(reader, _Peekable) else None

    async def close(self) -> None:
        self._open.clear()  # an unsubscribe confirmed while closing is ours
        with contextlib.suppress(*REDIS_ERRORS, OSError):
            await self._pubsub.aclose()
