"""`kefu migrate` on data the previous key layout wrote (tests/data/layout-v1.json: a real
`kefu serve` of 0.1, three customers assigned to alice, one answered), on one Redis and on a
3+3 Cluster: afterwards `kefu serve` finds the conversations, the load and the rules."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import aiohttp
import redis
from helpers.procs import Serve
from helpers.redis_snapshot import load

from router.store.migrate import new_name

DATA = Path(__file__).parent.parent / "data"


def sync_client(backend) -> redis.Redis | redis.RedisCluster:  # type: ignore[no-untyped-def]
    if backend.cluster:
        return redis.RedisCluster.from_url(backend.url, decode_responses=True)
    return redis.Redis.from_url(backend.url, decode_responses=True)


def _migrate(backend, cfg: Path, cwd: Path, *extra: str) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    return subprocess.run(
        [sys.executable, "-m", "router", "migrate", "--config", str(cfg), "--redis-url", backend.url,
         *extra, *backend.serve_args],
        capture_output=True, text=True, timeout=120, cwd=cwd,
    )


def test_new_names() -> None:
    assert new_name("kefu:{rt}:conv:c_1", "kefu") == "{rt:kefu}:conv:c_1"
    assert new_name("kefu:{t:c_1}:log", "kefu") == "{t:kefu:c_1}:log"
    assert new_name("kefu:{wx:acc}:quota:o:1", "kefu") == "{wx:kefu:acc}:quota:o:1"
    assert new_name("shopB:{rt}:convs", "kefu") is None  # another shop's keys stay
    assert new_name("{rt:kefu}:convs", "kefu") is None  # already new
    assert new_name("kefu:shift:night:2026-01-01:start", "kefu") is None


def test_migrate_then_serve(backend, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    snapshot = json.loads((DATA / "layout-v1.json").read_text())
    client = sync_client(backend)
    load(client, snapshot)
    client.set("shopB:{rt}:convs:x", "another shop's")  # not ours: must stay where it is
    cfg = tmp_path / "kefu.yaml"
    cfg.write_text((DATA / "layout-v1.yaml").read_text())

    out = _migrate(backend, cfg, tmp_path, "--dry-run")
    assert out.returncode == 0, out.stderr
    assert f"would move {len(snapshot)} keys" in out.stdout
    assert all(client.exists(k) for k in snapshot)  # a dry run changes nothing

    done = _migrate(backend, cfg, tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"moved {len(snapshot)} keys" in done.stdout
    assert not any(client.exists(k) for k in snapshot)
    assert all(client.exists(new_name(k, "kefu")) for k in snapshot)  # type: ignore[arg-type]
    assert client.get("shopB:{rt}:convs:x") == "another shop's"
    again = _migrate(backend, cfg, tmp_path)
    assert again.returncode == 0 and "moved 0 keys" in again.stdout

    old_convs = {k.split(":")[-1] for k in snapshot if k.startswith("kefu:{rt}:conv:")}
    proc = Serve(cfg, backend.url, tmp_path, extra=backend.serve_args)
    try:
        proc.wait_ready(120)
        asyncio.run(_check_served(proc.base, old_convs))
        assert client.get("{rules:kefu}:active") == "v1"  # the old history is the history still
    finally:
        proc.stop()
        client.close()


async def _check_served(base: str, old_convs: set[str]) -> None:
    headers = {"Authorization": "Bearer alice-token-1234"}
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/api/v1/conversations", headers=headers) as r:
            convs = (await r.json())["conversations"]
        assert {c["id"] for c in convs} == old_convs
        assert all(c["agent"] == "alice" and c["state"] == "assigned" for c in convs)
        async with http.get(f"{base}/api/v1/agents", headers=headers) as r:
            loads = {a["id"]: a["load"] for a in (await r.json())["agents"]}
        assert loads == {"alice": 3, "bob": 0}
        texts = []
        for cid in old_convs:
            async with http.get(f"{base}/api/v1/conversations/{cid}", headers=headers) as r:
                texts += [m["text"] for m in (await r.json())["messages"]]
        assert sorted(texts) == ["hello 0", "hello 1", "hello 2", "您好，在的"]
