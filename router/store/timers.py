"""Durable timers ({rt} slot, beside the conversations their scripts change): Python schedules
and cancels here; timer_claim.lua and timer_ack.lua claim and finish them."""

from __future__ import annotations

import json
from typing import Any

from router.store.keys import Keys


class TimerRecords:
    def __init__(self, client: Any, keys: Keys) -> None:
        self._r = client
        self._k = keys

    async def schedule(self, tid: str, due: float, data: dict[str, Any]) -> None:
        """Create or move a timer; `data` says what to do when it fires ({kind, ...})."""
        pipe = self._r.pipeline(transaction=True)
        pipe.zadd(self._k.timers_due, {tid: due})
        pipe.hset(self._k.timers_data, tid, json.dumps(data))
        await pipe.execute()

    async def cancel(self, tid: str) -> None:
        pipe = self._r.pipeline(transaction=True)
        pipe.zrem(self._k.timers_due, tid)
        pipe.hdel(self._k.timers_data, tid)
        await pipe.execute()
