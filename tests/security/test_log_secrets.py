"""Item 8: a whole run of a real `kefu serve` at the default log level, every channel used,
leaves none of the secrets it was configured with or issued in its log."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import aiohttp
from helpers.clients import Socket, agent, customer, msg_id
from helpers.fake_telegram import fake_telegram
from helpers.fake_wechat import fake_wechat, safe_body, signed_query, text_xml
from helpers.procs import Serve
from helpers.redis_server import RedisServer

from adapters.wechat_crypto import MessageCrypto

AGENT_TOKEN = "alice-agent-token-7f3a9c"
WEBCHAT_SECRET = "webchat-signing-secret-51c2"
WX_TOKEN = "wx-callback-token-88d1"
WX_SECRET = "wx-app-secret-0b7e44"
AES_KEY = "Zyxwvutsrqponmlkjihgfedcba9876543210ABCDEFG"
TG_TOKEN = "987654:AAH-fake_bot_token_4d2c"
TG_SECRET = "tg-webhook-secret_e91"

CONFIG = """
pools:
  - id: presale
agents:
  - id: alice
    name: Alice
    token: {agent}
    pools: [presale]
    max_chats: 20
bot:
  enabled: false
channels:
  webchat:
    secret: {webchat}
  wechat:
    - account: shop
      app_id: wxfake
      app_secret: {wx_secret}
      token: {wx_token}
      encoding_aes_key: {aes}
      api_base: {wx}
  telegram:
    - bot: shopbot
      token: {tg_token}
      secret_token: {tg_secret}
      api_base: {tg}
"""


async def _reply(alice: Socket, conv: str, text: str) -> None:
    cid = msg_id()
    await alice.send({"type": "reply", "conversation_id": conv, "text": text, "client_msg_id": cid})
    ack = await alice.expect(lambda f: f["type"] == "ack" and f["client_msg_id"] == cid)
    delivery = await alice.expect(lambda f: f["type"] == "delivery" and f["message_id"] == ack["message_id"])
    assert delivery["status"] == "sent", delivery


async def test_a_full_run_logs_no_secret(tmp_path: Path, redis_server: RedisServer) -> None:
    issued: list[str] = []
    async with fake_wechat(app_secret=WX_SECRET) as wx, fake_telegram(token=TG_TOKEN) as tg:
        config = tmp_path / "kefu.yaml"
        config.write_text(CONFIG.format(agent=AGENT_TOKEN, webchat=WEBCHAT_SECRET, wx_secret=WX_SECRET,
                                        wx_token=WX_TOKEN, aes=AES_KEY, wx=wx.base, tg_token=TG_TOKEN,
                                        tg_secret=TG_SECRET, tg=tg.base))
        serve = Serve(config, redis_server.url, tmp_path)
        try:
            # Generous: on a shared 2-core machine a cold start takes 15-20 s.
            await asyncio.to_thread(serve.wait_ready, 120)
            async with aiohttp.ClientSession() as http:
                base = serve.base
                alice = await agent(http, base, AGENT_TOKEN)

                # Web chat: the session token rides in the socket's query.
                shopper, session = await customer(http, base)
                issued.append(session)
                await shopper.send({"type": "message", "text": "hello", "client_msg_id": msg_id()})
                conv = await alice.expect(lambda f: f["type"] == "assigned"
                                          and f["conversation"]["channel"] == "webchat")
                await _reply(alice, conv["conversation"]["id"], "hi there")

                # WeChat: the URL check and a safe-mode callback, signatures in the query.
                now = str(int(time.time()))
                q = signed_query(WX_TOKEN, timestamp=now, nonce="n4711")
                issued += [q["signature"]]
                async with http.get(f"{base}/webhooks/wechat/shop", params={**q, "echostr": "e-42"}) as r:
                    assert r.status == 200
                enc = MessageCrypto(AES_KEY, "wxfake").encrypt(text_xml("oOpenId1", "在吗", 501, int(now)))
                q = signed_query(WX_TOKEN, enc, timestamp=now, nonce="n4712")
                issued += [q["signature"], q["msg_signature"]]
                async with http.post(f"{base}/webhooks/wechat/shop", params=q, data=safe_body(enc).encode()) as r:
                    assert r.status == 200, await r.text()
                conv = await alice.expect(lambda f: f["type"] == "assigned"
                                          and f["conversation"]["channel"] == "wechat")
                await _reply(alice, conv["conversation"]["id"], "在的")

                # Telegram: the webhook secret in a header, the bot token in the Bot API's paths.
                update = {"update_id": 77, "message": {
                    "message_id": 1, "date": int(time.time()), "chat": {"id": 4242, "type": "private"},
                    "from": {"id": 4242, "is_bot": False, "first_name": "Ivan"}, "text": "hi"}}
                async with http.post(f"{base}/webhooks/telegram/shopbot", data=json.dumps(update),
                                     headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET,
                                              "Content-Type": "application/json"}) as r:
                    assert r.status == 200
                conv = await alice.expect(lambda f: f["type"] == "assigned"
                                          and f["conversation"]["channel"] == "telegram")
                await _reply(alice, conv["conversation"]["id"], "hello from the shop")
                assert tg.sent_to(4242) == ["hello from the shop"] and len(wx.sent) == 1

                # The console's cookie session.
                async with http.post(f"{base}/api/v1/session", json={"token": AGENT_TOKEN},
                                     headers={"Origin": base}) as r:
                    assert r.status == 200
                    issued.append(r.cookies["kefu_agent"].value)
                await shopper.close()
                await alice.close()
        finally:
            serve.stop()
    log = serve.log.read_text(errors="replace")
    assert "GET /ws/agent" in log and "POST /webhooks/wechat/shop" in log  # the access log is on
    secrets = [AGENT_TOKEN, WEBCHAT_SECRET, WX_TOKEN, WX_SECRET, AES_KEY, TG_TOKEN, TG_SECRET, *issued]
    leaked = [s for s in secrets if s in log]
    assert not leaked, f"in the log: {leaked}"
