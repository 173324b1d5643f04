"""Script calls made at the same moment share one pipeline, and each caller still gets its own
result or its own error: hundreds of ingests at once are a handful of round trips, every one
accepted once, and a call Redis refuses fails alone."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest
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


async def test_time_limits_are_kept_per_batch_not_per_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    """300 callers, two limits and none: each limited caller gets TimeoutError when its limit
    passes (the pipeline goes on), the others their results; two timers in all, not 300."""
    release = asyncio.Event()

    async def slow(calls: Sequence[Call[Any]]) -> list[Any]:
        await release.wait()
        return list(calls)  # each caller gets its own call back, as a stand-in result

    loop = asyncio.get_running_loop()
    timers: list[float] = []
    real_call_later = loop.call_later

    def counting(delay: float, *args: Any) -> asyncio.TimerHandle:
        timers.append(delay)
        return real_call_later(delay, *args)

    monkeypatch.setattr(loop, "call_later", counting)
    batch = Coalescer(slow)

    def call(n: int) -> Ingest:
        return Ingest(f"k{n}", f"m{n}", b"x", 60, "webchat:web:v")

    short = [asyncio.ensure_future(batch.run(call(n), timeout_s=0.05)) for n in range(100)]
    longer = [asyncio.ensure_future(batch.run(call(n), timeout_s=0.3)) for n in range(100, 200)]
    mine = [call(n) for n in range(200, 300)]
    unlimited = [asyncio.ensure_future(batch.run(c)) for c in mine]
    for _ in range(5):  # the flush, then each batch's send, which sets its timers
        await asyncio.sleep(0)
    monkeypatch.undo()
    assert sorted(timers) == [0.05, 0.3]  # 256 a batch: the first holds both limits, the second none
    await asyncio.sleep(0.15)
    assert all(f.done() and isinstance(f.exception(), TimeoutError) for f in short)
    assert not any(f.done() for f in longer + unlimited)
    await asyncio.sleep(0.3)
    assert all(f.done() and isinstance(f.exception(), TimeoutError) for f in longer)
    release.set()
    assert await asyncio.gather(*unlimited) == mine
    assert batch.calls == 300


async def test_a_lone_call_goes_out_on_the_next_turn_of_the_loop() -> None:
    """The first call of a batch starts its sending task at once: the pipeline is sent on the
    loop's next turn, with every call made before that turn in it, not a turn later."""
    sent: list[int] = []

    async def record(calls: Sequence[Call[Any]]) -> list[Any]:
        sent.append(len(calls))
        return list(calls)

    batch = Coalescer(record)
    first = asyncio.ensure_future(batch.run(Ingest("k0", "m0", b"x", 60, "webchat:web:v")))
    await asyncio.sleep(0)  # the caller's task runs its call
    assert sent == [] and not first.done()
    others = [asyncio.ensure_future(batch.run(Ingest(f"k{n}", f"m{n}", b"x", 60, "webchat:web:v"))) for n in (1, 2)]
    await asyncio.sleep(0)  # the next turn: the sending task sends the one call; the two callers run after it
    assert sent == [1]
    await asyncio.sleep(0)
    assert sent == [1, 2]
    assert [c.mid for c in await asyncio.gather(first, *others)] == ["m0", "m1", "m2"]
