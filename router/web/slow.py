"""Closing a socket whose browser does not read: with a reason when the close frame still fits,
by dropping the connection when even that does not drain. Either way the client reconnects and
replays (the console and the chat page both do), so nothing is lost."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import web

from router.config.settings import LimitSettings
from router.pipeline.tap import Drain, Stuck

log = logging.getLogger("kefu.web")

SLOW_CONSUMER = 1008
"""Close code (policy violation); the reason text says "slow consumer: ..."."""
CLOSE_WITHIN_S = 2.0


def drain(limits: LimitSettings) -> Drain:
    return Drain(max_queued=limits.socket_queue_frames, send_timeout_s=limits.socket_send_timeout_s)


def closer(ws: web.WebSocketResponse, request: web.Request) -> Stuck:
    async def close(reason: str) -> None:
        try:
            async with asyncio.timeout(CLOSE_WITHIN_S):
                await ws.close(code=SLOW_CONSUMER, message=reason.encode()[:120])
        except Exception:  # the close frame itself did not drain: drop the connection
            transport = request.transport
            if transport is not None:
                with contextlib.suppress(Exception):
                    transport.abort()
            log.info("socket %s dropped: %s", request.path, reason)

    return close
