"""The admin's operations on agents, live on every process: create, change (name, role, pools,
skills and levels, cap), disable and enable, reset a password.

Each writes the agent's routing hash through the same script the config seeds it with
(agent_sync.lua: pools, free sets and skill indexes change together) and marks the agent as
edited, so the config no longer overwrites them at a restart. Disabling sets the agent offline
through the same status script as going offline, so their open chats are handed on by the
handover path (router/ops/handover.py), and ends every session they have."""

from __future__ import annotations

import re
import time
from typing import Any

from kefu_common.errors import AuthError, ProtocolError
from router.accounts import passwords
from router.accounts.service import Accounts
from router.auth import Principal
from router.models import Agent, Role
from router.ops.presence import Presence
from router.store import Store
from router.store.calls.agents import AgentSync, SetCap

AGENT_ID = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,63}$")
EDITABLE = ("name", "role", "pools", "skills", "max_chats")
DISABLED = "disabled"
"""The reason the status script records for a disabled agent's chats handed on."""


class Team:
    def __init__(self, store: Store, accounts: Accounts, presence: Presence) -> None:
        self.store = store
        self.accounts = accounts
        self.presence = presence

    async def create(self, actor: Principal, body: dict[str, Any], address: str) -> dict[str, Any]:
        aid = body.get("id")
        if not isinstance(aid, str) or not AGENT_ID.match(aid):
            raise ProtocolError("bad_request", '"id": 1-64 lower-case letters, digits and . _ @ -, starting with '
                                               'a letter or digit', params={"field": "id"})
        if await self.store.agents.get(aid) is not None:
            raise ProtocolError("exists", f"agent {aid} already exists", 409)
        fields = await self._fields(body, Agent(id=aid, name=aid, max_chats=5))
        given = body.get("password")
        password = passwords.check_strength(given, self.accounts.settings.password_min_length, aid) \
            if given is not None else passwords.new_password()
        await self._sync(aid, fields)
        await self.accounts.set_password(aid, password)
        after = await self._view(aid)
        await self.accounts.audit("agent.create", actor, address, aid, after=after)
        out: dict[str, Any] = {"agent": after}
        if given is None:
            out["password"] = password  # shown once, to hand on; the agent changes it
        return out

    async def update(self, actor: Principal, aid: str, body: dict[str, Any], address: str) -> dict[str, Any]:
        current = await self._get(aid)
        unknown = sorted(set(body) - set(EDITABLE))
        if unknown:
            raise ProtocolError("bad_request", f"cannot change {', '.join(unknown)} here (editable: "
                                               f"{', '.join(EDITABLE)})")
        if aid == actor.agent_id and "role" in body and body["role"] != current.role.value:
            raise ProtocolError("bad_request", "you cannot change your own role; ask another admin")
        before = current.view()
        fields = await self._fields(body, current)
        await self._sync(aid, fields)
        if "max_chats" in body and current.cap_override is not None:
            await self.store.run(SetCap(aid, None, time.time()))  # the new cap is the one in force
        after = await self._view(aid)
        await self.accounts.audit("agent.update", actor, address, aid, before=_editable(before),
                                  after=_editable(after))
        return {"agent": after}

    async def set_disabled(self, actor: Principal, aid: str, disabled: bool, address: str) -> dict[str, Any]:
        await self._get(aid)
        if aid == actor.agent_id and disabled:
            raise ProtocolError("bad_request", "you cannot disable yourself")
        await self.store.accounts.set_disabled(aid, disabled)
        await self.store.accounts.mark_edited(aid)
        handed = 0
        if disabled:
            handed = await self._hand_on(aid)
            await self.end_sessions(aid)
        await self.accounts.audit("agent.disable" if disabled else "agent.enable", actor, address, aid,
                                  chats_handed_on=handed)
        return {"agent": await self._view(aid), "chats_handed_on": handed}

    async def _hand_on(self, aid: str) -> int:
        """Offline through the status script: its chats go back to the front of their pools."""
        held = len(await self.store.agents.conversation_ids(aid))
        await self.presence.set_status(aid, "offline", DISABLED)
        return held

    async def end_sessions(self, aid: str) -> None:
        """End every console session of the agent, and tell every process to close their sockets
        (a Bearer-token socket too: the notice names no session)."""
        for sid in await self.store.accounts.take_sessions(aid):
            await self.store.session_drop(sid)
        await self.store.agent_notice(aid, {"type": "session_ended", "agent_disabled": True})

    async def reset_password(self, actor: Principal, aid: str, body: dict[str, Any], address: str) -> dict[str, Any]:
        await self._get(aid)
        given = body.get("password")
        password = passwords.check_strength(given, self.accounts.settings.password_min_length, aid) \
            if given is not None else passwords.new_password()
        await self.accounts.set_password(aid, password)  # a new epoch: their password sessions end
        await self.store.accounts.unlock("acct", aid)
        await self.accounts.audit("agent.password_reset", actor, address, aid)
        return {"agent": aid, **({"password": password} if given is None else {})}

    async def reset_totp(self, actor: Principal, aid: str, address: str) -> None:
        await self._get(aid)
        await self.store.accounts.drop_fields(aid, "totp", "totp_pending")
        await self.accounts.audit("agent.totp_reset", actor, address, aid)

    async def _get(self, aid: str) -> Agent:
        found = await self.store.agents.get(aid)
        if found is None:
            raise ProtocolError("not_found", f"no agent {aid}", 404)
        return found

    async def _view(self, aid: str) -> dict[str, Any]:
        found = await self.store.agent(aid)
        assert found is not None
        return found

    async def _fields(self, body: dict[str, Any], base: Agent) -> dict[str, Any]:
        """The agent's editable fields after `body`, each checked; a 400 names the first wrong one."""
        out: dict[str, Any] = {"name": base.name, "role": base.role.value, "pools": list(base.pools),
                               "skills": dict(base.skills), "max_chats": base.cap_configured or base.max_chats}
        if "name" in body:
            name = body["name"]
            if not isinstance(name, str) or not name.strip() or len(name) > 64:
                raise ProtocolError("bad_request", '"name": 1-64 characters', params={"field": "name"})
            out["name"] = name.strip()
        if "role" in body:
            if body["role"] not in [r.value for r in Role]:
                raise ProtocolError("bad_request", '"role": agent, supervisor or admin', params={"field": "role"})
            out["role"] = body["role"]
        if "pools" in body:
            pools = body["pools"]
            known = set(await self.store.pool_ids())
            if not isinstance(pools, list) or not all(isinstance(p, str) for p in pools):
                raise ProtocolError("bad_request", '"pools": a list of pool ids', params={"field": "pools"})
            missing = sorted(set(pools) - known)
            if missing:
                raise ProtocolError("bad_request", f'"pools": no pool {", ".join(missing)}',
                                    params={"field": "pools", "rule": "unknown_pool", "value": ", ".join(missing)})
            out["pools"] = list(dict.fromkeys(pools))
        if "skills" in body:
            skills = body["skills"]
            if not isinstance(skills, dict) or len(skills) > 50 or not all(
                    isinstance(k, str) and 0 < len(k) <= 40 and type(v) is int and 1 <= v <= 5
                    for k, v in skills.items()):
                raise ProtocolError("bad_request", '"skills": skill name -> level 1 to 5', params={"field": "skills"})
            out["skills"] = dict(skills)
        if "max_chats" in body:
            cap = body["max_chats"]
            if type(cap) is not int or not 0 <= cap <= 100:
                raise ProtocolError("bad_request", '"max_chats": a whole number from 0 to 100',
                                    params={"field": "max_chats"})
            out["max_chats"] = cap
        return out

    async def _sync(self, aid: str, f: dict[str, Any]) -> None:
        await self.store.run(AgentSync(aid, f["name"], f["role"], f["max_chats"], tuple(f["pools"]),
                                       dict(f["skills"]), time.time()))
        await self.store.accounts.mark_edited(aid)


def _editable(view: dict[str, Any]) -> dict[str, Any]:
    return {k: view[k] for k in ("name", "role", "pools", "skills", "max_chats", "disabled") if k in view}


def require_admin(who: Principal) -> None:
    if not who.can(Role.ADMIN):
        raise AuthError("needs the admin role", status=403)



