"""`kill -9` of `kefu serve` takes its embedded redis-server with it (Linux, PR_SET_PDEATHSIG)."""

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
