"""The one door to Redis: the connection, its scripts, and typed repositories.

Nothing outside this package holds the client. Reads return the model structs
(router.models.Conversation, Agent, Customer) or small structs of their own; every change to
routing state goes through a script (router.store.scripts). docs/store.md says where each kind of
state lives.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from kefu_common.errors import ProtocolError, StoreError
from router.config.limits import RedisSettings
from router.store.accounts import AccountRecords
from router.store.agents import Agents
from router.store.archive import ArchiveRecords
from router.store.audit import AuditRecords
from router.store.bot import BotRecords
from router.store.calls import Call
from router.store.calls.agents import AgentSync
from router.store.calls.streams import Added, AppendOnce
from router.store.channels import ChannelRecords, Feeds, TelegramRecords, WechatRecords
from router.store.client import REDIS_ERRORS, check_server, make_client, server_info, server_version
from router.store.coalesce import Coalescer
from router.store.conversations import Conversations
from router.store.csat import Ratings
from router.store.customers import Customers
from router.store.hooks import HookRecords
from router.store.keys import Keys, in_namespace
from router.store.live import LiveRecords
from router.store.ops import OpsRecords
from router.store.pubsub import SHARDED_SINCE, Subscription
from router.store.rules import RuleRecords
from router.store.scripts import Scripts
from router.store.streams import Streams
from router.store.timers import TimerRecords
from router.store.transcripts import Transcripts
from router.store.views import AssignedView, assigned_view, assigned_views
from router.store.wecom import WecomRecords

if TYPE_CHECKING:  # only annotated: settings import store.keys, which runs this package
    from router.config.settings import Settings

R = TypeVar("R")


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
        self.sharded_pubsub = False
        """Frames travel on shard channels (Redis >= 7), known after `open` (router/store/pubsub.py)."""
        self.conversations = Conversations(self.client, self.keys)
        self.agents = Agents(self.client, self.keys)
        self.accounts = AccountRecords(self.client, self.keys)
        self.customers = Customers(self.client, self.keys)
        self.ops = OpsRecords(self.client, self.keys)
        self.ratings = Ratings(self.client, self.keys)
        self.audit = AuditRecords(self.client, self.keys)
        self.live = LiveRecords(self.client, self.keys)
        self.partitions = self.options.partitions
        """How many partitions the inbound and outbound streams have (Keys.partition)."""
        self._streams = [Streams(self.client, self.keys.partition(p)) for p in range(self.partitions)]
        self.streams = self._streams[0]
        """Partition 0's streams, and the archive queue's consumer group."""
        self.transcripts = Transcripts(self.client, self.keys)
        self.batched = Coalescer(self.run_many)
        """`await store.batched.run(call)`: like `run`, in one pipeline with the calls made at the same moment."""
        self.timers = TimerRecords(self.client, self.keys)
        self.bot = BotRecords(self.client, self.keys)
        self.rules = RuleRecords(self.client, self.keys)
        self.channels = ChannelRecords(self.client, self.keys, self.batched)
        self.feeds = Feeds(self.client, self.keys)
        self.wechat = WechatRecords(self.client, self.keys, self.batched)
        self.telegram = TelegramRecords(self.client, self.keys)
        self.hooks = HookRecords(self.client, self.keys)
        self.wecom = WecomRecords(self.client, self.keys)
        self.archive = ArchiveRecords(self.client, self.keys, self.partitions)

    def streams_of(self, part: int) -> Streams:
        """The streams of one partition (0 <= part < partitions)."""
        return self._streams[part]

    def inbound_partition(self, ident: str) -> int:
        """Where a customer identity's ('channel:account:user') messages go: all of one
        conversation's lines in one partition, in the order they were accepted."""
        return Keys.partition_of(ident, self.partitions)

    def outbound_partition(self, cid: str) -> int:
        """Where a conversation's replies go: one partition, so they are sent in order."""
        return Keys.partition_of(cid, self.partitions)

    async def open(self) -> None:
        try:
            await self.client.ping()
            info = await server_info(self.client, self.cluster)
            check_server(self.url, info, self.cluster)
            self.version = server_version(info)
            self.sharded_pubsub = self.version >= SHARDED_SINCE
            await self.scripts.load(self.client)
        except REDIS_ERRORS as exc:
            raise StoreError(f"cannot reach Redis at {self.url}: {exc}") from exc

    async def settle_partitions(self) -> None:
        """Record `partitions` as the streams' count, or refuse in one line: with another count
        than the one they were written with, a conversation's waiting entries would be read out
        of order, or by nobody."""
        key = self.keys.stream_partitions
        recorded = await self.client.get(key)
        old = int(recorded) if recorded else 1  # never recorded: the one stream there always was
        if old == self.partitions:
            return
        waiting = 0
        for p in range(old):
            part = Streams(self.client, self.keys.partition(p))
            for stream in (part.keys.inbound, part.keys.outbound):
                state = await part.group_state(stream)
                waiting += state.pending + state.lag
        if waiting:
            raise StoreError(f"redis.partitions is {self.partitions} but the streams still hold {waiting} "
                             f"entries written with {old}: run with redis.partitions: {old} until they are "
                             "drained (docs/operations.md, \"Partitions\")")
        await self.client.set(key, self.partitions)

    async def close(self) -> None:
        for node in self._node_clients.values():
            await node.aclose()
        self._node_clients.clear()
        await self.client.aclose()

    async def run(self, call: Call[R]) -> R:
        """Run one typed script call (router.store.calls); a refusal raises ProtocolError."""
        reply = await self.scripts.call(self.client, call.script, call.keys(self.keys), call.argv())
        return call.decode(reply)

    async def run_many(self, calls: Sequence[Call[Any]]) -> list[Any]:
        """The calls in one pipeline; per call its result, or its error (a refusal or a Redis
        error) as a value, so one bad entry does not fail its batch."""
        return (await self.run_many_then(calls, None))[0]

    async def run_many_then(self, calls: Sequence[Call[Any]], then: Callable[[Any], None] | None
                            ) -> tuple[list[Any], list[Any]]:
        """As `run_many`, with the commands `then(pipe)` queues after the calls in the same
        pipeline: (the calls' results, those commands' raw replies, errors as values)."""
        def build(pipe: Any) -> None:
            for c in calls:
                self.scripts.queue(pipe, c.script, c.keys(self.keys), c.argv())
            if then is not None:
                then(pipe)

        replies = await self.scripts.run(self.client, build)
        extra = replies[len(calls):]
        out: list[Any] = []
        for c, reply in zip(calls, replies[:len(calls)], strict=True):
            if isinstance(reply, Exception):
                out.append(reply)
                continue
            try:
                out.append(c.decode(reply))
            except (ProtocolError, ValueError, IndexError, TypeError) as exc:
                out.append(exc)
        return out, extra

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
        """A script by name with positional ARGV, untyped: for tests and benchmarks that drive the
        scripts directly. The product uses `run` (tests/router/test_store_door.py checks)."""
        return await self.scripts.call(self.client, name, keys or [self.keys.conv_index], args)

    async def subscribe(self, *channels: str) -> Subscription:
        """A subscription to `channels` on a connection of its own: shard channels on Redis >= 7."""
        sub = Subscription(self.client, channels, self.sharded_pubsub, self.cluster)
        try:
            await sub.open()
        except BaseException:
            await sub.close()
            raise
        return sub

    @property
    def slotted_channels(self) -> bool:
        """A script may not publish on a channel outside its keys' slot: shard channels on a
        Cluster. One server checks no slots, so its scripts publish wherever, saving the round
        trip of a publish after the script."""
        return self.sharded_pubsub and self.cluster

    async def publish(self, channel: str, message: str) -> None:
        """A frame to whichever process holds its socket (the agent or customer channel)."""
        if self.sharded_pubsub:
            await self.client.spublish(channel, message)
        else:
            await self.client.publish(channel, message)

    async def append_published(self, call: AppendOnce) -> Added:
        """Append once and publish the entry on `call.channel`. On a Cluster's shard channels the
        stream and the channel are in different slots, so the publish follows the script, and is
        repeated for an entry already there: a retry after a crash between the two still reaches
        open pages, and pages drop an entry id they already have."""
        if not (self.slotted_channels and call.channel):
            return await self.run(call)
        added = await self.run(dataclasses.replace(call, channel=""))
        payload = call.payload.decode() if isinstance(call.payload, bytes) else call.payload
        await self.publish(call.channel, f"{call.address}\n{added.id}\n{payload}")
        return added

    async def shared_secret(self, key: str) -> bytes:
        """A random secret every process sharing this Redis agrees on; the first one sets it."""
        await self.client.set(key, os.urandom(32).hex(), nx=True)
        return bytes.fromhex(await self.client.get(key))

    async def forget(self) -> int:
        """Delete every key of this namespace (keys.in_namespace), and only those; how many went. For a
        scratch namespace such as the simulator's: a shop's namespace holds its conversations."""
        gone = 0
        batch: list[str] = []
        for pattern in (f"{self.keys.ns}:*", "{*"):
            async for key in self.client.scan_iter(match=pattern, count=1000):
                if in_namespace(key, self.keys.ns):
                    batch.append(key)
                if len(batch) >= 1000:
                    gone += await self._unlink(batch)
        return gone + await self._unlink(batch)

    async def _unlink(self, batch: list[str]) -> int:
        # One key per command in one pipeline: on a Cluster the batch's keys live in many slots.
        if not batch:
            return 0
        pipe = self.client.pipeline(transaction=False)
        for key in batch:
            pipe.unlink(key)
        gone = sum(int(n) for n in await pipe.execute())
        batch.clear()
        return gone

    async def round_trip(self) -> float:
        """Seconds one PING takes now; a Redis that does not answer raises."""
        started = time.perf_counter()
        await self.client.ping()
        return time.perf_counter() - started

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
        # Before the agents, since it orders the free sets; in one transaction, so no script sees
        # half of it.
        pipe = self.client.pipeline(transaction=True)
        pipe.delete(self.keys.assign_settings)
        # The queue announcement's delay rides along: lib.lua's queue_moved reads it there.
        pipe.hset(self.keys.assign_settings, mapping={
            **settings.assignment.redis_fields(),
            "announce_delay_s": repr(float(settings.sla.queue_announce_delay_s))})
        await pipe.execute()
        for pool in settings.pools:
            await self.client.sadd(self.keys.pools, pool.id)
        for agent in settings.agents:
            if (await self.accounts.live(agent.id)).get("edited"):
                continue  # changed in the console since: Redis holds the truth for this agent now
            await self.run(AgentSync(agent.id, agent.name or agent.id, agent.role.value, agent.max_chats,
                                     tuple(agent.pools), dict(agent.skills), now))
            if agent.password_hash:
                await self.accounts.put_new(agent.id, "password", agent.password_hash)
        await self.accounts.set_policy([r.value for r in settings.accounts.require_2fa], only_if_unset=True)

    # -- console sessions (router.auth.Sessions) ----------------------------------------------
    async def session_put(self, sid: str, agent_id: str, fingerprint: str, ttl_s: int, pending: str = "") -> None:
        """`pending`: what the session must do before it may do anything else ('enrol': set up
        two-factor sign-in, which the agent's role requires)."""
        key = self.keys.session(sid)
        # A transaction, so a session never exists without its expiry.
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(key, mapping={"agent": agent_id, "fp": fingerprint, "since": time.time(), "pending": pending})
        pipe.expire(key, ttl_s)
        await pipe.execute()
        await self.accounts.add_session(agent_id, sid, ttl_s)

    async def session_get(self, sid: str) -> tuple[str | None, str | None]:
        agent, fp = await self.client.hmget(self.keys.session(sid), "agent", "fp")
        return agent, fp

    async def session_pending(self, sid: str) -> str:
        return str(await self.client.hget(self.keys.session(sid), "pending") or "")

    async def session_settle(self, sid: str) -> None:
        """The session did what it had to (enrolled): it may do the rest now."""
        await self.client.hset(self.keys.session(sid), "pending", "")

    async def session_drop(self, sid: str) -> None:
        """Delete the session, then tell every process, so sockets opened with it close too."""
        agent = await self.client.hget(self.keys.session(sid), "agent")
        await self.client.delete(self.keys.session(sid))
        if agent:
            # On the agent channel, as an unstored frame ('-'): the process holding the agent's
            # sockets already listens there. A lost notice is caught by the socket's own re-check.
            notice = json.dumps({"type": "session_ended", "session": sid})
            await self.publish(self.keys.agent_channel, f"{agent}\n-\n{notice}")

    async def agent_notice(self, aid: str, notice: dict[str, Any]) -> None:
        """An unstored frame ('-') for the server side of the agent's sockets on every process."""
        await self.publish(self.keys.agent_channel, f"{aid}\n-\n{json.dumps(notice)}")

    async def pool_ids(self) -> list[str]:
        return sorted(await self.client.smembers(self.keys.pools))

    async def assigned_view(self, cid: str, customer_hint: str = "", limit: int = 500) -> AssignedView:
        """What an `assigned` frame shows, in one round trip (router/store/views.py)."""
        return await assigned_view(self.client, self.keys, cid, customer_hint, limit)

    async def assigned_views(self, cids: list[str], limit: int = 500) -> list[AssignedView]:
        """The same for many conversations, in two round trips (router/store/views.py)."""
        return await assigned_views(self.client, self.keys, cids, limit)

    # -- views as the API shows them (the structs' view()), for callers that pass dicts on ------
    async def conversation(self, cid: str) -> dict[str, Any] | None:
        conv = await self.conversations.get(cid)
        return conv.view() if conv else None

    async def agent(self, aid: str) -> dict[str, Any] | None:
        agent = await self.agents.get(aid)
        return agent.view() if agent else None

    async def customer(self, cust: str) -> dict[str, Any] | None:
        customer = await self.customers.get(cust)
        return customer.view() if customer else None
