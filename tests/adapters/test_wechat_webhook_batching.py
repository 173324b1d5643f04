"""A WeChat callback's Redis work (its nonce, the ingest, the reply window) goes through the
store's coalescer, so a burst of callbacks shares pipelines instead of taking three round trips
each; the replay guard and the window still hold per callback. 300 customers at once, real Redis."""

from __future__ import annotations

import asyncio
import time

import aiohttp
from helpers.fake_wechat import FakeWechat, signed_query, text_xml
from helpers.webhooks import WECHAT_HOOK, wechat_account

from router.store import Store

TOKEN = "wx-batching-token"
CUSTOMERS = 300


async def test_a_burst_of_callbacks_shares_pipelines(store: Store, wx_api: FakeWechat) -> None:
    async with wechat_account(store, wx_api, TOKEN) as (base, _adapter), \
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)) as http:
        queries = [signed_query(TOKEN) for _ in range(CUSTOMERS)]
        bodies = [text_xml(f"oBurst{i:04d}", "有货吗", 9_100_000 + i, int(time.time())) for i in range(CUSTOMERS)]

        async def post(i: int) -> tuple[int, str]:
            async with http.post(base + WECHAT_HOOK, data=bodies[i].encode(), params=queries[i]) as r:
                return r.status, await r.text()

        before_calls, before_batches = store.batched.calls, store.batched.batches
        answers = await asyncio.gather(*(post(i) for i in range(CUSTOMERS)))
        assert answers == [(200, "success")] * CUSTOMERS
        calls = store.batched.calls - before_calls
        batches = store.batched.batches - before_batches
        assert calls == 3 * CUSTOMERS, "nonce, ingest and window each one coalesced call"
        assert batches < calls / 2, f"{calls} calls in {batches} pipelines"

        for i in (0, CUSTOMERS // 2, CUSTOMERS - 1):
            used, opened = await store.wechat.window("shop", f"oBurst{i:04d}") or (None, None)
            assert used == 0 and opened and abs(opened - time.time()) < 60

        # The same signed query again: with its own body a retry (no second message), with
        # another a forgery.
        assert await post(0) == (200, "success")
        async with http.post(base + WECHAT_HOOK, data=bodies[1].encode(), params=queries[0]) as r:
            assert r.status == 403
        assert await store.client.xlen(store.keys.inbound) == CUSTOMERS
