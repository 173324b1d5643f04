"""GET /api/v1/audit over a running router: the changes people make through the API and the
console socket land in the log with who, when, from where (through the trusted proxy), before
and after; admins only; filters and paging."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from helpers.app import BASIC, running
from helpers.clients import agent, customer, msg_id
from helpers.rulesets import RULES_B

from router.archive import audit as archived
from router.archive.audit import AuditFilter
from router.config.settings import Settings, parse_settings

ADA = {"Authorization": "Bearer ada-admin-token-1"}
SUE = {"Authorization": "Bearer sue-token-12345"}
PROXIED = {"X-Forwarded-For": "198.51.100.7, 203.0.113.9"}


def settings() -> Settings:
    admin = ("  - id: ada\n    name: Ada\n    token: ada-admin-token-1\n    role: admin\n    pools: [presale]\n"
             "web:\n  trusted_proxies: [127.0.0.1/32]\n")
    return parse_settings(BASIC.format(cap=5).replace("worker:\n", admin + "worker:\n", 1), "<test>")


async def audit(http: aiohttp.ClientSession, base: str, **query: str) -> list[dict[str, Any]]:
    async with http.get(f"{base}/api/v1/audit", params=query, headers=ADA) as r:
        assert r.status == 200, await r.text()
        body = await r.json()
    entries: list[dict[str, Any]] = body["entries"]
    return entries


async def test_changes_are_audited_with_who_where_before_and_after(redis_url: str) -> None:
    async with running(settings(), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        sue = await agent(http, base, "sue-token-12345")
        alice = await agent(http, base, "alice-token-1234")
        cust, _ = await customer(http, base)
        await cust.send({"type": "message", "text": "能便宜点吗", "client_msg_id": msg_id()})
        cid = (await alice.expect(lambda f: f["type"] == "assigned"))["conversation"]["id"]

        # A discount within Alice's authority, then one above it that Sue approves over HTTP.
        await alice.send({"type": "discount_request", "conversation_id": cid, "amount": 10, "reason": "老客",
                          "client_msg_id": msg_id()})
        await alice.expect(lambda f: f["type"] == "approval" and f["approval"]["state"] == "approved")
        await alice.send({"type": "discount_request", "conversation_id": cid, "amount": 35, "reason": "破损",
                          "client_msg_id": msg_id()})
        apid = (await sue.expect(lambda f: f["type"] == "approval_request"))["approval"]["id"]
        async with http.post(f"{base}/api/v1/approvals/{apid}", json={"approved": True, "note": "ok"},
                             headers={**SUE, **PROXIED}) as r:
            assert r.status == 200

        # Sue takes the chat over from her console.
        await sue.send({"type": "transfer", "conversation_id": cid, "to_agent": "sue"})
        await sue.expect(lambda f: f["type"] == "transferred")

        # Ada validates, activates and rolls back rules.
        async with http.post(f"{base}/api/v1/rules/validate", json={"source": RULES_B}, headers=ADA) as r:
            assert r.status == 200
        async with http.get(f"{base}/api/v1/rules", headers=ADA) as r:
            v1 = (await r.json())["version"]
        async with http.put(f"{base}/api/v1/rules", json={"source": RULES_B},
                            headers={**ADA, **PROXIED, "If-Match": f'"{v1}"'}) as r:
            assert r.status == 200, await r.text()
            v2 = (await r.json())["version"]
        async with http.post(f"{base}/api/v1/rules/rollback/{v1}", headers=ADA) as r:
            v3 = (await r.json())["version"]

        # The CSV export, once the archive is up.
        await asyncio.wait_for(rt.archive.ready.wait(), 30)
        async with http.get(f"{base}/api/v1/reports/export.csv", params={"from": "0", "to": "4000000000"},
                            headers=SUE) as r:
            assert r.status == 200

        entries = await audit(http, base)
        actions = [e["action"] for e in entries]
        assert actions == ["export.conversations_csv", "rules.rollback", "rules.activate", "rules.validate",
                           "conversation.takeover", "discount.approve", "discount.auto_approve"]
        by = {e["action"]: e for e in entries}
        assert by["discount.approve"]["actor"] == "sue" and by["discount.approve"]["role"] == "supervisor"
        assert by["discount.approve"]["addr"] == "203.0.113.9"  # what the trusted proxy saw, not the claim
        assert by["discount.approve"]["before"] == {"status": "pending"}
        assert by["discount.approve"]["after"] == {"status": "approved"}
        assert by["discount.approve"]["detail"]["amount"] == 35 and by["discount.approve"]["target"] == apid
        assert by["discount.auto_approve"]["actor"] == "alice" and by["discount.auto_approve"]["addr"] == "127.0.0.1"
        take = by["conversation.takeover"]
        assert (take["target"], take["before"]["agent"], take["after"]["agent"]) == (cid, "alice", "sue")
        act = by["rules.activate"]
        assert (act["actor"], act["before"], act["after"]) == ("ada", {"version": v1}, {"version": v2})
        assert act["addr"] == "203.0.113.9" and "+  pool: aftersale" in act["detail"]["diff"]
        assert by["rules.rollback"]["after"] == {"version": v3}
        assert by["rules.validate"]["detail"] == {"ok": True, "errors": 0, "warnings": 0}
        assert all(e["at"] > 0 and e["id"] for e in entries)

        # Filters and paging.
        assert [e["action"] for e in await audit(http, base, action="rules.*")] == [
            "rules.rollback", "rules.activate", "rules.validate"]
        assert [e["action"] for e in await audit(http, base, actor="sue")] == [
            "export.conversations_csv", "conversation.takeover", "discount.approve"]
        assert [e["action"] for e in await audit(http, base, target=cid)] == ["conversation.takeover"]
        later = await audit(http, base, since=str(by["rules.validate"]["at"]))
        assert [e["action"] for e in later][-1] == "rules.validate" and len(later) == 4
        async with http.get(f"{base}/api/v1/audit", params={"limit": "3"}, headers=ADA) as r:
            first = await r.json()
        async with http.get(f"{base}/api/v1/audit", params={"limit": "3", "cursor": first["next_cursor"]},
                            headers=ADA) as r:
            second = await r.json()
        assert [e["action"] for e in first["entries"] + second["entries"]] == actions[:6]

        # The process's own copier has put every entry in the archive, under the same ids.
        async def archived_ids() -> list[str]:
            return [e["id"] for e in await archived.page(rt.archive, AuditFilter(), None, 100)]
        for _ in range(100):
            if await archived_ids() == [e["id"] for e in entries]:
                break
            await asyncio.sleep(0.1)
        assert await archived_ids() == [e["id"] for e in entries]

        # Admins only; bad queries change nothing and say why.
        for who in (SUE, {"Authorization": "Bearer alice-token-1234"}):
            async with http.get(f"{base}/api/v1/audit", headers=who) as r:
                assert r.status == 403
        async with http.get(f"{base}/api/v1/audit") as r:
            assert r.status == 401
        for bad in ({"cursor": "x; DROP"}, {"limit": "0"}, {"since": "yesterday"}):
            async with http.get(f"{base}/api/v1/audit", params=bad, headers=ADA) as r:
                assert r.status == 400 and (await r.json())["error"] == "bad_query"
        await cust.close()
        await sue.close()
        await alice.close()


async def test_caps_statuses_and_reloads_by_others_are_audited(redis_url: str) -> None:
    async with running(settings(), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        async with http.put(f"{base}/api/v1/agents/alice/cap", json={"cap": 2}, headers=SUE) as r:
            assert r.status == 200
        async with http.delete(f"{base}/api/v1/agents/alice/cap", headers=SUE) as r:
            assert r.status == 200
        async with http.post(f"{base}/api/v1/agents/alice/status", json={"status": "away"}, headers=SUE) as r:
            assert r.status == 200
        async with http.post(f"{base}/api/v1/agents/sue/status", json={"status": "away"}, headers=SUE) as r:
            assert r.status == 200  # one's own status is not a change to anyone else
        async with http.post(f"{base}/api/v1/bot/reload", headers=ADA) as r:
            assert r.status == 200
        entries = await audit(http, base)
        assert [(e["action"], e["target"], e["actor"]) for e in entries] == [
            ("bot.reload", "bot", "ada"), ("agent.status", "alice", "sue"), ("agent.cap", "alice", "sue"),
            ("agent.cap", "alice", "sue")]
        assert entries[1]["before"] == {"status": "offline"} and entries[1]["after"] == {"status": "away"}
        raised, cleared = entries[3], entries[2]
        assert raised["before"] == {"cap_override": None, "max_chats": 5}
        assert raised["after"] == {"cap_override": 2, "max_chats": 2}
        assert cleared["after"] == {"cap_override": None, "max_chats": 5}
