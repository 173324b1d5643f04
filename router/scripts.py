"""The Lua scripts, rendered for one namespace and called by SHA.

Scripts are loaded once at start. Pipelines call EVALSHA directly: redis-py's `Script` objects in
a pipeline would ask SCRIPT EXISTS on every execute, a round trip per batch we do not want. If the
server lost its script cache (restart, failover), `run` loads them again and retries once; that is
safe because a script that failed with NOSCRIPT ran no command.
"""

from __future__ import annotations

import hashlib
from importlib import resources
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import NoScriptError

from router.keys import Keys
from router.lifecycle import lua_table

# Scripts that work in the {rt} slot get the shared prelude; the others stand alone.
ROUTING = ("resolve", "route", "close", "status", "transfer", "reply", "agent_sync", "set_cap", "emit",
           "approval", "timer_claim", "timer_ack", "sla_fire", "queue_text", "queue_moved",
           "queue_announce",
           "choose", "bot_take", "bot_done", "bot_handoff", "bot_close")
# The routing prelude: shared helpers (with policy.lua at lib's __POLICY__ line), then SLA clocks
# and timers that build on them.
PRELUDE = ("lib", "sla_lib")
STANDALONE = ("ingest", "outbox_enqueue", "append_once", "rules_activate", "csat_record")


def _read(name: str) -> str:
    return resources.files("router").joinpath(f"lua/{name}.lua").read_text(encoding="utf-8")


def render(name: str, keys: Keys) -> str:
    if name not in ROUTING:
        return _read(name)
    prelude = (
        "\n".join(_read(part) for part in PRELUDE)
        .replace("__POLICY__", _read("policy"))
        .replace("__RT__", keys.rt)
        .replace("__TRANSITIONS__", lua_table())
        .replace("__AGENT_CH__", keys.agent_channel)
        .replace("__CUST_CH__", keys.customer_channel)
    )
    return prelude + "\n" + _read(name)


class Scripts:
    """Rendered scripts by name, with their SHA1s."""

    def __init__(self, keys: Keys) -> None:
        self.keys = keys
        self.source = {name: render(name, keys) for name in ROUTING + STANDALONE}
        self.sha = {name: hashlib.sha1(src.encode()).hexdigest() for name, src in self.source.items()}

    async def load(self, client: aioredis.Redis) -> None:
        for name, src in self.source.items():
            sha = await client.script_load(src)
            if sha != self.sha[name]:
                raise RuntimeError(f"script {name}: server SHA {sha} != local {self.sha[name]}")

    def queue(self, pipe: Any, name: str, keys: list[str], args: list[Any]) -> None:
        """Add a script call to a pipeline."""
        pipe.evalsha(self.sha[name], len(keys), *keys, *args)

    async def call(self, client: aioredis.Redis, name: str, keys: list[str], args: list[Any]) -> Any:
        try:
            return await client.evalsha(self.sha[name], len(keys), *keys, *args)
        except NoScriptError:
            await self.load(client)
            return await client.evalsha(self.sha[name], len(keys), *keys, *args)

    async def run(self, client: aioredis.Redis, build: Any) -> list[Any]:
        """Execute the pipeline that `build(pipe)` fills; results in order, errors as values."""
        for attempt in (1, 2):
            pipe = client.pipeline(transaction=False)
            build(pipe)
            results: list[Any] = await pipe.execute(raise_on_error=False)
            if attempt == 1 and any(isinstance(r, NoScriptError) for r in results):
                await self.load(client)
                continue
            return results
        raise AssertionError("unreachable")
