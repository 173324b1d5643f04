"""The ingest benchmark's bare baseline: an aiohttp server taking WeChat and Telegram webhooks
with the same checks and parse as kefu's adapters, and then one XADD (after a SET NX on the
channel's message id, as any webhook that is retried needs), and nothing else: no middleware, no
replay guard, no reply window, no router behind it.

    python bench/bare_ingest.py PORT REDIS_URL WECHAT_TOKEN TELEGRAM_SECRET
"""

from __future__ import annotations

import hmac
import json
import sys

import redis.asyncio as aioredis
from aiohttp import web
from wechatpy import parse_message

from adapters.wechat_crypto import signature_ok

STREAM = "bare:inbound"
TTL_S = 7 * 24 * 3600


def main() -> None:
    port, url, token, secret = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    r = aioredis.from_url(url, max_connections=200)

    async def take(key: str, fields: dict[str, str]) -> None:
        if await r.set(key, "1", nx=True, ex=TTL_S):
            await r.xadd(STREAM, fields)  # type: ignore[arg-type]

    async def wechat(request: web.Request) -> web.Response:
        q = request.query
        if not signature_ok(q.get("signature"), token, q.get("timestamp", ""), q.get("nonce", "")):
            raise web.HTTPForbidden()
        msg = parse_message((await request.read()).decode())
        await take(f"bare:dedupe:wechat:{msg.id}", {"from": msg.source, "text": getattr(msg, "content", "")})
        return web.Response(text="success")

    async def telegram(request: web.Request) -> web.Response:
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not given or not hmac.compare_digest(given.encode(), secret.encode()):
            raise web.HTTPForbidden()
        update = json.loads(await request.read())
        m = update["message"]
        await take(f"bare:dedupe:telegram:{update['update_id']}", {"from": str(m["chat"]["id"]), "text": m["text"]})
        return web.Response()

    async def wechat_token(request: web.Request) -> web.Response:
        return web.json_response({"access_token": "bench-token", "expires_in": 7200})

    async def wechat_send(request: web.Request) -> web.Response:
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def telegram_api(request: web.Request) -> web.Response:
        try:
            p = await request.post() if request.content_type != "application/json" else await request.json()
        except ConnectionResetError:  # kefu shutting down mid-send
            return web.Response(status=499)
        return web.json_response({"ok": True, "result": {
            "message_id": 1, "date": 0, "chat": {"id": int(str(p.get("chat_id", 0))), "type": "private"},
            "text": str(p.get("text", ""))}})

    async def ready(request: web.Request) -> web.Response:
        return web.Response(text="ready")

    app = web.Application()
    app.router.add_post("/webhooks/wechat/shop", wechat)
    app.router.add_post("/webhooks/telegram/shopbot", telegram)
    app.router.add_get("/ready", ready)
    app.router.add_get("/cgi-bin/token", wechat_token)
    app.router.add_post("/cgi-bin/message/custom/send", wechat_send)
    app.router.add_post("/bot{token}/{method}", telegram_api)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


if __name__ == "__main__":
    main()
