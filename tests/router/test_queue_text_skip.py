"""At the peak a queued WeChat or Telegram customer who writes again makes a `queue` frame with
the position they already had. A process that knows Redis settled on that position makes no call
for it; a text that waits for its interval is not remembered, so the timer's frame still goes
through; and a changed position is always asked about. Hundreds of customers, real Redis."""

from __future__ import annotations

import asyncio
import time

from router.config.schema import SlaSettings
from router.ops.queue_texts import QueueTexter
from router.pipeline.outbox import Outbox
from router.pipeline.transcript import Transcript
from router.store import Store

CUSTOMERS = 300


def frame(cid: str, position: int) -> str:
    return f'{{"type":"queue","conversation_id":"{cid}","position":{position},"ahead":{position - 1},"eta_s":60}}'


async def settle(texter: QueueTexter) -> None:
    deadline = time.monotonic() + 10
    while texter._tasks:
        assert time.monotonic() < deadline, "queue text calls did not finish"
        await asyncio.sleep(0.01)


async def test_the_same_position_again_costs_no_call(store: Store) -> None:
    texter = QueueTexter(store, Outbox(store), Transcript(store), SlaSettings(queue_text_interval_s=60.0))
    cids = [f"c-skip-{i}" for i in range(CUSTOMERS)]
    for i, cid in enumerate(cids):
        texter.seen(f"wechat:shop:o{i}", frame(cid, i + 1))
    await settle(texter)
    calls = store.batched.calls
    assert calls >= CUSTOMERS

    # Everyone writes three more lines without moving: no call at all.
    for _ in range(3):
        for i, cid in enumerate(cids):
            texter.seen(f"wechat:shop:o{i}", frame(cid, i + 1))
    await settle(texter)
    assert store.batched.calls == calls
    assert texter.skipped == 3 * CUSTOMERS

    # Web chat shows its own frames: never a call, skipped or not.
    texter.seen("webchat:default:v1", frame("c-web", 1))
    await settle(texter)
    assert store.batched.calls == calls

    # A move inside the interval waits for its timer: asked once, and not remembered, so the
    # timer's frame with that position is asked about again (and is 'wait' again here).
    texter.seen("wechat:shop:o0", frame(cids[0], 7))
    await settle(texter)
    assert store.batched.calls == calls + 1
    texter.seen("wechat:shop:o0", frame(cids[0], 7))
    await settle(texter)
    assert store.batched.calls == calls + 2
    assert texter.skipped == 3 * CUSTOMERS


async def test_a_position_that_came_back_is_asked_again(store: Store) -> None:
    texter = QueueTexter(store, Outbox(store), Transcript(store), SlaSettings(queue_text_interval_s=0.0))
    texter.seen("telegram:bot:42", frame("c-back", 3))
    await settle(texter)
    texter.seen("telegram:bot:42", frame("c-back", 2))
    await settle(texter)
    calls = store.batched.calls
    # Back to 3: Redis holds 2 as the last texted, so 3 must be asked about (and texted).
    texter.seen("telegram:bot:42", frame("c-back", 3))
    await settle(texter)
    assert store.batched.calls == calls + 1
    texter.seen("telegram:bot:42", frame("c-back", 3))
    await settle(texter)
    assert store.batched.calls == calls + 1
