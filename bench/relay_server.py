"""The latency benchmark's bare baseline: a WebSocket relay that speaks just enough of the web chat
and agent protocol for `kefu loadgen` (sessions, ack, hello, message), and nothing else: no Redis,
no routing, no transcript. Each customer's lines go to one agent socket, chosen in turn.

    python bench/relay_server.py PORT
"""

from __future__ import annotations

import itertools
import json
import os
import sys

from aiohttp import WSMsgType, web

AGENTS: list[web.WebSocketResponse] = []
OWNER: dict[str, web.WebSocketResponse] = {}
TURN = itertools.count()


async def session(request: web.Request) -> web.Response:
    return web.json_response({"session": os.urandom(8).hex(), "visitor": "v", "name": ""}, status=201)


async def chat(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    visitor = request.query.get("session", "")
    async for msg in ws:
        if msg.type is not WSMsgType.TEXT:
            continue
        frame = json.loads(msg.data)
        if frame.get("type") != "message":
            continue
        await ws.send_str(json.dumps({"type": "ack", "client_msg_id": frame["client_msg_id"], "message_id": "m"}))
        if visitor not in OWNER and AGENTS:
            OWNER[visitor] = AGENTS[next(TURN) % len(AGENTS)]
        agent = OWNER.get(visitor)
        if agent is not None and not agent.closed:
            await agent.send_str(json.dumps({
                "type": "message", "conversation_id": visitor,
                "message": {"id": frame["client_msg_id"], "from": "customer", "text": frame["text"]}}))
    return ws


async def agent(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    await ws.send_str(json.dumps({"type": "hello", "agent": {"id": f"r{len(AGENTS)}"}}))
    AGENTS.append(ws)
    try:
        async for _ in ws:
            pass
    finally:
        AGENTS.remove(ws)  # the next run's customers go to its own agents, not to closed sockets
        for visitor in [v for v, owner in OWNER.items() if owner is ws]:
            del OWNER[visitor]
    return ws


async def ready(request: web.Request) -> web.Response:
    return web.Response(text="ready")


def main() -> None:
    app = web.Application()
    app.router.add_get("/ready", ready)
    app.router.add_post("/api/v1/webchat/sessions", session)
    app.router.add_get("/ws/chat", chat)
    app.router.add_get("/ws/agent", agent)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)


if __name__ == "__main__":
    main()
