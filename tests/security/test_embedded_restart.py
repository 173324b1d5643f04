"""Issue 13 item 14: after the embedded Redis exited (an AOF write error on a full disk), kefu
stayed up with /readyz 503 forever. A watch service now logs why it stopped and starts it again,
with backoff, without a restart of kefu. Here the real embedded redis-server is killed with -9."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import urllib.error
import urllib.request
from pathlib import Path

import aiohttp
from helpers.clients import customer, msg_id
from helpers.procs import Serve, children, gone


def _ready(base: str) -> int:
    try:
        with urllib.request.urlopen(f"{base}/readyz", timeout=2) as r:
            return int(r.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, OSError):
        return 0


async def test_a_killed_embedded_redis_comes_back_without_restarting_kefu(tmp_path: Path) -> None:
    serve = Serve(None, None, tmp_path, data_dir=tmp_path / "data")
    try:
        serve.wait_ready(60)
        async with aiohttp.ClientSession() as http:
            sock, token = await customer(http, serve.base)
            first = msg_id()
            await sock.send({"type": "message", "text": "在吗", "client_msg_id": first})
            ack = await sock.expect(lambda f: f["type"] == "ack", timeout=15)
            await sock.close()

            servers = [pid for pid, name in children(serve.proc.pid).items() if name == "redis-server"]
            assert len(servers) == 1, children(serve.proc.pid)
            os.kill(servers[0], signal.SIGKILL)
            assert await asyncio.to_thread(gone, servers[0])

            deadline = time.monotonic() + 60
            while await asyncio.to_thread(_ready, serve.base) != 200:
                assert serve.proc.poll() is None, "kefu itself must stay up"
                assert time.monotonic() < deadline, f"not ready again within 60 s: {serve.output()}"
                await asyncio.sleep(0.2)
            after = [pid for pid, name in children(serve.proc.pid).items() if name == "redis-server"]
            assert len(after) == 1 and after != servers

            # The same kefu process takes messages again, and the AOF kept the earlier one.
            sock, _ = await customer(http, serve.base, token=token)
            await sock.send({"type": "message", "text": "在吗", "client_msg_id": first})
            again = await sock.expect(lambda f: f["type"] == "ack", timeout=30)
            assert again["message_id"] == ack["message_id"], "the idempotency key survived the restart"
            second = msg_id()
            await sock.send({"type": "message", "text": "还在吗", "client_msg_id": second})
            await sock.expect(lambda f: f["type"] == "ack" and f["client_msg_id"] == second, timeout=30)
            await sock.close()
        serve.output()  # flushes
        log = serve.log.read_text(errors="replace")
        assert "embedded redis-server exited with code" in log and "restarted" in log, log[-3000:]
    finally:
        serve.stop()
