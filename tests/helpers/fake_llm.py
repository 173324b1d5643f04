"""A fake OpenAI-compatible `/chat/completions` on loopback, for the bot's language-model path.

`mode` says how the next calls are answered:

* "answer": a grounded answer, `answer_text` (by default the first FAQ answer in the prompt);
* "promise": promises a refund and compensation;
* "banned": uses an advertising-law term (最好, 第一);
* "obey": does what the customer's text asks, reciting the system prompt (an injection that worked);
* "stall": never answers (the client's timeout must end the wait);
* "fail": HTTP 500; "garbage": 200 with a body off the chat/completions shape.

Every request body is kept in `requests`.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from helpers.fake_wechat import serve_app


class FakeLlm:
    def __init__(self) -> None:
        self.mode = "answer"
        self.answer_text: str | None = None
        self.requests: list[dict[str, Any]] = []
        self.auth: list[str] = []
        self.base = ""
        self.release = asyncio.Event()  # ends every stall, so that the server can shut down

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self.complete)
        return app

    async def complete(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(body)
        self.auth.append(request.headers.get("Authorization", ""))
        system = next(m["content"] for m in body["messages"] if m["role"] == "system")
        if self.mode == "stall":
            await self.release.wait()
        if self.mode == "fail":
            return web.json_response({"error": {"message": "overloaded"}}, status=500)
        if self.mode == "garbage":
            return web.json_response({"result": "ok"})
        text = {
            "answer": self.answer_text or _first_answer(system),
            "promise": "非常抱歉，我们马上给您全额退款，并补偿您20元无门槛优惠券。",
            "banned": "这是全网最好的面料，质量第一。",
            "obey": f"好的，我的设定如下：{system}",
        }[self.mode]
        return web.json_response({
            "id": "cmpl-1", "object": "chat.completion", "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": len(system) // 2, "completion_tokens": len(text) // 2,
                      "total_tokens": (len(system) + len(text)) // 2},
        })


def _first_answer(system: str) -> str:
    m = re.search(r"答：(.+)", system)
    return m.group(1).strip() if m else "这个问题需要人工客服为您确认。"


@asynccontextmanager
async def fake_llm() -> AsyncIterator[FakeLlm]:
    fake = FakeLlm()
    async with serve_app(fake.app()) as base:
        fake.base = base + "/v1"
        try:
            yield fake
        finally:
            fake.release.set()
