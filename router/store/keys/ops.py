"""The team's operations: durable timers and SLA, follow-up tasks, queue texts, handovers and
approvals in ``{rt:NS}`` (their scripts change conversations, so same slot), shift edges, ratings
in ``{csat:NS}`` and the audit log in ``{audit:NS}``.
"""

from __future__ import annotations

from router.store.keys.base import KeysBase


class OpsKeys(KeysBase):
    """Keys of timers, SLA, tasks, handovers, approvals, shifts, ratings and the audit log."""

    __slots__ = ()

    # Durable timers and SLA, in {rt}: the fire script changes conversations, so same slot.

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

    # Customer satisfaction {csat}: one script records a rating and its indexes together.

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

    @property
    def audit_log(self) -> str:
        """Stream: the audit log, one entry per change a person made (who, when, from where,
        before and after; router/ops/audit.py). Capped (`audit.redis_max_entries`, approximate
        trim); the archive keeps every entry for good (router/archive/audit.py)."""
        return f"{{audit:{self.ns}}}:log"
