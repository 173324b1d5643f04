"""What a load run counts and how it reports it."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile, q in [0, 100]; NaN without samples."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


Key = tuple[int, int]
"""(customer index, line sequence number) of one customer line in this run."""


@dataclass
class Tally:
    sent_at: dict[Key, float] = field(default_factory=dict)
    """When each customer line left; the agent side times it from here."""
    acked: set[Key] = field(default_factory=set)
    delivered: set[Key] = field(default_factory=set)
    """Customer lines some agent socket showed."""
    replied_at: dict[Key, float] = field(default_factory=dict)
    answered: set[Key] = field(default_factory=set)
    """Agent answers the customer's socket showed."""
    to_agent_ms: list[float] = field(default_factory=list)
    first_to_agent_ms: list[float] = field(default_factory=list)
    """The same, of the lines that start a chat (decided and assigned): a customer's first, and
    the first after a close."""
    follow_up_to_agent_ms: list[float] = field(default_factory=list)
    """The same, of the other lines: to a chat someone holds already."""
    to_customer_ms: list[float] = field(default_factory=list)
    duplicates_agent: int = 0
    duplicates_customer: int = 0
    assigned: dict[str, set[str]] = field(default_factory=dict)
    """Conversations each agent was told about in an `assigned` frame, by agent id."""
    errors: dict[str, int] = field(default_factory=dict)
    reconnects: int = 0
    connect_failures: int = 0

    def error(self, code: str) -> None:
        self.errors[code] = self.errors.get(code, 0) + 1

    @property
    def lost(self) -> int:
        return len(self.sent_at) - len(self.delivered)

    @property
    def unanswered(self) -> int:
        return len(self.replied_at) - len(self.answered)

    def summary(self, elapsed_s: float) -> dict[str, Any]:
        """The JSON report: counts, losses, duplicates and latency percentiles in milliseconds."""
        def pct(xs: list[float]) -> dict[str, float]:
            return {f"p{q}": round(percentile(xs, q), 2) for q in (50, 90, 99)} | {
                "max": round(max(xs), 2) if xs else math.nan, "n": len(xs)}

        return {
            "elapsed_s": round(elapsed_s, 2),
            "sent": len(self.sent_at),
            "acked": len(self.acked),
            "delivered_to_agent": len(self.delivered),
            "lost_to_agent": self.lost,
            "duplicates_at_agent": self.duplicates_agent,
            "answers_sent": len(self.replied_at),
            "answers_delivered": len(self.answered),
            "lost_to_customer": self.unanswered,
            "duplicates_at_customer": self.duplicates_customer,
            "conversations_assigned": sum(len(v) for v in self.assigned.values()),
            "reconnects": self.reconnects,
            "connect_failures": self.connect_failures,
            "errors": dict(sorted(self.errors.items())),
            "customer_to_agent_ms": pct(self.to_agent_ms),
            "first_line_to_agent_ms": pct(self.first_to_agent_ms),
            "follow_up_to_agent_ms": pct(self.follow_up_to_agent_ms),
            "agent_to_customer_ms": pct(self.to_customer_ms),
        }


def render(report: dict[str, Any]) -> str:
    """The report as a few lines a person reads."""
    c2a, a2c = report["customer_to_agent_ms"], report["agent_to_customer_ms"]
    first, follow = report["first_line_to_agent_ms"], report["follow_up_to_agent_ms"]
    lines = [
        f"lines sent {report['sent']}, acked {report['acked']}, reached an agent {report['delivered_to_agent']}"
        f" (lost {report['lost_to_agent']}, duplicates {report['duplicates_at_agent']})",
        f"answers sent {report['answers_sent']}, reached the customer {report['answers_delivered']}"
        f" (lost {report['lost_to_customer']}, duplicates {report['duplicates_at_customer']})",
        f"customer -> agent ms: p50 {c2a['p50']}  p90 {c2a['p90']}  p99 {c2a['p99']}  max {c2a['max']}",
        f"  a new chat's first line: p50 {first['p50']}  p99 {first['p99']};"
        f" follow-ups: p50 {follow['p50']}  p99 {follow['p99']}",
        f"agent -> customer ms: p50 {a2c['p50']}  p90 {a2c['p90']}  p99 {a2c['p99']}  max {a2c['max']}",
        f"conversations assigned {report['conversations_assigned']}, reconnects {report['reconnects']},"
        f" connect failures {report['connect_failures']}, error frames {report['errors'] or 0}",
        f"elapsed {report['elapsed_s']} s",
    ]
    return "\n".join(lines)
