"""Scripts on a real 3+3 Cluster: pipelined EVALSHA goes to each key's master, and a master that
lost its script cache (as a promoted replica has none) gets the scripts again while only the
calls that met NOSCRIPT run a second time."""

from __future__ import annotations

import redis
from helpers.redis_cluster import RedisCluster
from redis.exceptions import NoScriptError

from router.store import Store


async def test_noscript_on_one_master_retries_only_its_calls(redis_cluster: RedisCluster) -> None:
    store = Store(redis_cluster.url, "kefu", cluster=True)
    await store.open()
    try:
        k = store.keys
        # Two transcripts whose slots are on different masters.
        cids = [f"c{i}" for i in range(200)]
        first = cids[0]
        home = redis_cluster.master_of(redis_cluster.slot(k.transcript(first)))
        other = next(c for c in cids if redis_cluster.master_of(redis_cluster.slot(k.transcript(c))) != home)
        flushed = redis.Redis(port=home)
        flushed.script_flush()
        flushed.close()
        counter = k.transcript(other) + ":probe"  # same slot as `other`: its master kept its cache

        def build(pipe: object) -> None:
            for cid in (first, other):
                store.scripts.queue(pipe, "append_once", [k.transcript(cid), k.transcript_ids(cid)],
                                    ["m_" + cid, '{"text": "hi"}', 0, "", ""])
            pipe.incr(counter)  # type: ignore[attr-defined]

        results = await store.scripts.run(store.client, build)
        assert not any(isinstance(r, NoScriptError | Exception) for r in results), results
        assert [int(r[0]) for r in results[:2]] == [1, 1]
        assert await store.client.get(counter) == "1"  # the batch was not sent twice
        assert await store.client.xlen(k.transcript(first)) == 1
        assert await store.client.xlen(k.transcript(other)) == 1
    finally:
        await store.close()
