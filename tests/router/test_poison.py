"""A poison entry never stops routing: malformed entries written straight into the streams, and
valid-looking ones whose effect raises, go to the dead letters with the reason after a bounded
number of tries, while the messages before and after them are routed and sent."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

import aiohttp
import msgspec
import redis.asyncio as aioredis
from helpers.app import running
from helpers.fake_channel import ScriptedChannel

from adapters.base import Deps
from router.config.settings import Settings, parse_settings
from router.models import Channel, Message, Reply, Sender, new_id

CONFIG = """
pools: [{id: presale}]
agents:
  - {id: alice, token: alice-token-1234, pools: [presale], max_chats: 5}
  - {id: ada, token: ada-admin-token-1, role: admin, pools: [presale], max_chats: 1}
worker: {claim_idle_ms: 600}
outbox: {base_delay_s: 0.01, max_delay_s: 0.05, max_attempts: 2}
"""
CUSTOMERS = 150


def settings() -> Settings:
    return parse_settings(CONFIG, "<test>")


async def until(check: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def test_poison_inbound_entries_are_dead_lettered_and_routing_goes_on(redis_url: str) -> None:
    async with running(settings(), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        chan = ScriptedChannel("fake", Deps(rt.ingestor, rt.store))
        r = aioredis.from_url(redis_url, decode_responses=True)
        k = rt.store.keys
        for i in range(CUSTOMERS):
            await rt.ingestor.ingest(chan.inbound(f"before-{i}", f"hello before {i}"))
        await r.xadd(k.inbound, {"m": "this is not json"})
        await r.xadd(k.inbound, {"x": "no message field"})
        await r.xadd(k.inbound, {"m": json.dumps({"id": 5, "channel": "pigeon"})})
        # Parses, but routing it raises: its timestamp is past what a datetime holds.
        doomed = Message(id=new_id("m"), channel=Channel("telegram"), account="fake", native_id="n-doomed",
                         sender_ref="doomed", text="from the far future", ts=1e20)
        await r.xadd(k.inbound, {"m": msgspec.json.encode(doomed).decode()})
        for i in range(CUSTOMERS):
            await rt.ingestor.ingest(chan.inbound(f"after-{i}", f"hello after {i}"))

        await until(lambda: rt.worker.routed == 2 * CUSTOMERS)
        await until(lambda: rt.worker.group.dead_lettered == 4)
        for _ in range(200):  # the last batch's ack follows its count
            if await r.xlen(k.inbound) == 0:
                break
            await asyncio.sleep(0.05)
        assert await r.xlen(k.inbound) == 0, "every entry is acked: routed or dead"
        assert await r.exists(k.inbound_tries) == 0
        assert rt.supervisor.states["route worker"].crashes == 0

        dead = {f["entry"]: f for _, f in await r.xrange(k.inbound_dead_letters)}
        reasons = sorted(f["reason"].split(":")[0] + ":" + f["reason"].split(":")[1] for f in dead.values())
        assert reasons == ["decide: OverflowError", "undecodable: DecodeError", "undecodable: KeyError",
                           "undecodable: ValidationError"]
        tries = sorted(int(f["tries"]) for f in dead.values())
        assert tries == [1, 1, 1, 3], "unparsable entries go at once; the doomed one after 3 tries"
        doomed_letter = next(f for f in dead.values() if f["reason"].startswith("decide"))
        assert json.loads(json.loads(doomed_letter["fields"])["m"])["id"] == doomed.id

        # Every customer before and after the poison got a conversation with their message in it.
        ids = await r.zrange(k.conv_index, 0, -1)
        firsts = set()
        for cid in ids:
            msgs = await rt.transcript.messages(cid)
            if msgs:
                firsts.add(msgs[0].text)
        expected = {f"hello {w} {i}" for w in ("before", "after") for i in range(CUSTOMERS)}
        assert firsts == expected

        # Admins can read them; /readyz and the overview count them.
        async with http.get(f"{base}/api/v1/dead-letters?stream=inbound",
                            headers={"Authorization": "Bearer ada-admin-token-1"}) as resp:
            assert resp.status == 200
            body = await resp.json()
        assert list(body) == ["inbound"] and body["inbound"]["count"] == 4
        assert body["inbound"]["entries"][0]["reason"].startswith("decide: OverflowError")
        async with http.get(f"{base}/api/v1/dead-letters",
                            headers={"Authorization": "Bearer alice-token-1234"}) as resp:
            assert resp.status == 403
        async with http.get(f"{base}/api/v1/dead-letters?stream=sideways",
                            headers={"Authorization": "Bearer ada-admin-token-1"}) as resp:
            assert resp.status == 400 and (await resp.json())["error"] == "bad_query"
        async with http.get(f"{base}/readyz") as resp:
            assert resp.status == 200
            assert (await resp.json())["dead_letters"] == {"inbound": 4, "outbound": 0, "archive": 0}
        await r.aclose()


class BuggyChannel(ScriptedChannel):
    """A channel whose send has a bug for one text: it raises what no channel error is."""

    async def send_part(self, reply: Reply, text: str, index: int) -> None:
        if reply.text == "boom":
            self.attempts.append(reply)
            raise RuntimeError("adapter bug")
        await super().send_part(reply, text, index)


def reply(i: int, text: str) -> Reply:
    return Reply(id=new_id("m"), conversation_id=f"c-poison-{i}", customer_id=f"cu-{i}", channel=Channel("telegram"),
                 account="fake", chat=f"chat-{i}", text=text, author="alice", sender=Sender.AGENT,
                 client_msg_id=new_id("cm"), ts=time.time())


async def test_poison_outbound_entries_are_dead_lettered_and_sending_goes_on(redis_url: str) -> None:
    async with running(settings(), redis_url) as (rt, _base):
        chan = BuggyChannel("fake", Deps(rt.ingestor, rt.store))
        rt.adapters[(chan.channel, chan.account)] = chan
        r = aioredis.from_url(redis_url, decode_responses=True)
        k = rt.store.keys
        for i in range(CUSTOMERS):
            await rt.outbox.enqueue(reply(i, f"before {i}"))
        boom = reply(0, "boom")
        await rt.outbox.enqueue(boom)
        await r.xadd(k.outbound, {"m": "{"})
        await r.xadd(k.outbound, {"seq": "7"})
        # Decodes, but the sender cannot keep a transcript for a reply without a conversation.
        await r.xadd(k.outbound, {"m": msgspec.json.encode(msgspec.structs.replace(reply(1, "x"),
                                                                                   conversation_id="")).decode()})
        for i in range(CUSTOMERS):
            await rt.outbox.enqueue(reply(i, f"after {i}"))

        await until(lambda: len(chan.delivered) == 2 * CUSTOMERS)
        await until(lambda: rt.sender.group.dead_lettered == 4)
        for _ in range(200):  # the last replies' acks follow their sends
            if await r.xlen(k.outbound) == 0:
                break
            await asyncio.sleep(0.05)
        assert await r.xlen(k.outbound) == 0
        assert await r.exists(k.outbound_tries) == 0
        assert rt.supervisor.states["sender"].crashes == 0
        # Order held in every conversation, the poisoned one included: "after 0" waited for "boom".
        sent: dict[str, list[str]] = {}
        for x in chan.delivered:
            sent.setdefault(x.conversation_id, []).append(x.text)
        assert sent == {f"c-poison-{i}": [f"before {i}", f"after {i}"] for i in range(CUSTOMERS)}
        assert [x.text for x in chan.attempts if x.text == "boom"] == ["boom"] * 3
        reasons = sorted(f["reason"] for _, f in await r.xrange(k.outbound_dead_letters))
        assert reasons[0].startswith("AssertionError") and reasons[1] == "RuntimeError: adapter bug"
        assert reasons[2].startswith("undecodable: DecodeError") and reasons[3].startswith("undecodable: KeyError")
        status = json.loads(await r.hget(k.delivery(boom.conversation_id), boom.id))
        assert status["status"] == "failed"
        await r.aclose()
