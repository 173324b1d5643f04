"""The bot's bookkeeping outside its scripts: due turns, quiet conversations, counters and the
questions it could not answer."""

from __future__ import annotations

from typing import Any

from router.store.keys import Keys


class BotRecords:
    def __init__(self, client: Any, keys: Keys) -> None:
        self._r = client
        self._k = keys

    async def due(self, now: float, count: int) -> list[str]:
        """Conversations whose pending lines are due as a turn."""
        ids: list[str] = await self._r.zrangebyscore(self._k.bot_due, "-inf", now, start=0, num=count)
        return ids

    async def next_due(self) -> float | None:
        nxt = await self._r.zrange(self._k.bot_due, 0, 0, withscores=True)
        return float(nxt[0][1]) if nxt else None

    async def idle_since(self, before: float, count: int) -> list[str]:
        """Bot conversations whose last turn was before `before`."""
        ids: list[str] = await self._r.zrangebyscore(self._k.bot_idle, "-inf", before, start=0, num=count)
        return ids

    async def memory(self, cid: str) -> str:
        """The bot's memory of one conversation (JSON, router.bot.stage.dump_state), or ""."""
        raw: str | None = await self._r.hget(self._k.bot(cid), "state")
        return raw or ""

    async def count(self, field: str, n: int = 1) -> None:
        await self._r.hincrby(self._k.bot_stats, field, n)

    async def stats(self) -> dict[str, int]:
        raw: dict[str, str] = await self._r.hgetall(self._k.bot_stats)
        return {k: int(v) for k, v in raw.items()}

    async def unanswered(self, key: str, wording: str) -> None:
        """Count a question the bot could not answer, keeping its latest (masked) wording."""
        pipe = self._r.pipeline(transaction=False)
        pipe.zincrby(self._k.bot_unknown, 1, key)
        pipe.hset(self._k.bot_unknown_text, key, wording)
        await pipe.execute()

    async def top_unanswered(self, top: int) -> list[tuple[str, int, str]]:
        """(normalised question, times asked, latest wording), most asked first."""
        rows = await self._r.zrevrange(self._k.bot_unknown, 0, top - 1, withscores=True)
        examples = await self._r.hmget(self._k.bot_unknown_text, [q for q, _ in rows]) if rows else []
        return [(q, int(c), ex or "") for (q, c), ex in zip(rows, examples, strict=True)]
