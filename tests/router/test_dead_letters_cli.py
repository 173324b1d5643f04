"""`kefu dead-letters` lists what the loops moved aside, from the server's Redis."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from helpers.redis_server import RedisServer

from router.pipeline.streams import DeadLetters, GroupConsumer
from router.store import Store
from router.store.keys import INBOUND_GROUP


async def seed(redis_url: str) -> None:
    """Two unparsable inbound entries, moved aside as the route worker would."""
    store = Store(redis_url)
    await store.open()
    k = store.keys
    group = GroupConsumer(store, k.inbound, INBOUND_GROUP, 1000, DeadLetters(k.inbound_dead_letters, k.inbound_tries))
    await group.ensure()
    for raw in ("not json", "{]"):
        await store.client.xadd(k.inbound, {"m": raw})
    for entry in await group.read(10, 100):
        await group.failed(entry, f"undecodable: {entry[1]['m']}", hopeless=True)
    await store.close()


def test_lists_dead_letters_newest_first(redis_server: RedisServer, tmp_path: Path) -> None:
    redis_url = redis_server.url
    asyncio.run(seed(redis_url))
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_")}
    args = [sys.executable, "-m", "router", "dead-letters", "--redis-url", redis_url, "--data-dir", str(tmp_path)]
    out = subprocess.run(args, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=True).stdout
    lines = out.splitlines()
    assert lines[0] == "inbound: 2 dead letters"
    assert lines[1].endswith("tries 1  undecodable: {]") and lines[2].endswith("tries 1  undecodable: not json")
    assert lines[3] == "outbound: 0 dead letters" and lines[4] == "archive: 0 dead letters"

    got = json.loads(subprocess.run([*args, "--json", "--stream", "outbound"], env=env, cwd=tmp_path,
                                    capture_output=True, text=True, timeout=60, check=True).stdout)
    assert got == {"outbound": [0, []]}
    bad = subprocess.run([*args, "--stream", "sideways"], env=env, cwd=tmp_path, capture_output=True, text=True,
                         timeout=60)
    assert bad.returncode == 2 and "invalid choice: 'sideways'" in bad.stderr
