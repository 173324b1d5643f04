"""The embedded Redis keeps conversations and queued messages across a restart."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from pathlib import Path

import aiohttp
from helpers.clients import customer, msg_id
from helpers.procs import Serve


def get(base: str, path: str, token: str) -> dict[str, object]:
    req = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.loads(r.read())  # type: ignore[no-any-return]


async def test_restart_on_same_data_dir_keeps_state(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = Serve(None, None, tmp_path, data_dir=data)  # the demo, with embedded Redis
    first.wait_ready()
    tokens = dict(line.split(" token ")[0].split()[1:2] + line.split(" token ")[1:2]
                  for line in first.output().splitlines() if line.startswith("agent "))
    assert set(tokens) == {"alice", "bob", "admin"}  # the demo prints its admin too (issue 16)
    async with aiohttp.ClientSession() as http:
        cust, _ = await customer(http, first.base)
        # Nobody is online, so the conversation waits in the queue.
        await cust.send({"type": "message", "text": "我想退货", "client_msg_id": msg_id()})
        await cust.expect(lambda f: f["type"] == "ack")
        await cust.expect(lambda f: f["type"] == "queue")
        await cust.close()
    await asyncio.sleep(0.2)
    before = get(first.base, "/api/v1/conversations", tokens["alice"])
    assert first.stop() == 0
    assert (data / "appendonly.aof").exists() or (data / "appendonlydir").exists()

    second = Serve(None, None, tmp_path, data_dir=data)
    second.wait_ready()
    after = get(second.base, "/api/v1/conversations", tokens["alice"])
    assert after["conversations"] == before["conversations"]
    conv = after["conversations"][0]  # type: ignore[index]
    assert conv["state"] == "queued"
    detail = get(second.base, f"/api/v1/conversations/{conv['id']}", tokens["alice"])
    # Off hours (the demo's hours against the real clock) the bot's notice is there too.
    said = [m["text"] for m in detail["messages"] if m["from"] == "customer"]  # type: ignore[index]
    assert said == ["我想退货"]
    assert second.stop() == 0
