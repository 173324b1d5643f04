"""`kill -9` of `kefu serve` takes its embedded redis-server with it (Linux, PR_SET_PDEATHSIG), and
a terminal's Ctrl-C does not take it before kefu has drained."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from pathlib import Path

import pytest
from helpers.procs import Serve, children, gone

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")


def test_sigkill_of_serve_stops_its_embedded_redis(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = Serve(None, None, tmp_path, data_dir=data)  # the demo, with embedded Redis
    redis: list[int] = []
    try:
        first.wait_ready()
        redis = [pid for pid, name in children(first.proc.pid).items() if name == "redis-server"]
        assert len(redis) == 1, children(first.proc.pid)
        first.kill()
        assert gone(redis[0]), "the embedded redis-server outlived its kefu serve"
        # It was told with SIGTERM, not killed, so it flushed the AOF and left in order.
        assert "ready to exit" in (data / "redis.log").read_text(errors="replace")
    finally:
        first.stop()
        for pid in redis:  # never leave one behind, even when the test fails
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    # What an operator notices: a restart on the same data dir works at once, with nothing to clean.
    second = Serve(None, None, tmp_path, data_dir=data)
    try:
        second.wait_ready()
    finally:
        assert second.stop() == 0


def test_ctrl_c_drains_before_the_embedded_redis_stops(tmp_path: Path) -> None:
    """A terminal's Ctrl-C is a SIGINT to its whole foreground group. The embedded server was in
    kefu's group and shut down at the same instant, so every loop's drain met "Connection closed
    by server" and the sender's last deliveries were left to be redone after the next start."""
    data = tmp_path / "data"
    serve = Serve(None, None, tmp_path, data_dir=data, own_group=True)
    redis: list[int] = []
    try:
        serve.wait_ready()
        redis = [pid for pid, name in children(serve.proc.pid).items() if name == "redis-server"]
        assert len(redis) == 1, children(serve.proc.pid)
        os.killpg(serve.proc.pid, signal.SIGINT)
        assert serve.proc.wait(30) == 0
        out = serve.log.read_text(errors="replace")
        assert "shutting down: draining work" in out
        assert "Redis error" not in out and "resubscribing" not in out, out
        assert "alembic.runtime.plugins" not in out  # seven lines of set-up at every start, before
        assert gone(redis[0]), "the embedded redis-server outlived its kefu serve"
        log = (data / "redis.log").read_text(errors="replace")
        assert "Received SIGTERM" in log and "Received SIGINT" not in log  # kefu stopped it, after the drain
    finally:
        serve.stop()
        for pid in redis:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
