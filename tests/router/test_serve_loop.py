"""`kefu serve --loop`: uvloop by default, Python's loop on request or where uvloop is missing; and
a message crosses two real processes, one on each loop, on one Redis."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import aiohttp
import pytest
import uvloop
from helpers.app import BASIC
from helpers.clients import agent, customer, msg_id
from helpers.procs import Serve

from router.cli.main import run_loop


async def _loop_kind() -> int:
    return 1 if isinstance(asyncio.get_running_loop(), uvloop.Loop) else 0


def test_uvloop_by_default_and_pythons_on_request() -> None:
    assert run_loop(_loop_kind(), "uvloop") == 1
    assert run_loop(_loop_kind(), "asyncio") == 0


def test_without_uvloop_it_runs_on_pythons_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # as on Windows, where it has no build
    assert run_loop(_loop_kind(), "uvloop") == 0


@pytest.mark.slow
async def test_a_chat_crosses_a_uvloop_process_and_an_asyncio_one(redis_url: str, tmp_path: Path) -> None:
    cfg = tmp_path / "kefu.yaml"
    cfg.write_text(BASIC.format(cap=10))
    on_uv = Serve(cfg, redis_url, tmp_path)
    on_py = Serve(cfg, redis_url, tmp_path, extra=["--loop", "asyncio"])
    try:
        on_uv.wait_ready()
        on_py.wait_ready()
        assert "event loop: uvloop" in on_uv.output(), on_uv.output()
        assert "event loop: Python's asyncio" in on_py.output(), on_py.output()
        async with aiohttp.ClientSession() as http:
            alice = await agent(http, on_uv.base, "alice-token-1234")
            shopper, _ = await customer(http, on_py.base)
            await shopper.send({"type": "message", "text": "这件有M码吗", "client_msg_id": msg_id()})
            got = await alice.expect(lambda f: f["type"] == "assigned", timeout=30)
            cid = got["conversation"]["id"]
            await alice.send({"type": "reply", "conversation_id": cid, "text": "有的", "client_msg_id": msg_id()})
            await shopper.expect(lambda f: f["type"] == "message" and f["message"]["text"] == "有的", timeout=30)
            await alice.close()
            await shopper.close()
    finally:
        on_uv.stop()
        on_py.stop()
