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
from typing import TYPE_CHECKING, Any

from kefu_common.errors import AuthError, ProtocolError
from router.auth import Principal
from router.models import Role, new_id
from router.ops.handover import note
from router.store.calls.routing import ApprovalAnswer, ApprovalRequest

if TYPE_CHECKING:
    from router.runtime import Runtime

MAX_AMOUNT = 1_000_000


def authority(rt: Runtime, aid: str) -> float:
    for agent in rt.settings.agents:
        if agent.id == aid and agent.discount_limit is not None:
            return agent.discount_limit
    return rt.settings.ops.discount_limit


def parse_amount(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ProtocolError("bad_frame", '"amount" must be a number of yuan')
    if not 0 < value <= MAX_AMOUNT:
        raise ProtocolError("bad_frame", f'"amount" must be more than 0 and at most {MAX_AMOUNT}')
    return round(float(value), 2)


def _yuan(amount: float) -> str:
    return f"¥{amount:g}"


async def request(rt: Runtime, who: Principal, cid: str, amount: float, reason: str,
                  client_msg_id: str) -> dict[str, Any]:
    """Record a request (once per client_msg_id); approved at once when within authority."""
    limit = authority(rt, who.agent_id)
    approval = await rt.store.run(ApprovalRequest(new_id("ap"), who.agent_id, cid, f"{amount:g}", reason,
                                                  time.time(), f"{limit:g}", client_msg_id,
                                                  who.can(Role.SUPERVISOR)))
    if approval["auto"]:
        text = (f"Discount {_yuan(approval['amount'])} approved automatically (within {who.name}'s authority "
                f"of {_yuan(limit)}). Reason: {reason or '-'}")
        await note(rt.store, rt.transcript, cid, f"n_approval_{approval['id']}", text)
    return approval


async def answer(rt: Runtime, who: Principal, apid: str, approved: bool, text: str) -> dict[str, Any]:
    if not who.can(Role.SUPERVISOR):
        raise AuthError("only supervisors and admins answer approval requests", status=403)
    approval = await rt.store.run(ApprovalAnswer(apid, who.agent_id, approved, text, time.time()))
    verdict = "approved" if approved else "rejected"
    line = (f"Discount {_yuan(approval['amount'])} asked by {approval['agent']} "
            f"({approval.get('reason') or 'no reason given'}): {verdict} by {who.name}")
    await note(rt.store, rt.transcript, approval["conversation_id"], f"n_approval_{apid}",
               line + (f": {text}" if text else "."))
    return approval


async def listing(rt: Runtime, who: Principal) -> list[dict[str, Any]]:
    """Pending approvals, oldest first: all of them for supervisors, their own for agents."""
    ids = await rt.store.ops.pending_approval_ids(1000)
    out = []
    for row in await rt.store.ops.approvals(ids):
        if not who.can(Role.SUPERVISOR) and row.get("agent") != who.agent_id:
            continue
        out.append({**row, "amount": float(row["amount"]), "created": float(row["created"]),
                    "limit": float(row.get("limit") or 0), "auto": row.get("auto") == "1"})
    return out
