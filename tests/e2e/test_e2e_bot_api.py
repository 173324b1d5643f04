"""The bot's API: unanswered questions and deflection figures, `kefu bot unknown`, quick replies
for agents (search, category, rendering), FAQ search, and reloading the files without a restart."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest
from helpers.app import running
from helpers.bot_app import bot_config, bot_settings
from helpers.clients import Socket, customer, msg_id

from router.cli.main import main
from router.config.settings import parse_settings

SUE = {"Authorization": "Bearer sue-token-12345"}
ALICE = {"Authorization": "Bearer alice-token-1234"}
ROOT = {"Authorization": "Bearer root-token-12345"}


async def ask(sock: Socket, text: str) -> None:
    """Send one line as its own turn and wait for the bot's whole answer to it."""
    cmid = msg_id()
    await sock.send({"type": "message", "text": text, "client_msg_id": cmid})
    ack = await sock.expect(lambda f: f["type"] == "ack" and f["client_msg_id"] == cmid)
    turn = f"m_bot_{ack['message_id']}_"  # replies to a turn are named after its first line
    await sock.expect(lambda f: f["type"] == "message" and f["message"]["id"].startswith(turn))
    while True:  # a turn may say more than one thing (greeting, then answer)
        n = len(sock.frames)
        await asyncio.sleep(0.3)
        if len(sock.frames) == n:
            return


async def test_unknown_questions_and_deflection(redis_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "kefu.yaml"
    config.write_text(bot_config(tmp_path, "  idle_close_s: 1\n  max_unanswered: 2\n"))
    settings = parse_settings(config.read_text(), str(config), base_dir=str(tmp_path))
    async with running(settings, redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        first, _ = await customer(http, base)
        await ask(first, "紫色蝴蝶结代表什么意思？")
        await ask(first, "亲，紫色蝴蝶结代表什么意思")  # the second miss in a row: handoff
        await first.expect(lambda f: f["type"] == "queue")
        second, _ = await customer(http, base)
        await ask(second, "紫色蝴蝶结代表什么意思呢")
        third, _ = await customer(http, base)
        await ask(third, "包邮吗")

        async with http.get(f"{base}/api/v1/bot/unknown", headers=SUE) as r:
            assert r.status == 200
            items = (await r.json())["items"]
        assert items[0]["count"] == 3 and "紫色蝴蝶结" in items[0]["example"]
        async with http.get(f"{base}/api/v1/bot/unknown", headers=ALICE) as r:
            assert r.status == 403  # figures are for supervisors

        # The two quiet bot conversations close as resolved by the bot; the handed-off one does not.
        for _ in range(100):
            async with http.get(f"{base}/api/v1/bot/stats", headers=SUE) as r:
                stats = await r.json()
            if stats["resolved_by_bot"] == 2:
                break
            await asyncio.sleep(0.1)
        assert stats["conversations"] == 3 and stats["handed_off"] == 1
        assert stats["resolved_by_bot"] == 2 and stats["deflection_rate"] == round(2 / 3, 4)
        assert stats["handoff_reasons"] == {"unanswered": 1}
        assert stats["answered_faq"] == 1 and stats["unanswered"] == 3
        await third.expect(lambda f: f["type"] == "closed")
        for s in (first, second, third):
            await s.close()

    argv = ["bot", "unknown", "--top", "5", "--config", str(config), "--redis-url", redis_url]
    assert await asyncio.to_thread(main, argv) == 0  # the CLI runs its own event loop
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("3  ") and "紫色蝴蝶结" in out[0]


async def test_quick_replies_search_and_render(redis_url: str, tmp_path: Path) -> None:
    async with running(bot_settings(tmp_path), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        async with http.post(f"{base}/api/v1/webchat/sessions") as r:
            token = (await r.json())["session"]
        cust = Socket(await http.ws_connect(f"{base}/ws/chat?session={token}&name=王小明"))
        await ask(cust, "我的快递到哪了 2024111100012301")
        cid = (await rt.store.client.zrange(rt.store.keys.conv_index, 0, 0))[0]

        async with http.get(f"{base}/api/v1/quick-replies", params={"q": "th"}, headers=ALICE) as r:
            items = (await r.json())["items"]
        assert items and all(set(i) == {"id", "category", "category_title", "title", "text", "rendered"} for i in items)
        assert any("退" in i["title"] for i in items)  # pinyin initials: th -> 退货

        async with http.get(f"{base}/api/v1/quick-replies", params={"category": "logistics"}, headers=ALICE) as r:
            logistics = (await r.json())["items"]
        assert len(logistics) >= 4 and {i["category"] for i in logistics} == {"logistics"}

        params = {"q": "欢迎", "conversation_id": cid}
        async with http.get(f"{base}/api/v1/quick-replies", params=params, headers=SUE) as r:
            welcome = (await r.json())["items"][0]
        assert "王小明" in welcome["rendered"] and "Sue" in welcome["rendered"]
        assert rt.settings.shop.name in welcome["rendered"] or "{shop}" not in welcome["text"]
        params = {"conversation_id": cid, "limit": "200"}
        async with http.get(f"{base}/api/v1/quick-replies", params=params, headers=SUE) as r:
            every = (await r.json())["items"]
        with_order = [i for i in every if "{order_id}" in i["text"]]
        assert with_order and all("2024111100012301" in i["rendered"] for i in with_order)

        async with http.get(f"{base}/api/v1/quick-replies", params=params, headers=ALICE) as r:
            assert r.status == 403  # not alice's conversation
        async with http.get(f"{base}/api/v1/quick-replies", params={"category": "nope"}, headers=ALICE) as r:
            assert r.status == 400 and (await r.json())["error"] == "bad_query"

        async with http.get(f"{base}/api/v1/faq/search", params={"q": "包邮吗"}, headers=ALICE) as r:
            faq = (await r.json())["items"]
        assert faq and set(faq[0]) == {"id", "question", "answer", "score"} and "包邮" in faq[0]["answer"]
        async with http.get(f"{base}/api/v1/faq/search", headers=ALICE) as r:
            assert r.status == 400
        await cust.close()


FAQ = """
entries:
  - id: opening
    question: 门店几点开门
    variants: [几点开门, 营业时间]
    answer: {answer}
    category: 门店
"""

ADMIN = """  - id: root
    name: Root
    token: root-token-12345
    role: admin
"""


async def test_faq_reloads_on_file_change_and_on_request(redis_url: str, tmp_path: Path) -> None:
    faq = tmp_path / "faq.yaml"
    faq.write_text(FAQ.format(answer="每天十点开门。"))
    text = bot_config(tmp_path, f"  faq: {faq}\n  reload_s: 0.2\n").replace("agents:\n", "agents:\n" + ADMIN, 1)
    async with running(parse_settings(text, "<t>", base_dir=str(tmp_path)), redis_url) as (_rt, base), \
            aiohttp.ClientSession() as http:
        cust, _ = await customer(http, base)
        await ask(cust, "几点开门")
        assert any("十点" in f["message"]["text"] for f in cust.of("message"))

        faq.write_text(FAQ.format(answer="每天九点开门。"))  # picked up by the file watch
        for _ in range(50):
            async with http.get(f"{base}/api/v1/faq/search", params={"q": "几点开门"}, headers=ALICE) as r:
                if "九点" in (await r.json())["items"][0]["answer"]:
                    break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the changed FAQ file was not reloaded")

        async with http.post(f"{base}/api/v1/bot/reload", headers=SUE) as r:
            assert r.status == 403  # admins only
        faq.write_text("entries: [oops")
        async with http.post(f"{base}/api/v1/bot/reload", headers=ROOT) as r:
            assert r.status == 422 and (await r.json())["error"] == "invalid_file"
        await ask(cust, "营业时间")  # the last good version still answers
        assert "九点" in [f for f in cust.of("message") if f["message"]["from"] == "bot"][-1]["message"]["text"]
        faq.write_text(FAQ.format(answer="每天八点开门。"))
        async with http.post(f"{base}/api/v1/bot/reload", headers=ROOT) as r:
            assert r.status == 200 and "faq" in (await r.json())["reloaded"]
        await cust.close()
