"""Whether anyone can answer is read once for everyone asking at the same moment
(router/web/availability.py): 300 pages connecting as the cached answer runs out make one read
of every agent, not 300; and a page asking after a status change never gets a read that began
before it."""

from __future__ import annotations

import asyncio

from helpers.app import basic_settings

from router.pipeline.fanout import Hub
from router.store import Store
from router.web.availability import Availability

STATUS = '{"type":"agent_status","agent":"alice","status":"online"}'


class Counted:
    """Counts the store's reads of every agent, each held until `release` is set."""

    def __init__(self, store: Store) -> None:
        self.reads = 0
        self.release = asyncio.Event()
        real = store.agents.all

        async def all_agents():  # type: ignore[no-untyped-def]
            self.reads += 1
            await self.release.wait()
            return await real()

        store.agents.all = all_agents  # type: ignore[method-assign]


async def test_pages_asking_at_once_share_one_read(store: Store) -> None:
    await store.sync_config(basic_settings())
    availability = Availability(store, Hub(store), lambda: None)
    counted = Counted(store)
    asking = [asyncio.create_task(availability.current()) for _ in range(300)]
    await asyncio.sleep(0.05)
    assert counted.reads == 1
    counted.release.set()
    assert set(await asyncio.gather(*asking)) == {"nobody"}  # nobody is online yet
    assert counted.reads == 1
    await availability.current()
    assert counted.reads == 1  # cached for ONLINE_CACHE_S


async def test_a_status_change_while_reading_is_not_missed(store: Store) -> None:
    await store.sync_config(basic_settings())
    availability = Availability(store, Hub(store), lambda: None)
    counted = Counted(store)
    before = asyncio.create_task(availability.anyone_online())
    await asyncio.sleep(0.05)
    await store.client.hset(store.keys.agent("alice"), "status", "online")  # what status.lua writes
    availability._heard(STATUS)  # the agent_status frame of that change, as the hub hands it over
    after = asyncio.create_task(availability.anyone_online())
    await asyncio.sleep(0.05)
    assert counted.reads == 2  # the second asker did not join the read that began before the change
    counted.release.set()
    await before  # the first may say either: it asked before the change
    assert await after is True
    assert await availability.anyone_online() is True
    assert counted.reads == 2
