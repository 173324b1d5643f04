"""Run the router in-process on a loopback port, against a given Redis."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from aiohttp import web

from router.config.settings import Settings, parse_settings
from router.runtime import Runtime
from router.web.app import build_app

BASIC = """
pools:
  - id: presale
  - id: aftersale
agents:
  - id: alice
    name: Alice
    token: alice-token-1234
    pools: [presale]
    max_chats: {cap}
  - id: bob
    name: Bob
    token: bob-token-12345
    pools: [presale, aftersale]
    max_chats: {cap}
  - id: sue
    name: Sue
    token: sue-token-12345
    role: supervisor
    pools: [aftersale]
    max_chats: 5
worker:
  claim_idle_ms: 1000
outbox:
  base_delay_s: 0.01
  max_delay_s: 0.05
  max_attempts: 4
"""


def basic_settings(cap: int = 5) -> Settings:
    return parse_settings(BASIC.format(cap=cap), "<test>")


@asynccontextmanager
async def running(settings: Settings, redis_url: str, clock: Callable[[], float] | None = None,
                  data_dir: Path | None = None) -> AsyncIterator[tuple[Runtime, str]]:
    """`clock` replaces the runtime's (the roster reads it) before anything starts. The data dir
    (the SQLite archive) is a private temporary one unless given."""
    own = data_dir is None
    data_dir = Path(tempfile.mkdtemp(prefix="kefu-test-")) if data_dir is None else data_dir
    rt = Runtime(settings, redis_url=redis_url, data_dir=data_dir)
    if clock is not None:
        rt.clock = clock
    app = build_app(rt)
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=2)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield rt, f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()
        if own:
            shutil.rmtree(data_dir, ignore_errors=True)
