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
"""

from __future__ import annotations

import contextlib
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError

from router.store.client import REDIS_ERRORS

SHARDED_SINCE = (7, 0)
"""The first Redis with shard channels."""

_DATA = frozenset({"message", "smessage"})


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

    async def close(self) -> None:
        self._open.clear()  # an unsubscribe confirmed while closing is ours
        with contextlib.suppress(*REDIS_ERRORS, OSError):
            await self._pubsub.aclose()
