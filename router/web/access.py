"""Who may see what in the console: one answer for the API, the history panel and the channels'
console routes (a WeChat reply quota) and the media store's files (router/web/media_api.py).

A supervisor or admin may see every conversation. An agent may see the conversations of the
customers they are serving now, earlier ones included, since the history panel shows those, and
a conversation whose notes named them with @ (router/ops/notes.py).
"""

from __future__ import annotations

from aiohttp import web

from adapters.base import CONSOLE_ACCESS
from router.auth import Principal
from router.models import Channel, Role
from router.runtime import Runtime


async def customers_of(rt: Runtime, who: Principal) -> set[str]:
    """The customers of the agent's open conversations, and of those a note named them in."""
    ids = await rt.store.agents.conversation_ids(who.agent_id) + await rt.store.conversations.reading(who.agent_id)
    return {c.customer_id for c in await rt.store.conversations.many(ids) if c.customer_id}


async def may_see_customer(rt: Runtime, who: Principal, cust: str) -> bool:
    return who.can(Role.SUPERVISOR) or cust in await customers_of(rt, who)


async def may_see_conversation(rt: Runtime, who: Principal, cid: str) -> bool:
    conv = await rt.store.conversation(cid)
    if conv is None:
        return False
    if who.can(Role.SUPERVISOR) or conv.get("agent") == who.agent_id:
        return True
    if await rt.store.conversations.is_reader(cid, who.agent_id):
        return True
    return bool(conv.get("customer_id")) and conv["customer_id"] in await customers_of(rt, who)


class Access:
    """adapters.base.ConsoleAccess for one signed-in caller."""

    def __init__(self, rt: Runtime, who: Principal) -> None:
        self.rt = rt
        self.who = who

    async def user(self, channel: Channel, account: str, user: str) -> bool:
        cust = await self.rt.store.customers.by_identity(channel, account, user)
        return cust is not None and cust != "" and await may_see_customer(self.rt, self.who, cust)


def grant(request: web.Request, rt: Runtime, who: Principal) -> None:
    """Give a console route's handler the caller's access (adapters.base.console_access)."""
    request[CONSOLE_ACCESS] = Access(rt, who)
