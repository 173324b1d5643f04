"""A fake WeChat API on loopback: `cgi-bin/token` and `cgi-bin/message/custom/send`.

Scriptable: push errcodes onto `script` and the next sends answer them in order (0 is
success); `status_script` answers HTTP statuses instead. Every attempt is kept in `attempts`;
the sends WeChat took, in `sent`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web


class FakeWechat:
    def __init__(self, app_id: str = "wxfake", app_secret: str = "fake-secret") -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        self.script: list[int] = []
        self.status_script: list[int] = []
        self.attempts: list[dict[str, Any]] = []
        self.sent: list[dict[str, Any]] = []
        self.raw_bodies: list[bytes] = []
        self.token_calls = 0
        self.token_delay_s = 0.0
        self.hold_tokens: asyncio.Event | None = None
        """When set to an Event, token answers wait for it: a test orders processes' steps."""
        self.valid_tokens: set[str] = set()
        self._n = itertools.count(1)
        self.base = ""

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/cgi-bin/token", self.token)
        app.router.add_post("/cgi-bin/message/custom/send", self.send)
        return app

    async def token(self, request: web.Request) -> web.Response:
        q = request.query
        if q.get("grant_type") != "client_credential" or q.get("appid") != self.app_id \
                or q.get("secret") != self.app_secret:
            return web.json_response({"errcode": 40013, "errmsg": "invalid appid"})
        self.token_calls += 1
        if self.token_delay_s:
            await asyncio.sleep(self.token_delay_s)
        if self.hold_tokens is not None:
            await asyncio.wait_for(self.hold_tokens.wait(), 10)
        token = f"TOKEN-{next(self._n)}"
        # A new token invalidates the older ones, as at WeChat (without their 5-minute grace).
        self.valid_tokens = {token}
        return web.json_response({"access_token": token, "expires_in": 7200})

    async def send(self, request: web.Request) -> web.Response:
        raw = await request.read()
        self.raw_bodies.append(raw)
        body = json.loads(raw)
        token = request.query.get("access_token", "")
        self.attempts.append({"token": token, **body})
        if self.status_script:
            return web.Response(status=self.status_script.pop(0), text="busy")
        if token not in self.valid_tokens:
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
        code = self.script.pop(0) if self.script else 0
        if code == 0:
            self.sent.append(body)
        return web.json_response({"errcode": code, "errmsg": "ok" if code == 0 else f"scripted {code}"})

    def expire_tokens(self) -> None:
        """As if WeChat expired every token (42001 follows for the cached one)."""
        self.valid_tokens = set()


@asynccontextmanager
async def serve_app(app: web.Application) -> AsyncIterator[str]:
    """Run an aiohttp app on a free loopback port; yields its base URL."""
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def fake_wechat(**kw: Any) -> AsyncIterator[FakeWechat]:
    fake = FakeWechat(**kw)
    async with serve_app(fake.app()) as base:
        fake.base = base
        yield fake


# -- building callbacks as WeChat does --------------------------------------------------------
def text_xml(openid: str, content: str, msg_id: int, create_time: int = 1_700_000_000,
             to: str = "gh_shop") -> str:
    return (f"<xml><ToUserName><![CDATA[{to}]]></ToUserName>"
            f"<FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{create_time}</CreateTime>"
            f"<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content>"
            f"<MsgId>{msg_id}</MsgId></xml>")


def event_xml(openid: str, event: str, create_time: int = 1_700_000_000, key: str = "") -> str:
    extra = f"<EventKey><![CDATA[{key}]]></EventKey>" if key else ""
    return (f"<xml><ToUserName><![CDATA[gh_shop]]></ToUserName>"
            f"<FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{create_time}</CreateTime>"
            f"<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event>{extra}</xml>")


def signed_query(token: str, encrypted: str | None = None, timestamp: str | None = None,
                 nonce: str | None = None) -> dict[str, str]:
    """The query WeChat adds to a callback; with `encrypted`, the safe-mode fields too. The
    timestamp is now and the nonce new, as WeChat's are, unless given."""
    import time
    import uuid

    from adapters.wechat_crypto import signature

    timestamp = timestamp or str(int(time.time()))
    nonce = nonce or uuid.uuid4().hex[:10]
    q = {"signature": signature(token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce,
         "openid": "x"}
    if encrypted is not None:
        q.update(encrypt_type="aes", msg_signature=signature(token, timestamp, nonce, encrypted))
    return q


def safe_body(encrypted: str) -> str:
    return f"<xml><ToUserName><![CDATA[gh_shop]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
