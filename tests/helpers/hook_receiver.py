"""A webhook receiver on loopback: records every POST, checks its signature, and fails, sleeps
or answers as a test says."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from helpers.fake_wechat import serve_app
from router.hooks.events import SIGNATURE_HEADER, signature_ok


@dataclass
class Receiver:
    secret: str
    fail_first: int = 0
    """Answer 503 to this many requests before taking any."""
    fail_status: int = 503
    sleep_s: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    """Every request: its body (parsed), whether the signature held, and the status answered."""
    url: str = ""
    _new: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        if self.sleep_s:
            await asyncio.sleep(self.sleep_s)
        ok = signature_ok(self.secret, raw, request.headers.get(SIGNATURE_HEADER))
        status = 200
        if self.fail_first > 0:
            self.fail_first -= 1
            status = self.fail_status
        self.requests.append({"body": json.loads(raw), "signed": ok, "status": status, "path": request.path,
                              "headers": dict(request.headers)})
        self._new.set()
        return web.Response(status=status, text="ok" if status == 200 else "down")

    @property
    def taken(self) -> list[dict[str, Any]]:
        """Bodies of the requests answered 200, in the order they came."""
        return [r["body"] for r in self.requests if r["status"] == 200]

    async def wait_for(self, pred: Any, timeout: float = 20.0) -> list[dict[str, Any]]:
        """Until pred(taken) is true; the bodies taken."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not pred(self.taken):
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise AssertionError(f"receiver: condition not met in {timeout}s; "
                                     f"{len(self.requests)} requests, last {self.requests[-3:]}")
            self._new.clear()
            try:
                await asyncio.wait_for(self._new.wait(), min(left, 0.5))
            except TimeoutError:
                pass
        return self.taken


@asynccontextmanager
async def receiver(secret: str = "a-webhook-secret-0123456789", **kw: Any) -> AsyncIterator[Receiver]:
    rec = Receiver(secret, **kw)
    app = web.Application()
    app.router.add_post("/{tail:.*}", rec.handle)
    async with serve_app(app) as base:
        rec.url = f"{base}/hook"
        yield rec
