"""`Store.forget` deletes one namespace's keys and nothing else: the simulator starts from nothing
on any Redis, even one a shop shares.

Neighbours are chosen to be near misses: a namespace that starts with the same letters (`simx`),
a key that mentions the namespace past its tag, and the shop's own keys.
"""

from __future__ import annotations

from router.simulate.engine import NAMESPACE, Simulation
from router.simulate.workload import SimPlan
from router.store import Store
from router.store.keys import Keys, in_namespace


def test_what_belongs_to_a_namespace() -> None:
    k = Keys("sim")
    assert all(in_namespace(key, "sim") for key in (
        k.conv("c1"), k.conv_index, k.transcript("c1"), k.feed("v1"), k.inbound, k.outbound,
        k.wechat_quota("a", "o"), k.session("s1"), k.barrier(k.conv("c1")), "sim:{rt}:conv:1"))
    assert not any(in_namespace(key, "sim") for key in (
        Keys("simx").conv("c1"), Keys("simx").transcript("c1"), Keys("simx").session("s1"),
        Keys("kefu").conv("sim"), Keys("kefu").customer("sim:1"), "simulation", "{sim}", "{rt:sim"))


async def test_forget_takes_one_namespace_only(redis_url: str) -> None:
    sim, shop, near = Store(redis_url, "sim"), Store(redis_url, "kefu"), Store(redis_url, "simx")
    for s in (sim, shop, near):
        await s.open()
    try:
        raw = shop.client
        # 1,500 of the simulator's keys (more than one batch), and 300 of the neighbours'.
        for i in range(500):
            await raw.hset(sim.keys.conv(f"c{i}"), "state", "queued")
            await raw.set(sim.keys.session(f"s{i}"), "x")
            await raw.set(f"sim:{{rt}}:conv:{i}", "old layout")
        for i in range(100):
            await raw.hset(shop.keys.conv(f"c{i}"), "state", "assigned")
            await raw.set(shop.keys.customer(f"sim:{i}"), "x")
            await raw.hset(near.keys.conv(f"c{i}"), "state", "new")
        before = await raw.dbsize()
        assert await sim.forget() == 1500
        assert await raw.dbsize() == before - 1500
        assert [key async for key in raw.scan_iter(count=1000) if in_namespace(key, "sim")] == []
        assert await raw.hget(shop.keys.conv("c99"), "state") == "assigned"
        assert await raw.hget(near.keys.conv("c99"), "state") == "new"
        assert await sim.forget() == 0
    finally:
        for s in (sim, shop, near):
            await s.close()


async def test_a_second_simulation_starts_from_nothing(redis_url: str) -> None:
    """Two runs of one plan on one Redis: the second forgets the first and comes out the same."""
    plan = SimPlan(agents=3, arrivals_per_hour=90, handle_s=120, patience_s=60, hours=1, seed=3)
    first = await Simulation(plan, redis_url).run()
    store = Store(redis_url, NAMESPACE)
    await store.open()
    try:
        # Left over from an earlier run that stopped half-way: a conversation still held by a0.
        await store.client.sadd(store.keys.agent_convs("a0"), "c_left_over")
        second = await Simulation(plan, redis_url).run()
        assert len(second.chats) == len(first.chats) > 50
        assert [c.assigned is not None for c in second.chats.values()] == \
            [c.assigned is not None for c in first.chats.values()]
        assert second.queue == first.queue
        assert "c_left_over" not in await store.agents.conversation_ids("a0")
    finally:
        await store.close()
