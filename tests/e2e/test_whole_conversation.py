"""A customer writes on web chat, an agent answers, and a reconnect shows nothing twice."""

from __future__ import annotations

import aiohttp
from helpers.app import basic_settings, running
from helpers.clients import agent, customer, msg_id


async def test_customer_to_agent_and_back(redis_url: str) -> None:
    async with running(basic_settings(), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        alice = await agent(http, base, "alice-token-1234")
        cust, token = await customer(http, base)

        cid = msg_id()
        await cust.send({"type": "message", "text": "你好，这件衣服有M码吗？", "client_msg_id": cid})
        ack = await cust.expect(lambda f: f["type"] == "ack")
        assert ack["client_msg_id"] == cid and ack["message_id"]

        assigned = await alice.expect(lambda f: f["type"] == "assigned")
        conv = assigned["conversation"]
        assert conv["channel"] == "webchat" and conv["agent"] == "alice"
        assert [m["text"] for m in assigned["messages"]] == ["你好，这件衣服有M码吗？"]
        assert conv["decision"]["pool"] == "presale"

        # A second customer message reaches the agent as a message frame.
        await cust.send({"type": "message", "text": "在吗", "client_msg_id": msg_id()})
        second = await alice.expect(lambda f: f["type"] == "message")
        assert second["conversation_id"] == conv["id"] and second["message"]["text"] == "在吗"

        reply_id = msg_id()
        await alice.send({"type": "reply", "conversation_id": conv["id"], "text": "有的，亲", "client_msg_id": reply_id})
        ack = await alice.expect(lambda f: f["type"] == "ack" and f["client_msg_id"] == reply_id)
        got = await cust.expect(lambda f: f["type"] == "message")
        assert got["message"]["text"] == "有的，亲" and got["message"]["from"] == "agent"
        assert got["message"]["id"] == ack["message_id"]
        delivery = await alice.expect(lambda f: f["type"] == "delivery")
        assert delivery == {"type": "delivery", "message_id": ack["message_id"],
                            "conversation_id": conv["id"], "status": "sent"}

        # The same client_msg_id again is accepted once: same message id, no second delivery.
        await alice.send({"type": "reply", "conversation_id": conv["id"], "text": "有的，亲", "client_msg_id": reply_id})
        await cust.close()

        # Reconnect with last_seen = the reply: nothing is replayed twice.
        second_reply = msg_id()
        await alice.send({"type": "reply", "conversation_id": conv["id"], "text": "还有别的问题吗？", "client_msg_id": second_reply})
        await alice.expect(lambda f: f["type"] == "delivery" and f["status"] == "sent" and f["message_id"] != ack["message_id"])
        cust2, _ = await customer(http, base, token=token, last_seen=ack["message_id"])
        replayed = await cust2.expect(lambda f: f["type"] == "message")
        assert replayed["message"]["text"] == "还有别的问题吗？"
        # And a reconnect from the start replays both replies, each once.
        cust3, _ = await customer(http, base, token=token)
        await cust3.expect(lambda f: f["type"] == "message" and f["message"]["text"] == "还有别的问题吗？")
        texts = [f["message"]["text"] for f in cust3.of("message")]
        assert texts == ["有的，亲", "还有别的问题吗？"]
        assert [f["message"]["text"] for f in cust2.of("message")] == ["还有别的问题吗？"]
        acks = [f for f in alice.of("ack") if f["client_msg_id"] == reply_id]
        assert len(acks) == 2 and acks[0]["message_id"] == acks[1]["message_id"]
        assert len([f for f in alice.of("delivery") if f["message_id"] == ack["message_id"]]) == 1

        # The transcript and the API agree.
        async with http.get(f"{base}/api/v1/conversations/{conv['id']}",
                            headers={"Authorization": "Bearer alice-token-1234"}) as r:
            body = await r.json()
        assert [m["text"] for m in body["messages"]] == ["你好，这件衣服有M码吗？", "在吗", "有的，亲", "还有别的问题吗？"]
        for c in (alice, cust2, cust3):
            await c.close()
