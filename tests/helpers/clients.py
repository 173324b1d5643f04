"""WebSocket clients for tests: a customer on web chat and an agent, with frame waiting."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from typing import Any

import aiohttp

Frame = dict[str, Any]


class Socket:
    """Collects every frame; `expect` waits (bounded) for one that matches."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.frames: list[Frame] = []
        self._new = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for msg in self.ws:
            if msg.type is aiohttp.WSMsgType.TEXT:
                self.frames.append(json.loads(msg.data))
                self._new.set()

    async def send(self, frame: Frame) -> None:
        await self.ws.send_str(json.dumps(frame))

    async def expect(self, pred: Callable[[Frame], bool], timeout: float = 10.0, start: int = 0) -> Frame:
        deadline = asyncio.get_running_loop().time() + timeout
        seen = start
        while True:
            for f in self.frames[seen:]:
                if pred(f):
                    return f
            seen = len(self.frames)
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise AssertionError(f"no matching frame within {timeout}s; got {self.frames[-10:]}")
            self._new.clear()
            try:
                await asyncio.wait_for(self._new.wait(), left)
            except TimeoutError:
                pass

    async def expect_count(self, pred: Callable[[Frame], bool], n: int, timeout: float = 10.0) -> list[Frame]:
        """Wait until `n` frames match; return them."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            found = [f for f in self.frames if pred(f)]
            if len(found) >= n:
                return found
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{len(found)} of {n} frames within {timeout}s; got {self.frames[-10:]}")
            self._new.clear()
            try:
                await asyncio.wait_for(self._new.wait(), 0.2)
            except TimeoutError:
                pass

    def of(self, kind: str) -> list[Frame]:
        return [f for f in self.frames if f.get("type") == kind]

    async def close(self) -> None:
        await self.ws.close()
        await asyncio.gather(self._reader, return_exceptions=True)


async def customer(session: aiohttp.ClientSession, base: str, token: str | None = None,
                   last_seen: str | None = None) -> tuple[Socket, str]:
    if token is None:
        async with session.post(f"{base}/api/v1/webchat/sessions") as r:
            assert r.status == 201
            token = (await r.json())["session"]
    url = f"{base}/ws/chat?session={token}"
    if last_seen:
        url += f"&last_seen={last_seen}"
    return Socket(await session.ws_connect(url)), token


async def customer_writes(session: aiohttp.ClientSession, base: str, text: str) -> tuple[Socket, str]:
    """A new web chat customer who writes `text` and is told an agent has it or their place."""
    sock, token = await customer(session, base)
    await sock.send({"type": "message", "text": text, "client_msg_id": msg_id()})
    await sock.expect(lambda f: f["type"] in ("agent", "queue"))
    return sock, token


async def agent(session: aiohttp.ClientSession, base: str, token: str) -> Socket:
    sock = Socket(await session.ws_connect(f"{base}/ws/agent?token={token}"))
    await sock.expect(lambda f: f["type"] == "hello")
    return sock


def msg_id() -> str:
    return uuid.uuid4().hex
