"""SLA timers through the running router: warnings, a missed first response handed to a free
agent, escalation to supervisors, follow-up tasks, the fallback ladder, and timers that fire once
across two processes and a restart. Targets are fractions of a second, set in the test files."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from helpers.app import running
from helpers.clients import Socket, agent, customer, msg_id

from router.config.settings import Settings, parse_settings
from router.runtime import Runtime

CONFIG = """
pools:
  - id: presale
  - id: aftersale
  - id: supervisors
agents:
  - {id: alice, name: Alice, token: alice-token-1234, pools: [presale], max_chats: 1}
  - {id: bob, name: Bob, token: bob-token-12345, pools: [presale, aftersale], skills: {english: 1}}
  - {id: sue, name: Sue, token: sue-token-12345, role: supervisor, pools: [supervisors]}
routing:
  rules: rules.yaml
sla:
  profiles: sla.yaml
  timer_max_sleep_s: 0.05
  timer_lease_s: 1
worker:
  claim_idle_ms: 1000
outbox:
  base_delay_s: 0.01
  max_attempts: 2
"""

RULES = """
default: {pool: presale}
rules:
  - name: complaint
    when: {contains: "#complaint"}
    then: {pool: presale, sla: complaint}
  - name: breach
    when: {contains: "#breach"}
    then: {pool: presale, sla: breach}
  - name: slow
    when: {contains: "#slow"}
    then: {pool: presale, sla: slow}
  - name: quick
    when: {contains: "#quick"}
    then: {pool: presale, sla: quick}
  - name: check
    when: {contains: "#check"}
    then: {pool: presale, sla: checking}
  - name: any-agent
    when: {contains: "#anyone"}
    then:
      pool: aftersale
      skills: [english]
      fallback: [{after: 0.5s, any_agent: true}]
  - name: lower-level
    when: {contains: "#level"}
    then:
      pool: aftersale
      skills: [english]
      min_level: 3
      fallback: [{after: 0.5s, pool: aftersale, min_level: 1}]
  - name: ladder
    when: {contains: "#ladder"}
    then:
      pool: aftersale
      fallback: [{after: 0.5s, pool: presale}]
"""

PROFILES = """
warn_at: 0.5
profiles:
  quick:
    first_response: 0.8s
    next_response: 30s
  complaint:
    first_response: 30s
    escalate: {after: 0.6s, pool: supervisors}
    follow_up: [{after: 0.9s, task: satisfaction_call, note: ask how it went}]
  slow:  # never due by itself in a test: the restart test makes its timers due when it is ready
    escalate: {after: 1h}
    follow_up: [{after: 1h, task: satisfaction_call}]
  breach:
    first_response: 30s
    resolution: 0.6s
    escalate: {on_breach: [resolution]}
  checking:
    first_response: 5m
    resolution: 24h
    promise: {zh: "我们会在 {time}内答复您。", en: "We will answer within {time}."}
"""

SUE = {"Authorization": "Bearer sue-token-12345"}
ALICE = {"Authorization": "Bearer alice-token-1234"}


def settings(tmp_path: Path) -> Settings:
    (tmp_path / "rules.yaml").write_text(RULES)
    (tmp_path / "sla.yaml").write_text(PROFILES)
    return parse_settings(CONFIG, "<test>", base_dir=str(tmp_path))


async def write(http: aiohttp.ClientSession, base: str, text: str) -> Socket:
    sock, _ = await customer(http, base)
    await sock.send({"type": "message", "text": text, "client_msg_id": msg_id()})
    return sock


def sla_frames(sock: Socket, event: str, cid: str | None = None) -> list[dict[str, Any]]:
    return [f for f in sock.of("sla") if f["event"] == event and (cid is None or f["conversation_id"] == cid)]


async def conversation(http: aiohttp.ClientSession, base: str, cid: str) -> dict[str, Any]:
    async with http.get(f"{base}/api/v1/conversations/{cid}", headers=SUE) as r:
        assert r.status == 200
        conv: dict[str, Any] = (await r.json())["conversation"]
        return conv


async def test_missed_first_response_warns_then_goes_to_a_free_agent(redis_url: str, tmp_path: Path) -> None:
    async with running(settings(tmp_path), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        alice = await agent(http, base, "alice-token-1234")
        shopper = await write(http, base, "#quick 这件有货吗")
        got = await alice.expect(lambda f: f["type"] == "assigned")
        cid = got["conversation"]["id"]
        sla = got["conversation"]["sla"]
        assert sla["profile"] == "quick" and sla["state"] == "due" and sla["first_response_due"] > time.time()
        bob = await agent(http, base, "bob-token-12345")  # free and eligible, comes in after

        warning = await alice.expect(lambda f: f["type"] == "sla" and f["event"] == "warning", timeout=5)
        assert warning["conversation_id"] == cid and warning["target"] == "first_response"
        taken = await bob.expect(lambda f: f["type"] == "assigned", timeout=5)
        assert taken["conversation"]["id"] == cid
        await alice.expect(lambda f: f["type"] == "unassigned" and f["reason"] == "sla_reassigned")
        assert sla_frames(alice, "breached", cid)
        conv = await conversation(http, base, cid)
        assert conv["agent"] == "bob" and conv["sla"]["state"] == "breached"
        assert set(conv["sla"]["breaches"]) == {"first_response"}
        await asyncio.sleep(0.3)
        assert len(sla_frames(alice, "warning")) == 1  # once, not once per process or tick
        for s in (alice, bob, shopper):
            await s.close()


async def test_first_response_miss_with_nobody_free_keeps_the_agent(redis_url: str, tmp_path: Path) -> None:
    async with running(settings(tmp_path), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        alice = await agent(http, base, "alice-token-1234")
        shopper = await write(http, base, "#quick hello")
        cid = (await alice.expect(lambda f: f["type"] == "assigned"))["conversation"]["id"]
        breached = await alice.expect(lambda f: f["type"] == "sla" and f["event"] == "breached", timeout=5)
        assert breached["sla"]["state"] == "breached" and breached["conversation_id"] == cid
        conv = await conversation(http, base, cid)
        assert conv["agent"] == "alice" and conv["state"] == "assigned"
        await alice.close()
        await shopper.close()


async def test_replies_meet_first_and_next_response(redis_url: str, tmp_path: Path) -> None:
    async with running(settings(tmp_path), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        alice = await agent(http, base, "alice-token-1234")
        shopper = await write(http, base, "#quick 在吗")
        cid = (await alice.expect(lambda f: f["type"] == "assigned"))["conversation"]["id"]
        await alice.send({"type": "reply", "conversation_id": cid, "text": "在的", "client_msg_id": msg_id()})
        met = await alice.expect(lambda f: f["type"] == "sla" and f["event"] == "met")
        assert met["target"] == "first_response" and met["sla"]["state"] == "met"
        assert (await conversation(http, base, cid))["sla"]["first_response_at"] is not None

        await shopper.send({"type": "message", "text": "还有一个问题", "client_msg_id": msg_id()})
        await alice.expect(lambda f: f["type"] == "message" and f["message"]["text"] == "还有一个问题")
        due = await alice.expect(lambda f: f["type"] == "sla" and f["event"] == "due")
        assert due["target"] == "next_response" and due["sla"]["next_response_due"] > time.time() + 20
        sla = (await conversation(http, base, cid))["sla"]
        assert sla["state"] == "due" and sla["next_response_due"] == due["sla"]["next_response_due"]
        await alice.send({"type": "reply", "conversation_id": cid, "text": "请说", "client_msg_id": msg_id()})
        await alice.expect(lambda f: f["type"] == "sla" and f["event"] == "met" and f["target"] == "next_response")
        async with http.get(f"{base}/api/v1/conversations", headers=ALICE) as r:
            listed = {c["id"]: c for c in (await r.json())["conversations"]}
        assert listed[cid]["sla"]["state"] == "met" and listed[cid]["sla"]["next_response_due"] is None
        await asyncio.sleep(1.0)  # past the first-response target: nothing fires once met
        assert not sla_frames(alice, "breached") and not sla_frames(alice, "warning")
        await alice.close()
        await shopper.close()


async def test_complaint_escalates_to_supervisors_and_leaves_a_follow_up_task(
        redis_url: str, tmp_path: Path) -> None:
    async with running(settings(tmp_path), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        alice = await agent(http, base, "alice-token-1234")
        sue = await agent(http, base, "sue-token-12345")
        shopper = await write(http, base, "#complaint 我要投诉")
        cid = (await alice.expect(lambda f: f["type"] == "assigned"))["conversation"]["id"]

        escalated = await sue.expect(lambda f: f["type"] == "sla" and f["event"] == "escalated", timeout=5)
        assert escalated["conversation_id"] == cid
        await sue.expect(lambda f: f["type"] == "assigned" and f["conversation"]["id"] == cid)
        await alice.expect(lambda f: f["type"] == "unassigned" and f["reason"] == "escalated")
        conv = await conversation(http, base, cid)
        assert conv["agent"] == "sue" and conv["pool"] == "supervisors"
        assert conv["sla"]["escalated_at"] is not None
        # Solved and closed: the satisfaction call is still due later.
        await sue.send({"type": "close", "conversation_id": cid})
        await sue.expect(lambda f: f["type"] == "closed")
        assert (await conversation(http, base, cid))["sla"]["state"] == "met"

        task_frame = await sue.expect(lambda f: f["type"] == "task", timeout=5)
        assert task_frame["task"]["kind"] == "satisfaction_call"
        async with http.get(f"{base}/api/v1/tasks", headers=SUE) as r:
            tasks = (await r.json())["tasks"]
        assert [(t["conversation_id"], t["kind"], t["note"], t["state"]) for t in tasks] == [
            (cid, "satisfaction_call", "ask how it went", "open")]
        async with http.get(f"{base}/api/v1/tasks", headers=ALICE) as r:
            assert r.status == 403
        async with http.post(f"{base}/api/v1/tasks/{tasks[0]['id']}/done", headers=SUE) as r:
            assert r.status == 200 and (await r.json())["task"]["state"] == "done"
        async with http.get(f"{base}/api/v1/tasks?state=open", headers=SUE) as r:
            assert (await r.json())["tasks"] == []
        async with http.get(f"{base}/api/v1/tasks?state=nope", headers=SUE) as r:
            assert r.status == 400 and (await r.json())["error"] == "bad_query"
        for s in (alice, sue, shopper):
            await s.close()


async def test_resolution_breach_escalates_to_the_supervisors_pool(redis_url: str, tmp_path: Path) -> None:
    async with running(settings(tmp_path), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        alice = await agent(http, base, "alice-token-1234")
        shopper = await write(http, base, "#breach 质量问题")
        cid = (await alice.expect(lambda f: f["type"] == "assigned"))["conversation"]["id"]
        await alice.expect(lambda f: f["type"] == "sla" and f["event"] == "breached"
                           and f["target"] == "resolution", timeout=5)
        await alice.expect(lambda f: f["type"] == "unassigned" and f["reason"] == "escalated")
        # No supervisor is online: the conversation waits at the front of their pool's queue.
        queue = await rt.store.client.zrange(rt.store.keys.pool_queue("supervisors"), 0, -1)
        assert queue == [cid]
        sue = await agent(http, base, "sue-token-12345")
        got = await sue.expect(lambda f: f["type"] == "assigned")
        assert got["conversation"]["id"] == cid and got["conversation"]["sla"]["state"] == "breached"
        for s in (alice, sue, shopper):
            await s.close()


async def test_fallback_ladder_offers_a_waiting_chat_to_the_next_pool(redis_url: str, tmp_path: Path) -> None:
    async with running(settings(tmp_path), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        k, r = rt.store.keys, rt.store.client
        alice = await agent(http, base, "alice-token-1234")  # presale only, one chat at a time
        first = await write(http, base, "hello")  # presale: fills alice's only slot
        busy = (await alice.expect(lambda f: f["type"] == "assigned"))["conversation"]["id"]
        waiting = await write(http, base, "#ladder 有人吗")  # aftersale: nobody there
        await waiting.expect(lambda f: f["type"] == "queue")
        cid = (await r.zrange(k.pool_queue("aftersale"), 0, -1))[0]
        assert await r.zrange(k.pool_queue("presale"), 0, -1) == []

        deadline = time.monotonic() + 5
        while not await r.zscore(k.pool_queue("presale"), cid):  # the rung at 0.5 s
            assert time.monotonic() < deadline, "the ladder never widened"
            await asyncio.sleep(0.05)
        assert await r.zscore(k.pool_queue("aftersale"), cid) is not None  # offered in both
        assert json.loads(await r.hget(k.conv(cid), "offered")) == ["presale"]

        # Bob (aftersale + presale) comes online and takes it: it leaves both queues.
        bob = await agent(http, base, "bob-token-12345")
        await bob.expect(lambda f: f["type"] == "assigned" and f["conversation"]["id"] == cid)
        assert await r.zcard(k.pool_queue("aftersale")) == 0
        assert await r.zcard(k.pool_queue("presale")) == 0
        await alice.send({"type": "close", "conversation_id": busy})
        await alice.expect(lambda f: f["type"] == "closed")
        await asyncio.sleep(0.2)
        assert [f for f in alice.of("assigned") if f["conversation"]["id"] == cid] == []
        for s in (alice, bob, first, waiting):
            await s.close()


async def test_the_ladder_assigns_as_soon_as_the_wider_pool_has_room(redis_url: str, tmp_path: Path) -> None:
    async with running(settings(tmp_path), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        alice = await agent(http, base, "alice-token-1234")
        start = time.monotonic()
        waiting = await write(http, base, "#ladder 有人吗")
        await waiting.expect(lambda f: f["type"] == "queue")
        got = await alice.expect(lambda f: f["type"] == "assigned", timeout=5)
        assert time.monotonic() - start >= 0.45  # not before the rung's time
        assert got["conversation"]["pool"] == "aftersale"
        await alice.close()
        await waiting.close()


@pytest.mark.parametrize(("text", "taker"), [("#anyone hello", "alice-token-1234"),
                                             ("#level hello", "bob-token-12345")])
async def test_the_ladder_widens_to_any_agent_or_a_lower_level(
        redis_url: str, tmp_path: Path, text: str, taker: str) -> None:
    async with running(settings(tmp_path), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        # Alice has no skills; Bob's English is level 1: neither may take it at first.
        sock = await agent(http, base, taker)
        start = time.monotonic()
        waiting = await write(http, base, text)
        await waiting.expect(lambda f: f["type"] == "queue")
        got = await sock.expect(lambda f: f["type"] == "assigned", timeout=5)
        assert time.monotonic() - start >= 0.45
        conv = got["conversation"]
        assert conv["pool"] == "aftersale" and conv["decision"]["skills"] == ["english"]
        await sock.close()
        await waiting.close()


async def test_timers_fire_once_across_two_processes_and_a_restart(redis_url: str, tmp_path: Path) -> None:
    s = settings(tmp_path)
    async with aiohttp.ClientSession() as http:
        async with running(s, redis_url) as (rt, base):
            sue = await agent(http, base, "sue-token-12345")  # online; stays so across the restart
            alice = await agent(http, base, "alice-token-1234")
            shoppers = [await write(http, base, f"#slow 投诉 {i}") for i in range(3)]
            await alice.expect(lambda f: f["type"] == "assigned")
            for sock in [alice, sue, *shoppers]:
                await sock.close()
        k = rt.store.keys
        # The first process is gone before anything was due; two others share the Redis. The
        # timers come due only once both run: with due times seconds ahead, a loaded machine
        # (load 20) took longer than that to get here, and one process fired them all alone.
        async with running(s, redis_url) as (rt1, _), running(s, redis_url) as (rt2, _):
            r = rt1.store.client
            assert await r.hlen(k.tasks) == 0
            slow = [tid for tid in await r.zrange(k.timers_due, 0, -1)
                    if json.loads(await r.hget(k.timers_data, tid))["kind"] in ("escalate", "follow_up")]
            assert len(slow) == 6
            now = time.time()
            for tid in slow:  # the hour passes: what a clock reaching the due time does
                await rt1.store.timers.schedule(tid, now, json.loads(await r.hget(k.timers_data, tid)))
            deadline = time.monotonic() + 10
            while await r.hlen(k.tasks) < 3:
                assert time.monotonic() < deadline, "follow-up tasks were not all created"
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.5)  # room for a second firing, if there were one
            assert await r.hlen(k.tasks) == 3
            frames = [json.loads(f["f"]) for _, f in await r.xrange(k.agent_events("sue"))]
            escalated = [f["conversation_id"] for f in frames if f["type"] == "sla" and f["event"] == "escalated"]
            assert len(escalated) == 3 and len(set(escalated)) == 3
            assert len([f for f in frames if f["type"] == "task"]) == 3
            outcomes = [dict(rt.sla.fired) for rt in (rt1, rt2)]
            assert sum(o.get("task", 0) for o in outcomes) == 3, outcomes
            assert sum(o.get("escalated", 0) for o in outcomes) == 3, outcomes
            assert await r.zcard(k.timers_due) == 0 and await r.zcard(k.timers_inflight) == 0


def test_rules_naming_an_unknown_profile_stop_the_start(tmp_path: Path) -> None:
    s = settings(tmp_path)
    (tmp_path / "rules.yaml").write_text(RULES.replace("sla: breach", "sla: breech"))
    try:
        Runtime(s, redis_url="redis://127.0.0.1:1")
    except ValueError as exc:
        assert "rules.yaml:" in str(exc) and "'breech'" in str(exc)
    else:
        raise AssertionError("an unknown SLA profile was accepted")


async def test_new_rules_naming_an_unknown_profile_are_refused(redis_url: str, tmp_path: Path) -> None:
    async with running(settings(tmp_path), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        source = RULES.replace("sla: quick", "sla: quik")
        async with http.post(f"{base}/api/v1/rules/validate", json={"source": source}, headers=SUE) as r:
            body = await r.json()
        line = source.splitlines().index("  - name: quick") + 1
        assert body["ok"] is False
        assert [(p["line"], p["severity"]) for p in body["problems"]] == [(line, "error")]
        assert "'quik'" in body["problems"][0]["message"]
        async with http.post(f"{base}/api/v1/rules/validate", json={"source": RULES}, headers=SUE) as r:
            assert (await r.json())["ok"] is True


def promises_seen(sock: Socket) -> list[str]:
    return [f["message"]["text"] for f in sock.of("message") if f["message"].get("from") == "system"]


async def test_a_promise_tells_the_customer_when_to_expect_an_answer_once(redis_url: str, tmp_path: Path) -> None:
    async with running(settings(tmp_path), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        alice = await agent(http, base, "alice-token-1234")
        shopper = await write(http, base, "#check my refund has not arrived after a week")
        cid = (await alice.expect(lambda f: f["type"] == "assigned"))["conversation"]["id"]
        told = await shopper.expect(lambda f: f["type"] == "message" and f["message"].get("from") == "system")
        assert told["message"]["text"] == "We will answer within 24 hours."  # their language, the target's time
        assert told["conversation_id"] == cid

        # Closed and reopened (the clocks start again), and the timer fired a second time as after
        # a lost lease: still one promise. The agent's reply comes after anything sent before it.
        async with http.post(f"{base}/api/v1/conversations/{cid}/close", headers=ALICE, json={}) as r:
            assert r.status == 200
        await shopper.send({"type": "message", "text": "#check any news?", "client_msg_id": msg_id()})
        again = await alice.expect(lambda f: f["type"] == "assigned" and f["conversation"]["reopened"] == 1)
        assert again["conversation"]["sla"]["profile"] == "checking"
        await rt.promises.fire(f"{cid}:promise", {"kind": "promise", "cid": cid}, time.time())
        await alice.send({"type": "reply", "conversation_id": cid, "text": "checking now", "client_msg_id": msg_id()})
        await shopper.expect(lambda f: f["type"] == "message" and f["message"]["text"] == "checking now")
        assert promises_seen(shopper) == ["We will answer within 24 hours."]
        assert await rt.store.client.zscore(rt.store.keys.timers_due, f"{cid}:promise") is None
        texts = [m.text for m in await rt.transcript.messages(cid) if m.sender.value == "system"]
        assert texts == ["We will answer within 24 hours."]

        # Chinese for a customer who writes Chinese; nothing for a profile without a promise.
        other = await write(http, base, "#check 我的退款一周了还没到")
        told = await other.expect(lambda f: f["type"] == "message" and f["message"].get("from") == "system")
        assert told["message"]["text"] == "我们会在 24 小时内答复您。"
        for s in (alice, shopper, other):
            await s.close()
