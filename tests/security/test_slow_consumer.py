"""Issue 13 item 11: an agent socket that never reads stayed open with megabytes queued on the
server. The per-socket queue is now bounded: a socket that does not drain is closed (1008, "slow
consumer: ..."), and the console reconnects and gets every conversation with every message, so
nothing is lost."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import socket

import pytest
from helpers.clients import agent, customer, msg_id

from tests.security.conftest import Stack

CUSTOMERS = 5  # alice's cap: every conversation is hers
MESSAGES = 60
TEXT = "很" * 8000  # 24 KB of UTF-8 per frame


@pytest.fixture
def stack_extra() -> str:
    return """
limits:
  socket_queue_frames: 50
  socket_send_timeout_s: 20
rate_limits:
  enabled: false
"""


async def _never_reading_agent(base: str, token: str) -> socket.socket:
    """A WebSocket handshake on a socket with the smallest receive buffer, never read again."""
    loop = asyncio.get_running_loop()
    host, port = base.removeprefix("http://").split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await loop.sock_connect(sock, (host, int(port)))
    key = base64.b64encode(os.urandom(16)).decode()
    await loop.sock_sendall(sock, (
        f"GET /ws/agent?token={token} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += await loop.sock_recv(sock, 1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


async def test_a_socket_that_never_reads_is_closed_and_the_console_loses_nothing(
        stack: Stack, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "kefu.fanout")
    stuck = await _never_reading_agent(stack.base, "alice-token-1234")
    for _ in range(100):
        if stack.rt.hub.agents.get("alice"):
            break
        await asyncio.sleep(0.05)

    socks = [(await customer(stack.http, stack.base))[0] for _ in range(CUSTOMERS)]
    sent = 0
    for _ in range(MESSAGES):
        for sock in socks:
            await sock.send({"type": "message", "text": TEXT, "client_msg_id": msg_id()})
            sent += 1
    for sock in socks:
        await sock.expect_count(lambda f: f["type"] == "ack", MESSAGES, timeout=120)

    # The server gives up on the socket that does not read, with the reason in the log.
    for _ in range(1200):
        if not stack.rt.hub.agents.get("alice"):
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the never-reading agent socket is still open")
    reasons = [r.getMessage() for r in caplog.records if "slow consumer" in r.getMessage()]
    assert reasons, "the close is logged with its reason"
    stuck.close()

    # Once every message is routed, the console reconnects: every conversation comes with every
    # customer message.
    convs = list(await stack.rt.store.client.smembers(stack.rt.store.keys.agent_convs("alice")))
    assert len(convs) == CUSTOMERS
    for _ in range(1200):
        views = [await stack.rt.store.conversation(c) or {} for c in convs]
        routed = sum(int(v.get("messages") or 0) for v in views)
        if routed >= sent:
            break
        await asyncio.sleep(0.1)
    console = await agent(stack.http, stack.base, "alice-token-1234")
    assigned = await console.expect_count(lambda f: f["type"] == "assigned", CUSTOMERS, timeout=60)

    def customer_ids() -> set[str]:
        """Customer messages shown: in the snapshot's transcripts, and live ones routed since."""
        ids = {m["id"] for f in console.of("assigned") for m in f["messages"] if m.get("from") == "customer"}
        return ids | {f["message"]["id"] for f in console.of("message") if f["message"].get("from") == "customer"}

    for _ in range(1200):
        if len(customer_ids()) >= sent:
            break
        await asyncio.sleep(0.05)
    assert len(customer_ids()) == sent == CUSTOMERS * MESSAGES
    assert not console.ws.closed
    assert len([r for r in caplog.records if "slow consumer" in r.getMessage()]) == len(reasons)
    assert len({f["conversation"]["id"] for f in assigned}) == CUSTOMERS
    for sock in [*socks, console]:
        await sock.close()


async def test_the_close_carries_code_and_reason(stack: Stack) -> None:
    """A socket whose queue overflows but whose close frame still fits gets 1008 and the reason."""
    from router.pipeline.tap import Drain, Tap, as_is

    closed: list[str] = []

    async def never_done(frame: str) -> None:
        await asyncio.Event().wait()

    async def on_stuck(reason: str) -> None:
        closed.append(reason)

    tap = Tap("agent:x", as_is, never_done, drain=Drain(max_queued=3, send_timeout_s=60), on_stuck=on_stuck)
    tap.go_live()
    for i in range(10):
        tap.offer(f"1-{i + 1}", json.dumps({"n": i}))
    await asyncio.sleep(0.05)
    assert closed and closed[0].startswith("slow consumer")
    assert tap.stuck
    await tap.close()
