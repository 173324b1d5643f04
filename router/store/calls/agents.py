"""Calls of the scripts that act on agents (router/store/lua/*.lua, {rt} slot): their status and
cap, their configuration, a frame to one of them, the policy's dry run, and discount approvals."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from router.store.calls import Call, opt, text


@dataclass(frozen=True, slots=True)
class StatusChanged:
    previous: str
    requeued: int
    """How many conversations went back to queues (each with a handover entry)."""


@dataclass(frozen=True, slots=True)
class Status(Call[StatusChanged]):
    script: ClassVar[str] = "status"
    refused_status: ClassVar[int] = 404
    statuses: ClassVar[Mapping[str, int]] = {"agent_disabled": 409}
    aid: str
    status: str
    now: float
    reason: str
    """Why, for the handover entries of an agent going offline (connected, shift_end, ...)."""
    away_reason: str = ""
    """Why an agent is away (busy, break, a configured reason); '' for none."""
    day: str = ""
    """The UTC day the time spent away is counted under (keys.agent_away_time)."""

    def refusal(self) -> str:
        return "set status"

    def result(self, reply: Any) -> StatusChanged:
        return StatusChanged(text(reply[1]), int(reply[2]))


@dataclass(frozen=True, slots=True)
class SetCap(Call[int]):
    """A live cap (None clears it); the result is the agent's load."""

    script: ClassVar[str] = "set_cap"
    aid: str
    cap: int | None
    now: float

    def refusal(self) -> str:
        return "set the cap"

    def result(self, reply: Any) -> int:
        return int(reply[1])


@dataclass(frozen=True, slots=True)
class AgentSync(Call[int]):
    """Make one agent's configuration current; the result is how many chats it then took."""

    script: ClassVar[str] = "agent_sync"
    aid: str
    name: str
    role: str
    cap: int
    pools: tuple[str, ...]
    skills: dict[str, int]
    now: float

    def result(self, reply: Any) -> int:
        return int(reply)


@dataclass(frozen=True, slots=True)
class Emit(Call[str]):
    """A frame for an agent (event stream and pub/sub); the result is the event id."""

    script: ClassVar[str] = "emit"
    aid: str
    frame_json: str

    def result(self, reply: Any) -> str:
        return str(reply)


@dataclass(frozen=True, slots=True)
class Choice:
    agent: str | None
    record: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Choose(Call[Choice]):
    """A dry run of the pool's policy: who would get the conversation, and why."""

    script: ClassVar[str] = "choose"
    cid: str
    pool: str
    skills: tuple[str, ...]
    min_level: int
    now: float

    def result(self, reply: Any) -> Choice:
        return Choice(opt(reply[0]), json.loads(reply[1]))


_APPROVAL_STATUS = {"not_assigned_to_you": 403}


@dataclass(frozen=True, slots=True)
class ApprovalRequest(Call[dict[str, Any]]):
    """A discount request, approved at once within `limit`; the result is the approval."""

    script: ClassVar[str] = "approval"
    statuses: ClassVar[dict[str, int]] = _APPROVAL_STATUS
    op: ClassVar[str] = "request"
    apid: str
    aid: str
    cid: str
    amount: str
    reason: str
    now: float
    limit: str
    client_msg_id: str
    force: bool

    def argv(self) -> list[Any]:
        return [self.op, *Call.argv(self)]

    def refusal(self) -> str:
        return "ask for a discount"

    def result(self, reply: Any) -> dict[str, Any]:
        out: dict[str, Any] = json.loads(reply[1])
        return out


@dataclass(frozen=True, slots=True)
class ApprovalAnswer(Call[dict[str, Any]]):
    script: ClassVar[str] = "approval"
    statuses: ClassVar[dict[str, int]] = _APPROVAL_STATUS
    op: ClassVar[str] = "answer"
    apid: str
    actor: str
    approved: bool
    note: str
    now: float

    def argv(self) -> list[Any]:
        return [self.op, *Call.argv(self)]

    def refusal(self) -> str:
        return f"answer {self.apid}"

    def result(self, reply: Any) -> dict[str, Any]:
        out: dict[str, Any] = json.loads(reply[1])
        return out
