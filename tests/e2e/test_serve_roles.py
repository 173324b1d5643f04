"""`kefu serve --role web|worker` as real processes on one Redis: two web processes take web chat
and Telegram messages and hold the sockets, one worker routes and sends. A message taken by one
web process is routed by the worker (and only once it runs; a new web chat visitor's first line
by the web process as it is taken in), reaches the agent on the other web process, and the
agent's answer goes back through the worker's sender to the customer's socket on the first one
and to the fake Telegram API."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest
import redis.asyncio as aioredis
from helpers.clients import agent, customer, msg_id
from helpers.fake_telegram import fake_telegram
from helpers.procs import Serve

RT = "{rt:kefu}:"
TG_SECRET = "roles-tg-secret"
CONFIG = """
pools:
  - id: presale
agents:
  - id: alice
    token: alice-token-1234
    pools: [presale]
    max_chats: 10
bot:
  enabled: false
channels:
  telegram:
    - bot: shopbot
      token: "{token}"
      secret_token: {secret}
      api_base: {api}
"""


async def telegram_update(http: aiohttp.ClientSession, base: str, n: int, chat: int, text: str) -> int:
    update = {"update_id": n, "message": {"message_id": n, "date": int(time.time()),
                                          "chat": {"id": chat, "type": "private"},
                                          "from": {"id": chat, "is_bot": False, "first_name": "买家"}, "text": text}}
    async with http.post(f"{base}/webhooks/telegram/shopbot", json=update,
                         headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET}) as r:
        return r.status


async def subscribers(r: aioredis.Redis, names: tuple[str, ...]) -> list[int]:
    """The processes subscribed to each of the runtime's channels: shard channels on Redis 7,
    plain ones before (the suite's private server may be the embedded 6.2)."""
    sharded = int((await r.info("server"))["redis_version"].split(".")[0]) >= 7
    got = await r.execute_command("PUBSUB", "SHARDNUMSUB" if sharded else "NUMSUB", *(RT + n for n in names))
    counts = dict(zip(got[::2], got[1::2], strict=True))
    return [int(counts[RT + n]) for n in names]


@pytest.mark.slow
async def test_web_processes_ingest_and_a_worker_routes(redis_url: str, tmp_path: Path) -> None:
    async with fake_telegram() as tg:
        cfg = tmp_path / "kefu.yaml"
        cfg.write_text(CONFIG.format(token=tg.token, secret=TG_SECRET, api=tg.base))
        web_a = Serve(cfg, redis_url, tmp_path, extra=["--role", "web"])
        web_b = Serve(cfg, redis_url, tmp_path, extra=["--role", "web"])
        worker: Serve | None = None
        r = aioredis.from_url(redis_url, decode_responses=True)
        try:
            web_a.wait_ready()
            web_b.wait_ready()
            async with aiohttp.ClientSession() as http:
                alice = await agent(http, web_b.base, "alice-token-1234")
                shopper, _ = await customer(http, web_a.base)
                await shopper.send({"type": "message", "text": "这件有M码吗", "client_msg_id": msg_id()})
                await shopper.expect(lambda f: f["type"] == "ack")
                assert await telegram_update(http, web_a.base, 501, 4242, "发货了吗") == 200

                # Taken and durable. The new web chat visitor's first line was decided and routed
                # as it was taken in (a new customer's facts are the rules' defaults); the Telegram
                # line waits in the stream: nothing else is decided until a worker runs.
                await asyncio.sleep(2.0)
                assert await r.zcard(f"{RT}convs") == 1
                assert [f["conversation"]["channel"] for f in alice.of("assigned")] == ["webchat"]
                assert await r.xlen("{in:kefu}:stream") == 1

                worker = Serve(cfg, redis_url, tmp_path, extra=["--role", "worker"])
                worker.wait_ready()
                got = await alice.expect_count(lambda f: f["type"] == "assigned", 2, timeout=30)
                by_channel = {f["conversation"]["channel"]: f["conversation"]["id"] for f in got}
                assert set(by_channel) == {"webchat", "telegram"}, got

                # Two web processes and the worker hear customer frames (the worker for its queue
                # texts); the agent and transcript channels reach the web processes alone, since a
                # worker holds no socket to hand their frames to.
                assert await subscribers(r, ("events:customer", "events:agent", "events:transcript")) == [3, 2, 2]

                for channel, text in (("webchat", "有的，M码有货"), ("telegram", "今天下午发货")):
                    await alice.send({"type": "reply", "conversation_id": by_channel[channel], "text": text,
                                      "client_msg_id": msg_id()})
                await shopper.expect(lambda f: f["type"] == "message" and f["message"]["text"] == "有的，M码有货",
                                     timeout=20)
                deadline = time.monotonic() + 20
                while "今天下午发货" not in tg.sent_to(4242) and time.monotonic() < deadline:
                    await asyncio.sleep(0.1)
                assert "今天下午发货" in tg.sent_to(4242)

                # The worker serves health and metrics only: no chat page, no sockets, no webhooks.
                for path in ("/chat", "/console", "/api/v1/webchat/sessions"):
                    async with http.get(worker.base + path) as resp:
                        assert resp.status == 404, path
                assert await telegram_update(http, worker.base, 502, 4242, "x") == 404
                async with http.get(worker.base + "/readyz") as resp:
                    assert resp.status == 200
                assert len(alice.of("assigned")) == 2, "a message was routed twice"
                await alice.close()
                await shopper.close()
        finally:
            for p in (web_a, web_b, worker):
                if p is not None:
                    p.stop()
            await r.aclose()


def test_a_split_role_needs_a_shared_redis(tmp_path: Path) -> None:
    cfg = tmp_path / "kefu.yaml"
    cfg.write_text("pools:\n  - id: presale\nagents:\n  - id: a\n    token: a-token-123456\n    pools: [presale]\n")
    done = subprocess.run([sys.executable, "-m", "router", "serve", "--role", "worker", "--port", "0",
                           "--config", str(cfg), "--data-dir", str(tmp_path / "data")],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "--role worker needs a Redis the other processes share" in done.stderr, done.stderr
