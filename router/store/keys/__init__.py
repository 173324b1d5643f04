"""Every Redis key and channel kefu-router uses, and why each exists.

Hash tags group the keys one Lua script touches, so the same scripts run on Redis Cluster. The
namespace (the shop) is part of every tag, so several shops sharing one Cluster put their routing
on the slots their names hash to, not all on one shard (`{rt:shopA}` and `{rt:shopB}` hash apart):

- ``{rt:NS}``  the routing domain: conversations' routing state, agents, loads, pool queues,
  customer links. Assignment must change an agent's load and a conversation's state in one
  script, so all of it lives in one slot. It is small (hashes and sets; message bodies only for
  the seconds a bot turn waits out its debounce window).
- ``{in:NS}``  the inbound stream and its idempotency keys (one script: dedupe + XADD).
- ``{out:NS}`` the outbound stream (outbox), its dead letters, reply idempotency and
  per-conversation send order.
- ``{in:NS:P}``, ``{out:NS:P}`` the same for partition P >= 1 when `redis.partitions` is N > 1
  (`Keys.partition(P)`; partition 0 keeps the names above). A conversation's messages always go
  to one partition (`partition_of`), so its order holds; each partition is its own slot and
  consumer group, so on a Cluster the streams spread over the masters.
- ``{t:NS:<conversation>}`` one conversation's transcript: the bulk data, spread across slots.
- ``{f:NS:<customer>}`` one web chat customer's feed: what the chat page replays after `last_seen`.
- ``{wx:NS:<account>}`` one WeChat account's access token, its refresh lock and reply quotas.
- ``{tg:NS:<bot>}`` one Telegram bot's chat migrations.
- ``{bot:NS}`` the bot's unanswered-question counts (its turns, leases and stats live in
  ``{rt:NS}``: a handoff moves the conversation in the same script).
- ``{rules:NS}`` the routing-rule versions and the pointer to the active one (one activation
  script).
- ``{csat:NS}`` customer satisfaction ratings and their per-agent and by-time indexes (one script
  records a rating and its indexes together).
- ``{ch:NS:<channel>:<account>}`` whatever another channel keeps per account (`channel_state`).
- ``{acct:NS}`` agent accounts: password hashes, TOTP secrets, API key digests, sign-in
  failures and locks (router/store/accounts.py).
- ``{hook:NS:<channel>:<account>}`` the signed (timestamp, nonce) pairs one webhook has seen lately.
- ``{cfg:NS}`` the versions of what admins edit live: pools, hours, shifts, quick replies, FAQ.
- ``{wh:NS}`` outbound webhooks (router/hooks/): the admins' webhooks, the delivery stream, each
  delivery's record and log, and per-conversation delivery order. What happened (the events
  they are made from) is on a stream in ``{rt:NS}``, written by the routing scripts themselves.
- ``{audit:NS}`` the audit log: who changed what, read by admins and copied to the archive.

Scripts reach keys of their own tag that they derive from ids (e.g. an agent's hash from the
agent id); every such key shares the script's hash tag, so it is in the same slot.

Pub/sub channels are tagged like the keys of the scripts that publish on them: on Redis >= 7 they
are shard channels, served by the node that owns their slot (router/store/pubsub.py); before 7,
classic channels of the same names.

The keys are grouped by what they serve, one module each, and `Keys` below is all of them:

- conversations.py  conversations' routing state, the archive queue, transcripts
- customers.py      customers, their identities, the web chat feed
- agents.py         agents, presence, loads, pools and their queues
- ops.py            timers and SLA, tasks, queue texts, handovers, approvals, shifts, ratings, audit
- bot.py            the bot's turns and its unanswered questions
- streams.py        the inbound and outbound streams, replication barriers
- accounts.py       credentials, API keys, sign-in throttling, console sessions
- channels.py       what WeChat, Telegram and other channels keep per account; webhook nonces
- hooks.py          outbound webhooks: events and deliveries
- versions.py       rule versions and live configuration versions

A new key goes in the module of what it serves, beside its neighbours in the same hash tag. A new
group is a new module with one `KeysBase` mixin, added to `Keys`; tests/router/test_keys_catalogue.py
fails when a group is left out, a name is defined twice or a key has no docstring.

Until 0.1 the namespace stood before the tag (`kefu:{rt}:conv:1`); `kefu migrate` copies such keys
to these names (router/store/migrate.py).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, replace

from router.store.keys.accounts import AccountKeys
from router.store.keys.agents import AgentKeys
from router.store.keys.bot import BotKeys
from router.store.keys.channels import ChannelKeys
from router.store.keys.conversations import ConversationKeys
from router.store.keys.customers import CustomerKeys
from router.store.keys.hooks import HookKeys
from router.store.keys.ops import OpsKeys
from router.store.keys.streams import StreamKeys
from router.store.keys.versions import VersionKeys

INBOUND_GROUP = "routers"
"""Consumer group of the route workers on the inbound stream."""
OUTBOUND_GROUP = "senders"
"""Consumer group of the senders on the outbound stream."""
ARCHIVE_GROUP = "archivers"
"""Consumer group of the archive workers on the archive queue."""


def in_namespace(key: str, ns: str) -> bool:
    """Whether `key` belongs to namespace `ns`: its hash tag names it second (`{rt:NS}`,
    `{t:NS:cid}`), or, untagged, it starts with `NS:` (sessions, shift edges, and the keys of the
    layout before 0.1). A namespace has no ':' (the settings check), so this is exact. A function,
    not a `Keys` method: every method there is a key name the Lua scripts get (lua_keys.py)."""
    if key.startswith(f"{ns}:"):
        return True
    end = key.find("}")
    if not key.startswith("{") or end < 0:
        return False
    parts = key[1:end].split(":")
    return len(parts) >= 2 and parts[1] == ns


@dataclass(frozen=True, slots=True)
class Keys(ConversationKeys, CustomerKeys, AgentKeys, OpsKeys, BotKeys, StreamKeys, AccountKeys, ChannelKeys,
           HookKeys, VersionKeys):
    """Key names under one namespace, so several shops can share a Redis."""

    ns: str = "kefu"
    part: int = 0
    """Which partition of the inbound and outbound streams the {in} and {out} keys name."""

    def partition(self, part: int) -> Keys:
        """These keys with {in} and {out} keys of partition `part` (0: the unpartitioned names)."""
        return self if part == self.part else replace(self, part=part)

    @staticmethod
    def partition_of(ref: str, partitions: int) -> int:
        """The partition of a conversation's (or a customer identity's) stream entries: a hash
        every process computes alike (CRC-32, not Python's salted hash), so its order holds."""
        return zlib.crc32(ref.encode()) % partitions if partitions > 1 else 0
