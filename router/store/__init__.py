"""The Redis connection, its scripts and the reads many parts share."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import TYPE_CHECKING, Any

from kefu_common.errors import StoreError
from router.config.limits import RedisSettings
from router.ops.sla_profiles import sla_view
from router.pipeline.assignment import merge_record, publish
from router.store.client import REDIS_ERRORS, check_server, make_client, server_info, server_version
from router.store.keys import Keys
from router.store.scripts import Scripts

if TYPE_CHECKING:  # only annotated: settings import store.keys, which runs this package
    from router.config.settings import Settings


class Store:
    """One Redis client for commands and scripts; pub/sub opens its own connection.

    The pool blocks: at the peak a command waits (up to `pool_timeout_s`) for a free connection
    rather than failing with "Too many connections", which redis-py's default pool does at 100.
    Socket timeouts turn a stalled server into an error in seconds instead of a hang.

    `cluster=True`: `url` is any one node of a Redis Cluster (router/store/client.py)."""

    def __init__(self, url: str, namespace: str = "kefu", cluster: bool = False,
                 options: RedisSettings | None = None) -> None:
        self.url = url
        self.cluster = cluster
        self._node_clients: dict[str, Any] = {}
        self.keys = Keys(namespace)
        self.scripts = Scripts(self.keys)
        self.options = options or RedisSettings()
        self.min_replicas_ack = self.options.min_replicas_ack
        self.replica_ack_timeout_ms = self.options.replica_ack_timeout_ms
        self.client: Any = make_client(url, cluster, self.options)
        self.version = (0, 0)
        """The server's (major, minor), known after `open`."""

    async def open(self) -> None:
        try:
            await self.client.ping()
            info = await server_info(self.client, self.cluster)
            check_server(self.url, info, self.cluster)
            self.version = server_version(info)
            await self.scripts.load(self.client)
        except REDIS_ERRORS as exc:
            raise StoreError(f"cannot reach Redis at {self.url}: {exc}") from exc

    async def close(self) -> None:
        for node in self._node_clients.values():
            await node.aclose()
        self._node_clients.clear()
        await self.client.aclose()

    async def replicated(self, key: str) -> None:
        """With `min_replicas_ack`, return once that many replicas of the master holding `key`
        have every write made to it so far; raise StoreError when they do not in time."""
        if not self.min_replicas_ack:
            return
        for attempt in (1, 2):
            client = self._client_for(key)
            try:
                pipe = client.pipeline(transaction=False)  # one connection: the WAIT sees the INCR
                pipe.incr(self.keys.barrier(key))
                pipe.execute_command("WAIT", self.min_replicas_ack, self.replica_ack_timeout_ms)
                _, acked = await pipe.execute()
            except REDIS_ERRORS as exc:
                # The slot moved or its master died: learn the new map, then try once more.
                await self._drop_node_clients()
                if self.cluster:
                    await self.client.nodes_manager.initialize()
                if attempt == 2:
                    raise StoreError(f"could not confirm replication of {key}: {exc}") from exc
                continue
            if int(acked) < self.min_replicas_ack:
                raise StoreError(f"{acked} of {self.min_replicas_ack} replicas acknowledged {key} within "
                                 f"{self.replica_ack_timeout_ms} ms")
            return

    def _client_for(self, key: str) -> Any:
        """A plain client on the master that owns `key`: WAIT has no key for the cluster client
        to route by, and must share a connection with the write before it."""
        if not self.cluster:
            return self.client
        node = self.client.get_node_from_key(key)
        client = self._node_clients.get(node.name)
        if client is None:
            client = make_client(f"redis://{node.host}:{node.port}/0", False, self.options)
            self._node_clients[node.name] = client
        return client

    async def _drop_node_clients(self) -> None:
        clients, self._node_clients = list(self._node_clients.values()), {}
        for client in clients:
            with contextlib.suppress(*REDIS_ERRORS, OSError):
                await client.aclose()

    async def call(self, name: str, args: list[Any], keys: list[str] | None = None) -> Any:
        """Run a routing-domain script; KEYS[1] is the {rt} anchor so Cluster routes it."""
        return await self.scripts.call(self.client, name, keys or [self.keys.conv_index], args)

    async def ping(self) -> bool:
        """Whether Redis answers within `ready_timeout_s`: a stalled server is as bad as none."""
        try:
            async with asyncio.timeout(self.options.ready_timeout_s):
                return bool(await self.client.ping())
        except (*REDIS_ERRORS, OSError, TimeoutError):
            return False

    async def sync_config(self, settings: Settings) -> None:
        """Make Redis agree with the config's pools and agents; live status, load and cap
        overrides stay."""
        now = time.time()
        await publish(self.client, self.keys.assign_settings, settings.assignment)  # before agents: it orders free sets
        for pool in settings.pools:
            await self.client.sadd(self.keys.pools, pool.id)
        for agent in settings.agents:
            await self.call(
                "agent_sync",
                [agent.id, agent.name or agent.id, agent.role.value, agent.max_chats,
                 json.dumps(list(agent.pools)), json.dumps(agent.skills), now],
            )

    # -- console sessions (router.auth.Sessions) ----------------------------------------------
    async def session_put(self, sid: str, agent_id: str, fingerprint: str, ttl_s: int) -> None:
        key = self.keys.session(sid)
        # A transaction, so a session never exists without its expiry.
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(key, mapping={"agent": agent_id, "fp": fingerprint, "since": time.time()})
        pipe.expire(key, ttl_s)
        await pipe.execute()

    async def session_get(self, sid: str) -> tuple[str | None, str | None]:
        agent, fp = await self.client.hmget(self.keys.session(sid), "agent", "fp")
        return agent, fp

    async def session_drop(self, sid: str) -> None:
        """Delete the session, then tell every process, so sockets opened with it close too."""
        agent = await self.client.hget(self.keys.session(sid), "agent")
        await self.client.delete(self.keys.session(sid))
        if agent:
            # On the agent channel, as an unstored frame ('-'): the process holding the agent's
            # sockets already listens there. A lost notice is caught by the socket's own re-check.
            notice = json.dumps({"type": "session_ended", "session": sid})
            await self.client.publish(self.keys.agent_channel, f"{agent}\n-\n{notice}")

    # -- shared reads -------------------------------------------------------------------------
    async def conversation(self, cid: str) -> dict[str, Any] | None:
        data: dict[str, str] = await self.client.hgetall(self.keys.conv(cid))
        return _conv_view(data) if data else None

    async def conversations(self, ids: list[str]) -> list[dict[str, Any]]:
        pipe = self.client.pipeline(transaction=False)
        for cid in ids:
            pipe.hgetall(self.keys.conv(cid))
        rows: list[dict[str, str]] = await pipe.execute()
        return [_conv_view(r) for r in rows if r]

    async def agent(self, aid: str) -> dict[str, Any] | None:
        pipe = self.client.pipeline(transaction=False)
        pipe.hgetall(self.keys.agent(aid))
        pipe.hget(self.keys.cap_overrides, aid)
        data, override = await pipe.execute()
        return _agent_view(data, override) if data else None

    async def agents(self) -> list[dict[str, Any]]:
        ids = sorted(await self.client.smembers(self.keys.agents))
        pipe = self.client.pipeline(transaction=False)
        pipe.hgetall(self.keys.cap_overrides)
        for aid in ids:
            pipe.hgetall(self.keys.agent(aid))
        overrides, *rows = await pipe.execute()
        return [_agent_view(r, overrides.get(r.get("id"))) for r in rows if r]

    async def customer(self, cust: str) -> dict[str, Any] | None:
        data: dict[str, str] = await self.client.hgetall(self.keys.customer(cust))
        if not data:
            return None
        idents = sorted(await self.client.smembers(self.keys.customer_identities(cust)))
        return {
            "id": cust,
            "name": data.get("name", ""),
            "segment": data.get("segment", "new"),
            "tags": json.loads(data.get("tags") or "[]"),
            "identities": idents,
        }


def _num(v: str | None) -> float | None:
    return float(v) if v not in (None, "") else None


def _conv_view(d: dict[str, str]) -> dict[str, Any]:
    return {
        "id": d.get("id"),
        "state": d.get("state"),
        "customer_id": d.get("customer"),
        "channel": d.get("channel"),
        "account": d.get("account"),
        "pool": d.get("pool") or None,
        "agent": d.get("agent") or None,
        "priority": int(d.get("priority") or 0),
        "messages": int(d.get("messages") or 0),
        "reopened": int(d.get("reopened") or 0),
        "created": _num(d.get("created")),
        "updated": _num(d.get("updated")),
        "queued_at": _num(d.get("queued_at")),
        "assigned_at": _num(d.get("assigned_at")),
        "first_reply_at": _num(d.get("first_reply_at")),
        "closed_at": _num(d.get("closed_at")),
        "resolution": d.get("resolution") or None,
        "decision": merge_record(d.get("decision"), d.get("assignment")),
        "sla": sla_view(d.get("sla")),
        "bot": _bot_view(d),
    }


def _bot_view(d: dict[str, str]) -> dict[str, Any] | None:
    """What the bot learned before it handed off; None when it never did."""
    if not d.get("bot_reason"):
        return None
    return {"reason": d["bot_reason"], "intent": d.get("bot_intent") or None,
            "order_id": d.get("bot_order_id") or None, "note": d.get("bot_note") or "",
            "handed_off_at": _num(d.get("handed_off_at"))}


def _agent_view(d: dict[str, str], override: str | None) -> dict[str, Any]:
    """`max_chats` is the cap in force: a supervisor's live override, else the config's."""
    return {
        "id": d.get("id"),
        "name": d.get("name"),
        "role": d.get("role"),
        "status": d.get("status", "offline"),
        "max_chats": int(d.get("cap") or 0),
        "cap_configured": int(d.get("cap_config") or d.get("cap") or 0),
        "cap_override": int(override) if override is not None else None,
        "load": int(d.get("load") or 0),
        "pools": json.loads(d.get("pools") or "[]"),
        "skills": json.loads(d.get("skills") or "{}"),
    }
