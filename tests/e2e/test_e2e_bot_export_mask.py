"""Personal data leaves the router masked: `kefu rules export-trace` writes 138****5678."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import aiohttp
from helpers.app import basic_settings, running
from helpers.clients import customer, msg_id


async def test_export_trace_masks_phone_numbers(redis_url: str, tmp_path: Path) -> None:
    async with running(basic_settings(), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        sock, _ = await customer(http, base)
        await sock.send({"type": "message", "text": "我电话13812345678，地址浙江省杭州市西湖区文三路100号",
                         "client_msg_id": msg_id()})
        await sock.expect(lambda f: f["type"] in ("queue", "agent"))
        await sock.close()
        trace = tmp_path / "trace.jsonl"
        done = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "router", "rules", "export-trace", "--redis-url", redis_url,
                             "--out", str(trace)], cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        [line] = [json.loads(x) for x in trace.read_text(encoding="utf-8").splitlines()]
        text = line["input"]["text"]
        assert "138****5678" in text and "13812345678" not in text
        assert "文三路" not in text and "浙江省杭州市" in text
        # The agent still sees the real text in the conversation itself.
        cid = line["conversation"]
        assert "13812345678" in (await rt.transcript.messages(cid))[0].text
