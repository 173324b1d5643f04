"""Customer profiles (issue 16): PATCH /api/v1/customers/{id}, rules that see the new segment and
tags on the next message, the signed identify of the web chat embed, merge and unmerge."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import aiohttp
from helpers.app import BASIC, running
from helpers.clients import Socket, agent, customer, msg_id

from router.archive.audit import AuditFilter
from router.config.settings import parse_settings
from router.ops.profiles import signature_of
from router.runtime import Runtime

RULES = """
default: {pool: presale}
rules:
  - name: vip-first
    when: {segment: vip}
    then: {pool: aftersale, tags: [vip]}
  - name: wholesale
    when: {tag: wholesale}
    then: {pool: aftersale, tags: [wholesale]}
  - name: down-jackets
    when: {product_title: 羽绒服}
    then: {pool: aftersale, tags: [down]}
"""
SECRET = "shop-identify-secret-0123456789"
SUE = {"Authorization": "Bearer sue-token-12345"}
ALICE = {"Authorization": "Bearer alice-token-1234"}
BOB = {"Authorization": "Bearer bob-token-12345"}


def settings(tmp_path: Path) -> Any:
    rules = tmp_path / "routing.yaml"
    rules.write_text(RULES, encoding="utf-8")
    text = BASIC.format(cap=5) + f"routing:\n  rules: {rules}\n" \
        + f"channels:\n  webchat:\n    identify_secret: {SECRET}\n"
    return parse_settings(text, "<test>")


async def _write(s: aiohttp.ClientSession, base: str, text: str, token: str | None = None) -> tuple[Socket, str]:
    cust, token = await customer(s, base, token)
    await cust.send({"type": "message", "text": text, "client_msg_id": msg_id()})
    return cust, token


async def _assigned(sock: Socket, pred: Any = None) -> dict[str, Any]:
    frame = await sock.expect(lambda f: f["type"] == "assigned" and (pred is None or pred(f)))
    return frame


async def _conv(s: aiohttp.ClientSession, base: str, cid: str) -> dict[str, Any]:
    async with s.get(f"{base}/api/v1/conversations/{cid}", headers=SUE) as r:
        assert r.status == 200
        return await r.json()  # type: ignore[no-any-return]


async def test_a_supervisor_sets_vip_and_the_next_message_is_routed_by_the_vip_rule(
        redis_url: str, tmp_path: Path) -> None:
    async with running(settings(tmp_path), redis_url) as (_rt, base), aiohttp.ClientSession() as s:
        alice = await agent(s, base, "alice-token-1234")
        cust, _ = await _write(s, base, "想问一下尺码")
        first = await _assigned(alice)
        cust_id, cid = first["conversation"]["customer_id"], first["conversation"]["id"]
        assert (await _conv(s, base, cid))["conversation"]["decision"]["rule"] is None  # the default
        await alice.send({"type": "close", "conversation_id": cid})
        await alice.expect(lambda f: f["type"] == "closed" and f["conversation_id"] == cid)

        async with s.patch(f"{base}/api/v1/customers/{cust_id}", headers=SUE,
                           json={"segment": "VIP", "name": "王小姐", "phone": "+86 138-0000-5678",
                                 "tags": ["wholesale"], "attributes": {"会员等级": "金卡", "orders": 12}}) as r:
            assert r.status == 200, await r.text()
            body = (await r.json())["customer"]
        assert body["segment"] == "vip" and body["name"] == "王小姐" and body["phone"] == "138****5678"
        assert body["tags"] == ["wholesale"] and body["attributes"] == {"会员等级": "金卡", "orders": "12"}
        # Lists show the name too (the records' views), not "访客 xxxxxx".
        async with s.get(f"{base}/api/v1/conversations?view=all", headers=SUE) as r:
            rows = (await r.json())["conversations"]
        assert [c.get("customer_name") for c in rows if c["customer_id"] == cust_id] == ["王小姐"]

        bob = await agent(s, base, "bob-token-12345")  # aftersale: the VIP rule's pool
        await cust.send({"type": "message", "text": "又来问一下", "client_msg_id": msg_id()})
        second = await _assigned(bob)
        conv = (await _conv(s, base, second["conversation"]["id"]))["conversation"]
        assert conv["decision"]["rule"] == "vip-first" and conv["decision"]["pool"] == "aftersale"
        assert second["conversation"]["customer"]["name"] == "王小姐"
        assert second["conversation"]["customer"]["segment"] == "vip"
        for sock in (cust, alice, bob):
            await sock.close()


async def test_bad_edits_are_refused_and_change_nothing(redis_url: str, tmp_path: Path) -> None:
    async with running(settings(tmp_path), redis_url) as (rt, base), aiohttp.ClientSession() as s:
        alice = await agent(s, base, "alice-token-1234")
        cust, _ = await _write(s, base, "你好")
        cust_id = (await _assigned(alice))["conversation"]["customer_id"]
        url = f"{base}/api/v1/customers/{cust_id}"
        before = await rt.store.customer(cust_id)
        for bad in ({"segment": "gold"}, {"tags": "vip"}, {"tags": ["two words"]}, {"phone": "call me"},
                    {"nickname": "x"}, {}, {"name": "x" * 65}, {"attributes": {"a": {"deep": 1}}},
                    {"segment": "vip", "phone": "abc"}):
            async with s.patch(url, headers=SUE, json=bad) as r:
                assert r.status == 400, bad
                answer = await r.json()
                # error and detail always; the values a refusal names (field, limit) beside them
                assert {"error", "detail"} <= set(answer) <= {"error", "detail", "field", "limit"} and answer["detail"]
        assert await rt.store.customer(cust_id) == before  # the segment of the last one did not land
        async with s.patch(url, headers=BOB, json={"segment": "vip"}) as r:
            assert r.status == 403  # not bob's customer
        async with s.patch(f"{base}/api/v1/customers/cu_nobody", headers=SUE, json={"segment": "vip"}) as r:
            assert r.status == 404
        async with s.patch(url, headers=ALICE, json={"phone": "13800005678"}) as r:
            assert r.status == 200  # her own customer
        # The number is nowhere in Redis: masked in the hash, a keyed digest in the identities.
        for key in await rt.store.client.keys("*"):
            kind = await rt.store.client.type(key)
            dump = json.dumps(await rt.store.client.hgetall(key)) if kind == "hash" else \
                json.dumps(sorted(await rt.store.client.smembers(key))) if kind == "set" else \
                (await rt.store.client.get(key) or "") if kind == "string" else ""
            assert "13800005678" not in key + dump
        await cust.close()
        await alice.close()


def _signed(user_id: str, ts: float | None = None, **profile: Any) -> dict[str, str]:
    text = json.dumps({"user_id": user_id, "ts": time.time() if ts is None else ts, **profile}, ensure_ascii=False)
    return {"profile": text, "signature": signature_of(text, SECRET)}


async def _session(s: aiohttp.ClientSession, base: str) -> str:
    async with s.post(f"{base}/api/v1/webchat/sessions") as r:
        return str((await r.json())["session"])


async def test_identify_needs_the_shops_signature_and_links_devices_and_phones(
        redis_url: str, tmp_path: Path) -> None:
    async with running(settings(tmp_path), redis_url) as (rt, base), aiohttp.ClientSession() as s:
        url = f"{base}/api/v1/webchat/identify"
        phone_session = await _session(s, base)
        good = _signed("u-1001", name="李先生", phone="13912345678", segment="vip")
        forged = {**good, "profile": good["profile"].replace("vip", "new")}
        stale = _signed("u-1001", ts=time.time() - 2 * 86400)
        for body, status in (({**forged, "session": phone_session}, 401), ({**stale, "session": phone_session}, 401),
                             ({**good, "session": "v1.bad.1.x"}, 401), ({"session": phone_session}, 400),
                             ({**_signed("u-1001", segment="gold"), "session": phone_session}, 400)):
            async with s.post(url, json=body) as r:
                assert r.status == status, (body, await r.text())
        assert await rt.store.customers.by_identity("webchat", "web", "anything") is None

        # The phone, on one device, and the same shop user on another: one customer.
        laptop = await _session(s, base)
        async with s.post(url, json={**good, "session": laptop}) as r:
            assert r.status == 200, await r.text()
            cust_id = (await r.json())["customer"]
        phone = await _session(s, base)
        async with s.post(url, json={**_signed("u-1001"), "session": phone}) as r:
            assert (await r.json())["customer"] == cust_id

        bob = await agent(s, base, "bob-token-12345")
        one, _ = await _write(s, base, "第一台设备", laptop)
        first = await _assigned(bob)
        assert first["conversation"]["customer_id"] == cust_id  # vip: aftersale, bob's pool
        assert first["conversation"]["customer"]["name"] == "李先生"
        assert first["conversation"]["customer"]["phone"] == "139****5678"
        await bob.send({"type": "close", "conversation_id": first["conversation"]["id"]})
        await bob.expect(lambda f: f["type"] == "closed")

        # A visitor who wrote before saying who they are, then identifies with the same phone as
        # another shop user: their earlier conversation joins that customer's history.
        stranger, stranger_token = await _write(s, base, "之前的问题")
        early = await _assigned(bob, lambda f: f["conversation"]["customer_id"] != cust_id)
        async with s.post(url, json={**_signed("u-2002", phone="+86 139 1234 5678"),
                                     "session": stranger_token}) as r:
            linked = await r.json()
        assert linked["customer"] == cust_id and linked["merged"] == early["conversation"]["customer_id"]
        async with s.get(f"{base}/api/v1/customers/{cust_id}/history", headers=SUE) as r:
            history = await r.json()
        assert {c["id"] for c in history["conversations"]} == {first["conversation"]["id"],
                                                               early["conversation"]["id"]}
        for sock in (one, stranger, bob):
            await sock.close()


async def test_identify_is_refused_when_the_shop_has_no_secret(redis_url: str, tmp_path: Path) -> None:
    text = BASIC.format(cap=5)
    async with running(parse_settings(text, "<test>"), redis_url) as (_rt, base), aiohttp.ClientSession() as s:
        async with s.post(f"{base}/api/v1/webchat/identify",
                          json={**_signed("u-1"), "session": await _session(s, base)}) as r:
            assert r.status == 404 and (await r.json())["error"] == "not_configured"


async def test_merge_shows_one_history_and_unmerge_puts_everything_back(redis_url: str, tmp_path: Path) -> None:
    async with running(settings(tmp_path), redis_url) as (rt, base), aiohttp.ClientSession() as s:
        alice = await agent(s, base, "alice-token-1234")
        a, _ = await _write(s, base, "我是网页上的")
        conv_a = (await _assigned(alice))["conversation"]
        b, _ = await _write(s, base, "我也是我")
        conv_b = (await _assigned(alice, lambda f: f["conversation"]["id"] != conv_a["id"]))["conversation"]
        keep, other = conv_a["customer_id"], conv_b["customer_id"]
        async with s.patch(f"{base}/api/v1/customers/{other}", headers=SUE, json={"name": "赵女士", "tags": ["团购"]}):
            pass
        merge = f"{base}/api/v1/customers/{keep}/merge"
        async with s.post(merge, headers=BOB, json={"other": other}) as r:
            assert r.status == 403  # neither is bob's
        for body, status in (({"other": keep}, 400), ({"other": "cu_none"}, 404), ({}, 400)):
            async with s.post(merge, headers=SUE, json=body) as r:
                assert r.status == status, body
        async with s.post(merge, headers=ALICE, json={"other": other}) as r:
            assert r.status == 200, await r.text()
            merged = (await r.json())["customer"]
        assert merged["name"] == "赵女士" and merged["tags"] == ["团购"]
        assert set(merged["identities"]) >= {i for i in (await rt.store.customers.identities(other))}
        async with s.post(merge, headers=SUE, json={"other": other}) as r:
            assert r.status == 409  # already merged
        async with s.get(f"{base}/api/v1/customers/{keep}/history", headers=ALICE) as r:
            assert {c["id"] for c in (await r.json())["conversations"]} == {conv_a["id"], conv_b["id"]}
        assert (await rt.store.conversation(conv_b["id"]) or {})["customer_id"] == keep
        # The merged customer's next line lands in the kept customer's open conversation.
        await b.send({"type": "message", "text": "还在吗", "client_msg_id": msg_id()})
        await alice.expect(lambda f: f["type"] == "message" and f["message"]["text"] == "还在吗")

        async with s.post(f"{base}/api/v1/customers/{other}/unmerge", headers=ALICE) as r:
            assert r.status == 200, await r.text()
        async with s.post(f"{base}/api/v1/customers/{other}/unmerge", headers=ALICE) as r:
            assert r.status == 409
        kept = await rt.store.customer(keep) or {}
        assert kept["name"] == "" and kept["tags"] == [] and not kept["merged_into"]
        assert not set(kept["identities"]) & set(await rt.store.customers.identities(other))
        assert (await rt.store.conversation(conv_b["id"]) or {})["customer_id"] == other
        async with s.get(f"{base}/api/v1/customers/{keep}/history", headers=SUE) as r:
            assert {c["id"] for c in (await r.json())["conversations"]} == {conv_a["id"]}
        # Who did what, in the audit log: the edit, the merge and its undoing.
        entries, _, _ = await rt.audit.query(AuditFilter(action="customer.*"))
        assert [(e["action"], e["actor"], e["target"]) for e in reversed(entries)] == [
            ("customer.edit", "sue", other), ("customer.merge", "alice", keep), ("customer.unmerge", "alice", other)]
        for sock in (a, b, alice):
            await sock.close()


async def test_profile_reads_survive_a_restart_of_the_runtime(redis_url: str, tmp_path: Path) -> None:
    """The profile lives in Redis: another process (a new Runtime) reads what the first set."""
    async with running(settings(tmp_path), redis_url) as (_rt, base), aiohttp.ClientSession() as s:
        alice = await agent(s, base, "alice-token-1234")
        cust, _ = await _write(s, base, "hello")
        cust_id = (await _assigned(alice))["conversation"]["customer_id"]
        async with s.patch(f"{base}/api/v1/customers/{cust_id}", headers=ALICE, json={"segment": "returning"}) as r:
            assert r.status == 200
        await cust.close()
        await alice.close()
    async with Runtime(settings(tmp_path), redis_url=redis_url, data_dir=tmp_path) as rt:
        assert (await rt.store.customer(cust_id) or {})["segment"] == "returning"


async def test_the_product_on_the_page_reaches_the_agent_and_the_rules(redis_url: str, tmp_path: Path) -> None:
    async with running(settings(tmp_path), redis_url) as (_rt, base), aiohttp.ClientSession() as s:
        token = await _session(s, base)
        url = f"{base}/api/v1/webchat/context"
        for bad in ({"product": "sku"}, {"product": {"id": "1"}}, {"product": {"id": "1", "title": "x", "price": -1}},
                    {"product": {"id": "1", "title": "x", "image": "javascript:alert(1)"}},
                    {"product": {"id": "1", "title": "x", "color": "red"}}):
            async with s.post(url, json={**bad, "session": token}) as r:
                assert r.status == 400, bad
        async with s.post(url, json={"product": {"id": "1"}, "session": "forged"}) as r:
            assert r.status == 401
        product = {"id": "sku-1001", "title": "加厚羽绒服 黑色 M", "price": "599", "image": "https://img.example/1.jpg",
                   "url": "https://shop.example/p/1001"}
        async with s.post(url, json={"product": product, "session": token}) as r:
            assert r.status == 200
            assert (await r.json())["product"]["price"] == 599.0
        bob = await agent(s, base, "bob-token-12345")
        cust, _ = await _write(s, base, "这件有货吗", token)
        frame = await _assigned(bob)
        assert frame["conversation"]["customer"]["product"]["title"] == "加厚羽绒服 黑色 M"
        decision = (await _conv(s, base, frame["conversation"]["id"]))["conversation"]["decision"]
        assert decision["rule"] == "down-jackets"
        assert any("product title contains '羽绒服'" in c for c in decision["conditions"])
        await cust.close()
        await bob.close()
