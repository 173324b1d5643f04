"""Live document versions on a plain Redis and on a Cluster node: the activation script
compares, numbers, stores and points in one step (its keys share the {cfg} slot), a stale
editor is refused and stores nothing, every problem of a refused document is at its line."""

from __future__ import annotations

import pytest

from kefu_common.errors import ConfigErrors
from router.live.versions import LiveVersions
from router.rules.versions import StaleVersion
from router.store import Store

POOLS = "pools:\n  - id: presale\n  - id: aftersale\n"


async def test_activate_stale_invalid_and_history(routing_redis_url: str) -> None:
    store = Store(routing_redis_url)
    await store.open()
    try:
        versions = LiveVersions(store)
        sub = await store.subscribe(store.keys.live_channel)
        try:
            vid, pools = await versions.activate("pools", POOLS, "config", "")
            assert vid == "v1" and [p.id for p in pools] == ["presale", "aftersale"]
            notices = [await sub.next(wait_s=2) for _ in range(3)]  # the subscription's own answer first
            assert ("{cfg:kefu}:events", "pools v1") in notices
        finally:
            await sub.close()
        with pytest.raises(StaleVersion):
            await versions.activate("pools", POOLS + "  - id: vip\n", "ada", "")
        with pytest.raises(ConfigErrors) as refused:
            await versions.activate("pools", "pools:\n  - id: a b\n  - id: presale\n  - id: presale\n", "ada", "v1")
        assert [(e.line, e.col) for e in refused.value.errors] == [(2, 9), (4, 9)]
        assert str(refused.value).startswith("pools.yaml:2:9: pool id 'a b'")
        vid, _ = await versions.activate("pools", POOLS + "  - id: vip\n", "ada", "v1")
        assert vid == "v2"
        history = await versions.history("pools")
        assert [(h["version"], h["author"], h["active"]) for h in history] == [("v2", "ada", True), ("v1", "config", False)]
        assert history[0]["summary"] == "added: vip; +1 -0 lines"
        assert (await versions.get("pools", "v2") or {})["previous"] == "v1"
        assert await versions.active_id("hours") == ""  # kinds are apart
    finally:
        await store.close()

