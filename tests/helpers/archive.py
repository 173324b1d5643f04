"""Waiting on the archive worker: it writes within a second of a close, but a loaded machine
may take longer."""

from __future__ import annotations

import asyncio
import time

from router.runtime import Runtime


async def wait_archived(rt: Runtime, n: int, timeout: float = 120) -> None:
    """Until the archive holds at least `n` conversations (bounded)."""
    await asyncio.wait_for(rt.archive.ready.wait(), 60)
    deadline = time.monotonic() + timeout
    while await rt.archive.count() < n:
        assert time.monotonic() < deadline, f"{await rt.archive.count()} of {n} archived"
        await asyncio.sleep(0.1)
