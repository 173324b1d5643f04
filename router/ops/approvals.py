"""Supervisor approval for discounts above an agent's authority.

An agent asks (`discount_request` frame). Within their authority (their `discount_limit`, else
`ops.discount_limit`, 20 yuan by default) it is approved on the spot; above it the request waits
for a supervisor, who is sent an `approval_request` frame and can list what waits with
GET /api/v1/approvals. The first answer wins; a second gets 409. State and frames change together
in lua/approval.lua; the transcript note follows, keyed by the approval, so it is written once.
"""

from __future__ import annotations

import math
import time
from typing import Any

from kefu_common.errors import AuthError, ProtocolError
from router.auth import Principal
from router.config.settings import Settings
from router.models import Role, new_id
from router.ops.audit import Audit
from router.ops.handover import note
from router.pipeline.transcript import Transcript
from router.store import Store
from router.store.calls.agents import ApprovalAnswer, ApprovalRequest

MAX_AMOUNT = 1_000_000


def parse_amount(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ProtocolError("bad_frame", '"amount" must be a number of yuan')
    if not 0 < value <= MAX_AMOUNT:
        raise ProtocolError("bad_frame", f'"amount" must be more than 0 and at most {MAX_AMOUNT}')
    return round(float(value), 2)


def _yuan(amount: float) -> str:
    return f"¥{amount:g}"


class Approvals:
    """Discount requests and their answers, for the agent socket and the JSON API."""

    def __init__(self, store: Store, transcript: Transcript, settings: Settings, audit: Audit | None = None) -> None:
        self.store = store
        self.transcript = transcript
        self.settings = settings
        self.audit = audit
        """Where answers (and approvals within an agent's own authority) are recorded."""

    def authority(self, aid: str) -> float:
        for agent in self.settings.agents:
            if agent.id == aid and agent.discount_limit is not None:
                return agent.discount_limit
        return self.settings.ops.discount_limit

    async def request(self, who: Principal, cid: str, amount: float, reason: str,
                      client_msg_id: str, addr: str = "") -> dict[str, Any]:
        """Record a request (once per client_msg_id); approved at once when within authority."""
        limit = self.authority(who.agent_id)
        approval = await self.store.run(ApprovalRequest(new_id("ap"), who.agent_id, cid, f"{amount:g}", reason,
                                                        time.time(), f"{limit:g}", client_msg_id,
                                                        who.can(Role.SUPERVISOR)))
        if approval["auto"]:
            text = (f"Discount {_yuan(approval['amount'])} approved automatically (within {who.name}'s "
                    f"authority of {_yuan(limit)}). Reason: {reason or '-'}")
            await note(self.store, self.transcript, cid, f"n_approval_{approval['id']}", text,
                       event={"kind": "approval", "state": "auto", "amount": approval["amount"],
                              "agent": who.name, "limit": f"{limit:g}", "reason": reason, "by": "", "note": ""})
            if self.audit is not None:
                await self.audit.record(who, "discount.auto_approve", approval["id"], before=None,
                                        after={"status": "approved", "amount": float(approval["amount"])},
                                        addr=addr, detail={"conversation_id": cid, "reason": reason,
                                                           "limit": limit})
        return approval

    async def answer(self, who: Principal, apid: str, approved: bool, text: str, addr: str = "") -> dict[str, Any]:
        if not who.can(Role.SUPERVISOR):
            raise AuthError("only supervisors and admins answer approval requests", status=403)
        approval = await self.store.run(ApprovalAnswer(apid, who.agent_id, approved, text, time.time()))
        verdict = "approved" if approved else "rejected"
        line = (f"Discount {_yuan(approval['amount'])} asked by {approval['agent']} "
                f"({approval.get('reason') or 'no reason given'}): {verdict} by {who.name}")
        await note(self.store, self.transcript, approval["conversation_id"], f"n_approval_{apid}",
                   line + (f": {text}" if text else "."),
                   event={"kind": "approval", "state": verdict, "amount": approval["amount"],
                          "agent": approval["agent"], "reason": approval.get("reason") or "", "by": who.name,
                          "note": text})
        if self.audit is not None:
            await self.audit.record(who, "discount.approve" if approved else "discount.reject", apid,
                                    before={"status": "pending"}, after={"status": verdict},
                                    addr=addr, detail={"conversation_id": approval["conversation_id"],
                                                       "agent": approval["agent"],
                                                       "amount": float(approval["amount"]), "note": text})
        return approval

    async def listing(self, who: Principal) -> list[dict[str, Any]]:
        """Pending approvals, oldest first: all of them for supervisors, their own for agents."""
        out = []
        for row in await self.store.ops.approvals(await self.store.ops.pending_approval_ids(1000)):
            if not who.can(Role.SUPERVISOR) and row.get("agent") != who.agent_id:
                continue
            out.append({**row, "amount": float(row["amount"]), "created": float(row["created"]),
                        "limit": float(row.get("limit") or 0), "auto": row.get("auto") == "1"})
        return out
