"""Whole web chat conversations at scale: a customer writes, an agent answers and closes."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import aiohttp

from helpers.clients import Socket, customer, msg_id


@dataclass
class Done:
    cid: str
    token: str
    lines: list[tuple[str, str]]
    """(from, text) as the customer and the agent saw them, in order."""


async def connect(http: aiohttp.ClientSession, base: str, token: str | None) -> tuple[Socket, str]:
    """A customer's socket, connected again after the router's "unavailable" refusal, as the
    widget does. On a loaded machine (load 14 with 30 customers at once) a Redis reply took longer
    than the 5 s socket timeout, the connect was refused so, and the message this helper then sent
    into the closing socket was lost: the agent waited 60 s for it."""
    for _ in range(5):
        cust, token = await customer(http, base, token)
        first = await cust.expect(lambda f: f["type"] in ("conversation", "error"), timeout=60)
        if first["type"] == "conversation":
            return cust, token
        assert first["code"] == "unavailable", first
        await cust.close()
        await asyncio.sleep(float(first.get("retry_after") or 1))
    raise AssertionError("the web chat stayed unavailable through 5 connects")


async def conversation(http: aiohttp.ClientSession, base: str, agent: Socket, n: int,
                       token: str | None = None) -> Done:
    """Conversation number `n`: one order question, one answer, closed by the agent."""
    cust, token = await connect(http, base, token)
    try:
        text = f"订单20241120{n:08d}还没发货，电话尾号{n % 10000:04d}"
        await cust.send({"type": "message", "text": text, "client_msg_id": msg_id()})
        got = await agent.expect(lambda f: f["type"] == "assigned" and any(m.get("text") == text for m in f["messages"]),
                                 timeout=60)
        cid = got["conversation"]["id"]
        answer = f"亲，{n}号订单已经催仓库了"
        await agent.send({"type": "reply", "conversation_id": cid, "text": answer, "client_msg_id": msg_id()})
        await cust.expect(lambda f: f["type"] == "message" and f["message"]["text"] == answer, timeout=60)
        await agent.send({"type": "close", "conversation_id": cid})
        await cust.expect(lambda f: f["type"] == "closed" and f["conversation_id"] == cid, timeout=60)
        return Done(cid, token, [("customer", text), ("agent", answer)])
    finally:
        await cust.close()


async def many(http: aiohttp.ClientSession, base: str, agent: Socket, total: int, customers: int,
               start: int = 0) -> list[Done]:
    """`total` conversations from `customers` returning customers, each customer's one after the
    other (a new conversation each time: the reopen window is 0 in these tests)."""
    tokens: list[str | None] = [None] * customers
    out: list[Done] = []

    async def one_customer(c: int) -> None:
        for n in range(start + c, start + total, customers):
            done = await conversation(http, base, agent, n, tokens[c])
            tokens[c] = done.token
            out.append(done)

    await asyncio.gather(*(one_customer(c) for c in range(customers)))
    return out


async def chat(cust: Socket, who: Socket, lines: list[str], answers: list[str]) -> str:
    """The customer writes `lines`, `who` is assigned and answers; returns the conversation id."""
    start = len(who.frames)
    await cust.send({"type": "message", "text": lines[0], "client_msg_id": msg_id()})
    cid: str = (await who.expect(lambda f: f["type"] == "assigned", start=start))["conversation"]["id"]
    for line in lines[1:]:
        await cust.send({"type": "message", "text": line, "client_msg_id": msg_id()})
        await who.expect(lambda f, line=line: f["type"] == "message" and f["message"]["text"] == line)
    for text in answers:
        rid = msg_id()
        await who.send({"type": "reply", "conversation_id": cid, "text": text, "client_msg_id": rid})
        await who.expect(lambda f, rid=rid: f["type"] == "ack" and f["client_msg_id"] == rid)
        await cust.expect(lambda f, text=text: f["type"] == "message" and f["message"]["text"] == text)
    return cid


async def close(who: Socket, cust: Socket, cid: str) -> None:
    start = len(cust.frames)
    await who.send({"type": "close", "conversation_id": cid})
    await cust.expect(lambda f: f["type"] == "closed" and f["conversation_id"] == cid, start=start)
