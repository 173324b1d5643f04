"""router/stalls.py: a callback that holds the event loop shows in the lag histogram, every
garbage collection in the pause histogram of its generation, and /metrics reports both."""

from __future__ import annotations

import asyncio
import gc
import time

import aiohttp
from helpers.app import BASIC, running
from prometheus_client.parser import text_string_to_metric_families

from router.config.settings import parse_settings
from router.stalls import LAG_BUCKETS, Histogram, Stalls


def test_histogram_buckets_are_cumulative_with_an_inf_bucket() -> None:
    h = Histogram((0.01, 0.1))
    for v in (0.005, 0.01, 0.05, 0.5, 2.0):
        h.observe(v)
    assert h.counts == [2, 1, 2]
    assert h.buckets() == [("0.01", 2.0), ("0.1", 3.0), ("+Inf", 5.0)]
    assert h.over(0.01) == 3 and h.over(0.1) == 2
    assert h.count == 5 and abs(h.sum - 2.565) < 1e-9


async def test_a_held_loop_shows_as_lag_and_its_length_is_kept() -> None:
    stalls = Stalls()
    task = asyncio.create_task(stalls.run())
    await asyncio.sleep(0.1)
    time.sleep(0.3)  # noqa: ASYNC251 (holding the loop is the point: a slow callback would)
    await asyncio.sleep(0.1)
    stalls.stop()
    await asyncio.wait_for(task, 1)
    assert stalls.lag.count >= 5  # it ticked before and after
    assert stalls.lag.over(0.25) >= 1, stalls.lag.counts
    assert stalls.lag.sum >= 0.25
    assert len(LAG_BUCKETS) + 1 == len(stalls.lag.counts)


async def test_collections_are_timed_by_generation_while_it_runs_and_not_after() -> None:
    stalls = Stalls()
    task = asyncio.create_task(stalls.run())
    await asyncio.sleep(0)
    before = [stalls.pauses[g].count for g in range(3)]
    gc.collect()  # a full collection
    gc.collect(0)
    assert stalls.pauses[2].count == before[2] + 1
    assert stalls.pauses[0].count >= before[0] + 1
    assert stalls.pauses[2].sum > 0
    stalls.stop()
    await asyncio.wait_for(task, 1)
    done = stalls.pauses[2].count
    gc.collect()
    assert stalls.pauses[2].count == done  # its callback left with it
    assert stalls._gc not in gc.callbacks


async def test_metrics_report_the_loop_lag_and_gc_pauses(redis_url: str) -> None:
    settings = parse_settings(BASIC.format(cap=2), "<test>")
    async with running(settings, redis_url) as (rt, base), aiohttp.ClientSession() as http:
        await asyncio.sleep(0.2)
        time.sleep(0.3)  # noqa: ASYNC251 (the server runs on this loop: this holds it)
        gc.collect()
        await asyncio.sleep(0.1)
        async with http.get(f"{base}/metrics") as r:
            assert r.status == 200
            text = await r.text()
        assert rt.supervisor.states["stalls"].up
    got = {(s.name, tuple(sorted(s.labels.items()))): s.value
           for fam in text_string_to_metric_families(text) for s in fam.samples}
    count = got[("kefu_event_loop_lag_seconds_count", ())]
    assert count >= 5
    assert count - got[("kefu_event_loop_lag_seconds_bucket", (("le", "0.25"),))] >= 1  # the 0.3 s hold
    assert got[("kefu_event_loop_lag_seconds_bucket", (("le", "+Inf"),))] == count
    assert got[("kefu_gc_pause_seconds_count", (("generation", "2"),))] >= 1
    assert got[("kefu_gc_pause_seconds_sum", (("generation", "2"),))] > 0
    assert ("kefu_gc_pause_seconds_count", (("generation", "0"),)) in got
