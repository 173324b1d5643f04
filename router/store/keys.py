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

Until 0.1 the namespace stood before the tag (`kefu:{rt}:conv:1`); `kefu migrate` copies such keys
to these names (router/store/migrate.py).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, replace

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
class Keys:
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

    @property
    def _in(self) -> str:
        return f"{{in:{self.ns}}}" if self.part == 0 else f"{{in:{self.ns}:{self.part}}}"

    @property
    def _out(self) -> str:
        return f"{{out:{self.ns}}}" if self.part == 0 else f"{{out:{self.ns}:{self.part}}}"

    # -- routing domain {rt} ------------------------------------------------------------------
    @property
    def rt(self) -> str:
        """Prefix of routing keys (the Lua scripts get whole key names: router/store/lua_keys.py)."""
        return f"{{rt:{self.ns}}}:"

    def conv(self, cid: str) -> str:
        """Hash: one conversation's routing state (see router.models.Conversation)."""
        return f"{self.rt}conv:{cid}"

    @property
    def conv_index(self) -> str:
        """Sorted set: conversation id by last update, for listing without SCAN."""
        return f"{self.rt}convs"

    def conv_trail(self, cid: str) -> str:
        """List: the conversation's assignments, queueings and transfers in order (JSON), kept
        only until it is archived; the hash holds just the latest."""
        return f"{self.rt}conv:{cid}:trail"

    def conv_readers(self, cid: str) -> str:
        """Set: agents named with @ in the conversation's notes, who may read it (and write notes
        in it) though it is not theirs; dropped with the conversation at retention."""
        return f"{self.rt}conv:{cid}:readers"

    # -- the archive's queue and retention, in {rt}: a close enqueues in its own script --------
    @property
    def archive_queue(self) -> str:
        """Stream: closed conversations (id, close version) waiting to be written to the archive;
        close.lua and bot_close.lua add to it in the same step as the close."""
        return f"{self.rt}archive:queue"

    @property
    def archive_done(self) -> str:
        """Sorted set: archived conversation id -> its close time, what retention reads to find
        conversations whose Redis keys may go."""
        return f"{self.rt}archive:done"

    @property
    def archive_tries(self) -> str:
        """Hash: archive queue entry id -> failed tries while the database answered, so a poison
        conversation is retried a bounded number of times whichever process takes it back."""
        return f"{self.rt}archive:tries"

    @property
    def archive_dead_letters(self) -> str:
        """Stream: archive queue entries that failed `max_tries` times with the database up, with
        the reason; in {rt} with the queue, so moving one there and acking it is one transaction."""
        return f"{self.rt}archive:dead-letters"

    @property
    def archive_purging(self) -> str:
        """Hash: conversation id -> JSON {channel, chat, closed_at}: its routing keys are gone
        and its transcript and feed (other slots) are still to delete; a crash resumes here."""
        return f"{self.rt}archive:purging"

    def customer(self, cust: str) -> str:
        """Hash: customer name, segment, tags, open conversation, last agent (stickiness)."""
        return f"{self.rt}cust:{cust}"

    def customer_identities(self, cust: str) -> str:
        """Set: the channel identities ('channel:account:user') linked to one customer."""
        return f"{self.rt}cust:{cust}:idents"

    def customer_convs(self, cust: str) -> str:
        """Sorted set: the customer's conversations by creation time, so the console can show
        their history across channels without scanning every conversation."""
        return f"{self.rt}cust:{cust}:convs"

    def customer_merge(self, cust: str) -> str:
        """String: JSON of what merging this customer into another moved (its identities and
        conversations, the fields it filled), so an unmerge can put each back."""
        return f"{self.rt}cust:{cust}:merge"

    def customer_merged(self, cust: str) -> str:
        """Set: the customers merged into this one, whose archived conversations its history
        reads too (the archive keeps the id a conversation was created under)."""
        return f"{self.rt}cust:{cust}:merged"

    def profile_asked(self, ident: str) -> str:
        """String with a TTL: the channel was asked for this identity's profile lately (WeChat
        user/info), so the processes ask once a day, not once per message."""
        return f"{self.rt}ident:{ident}:asked"

    def identity(self, channel: str, account: str, user: str) -> str:
        """String: channel identity -> customer id. One customer, many channels."""
        return self.identity_of(f"{channel}:{account}:{user}")

    def identity_of(self, ident: str) -> str:
        """The same key, from the identity as resolve.lua gets it ('channel:account:user')."""
        return f"{self.rt}ident:{ident}"

    def agent(self, aid: str) -> str:
        """Hash: agent's live status, cap, load, idle-since, pools and skills; each skill's level
        also as a field sk:<skill>, so checking one agent reads levels without decoding JSON."""
        return f"{self.rt}agent:{aid}"

    def agent_convs(self, aid: str) -> str:
        """Set: the agent's open conversations; its size is the agent's load."""
        return f"{self.rt}agent:{aid}:convs"

    def agent_reading(self, aid: str) -> str:
        """Sorted set: conversations whose notes named the agent (keys.conv_readers), by when;
        the newest 200 kept. Lets the agent read those conversations' customers too."""
        return f"{self.rt}agent:{aid}:reading"

    def agent_away_time(self, aid: str, day: str) -> str:
        """Hash: away reason ('away' when none was given) -> seconds spent in it on one day
        (YYYY-MM-DD, UTC, counted when the agent leaves that state); expires after 40 days.
        Written by status.lua, read beside the agent for the Team tab."""
        return f"{self.rt}agent:{aid}:away:{day}"

    def agent_events(self, aid: str) -> str:
        """Stream: frames for the agent, so a reconnecting or remote console misses nothing."""
        return f"{self.rt}agent:{aid}:events"

    @property
    def cap_overrides(self) -> str:
        """Hash: agent id -> the cap a supervisor set live. Kept apart from the agent's hash so the
        config sync, which writes `max_chats` there at every start, can see it and leave it in
        force until a supervisor clears it (set_cap.lua, agent_sync.lua)."""
        return f"{self.rt}caps:override"

    @property
    def agents(self) -> str:
        """Set: ids of all configured agents."""
        return f"{self.rt}agents"

    @property
    def pools(self) -> str:
        """Set: ids of all configured pools."""
        return f"{self.rt}pools"

    def pool_agents(self, pool: str) -> str:
        """Set: members of a pool, whatever their status."""
        return f"{self.rt}pool:{pool}:agents"

    def skill_levels(self, skill: str) -> str:
        """Hash: agent id -> level in one skill. A copy of the agents' sk:<skill> fields (both
        written by agent_sync), so a scan reads a page of agents' levels in one HMGET."""
        return f"{self.rt}skill:{skill}"

    @property
    def agent_slots(self) -> str:
        """Hash: agent id -> 'load/cap', kept by every load or cap change, so a scan records a
        page of candidates' loads in one HMGET."""
        return f"{self.rt}agents:slots"

    def pool_free(self, pool: str) -> str:
        """Sorted set: online members with free capacity, in the pool's policy order (load then
        idle-since; idle-since; or all 0 for round robin, scanned by id), so the first member who
        qualifies is the choice."""
        return f"{self.rt}pool:{pool}:free"

    def pool_queue(self, pool: str) -> str:
        """Sorted set: waiting conversations, scored by arrival minus priority's worth in seconds
        (aging), requeues and transfers ahead of the rest."""
        return f"{self.rt}pool:{pool}:queue"

    def pool_stats(self, pool: str) -> str:
        """Hash: a pool's moving average of handle time (avg_handle_s), kept by close.lua, for the
        wait estimate in queue frames."""
        return f"{self.rt}pool:{pool}"

    def pool_rr_cursor(self, pool: str) -> str:
        """String: the agent round robin chose last in a pool; the next choice starts after it."""
        return f"{self.rt}pool:{pool}:rr"

    @property
    def assign_settings(self) -> str:
        """Hash: the assignment settings (policy, stickiness, aging) the Lua scripts read, written
        by every process at start so all processes choose alike."""
        return f"{self.rt}assign:settings"

    def applied(self, mid: str) -> str:
        """String: marks an inbound message as routed, so a re-read entry has no second effect."""
        return f"{self.rt}applied:{mid}"

    # -- durable timers and SLA {rt}: the fire script changes conversations, so same slot -------
    @property
    def timers_due(self) -> str:
        """Sorted set: timer id -> due time (epoch s); what no process has claimed yet."""
        return f"{self.rt}timers:due"

    @property
    def timers_inflight(self) -> str:
        """Sorted set: timer id -> lease expiry; claimed, not yet acked. An expired lease means its
        process died mid-fire, and another process claims the timer again."""
        return f"{self.rt}timers:inflight"

    @property
    def timers_data(self) -> str:
        """Hash: timer id -> JSON {kind, cid, n, ...}; what to do when it fires (a `handover` or
        `transfer` timer also carries its entry, for the note and text it owes)."""
        return f"{self.rt}timers:data"

    @property
    def sla_profiles(self) -> str:
        """Hash: SLA profile name -> JSON targets in seconds, synced from config/sla.yaml at start,
        so the route and fire scripts read targets without a round trip."""
        return f"{self.rt}sla:profiles"

    @property
    def tasks(self) -> str:
        """Hash: task id -> JSON follow-up task (satisfaction call ...), created by SLA timers."""
        return f"{self.rt}tasks"

    @property
    def tasks_index(self) -> str:
        """Sorted set: task id by creation time, for listing newest first."""
        return f"{self.rt}tasks:index"

    def queue_text(self, cid: str) -> str:
        """Hash: the queue position last texted to a WeChat/Telegram customer and when; one
        compare-and-set per conversation, so exactly one process sends each update."""
        return f"{self.rt}qtext:{cid}"
    @property
    def handovers(self) -> str:
        """Stream: conversations handed back when their agent went offline (who had what, when,
        where it went); written by status.lua in the same step as the requeue, for supervisors."""
        return f"{self.rt}handovers"

    def approval(self, apid: str) -> str:
        """Hash: one discount approval (agent, conversation, amount, state, answer). In {rt} so the
        answer and the frames to agent and supervisors change together in one script."""
        return f"{self.rt}approval:{apid}"

    @property
    def approvals_pending(self) -> str:
        """Sorted set: approvals waiting for a supervisor, by creation time; what GET replays."""
        return f"{self.rt}approvals:pending"

    def approval_seen(self, aid: str, client_msg_id: str) -> str:
        """String: an agent's client_msg_id -> approval id, so a resent request is made once."""
        return f"{self.rt}approval:seen:{aid}:{client_msg_id}"

    def shift_edge(self, shift: str, day: str, edge: str) -> str:
        """String (SET NX): one shift's start or end on one date has been acted on, so several
        processes each running the roster act on it exactly once."""
        return f"{self.ns}:shift:{shift}:{day}:{edge}"

    # -- bot, in {rt}: its turns move conversations, so they share the routing slot ----------
    def bot(self, cid: str) -> str:
        """Hash: what the bot remembers of one conversation (BotState JSON, last turn time)."""
        return f"{self.rt}bot:{cid}"

    def bot_pending(self, cid: str) -> str:
        """List: customer lines waiting for the bot's next turn; trimmed only once answered,
        so a process dying inside the debounce window or mid-turn loses none of them."""
        return f"{self.rt}bot:{cid}:pending"

    def bot_lease(self, cid: str) -> str:
        """String (PX): the process answering a bot turn; lapses if that process dies."""
        return f"{self.rt}bot:{cid}:lease"

    @property
    def bot_due(self) -> str:
        """Sorted set: conversation -> when its pending lines become a turn (end of the burst)."""
        return f"{self.rt}bot:due"

    @property
    def bot_idle(self) -> str:
        """Sorted set: bot conversation -> last bot turn, to close quiet ones as bot-resolved."""
        return f"{self.rt}bot:idle"

    @property
    def bot_stats(self) -> str:
        """Hash: deflection counters (conversations, resolved, handed_off, reason:<r>, answers)."""
        return f"{self.rt}bot:stats"

    # -- bot knowledge gaps {bot} ------------------------------------------------------------
    @property
    def bot_unknown(self) -> str:
        """Sorted set: normalised unanswered question -> times asked, so the FAQ can grow."""
        return f"{{bot:{self.ns}}}:unknown"

    @property
    def bot_unknown_text(self) -> str:
        """Hash: normalised question -> the latest wording asked (PII-masked), for admins."""
        return f"{{bot:{self.ns}}}:unknown:text"

    # -- inbound {in} -------------------------------------------------------------------------
    @property
    def inbound(self) -> str:
        """Stream: every accepted customer message, consumed by the route workers."""
        return f"{self._in}:stream"

    def inbound_seen(self, dedupe_key: str) -> str:
        """String: (channel, account, native id) -> our message id, so retries are accepted once."""
        return f"{self._in}:seen:{dedupe_key}"

    def inbound_line(self, ident: str) -> str:
        """Counter: lines accepted from one customer identity ('channel:account:user'); ingest
        numbers each entry with it, so the route workers route a conversation's lines in order
        whichever process reads which."""
        return f"{self._in}:n:{ident}"

    def inbound_routed(self, ident: str) -> str:
        """String: the number of the identity's last line routed; line n waits for n-1."""
        return f"{self._in}:routed:{ident}"

    @property
    def inbound_tries(self) -> str:
        """Hash: inbound entry id -> failed tries, so a poison entry is retried a bounded number
        of times whichever process takes it back."""
        return f"{self._in}:tries"

    @property
    def inbound_dead_letters(self) -> str:
        """Stream: inbound entries that could not be parsed or routed, with the reason; in {in},
        so moving one there and acking it is one transaction."""
        return f"{self._in}:dead-letters"

    @property
    def stream_partitions(self) -> str:
        """String: how many partitions the streams were last consumed as (`redis.partitions`); a
        process with another count refuses to start while entries wait in the old ones. Absent
        until the count first differs from 1."""
        return f"{{in:{self.ns}}}:partitions"

    # -- outbound {out} -----------------------------------------------------------------------
    @property
    def outbound(self) -> str:
        """Stream: the outbox of replies, consumed by the senders."""
        return f"{self._out}:stream"

    @property
    def dead(self) -> str:
        """Stream: replies that ran out of attempts, for a person to look at."""
        return f"{self._out}:dead"

    @property
    def outbound_tries(self) -> str:
        """Hash: outbound entry id -> failed tries (a send that raised, not a channel refusal)."""
        return f"{self._out}:tries"

    @property
    def outbound_dead_letters(self) -> str:
        """Stream: outbound entries that could not be parsed or handled, with the reason. Replies a
        channel refused go to `dead`: those were handled, and the agent saw them fail."""
        return f"{self._out}:dead-letters"

    def outbound_seen(self, author: str, client_msg_id: str) -> str:
        """String: an author's client_msg_id -> message id, so a resent reply is accepted once."""
        return f"{self._out}:seen:{author}:{client_msg_id}"

    def outbound_seq(self, cid: str) -> str:
        """Counter: order number of the next reply in a conversation."""
        return f"{self._out}:seq:{cid}"

    def outbound_done(self, cid: str) -> str:
        """String: highest reply order number finished (sent or dead) in a conversation."""
        return f"{self._out}:done:{cid}"

    def outbound_sent(self, mid: str) -> str:
        """String: the channel took this reply; a re-read outbox entry is not sent again."""
        return f"{self._out}:sent:{mid}"

    # -- transcript {t:cid} -------------------------------------------------------------------
    def transcript(self, cid: str) -> str:
        """Stream: the conversation's messages in order, with notes."""
        return f"{{t:{self.ns}:{cid}}}:log"

    def transcript_ids(self, cid: str) -> str:
        """Hash: message id -> transcript entry id, to append each message once."""
        return f"{{t:{self.ns}:{cid}}}:ids"

    def delivery(self, cid: str) -> str:
        """Hash: message id -> delivery status JSON (sent / failed + reason)."""
        return f"{{t:{self.ns}:{cid}}}:delivery"

    def attachments(self, cid: str) -> str:
        """Hash: message id -> the file fetched for a customer's message (a MediaRef as JSON), or
        why it could not be (`{"error": ...}`). Beside the stream, since a stream entry cannot be
        changed, and the fetch ends after the message was appended (router/pipeline/media_fetch.py)."""
        return f"{{t:{self.ns}:{cid}}}:media"

    # -- web chat feed {f:visitor} ------------------------------------------------------------
    def feed(self, visitor: str) -> str:
        """Stream: frames a web chat visitor is shown, replayed after `last_seen`."""
        return f"{{f:{self.ns}:{visitor}}}:feed"

    def feed_ids(self, visitor: str) -> str:
        """Hash: message id -> feed entry id, to find `last_seen` and to add each message once."""
        return f"{{f:{self.ns}:{visitor}}}:ids"

    def session(self, sid: str) -> str:
        """Hash (EX, the cookie's lifetime): one console sign-in, its agent and their token's
        fingerprint. Deleting it signs the agent out at once, whatever the cookie still says."""
        return f"{self.ns}:session:{sid}"

    @property
    def phone_secret(self) -> str:
        """String: the key of the digests phone numbers are linked by (router/ops/profiles.py),
        shared by all processes, so a number is never stored and still finds its customer."""
        return f"{self.rt}phone:secret"

    @property
    def webchat_logo(self) -> str:
        """String: the URL of the welcome card's logo an admin uploaded (`/api/v1/media/{id}`); it
        wins over channels.webchat.welcome.logo while it is set (router/ops/pictures.py)."""
        return f"{self.rt}webchat:logo"

    @property
    def webchat_secret(self) -> str:
        """String: the session-signing secret shared by all processes when the config has none."""
        return f"{self.rt}webchat:secret"

    def agent_presence(self, aid: str) -> str:
        """Hash: connection id -> expiry, across processes; empty past the grace means offline."""
        return f"{self.rt}agent:{aid}:presence"

    # -- agent accounts {acct:NS}: credentials and sign-in throttling (router/store/accounts.py) --
    # Apart from {rt}: no routing script reads them, and a password check should not queue behind
    # assignment on the routing slot.
    @property
    def _acct(self) -> str:
        return f"{{acct:{self.ns}}}:"

    def account(self, aid: str) -> str:
        """Hash: one agent's credentials: argon2 password hash, TOTP secret (and one being
        enrolled), the last TOTP step used (no replay), the credential epoch sessions are bound to."""
        return f"{self._acct}agent:{aid}"

    def account_sessions(self, aid: str) -> str:
        """Set: the agent's console session ids, so disabling them ends every one at once."""
        return f"{self._acct}agent:{aid}:sessions"

    def api_key(self, digest: str) -> str:
        """Hash: an API key by the SHA-256 of its secret (never the secret): owner, role, label."""
        return f"{self._acct}key:{digest}"

    def api_keys_of(self, aid: str) -> str:
        """Hash: key id -> digest, an agent's API keys, to list and revoke them by id."""
        return f"{self._acct}agent:{aid}:keys"

    @property
    def api_key_ids(self) -> str:
        """Hash: key id -> digest, every key, so an admin revokes one by id alone."""
        return f"{self._acct}keys"

    def login_failures(self, kind: str, who: str) -> str:
        """String (EX failure window): failed sign-ins in a row of an account or an address."""
        return f"{self._acct}fail:{kind}:{who}"

    def login_wait(self, kind: str, who: str) -> str:
        """String (PX): present while the next try must wait; its TTL is the Retry-After."""
        return f"{self._acct}wait:{kind}:{who}"

    def login_lock(self, kind: str, who: str) -> str:
        """String (EX lockout): present while the account or address is locked."""
        return f"{self._acct}lock:{kind}:{who}"

    @property
    def account_policy(self) -> str:
        """Hash: live account policy (require_2fa: JSON list of roles); the config seeds it."""
        return f"{self._acct}policy"

    def oidc_state(self, state: str) -> str:
        """String (EX 10 min): an OIDC sign-in under way, its nonce; taken once by the callback."""
        return f"{self._acct}oidc:{state}"

    # -- WeChat {wx:<account>} ---------------------------------------------------------------
    def wechat_token(self, account: str) -> str:
        """String: the account's access token, shared by every process; each refresh invalidates
        the previous token at WeChat, so processes must not each keep their own."""
        return f"{{wx:{self.ns}:{account}}}:token"

    def wechat_token_lock(self, account: str) -> str:
        """String (SET NX PX): held by the one process refreshing the token, so refreshes don't overlap."""
        return f"{{wx:{self.ns}:{account}}}:token:lock"

    def wechat_quota(self, account: str, openid: str) -> str:
        """Hash: replies used in the customer's 48-hour window, opened by their last message; it
        expires with the window, because WeChat allows only a few replies per window."""
        return f"{{wx:{self.ns}:{account}}}:quota:{openid}"

    def reply_parts(self, reply_id: str) -> str:
        """String: how many parts of a split reply the channel took, so an outbox retry of the
        reply does not send those parts again (adapters.base.Adapter.send)."""
        return f"{self._out}:parts:{reply_id}"

    def channel_state(self, channel: str, account: str, *parts: str) -> str:
        """Any key a channel keeps for itself (tokens, windows, migrations), under one tag per
        account so one account's keys share a slot. A new channel names its keys here, through
        this function, instead of adding methods to this module."""
        return ":".join((f"{{ch:{self.ns}:{channel}:{account}}}", *parts))

    # -- webhook freshness {hook:<channel>:<account>} ---------------------------------------
    def webhook_nonce(self, channel: str, account: str, timestamp: str, nonce: str) -> str:
        """String (EX, until the timestamp leaves the replay window): SHA-256 of the body first
        seen with this signed (timestamp, nonce), so a captured triple cannot carry another body
        (adapters/replay.py)."""
        return f"{{hook:{self.ns}:{channel}:{account}}}:nonce:{timestamp}:{nonce}"

    # -- outbound webhooks: events {rt}, deliveries {wh} ---------------------------------------
    @property
    def hook_on(self) -> str:
        """String, present while some webhook is enabled: the routing scripts write events to
        `hook_events` only then, so a shop without webhooks pays nothing for them."""
        return f"{self.rt}hook:on"

    @property
    def hook_events(self) -> str:
        """Stream (capped): what happened (conversation.created, message.created, ...), written in
        the same script step as the effect; its entry id is the event's id."""
        return f"{self.rt}hook:events"

    def hook_seen(self, event_key: str) -> str:
        """String (EX): an event emitted from Python (a reply sent, a rating) was written once,
        so the retry of the step that emitted it does not write it twice."""
        return f"{self.rt}hook:seen:{event_key}"

    @property
    def hook_cursor(self) -> str:
        """String: the last `hook_events` entry turned into deliveries."""
        return f"{{wh:{self.ns}}}:cursor"

    @property
    def hook_lease(self) -> str:
        """String (PX): the process that turns events into deliveries, one at a time, so each
        conversation's deliveries are numbered in the order its events happened."""
        return f"{{wh:{self.ns}}}:lease"

    @property
    def hook_keep(self) -> str:
        """String (PX): present while a process reads `hook_events` for a channel of its own (the
        WeCom session state, adapters/wecom_state.py); `hook_on` is not cleared while it is."""
        return f"{self.rt}hook:keep"

    def hook_reader_cursor(self, reader: str) -> str:
        """String: the last `hook_events` entry one channel reader (e.g. `wecom`) handled."""
        return f"{self.rt}hook:reader:{reader}:cursor"

    def hook_reader_lease(self, reader: str) -> str:
        """String (PX): the one process at a time that runs the channel reader `reader`."""
        return f"{self.rt}hook:reader:{reader}:lease"

    @property
    def webhooks(self) -> str:
        """Hash: webhook id -> its settings (JSON: url, secret, events, enabled, source)."""
        return f"{{wh:{self.ns}}}:hooks"

    @property
    def hook_deliveries(self) -> str:
        """Stream: deliveries to make (webhook id, delivery id, number in its conversation)."""
        return f"{{wh:{self.ns}}}:deliveries"

    @property
    def hook_tries(self) -> str:
        """Hash: delivery entry id -> failed handling tries (a bug, not a receiver's refusal)."""
        return f"{{wh:{self.ns}}}:tries"

    @property
    def hook_dead_letters(self) -> str:
        """Stream (capped): deliveries given up after `webhook_delivery.max_attempts`."""
        return f"{{wh:{self.ns}}}:dead"

    def hook_delivery(self, hook: str, event: str) -> str:
        """Hash (EX a week): one event's delivery to one webhook: its body, status, attempts and
        last error, for the delivery log and redelivery."""
        return f"{{wh:{self.ns}}}:d:{hook}:{event}"

    def hook_log(self, hook: str) -> str:
        """Sorted set: one webhook's delivery ids by time, newest kept (the delivery log)."""
        return f"{{wh:{self.ns}}}:log:{hook}"

    def hook_seq(self, hook: str, cid: str) -> str:
        """Counter: deliveries numbered per (webhook, conversation), so they go in order."""
        return f"{{wh:{self.ns}}}:seq:{hook}:{cid}"

    def hook_done(self, hook: str, cid: str) -> str:
        """String: the highest delivery number finished (delivered or dead) per (webhook,
        conversation); number n goes after n-1 is finished."""
        return f"{{wh:{self.ns}}}:done:{hook}:{cid}"

    # -- Telegram -----------------------------------------------------------------------------
    def wechat_upload(self, account: str, media_id: str) -> str:
        """String: the WeChat media id of one of our files uploaded to this account, so a retried
        reply sends it without a second upload; it expires before WeChat's three days do."""
        return f"{{wx:{self.ns}:{account}}}:upload:{media_id}"

    def telegram_file(self, bot: str, media_id: str) -> str:
        """String: the file_id Telegram gave one of our files when this bot first sent it; sending
        by file_id again costs no upload."""
        return f"{{tg:{self.ns}:{bot}}}:file:{media_id}"

    def telegram_migrated(self, bot: str, chat: str) -> str:
        """String: a group's new supergroup chat id after ChatMigrated; later replies go there."""
        return f"{{tg:{self.ns}:{bot}}}:migrated:{chat}"

    # -- routing-rule versions {rules} ---------------------------------------------------------
    @property
    def rules_prefix(self) -> str:
        """Prefix of the rule-version keys."""
        return f"{{rules:{self.ns}}}:"

    @property
    def rules_active(self) -> str:
        """String: id of the active rule version ('v7'); every process decides with it."""
        return f"{self.rules_prefix}active"

    @property
    def rules_seq(self) -> str:
        """Counter: number of the last rule version, so version ids only ever grow."""
        return f"{self.rules_prefix}seq"

    @property
    def rules_log(self) -> str:
        """Sorted set: every rule version id scored by its number, for the version history."""
        return f"{self.rules_prefix}log"

    def rules_version(self, vid: str) -> str:
        """Hash: one rule version's YAML source, author, time, diff and summary; kept for ever
        so that any version can be read back, compared and rolled back to."""
        return f"{self.rules_prefix}v:{vid}"

    # -- customer satisfaction {csat} ----------------------------------------------------------
    @property
    def csat(self) -> str:
        """Hash: conversation id -> rating JSON; HSETNX makes a conversation's rating final."""
        return f"{{csat:{self.ns}}}:ratings"

    @property
    def csat_by_time(self) -> str:
        """Sorted set: conversation id by rating time, so reports read a time range, not all."""
        return f"{{csat:{self.ns}}}:by_time"

    def csat_asked(self, identity: str) -> str:
        """String: a WeChat or Telegram chat (channel:account:chat) -> the conversation it was
        asked to rate after the close; expires after csat.window_s."""
        return f"{{csat:{self.ns}}}:asked:{identity}"

    def csat_agent(self, aid: str) -> str:
        """Sorted set: one agent's rated conversations by rating time, for per-agent reports."""
        return f"{{csat:{self.ns}}}:agent:{aid}"

    # -- live configuration documents {cfg} ------------------------------------------------------
    # Pools, business hours, shifts, quick replies and the FAQ, edited in the console: each kind
    # (router/live/kinds.py) is versioned like the rules, and one activation script
    # (live_activate.lua) compares, numbers, stores and points in one step.
    def live_active(self, kind: str) -> str:
        """String: the active version id of one kind ('v3'); every process follows it."""
        return f"{{cfg:{self.ns}}}:{kind}:active"

    def live_seq(self, kind: str) -> str:
        """Counter: number of one kind's last version, so its ids only ever grow."""
        return f"{{cfg:{self.ns}}}:{kind}:seq"

    def live_log(self, kind: str) -> str:
        """Sorted set: one kind's version ids scored by number, for its history."""
        return f"{{cfg:{self.ns}}}:{kind}:log"

    def live_version(self, kind: str, vid: str) -> str:
        """Hash: one version's YAML source, author, time, diff and summary; kept for ever, so any
        version can be read back, compared and rolled back to."""
        return f"{{cfg:{self.ns}}}:{kind}:v:{vid}"

    # -- the audit log {audit} --------------------------------------------------------------------
    @property
    def audit_log(self) -> str:
        """Stream: the audit log, one entry per change a person made (who, when, from where,
        before and after; router/ops/audit.py). Capped (`audit.redis_max_entries`, approximate
        trim); the archive keeps every entry for good (router/archive/audit.py)."""
        return f"{{audit:{self.ns}}}:log"

    # -- replication barriers: one per tag ---------------------------------------------------
    @staticmethod
    def barrier(key: str) -> str:
        """Counter: written just before a WAIT, in the slot of `key`. WAIT covers the writes of
        its own connection; one write on that connection moves its mark to the master's offset,
        so WAIT then covers every earlier write to that master, by any connection."""
        start, end = key.find("{"), key.find("}")
        return f"{key[start:end + 1]}:barrier"

    # -- pub/sub channels: tagged like the keys of the scripts that publish on them -------------
    # On Redis >= 7 they are shard channels, served by the node that owns their slot
    # (router/store/pubsub.py); before 7, classic channels of the same names.
    @property
    def agent_channel(self) -> str:
        """Pub/sub: agent events, for whichever process holds the agent's WebSocket."""
        return f"{self.rt}events:agent"

    @property
    def customer_channel(self) -> str:
        """Pub/sub: customer events, addressed 'channel:chat' (feed entries, queue position)."""
        return f"{self.rt}events:customer"

    @property
    def live_channel(self) -> str:
        """Pub/sub: a live configuration document has a new version ('kind vid'); every process
        applies it (and also polls)."""
        return f"{{cfg:{self.ns}}}:events"

    @property
    def rules_channel(self) -> str:
        """Pub/sub: a new rule version was activated; each process loads it (and also polls)."""
        return f"{self.rules_prefix}events"
