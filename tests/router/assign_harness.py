"""Drives the routing scripts directly, as the route worker and runtime do, with a fake clock, and
reads back what Redis says about agents, queues and conversations."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers.redis_cluster import system_redis_server
from helpers.redis_server import RedisServer

from router.config.settings import Settings, parse_settings
from router.models import new_id
from router.store import Store


@dataclass
class Harness:
    url: str
    settings: Settings
    store: Store = field(init=False)
    now: float = 1_800_000_000.0

    async def open(self) -> Harness:
        self.store = Store(self.url)
        await self.store.open()
        await self.store.sync_config(self.settings)
        return self

    async def restart(self) -> None:
        """A router restart: new client, the server's script cache gone, config synced again."""
        await self.store.close()
        client = Store(self.url).client
        await client.script_flush()
        await client.aclose()
        await self.open()

    async def close(self) -> None:
        await self.store.close()

    def tick(self, s: float = 1.0) -> float:
        self.now += s
        return self.now

    async def arrive(self, user: str, pool: str, priority: int = 10, skills: tuple[str, ...] = (),
                     min_level: int = 1, sla: str | None = None, channel: str = "webchat") -> str:
        """One customer message, resolved and routed as the worker does; returns the conversation.
        `sla` names the SLA profile the rules would have chosen."""
        mid = new_id("m")
        now = self.tick(0.001)
        res = await self.store.call("resolve", [
            mid, f"{channel}:shop:{user}", new_id("cu"), new_id("c"), now, 600, channel, "shop", user, ""])
        cid = str(res[2])
        out = await self.store.call("route", [
            mid, cid, now, json.dumps({"id": mid, "text": "hi"}), pool, priority, json.dumps(list(skills)),
            min_level, "0", json.dumps({"pool": pool, "priority": priority, "skills": list(skills), "sla_profile": sla}),
            3600])
        assert out[0] == "ok", out
        return cid

    async def status(self, aid: str, status: str) -> list[Any]:
        res: list[Any] = await self.store.call("status", [aid, status, self.tick(0.001), "test"])
        return res

    async def close_conv(self, cid: str) -> list[Any]:
        res: list[Any] = await self.store.call("close", [cid, "admin", self.tick(0.001), "done", "1"])
        return res

    async def transfer(self, cid: str, kind: str, target: str, actor: str = "admin", note: str = "note",
                       tid: str | None = None) -> list[Any]:
        """As the runtime calls it: an admin may move any chat, an agent only their own."""
        force = "1" if actor == "admin" else "0"
        res: list[Any] = await self.store.call("transfer", [
            cid, actor, force, kind, target, self.tick(0.001), note, tid or new_id("tr")])
        return res

    async def set_cap(self, aid: str, cap: int) -> list[Any]:
        res: list[Any] = await self.store.call("set_cap", [aid, cap, self.tick(0.001)])
        return res

    async def reply(self, cid: str, aid: str) -> None:
        await self.store.call("reply", [cid, aid, self.tick(0.001), "0"])

    async def conv(self, cid: str) -> dict[str, str]:
        data: dict[str, str] = await self.store.client.hgetall(self.store.keys.conv(cid))
        return data

    async def record(self, cid: str) -> dict[str, Any]:
        view = await self.store.conversations.get(cid)
        assert view is not None and view.decision is not None
        return dict(view.decision)

    async def agent_of(self, cid: str) -> str | None:
        agent: str | None = await self.store.client.hget(self.store.keys.conv(cid), "agent")
        return agent

    async def queue(self, pool: str) -> list[str]:
        ids: list[str] = await self.store.client.zrange(self.store.keys.pool_queue(pool), 0, -1)
        return ids

    async def load(self, aid: str) -> int:
        return int(await self.store.client.scard(self.store.keys.agent_convs(aid)))


def settings_for(agents: list[dict[str, Any]], pools: list[str], assignment: str = "") -> Settings:
    """A config with the given agents (id, pools, skills, cap) and an optional assignment section."""
    lines = ["pools:"] + [f"  - id: {p}" for p in pools] + ["agents:"]
    for a in agents:
        lines += [f"  - id: {a['id']}", f"    token: {a['id']}-token-123456",
                  f"    pools: {json.dumps(a.get('pools', pools[:1]))}",
                  f"    skills: {json.dumps(a.get('skills', {}))}",
                  f"    max_chats: {a.get('cap', 5)}"]
    if assignment:
        lines.append(assignment)
    return parse_settings("\n".join(lines) + "\n", "<test>")


@asynccontextmanager
async def on_server(version: str, redis_url: str, tmp_path: Path, config: str,
                    agents: int) -> AsyncIterator[Harness]:
    """A harness on the embedded server (version "6.2": classic channels; `redis_url`) or on a
    private one of the machine's Redis 7 ("7": frames on shard channels; a script that publishes
    on channels outside its keys' slots is allowed on one server), agents a0.. online."""
    server = None
    if version == "7":
        binary, why = system_redis_server()
        assert binary is not None, why
        server = RedisServer(tmp_path / "redis7", appendonly=False, binary=binary)
        server.start()
        redis_url = server.url
    harness = await Harness(redis_url, parse_settings(config, "<test>")).open()
    try:
        assert harness.store.sharded_pubsub == (version == "7")
        for i in range(agents):
            await harness.status(f"a{i}", "online")
        yield harness
    finally:
        await harness.close()
        if server is not None:
            server.stop()
