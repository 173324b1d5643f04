"""A WeCom 微信客服 customer through real `kefu serve` processes and the fake WeCom API on
loopback: the welcome goes out through send_msg_on_event; the customer's text and photo reach the
agent once, even though the process that acked the callback was killed with SIGKILL before its
pull finished; the agent's reply goes out through send_msg."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
from helpers.clients import Socket, agent, msg_id
from helpers.fake_wecom import (
    AES_KEY,
    CB_TOKEN,
    CORP_ID,
    KFID,
    callback_xml,
    encrypted_callback,
    entry,
    event,
    fake_wecom,
    text,
)
from helpers.media_samples import jpeg
from helpers.procs import Serve

CONFIG = """
pools:
  - id: presale
agents:
  - id: alice
    token: alice-token-1234
    pools: [presale]
    max_chats: 50
worker:
  claim_idle_ms: 1000
channels:
  wecom:
    - account: corp
      corp_id: {corp}
      secret_env: KEFU_TEST_WECOM_SECRET
      token: {token}
      encoding_aes_key: {aes}
      api_base: "{api}"
      welcome: 您好，这里是旗舰店客服
      servicer_userid: kefu01
      pull_lease_s: 2
      sweep_interval_s: 0.5
"""
USER = "wmServeCustomer"


async def post_callback(http: aiohttp.ClientSession, base: str, token: str) -> None:
    body, q = encrypted_callback(callback_xml(KFID, token))
    async with http.post(f"{base}/webhooks/wecom/corp", data=body.encode(), params=q,
                         timeout=aiohttp.ClientTimeout(total=5)) as r:
        assert (r.status, await r.text()) == (200, "success")  # acked, the pull not yet done


async def until(check: Any, timeout: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_text_and_photo_reach_the_agent_once_across_a_kill(
        redis_url: str, tmp_path: Path, monkeypatch: Any) -> None:
    async with fake_wecom() as api, aiohttp.ClientSession() as http:
        monkeypatch.setenv("KEFU_TEST_WECOM_SECRET", api.secret)
        config = tmp_path / "kefu.yaml"
        config.write_text(CONFIG.format(corp=CORP_ID, token=CB_TOKEN, aes=AES_KEY, api=api.base), "utf-8")

        first = Serve(config, redis_url, tmp_path, data_dir=tmp_path / "data")
        first.wait_ready()
        # The customer opens the chat from a QR code on an order page: the welcome goes at once.
        api.welcome_codes.add("WELCOME-SERVE")
        api.push(KFID, event(USER, "enter_session", scene="order_qr", scene_param="20241111-0001",
                             welcome_code="WELCOME-SERVE"))
        await post_callback(http, first.base, api.callback_token())
        await until(lambda: bool(api.on_event))
        assert api.on_event[0]["text"]["content"] == "您好，这里是旗舰店客服"
        await until(lambda: api.syncs and not api.queue_left(KFID))

        # Then a text and a photo. WeCom's sync_msg hangs, the callback is acked, and the process
        # is killed before it has pulled them.
        photo = jpeg(320, 240, seed=7)
        media_id = api.add_media(photo, "image/jpeg", "crack.jpg")
        api.push(KFID, text(USER, "收到的衣服有破洞"), entry(USER, "image", {"media_id": media_id}))
        api.sync_gate = asyncio.Event()
        reads = len(api.syncs_started)
        await post_callback(http, first.base, api.callback_token())
        await until(lambda: len(api.syncs_started) > reads)
        first.kill()
        api.sync_gate.set()

        second = Serve(config, redis_url, tmp_path, data_dir=tmp_path / "data")
        second.wait_ready()
        alice: Socket = await agent(http, second.base, "alice-token-1234")
        conv = await alice.expect(lambda f: f["type"] == "assigned", timeout=60)
        cid = conv["conversation"]["id"]
        assert any("scene_param=20241111-0001" in m["text"] for m in conv["messages"])  # shown to the agent
        # Assigned, and before anyone writes the customer's WeChat shows a person serving them.
        await until(lambda: any(t["service_state"] == 3 for t in api.trans), timeout=30)
        assert api.trans[-1].get("servicer_userid") == "kefu01" and not api.sent

        def texts() -> Counter[str]:
            seen: Counter[str] = Counter()
            for f in alice.frames:
                for m in f.get("messages", []) if f["type"] == "assigned" else [f.get("message") or {}]:
                    if m.get("from") == "customer" and m.get("kind") in ("text", "image"):
                        seen[m["id"]] += 1
            return seen

        photo_frame = await alice.expect(lambda f: f["type"] == "media", timeout=60)
        assert photo_frame["media"]["mime"] == "image/jpeg"
        await until(lambda: len(texts()) >= 2, timeout=30)
        await asyncio.sleep(1.5)  # a second copy, if one were coming, would show by now
        transcript = [m for m in await transcript_of(http, second.base, cid)
                      if m["from"] == "customer" and m["kind"] in ("text", "image")]
        assert [(m["kind"], m["text"]) for m in transcript] == [("text", "收到的衣服有破洞"), ("image", "")]

        # The agent answers: through kf/send_msg, to the customer at the kf account they wrote to.
        await alice.send({"type": "reply", "conversation_id": cid, "text": "非常抱歉，马上为您换新",
                          "client_msg_id": msg_id()})
        await until(lambda: "非常抱歉，马上为您换新" in api.texts_to(USER), timeout=30)
        sent = [s for s in api.sent if s["msgtype"] == "text"][-1]
        assert (sent["touser"], sent["open_kfid"]) == (USER, KFID)
        assert api.trans and api.trans[-1]["service_state"] == 3  # shown as served by a person
        assert api.texts_to(USER).count("非常抱歉，马上为您换新") == 1
        assert [t["service_state"] for t in api.trans] == [3]  # moved once, at the assignment
        # The agent closes the conversation: the session ends on WeCom's side too.
        await alice.send({"type": "close", "conversation_id": cid})
        await until(lambda: api.trans[-1]["service_state"] == 4, timeout=30)
        await alice.close()
        second.stop()


async def transcript_of(http: aiohttp.ClientSession, base: str, cid: str) -> list[dict[str, Any]]:
    async with http.get(f"{base}/api/v1/conversations/{cid}",
                        headers={"Authorization": "Bearer alice-token-1234"}) as r:
        assert r.status == 200, await r.text()
        body = await r.json()
    return list(body["messages"])
