"""Script calls made at the same moment share one pipeline, and each caller still gets its own
result or its own error: hundreds of ingests at once are a handful of round trips, every one
accepted once, and a call Redis refuses fails alone."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from router.models import WEBCHAT, Kind, Message, encode_message, new_id
from router.store import Store
from router.store.calls import Call
from router.store.calls.channels import QuotaTake
from router.store.calls.streams import Ingest
from router.store.coalesce import Coalescer


def message(n: int) -> Message:
    return Message(id=new_id("m"), channel=WEBCHAT, account="web", native_id=f"n{n}", sender_ref=f"v{n % 50}",
                   kind=Kind.TEXT, text=f"第{n}句")


async def test_hundreds_of_calls_at_once_are_a_few_pipelines_with_a_result_each(store: Store) -> None:
    msgs = [message(n) for n in range(300)]
    calls = [Ingest(m.dedupe_key(), m.id, encode_message(m), 60, f"webchat:web:{m.sender_ref}") for m in msgs]
    got = await asyncio.gather(*(store.batched.run(c) for c in calls))
    assert [g.id for g in got] == [m.id for m in msgs] and all(g.new for g in got)
    assert store.batched.calls == 300 and store.batched.batches <= 3  # 256 a batch at most
    assert await store.client.xlen(store.keys.partition(0).inbound) == 300

    # The same again: duplicates, each answered with its first id; one call in the middle is
    # refused by Redis (its key holds the wrong type) and only its caller sees the error.
    await store.client.set(store.keys.wechat_quota("shop", "o-bad"), "not a hash")
    again = [store.batched.run(c) for c in calls[:150]] + [store.batched.run(QuotaTake("shop", "o-bad", 5))] + \
        [store.batched.run(c) for c in calls[150:]]
    res = await asyncio.gather(*again, return_exceptions=True)
    assert isinstance(res[150], ResponseError)
    rest = res[:150] + res[151:]
    assert [r.id for r in rest] == [m.id for m in msgs] and not any(r.new for r in rest)  # type: ignore[union-attr]
    assert await store.client.xlen(store.keys.partition(0).inbound) == 300


async def test_a_lone_call_is_sent_at_once_and_a_failed_pipeline_fails_its_callers(store: Store) -> None:
    m = message(1)
    got = await asyncio.wait_for(store.batched.run(Ingest(m.dedupe_key(), m.id, encode_message(m), 60, f"webchat:web:{m.sender_ref}")), 5)
    assert got.new and store.batched.batches == 1

    sent: list[int] = []

    async def down(calls: Sequence[Call[Any]]) -> list[Any]:
        sent.append(len(calls))
        raise RedisConnectionError("Connection refused")

    broken = Coalescer(down)
    res = await asyncio.gather(*(broken.run(Ingest(f"k{n}", f"m{n}", b"x", 60, "webchat:web:v")) for n in range(5)),
                               return_exceptions=True)
    assert sent == [5] and all(isinstance(r, RedisConnectionError) for r in res)
