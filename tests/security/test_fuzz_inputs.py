"""Hypothesis-driven fuzzing of what strangers send: web chat socket frames, Telegram updates and
WeChat XML. Whatever arrives, the answer is an error frame or a 4xx (never a dropped socket or a
5xx), and a refused input stores nothing. Bounded: a few hundred inputs each, seconds per run."""

from __future__ import annotations

import json
import time
from typing import Any

from helpers.clients import customer
from helpers.fake_wechat import signed_query
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.security.conftest import TG_SECRET, WX_TOKEN, Stack

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20)
FRAME_TYPES = st.sampled_from(["message", "typing", "csat", "ping", "reply", "", "MESSAGE", "x" * 300])
FRAMES = st.one_of(
    st.text(max_size=200),
    JSON.map(json.dumps),
    st.fixed_dictionaries({"type": FRAME_TYPES}, optional={
        "text": JSON, "client_msg_id": JSON, "conversation_id": JSON, "rating": JSON}).map(json.dumps),
    st.integers(1, 5000).map(lambda n: "[" * n + "]" * n),
)


def _draw(strategy: st.SearchStrategy[Any], n: int) -> list[Any]:
    """Inputs from Hypothesis's generator (edge cases first), collected for an async driver."""
    out: list[Any] = []

    @settings(max_examples=n, database=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(strategy)
    def collect(x: Any) -> None:
        out.append(x)

    collect()
    return out


async def _seen_keys(stack: Stack) -> int:
    return len([k async for k in stack.rt.store.client.scan_iter(match=f"{stack.rt.store.keys.ns}:{{in}}:seen:*")])


async def test_socket_frames(stack: Stack) -> None:
    sock, _ = await customer(stack.http, stack.base)
    await sock.expect(lambda f: f["type"] == "conversation")
    inputs = _draw(FRAMES, 300)
    for text in inputs:
        await sock.ws.send_str(text)
    await sock.send({"type": "ping"})
    await sock.expect(lambda f: f["type"] == "pong", timeout=60)
    assert not sock.ws.closed, f"the server dropped the socket: {sock.ws.close_code}"
    acks = sock.of("ack")
    assert await _seen_keys(stack) == len(acks), "only accepted messages are stored"
    await sock.close()


async def test_telegram_updates(stack: Stack) -> None:
    url = f"{stack.base}/webhooks/telegram/shopbot"
    headers = {"X-Telegram-Bot-Api-Secret-Token": TG_SECRET, "Content-Type": "application/json"}
    updates = _draw(st.one_of(JSON, st.fixed_dictionaries({"update_id": JSON, "message": JSON})), 300)
    statuses = []
    for body in updates:
        before = await _seen_keys(stack)
        async with stack.http.post(url, data=json.dumps(body), headers=headers) as r:
            statuses.append(r.status)
            assert r.status < 500, (body, await r.text())
            if r.status >= 400:
                assert await _seen_keys(stack) == before, body
    assert 400 in statuses


async def test_wechat_xml(stack: Stack) -> None:
    url = f"{stack.base}/webhooks/wechat/shop"
    xml = st.one_of(
        st.text(max_size=300),
        st.builds(lambda tag, body: f"<xml><{tag}>{body}</{tag}></xml>",
                  st.sampled_from(["MsgType", "FromUserName", "Content", "CreateTime", "Encrypt"]),
                  st.text(max_size=80)),
        st.builds(lambda kind, who, t: (f"<xml><FromUserName>{who}</FromUserName><CreateTime>{t}</CreateTime>"
                                        f"<MsgType>{kind}</MsgType></xml>"),
                  st.text(max_size=20), st.text(max_size=20), st.text(max_size=12)),
    )
    for i, body in enumerate(_draw(xml, 300)):
        query = signed_query(WX_TOKEN, timestamp=str(int(time.time())), nonce=f"fz{i}")
        before = await _seen_keys(stack)
        async with stack.http.post(url, params=query, data=body.encode()) as r:
            assert r.status < 500, (body, await r.text())
            if r.status >= 400:
                assert await _seen_keys(stack) == before, body
