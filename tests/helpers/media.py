"""Uploading and reading files over HTTP, and sending them in the web chat, for media tests."""

from __future__ import annotations

import io
from typing import Any

import aiohttp

from helpers.clients import Socket, msg_id


def form(data: bytes, name: str = "photo.jpg", **fields: str) -> aiohttp.FormData:
    out = aiohttp.FormData()
    for key, value in fields.items():
        out.add_field(key, value)
    out.add_field("file", io.BytesIO(data), filename=name, content_type="image/jpeg")
    return out


async def upload(http: aiohttp.ClientSession, base: str, token: str, data: bytes, path: str = "/api/v1/webchat/uploads",
                 name: str = "photo.jpg", **fields: str) -> tuple[int, dict[str, Any]]:
    async with http.post(f"{base}{path}", data=form(data, name, **fields),
                         headers={"Authorization": f"Bearer {token}"}) as r:
        return r.status, await r.json()


async def fetch(http: aiohttp.ClientSession, url: str, token: str | None = None) -> tuple[int, bytes, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with http.get(url, headers=headers) as r:
        return r.status, await r.read(), r.content_type


async def send_photo(cust: Socket, media_id: str, text: str = "") -> None:
    cmid = msg_id()
    await cust.send({"type": "message", "media_id": media_id, "text": text, "client_msg_id": cmid})
    await cust.expect(lambda f: f["type"] == "ack" and f["client_msg_id"] == cmid)
