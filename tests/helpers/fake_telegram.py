"""A fake Telegram Bot API on loopback: getMe, sendMessage, sendPhoto, sendDocument, sendVoice,
sendVideo, getFile, file download, getUserProfilePhotos, setWebhook, deleteWebhook, getUpdates and
answerCallbackQuery.

PTB 22 posts `application/x-www-form-urlencoded` bodies whose values are JSON-encoded unless
they are strings already (chat_id 42 arrives as "42", allowed_updates as '["message", ...]'), so
the fake reads the form and decodes what is not a plain string.

Scriptable per chat: `script[chat_id]` is a list of answers for the next sendMessage calls
(`ok()`, `too_many(retry_after)`, `server_error()`, `blocked()`, `chat_not_found()`,
`migrated(new_id)`); without one, a send succeeds. The same script answers the media sends.

Files as at Telegram: `add_file` puts a customer's file where getFile and the download serve it;
`file_script` answers the next getFile calls (an `Answer`, or `DOWNLOAD_FAILS` for a getFile that
works and a download that answers 500). A media send takes the bytes (multipart) or a file_id it
knows (a string); `sent_media` keeps both, and the file it answers with can be fetched again.
`add_profile_photo` gives a user a profile photo in several sizes, each a file getFile serves.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from helpers.fake_wechat import serve_app

Answer = tuple[int, Any]
_PLAIN = {"text", "secret_token", "url", "file_id", "callback_query_id", "caption", "photo", "document",
          "voice", "video"}
MEDIA_METHODS = {"sendPhoto": "photo", "sendDocument": "document", "sendVoice": "voice", "sendVideo": "video"}
DOWNLOAD_FAILS: Answer = (0, "download fails")


def ok() -> Answer:
    return 200, {}


def too_many(retry_after: int) -> Answer:
    return 429, {"ok": False, "error_code": 429, "description": f"Too Many Requests: retry after {retry_after}",
                 "parameters": {"retry_after": retry_after}}


def server_error() -> Answer:
    return 500, {"ok": False, "error_code": 500, "description": "Internal Server Error"}


def blocked() -> Answer:
    return 403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}


def chat_not_found() -> Answer:
    return 400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}


def migrated(new_id: int) -> Answer:
    return 400, {"ok": False, "error_code": 400, "description": "Bad Request: group chat was upgraded",
                 "parameters": {"migrate_to_chat_id": new_id}}


@dataclass(frozen=True)
class SentMedia:
    chat_id: str
    field: str
    """photo, document, voice or video."""
    data: bytes
    name: str | None
    by_file_id: str | None
    """The file_id the bot sent instead of bytes, when it did."""
    caption: str


class FakeTelegram:
    def __init__(self, token: str = "123:FAKE") -> None:
        self.token = token
        self.script: dict[str, list[Answer]] = defaultdict(list)
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.sent: list[dict[str, Any]] = []
        self.sent_at: list[float] = []
        self.arrival_delays: list[float] = []
        """Seconds each next sendMessage takes to arrive (a loaded machine, a slow network)."""
        self.files: dict[str, tuple[str, bytes]] = {}
        """file_id -> (file path, bytes)."""
        self.file_types: dict[str, str] = {}
        """file path -> the Content-Type its download is served with."""
        self.file_script: list[Answer] = []
        self.sent_media: list[SentMedia] = []
        self.updates: list[dict[str, Any]] = []
        self.profile_photos: dict[int, list[list[dict[str, Any]]]] = defaultdict(list)
        """user id -> their photos, newest first, each its sizes smallest first."""
        self.webhook: dict[str, Any] | None = None
        self._ids = itertools.count(1)
        self.base = ""

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self.method)
        app.router.add_get("/file/bot{token}/{path:.+}", self.download)
        return app

    def sent_to(self, chat: str | int) -> list[str]:
        return [m["text"] for m in self.sent if str(m["chat_id"]) == str(chat)]

    @staticmethod
    def _decode(value: str) -> Any:
        try:
            return json.loads(value)
        except ValueError:
            return value

    async def method(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        form = await request.post()
        params = {k: self._decode(v) if isinstance(v, str) and k not in _PLAIN else v
                  for k, v in form.items()}
        name = request.match_info["method"]
        self.calls.append((name, params))
        if name in MEDIA_METHODS:
            status, result = await self._send_media(MEDIA_METHODS[name], params)
            if status != 200:
                return web.json_response(result, status=status)
            return web.json_response({"ok": True, "result": result})
        handler = getattr(self, f"_{name}", None)
        if handler is None:
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        status, result = await handler(params)
        if status != 200:
            return web.json_response(result, status=status)
        return web.json_response({"ok": True, "result": result})

    async def _getMe(self, p: dict[str, Any]) -> Answer:
        return 200, {"id": 123, "is_bot": True, "first_name": "Shop", "username": "shop_bot"}

    async def _sendMessage(self, p: dict[str, Any]) -> Answer:
        if self.arrival_delays:
            await asyncio.sleep(self.arrival_delays.pop(0))
        chat = str(p["chat_id"])
        if self.script[chat]:
            status, body = self.script[chat].pop(0)
            if status != 200:
                return status, body
        self.sent.append({"chat_id": chat, "text": str(p["text"])})
        self.sent_at.append(time.monotonic())
        return 200, {"message_id": next(self._ids), "date": int(time.time()),
                     "chat": {"id": int(chat), "type": "private"}, "text": str(p["text"])}

    def add_file(self, data: bytes, path: str, content_type: str = "application/octet-stream") -> str:
        """A file a customer sent; returns its file_id."""
        fid = f"FILE_{next(self._ids)}_{path.replace('/', '_')}"
        self.files[fid] = (path, data)
        self.file_types[path] = content_type
        return fid

    async def _send_media(self, field: str, p: dict[str, Any]) -> Answer:
        chat = str(p["chat_id"])
        if self.script[chat]:
            status, body = self.script[chat].pop(0)
            if status != 200:
                return status, body
        value = p.get(field)
        if isinstance(value, web.FileField):
            data, name, by_id = value.file.read(), value.filename, None
            fid = self.add_file(data, f"{field}s/{name or 'file'}", value.content_type)
        elif isinstance(value, str) and value in self.files:
            fid, by_id = value, value
            data, name = self.files[value][1], self.files[value][0].rsplit("/", 1)[-1]
        else:
            return 400, {"ok": False, "error_code": 400,
                         "description": "Bad Request: wrong remote file identifier specified"}
        self.sent_media.append(SentMedia(chat, field, data, name, by_id, str(p.get("caption") or "")))
        info = {"file_id": fid, "file_unique_id": fid[::-1], "file_size": len(data)}
        attachment: Any = info
        if field == "photo":  # sizes, smallest first, as Telegram answers
            attachment = [{**info, "width": 90, "height": 90}, {**info, "width": 800, "height": 600}]
        elif field == "document":
            attachment = {**info, "file_name": name}
        return 200, {"message_id": next(self._ids), "date": int(time.time()),
                     "chat": {"id": int(chat), "type": "private"}, field: attachment}

    async def _getFile(self, p: dict[str, Any]) -> Answer:
        fid = str(p["file_id"])
        if self.file_script:
            answer = self.file_script.pop(0)
            if answer is DOWNLOAD_FAILS:
                path = self.files.get(fid, ("", b""))[0]
                self.file_types[path] = "fail"
            elif answer[0] != 200:
                return answer
        if fid not in self.files:
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: invalid file_id"}
        path, data = self.files[fid]
        return 200, {"file_id": fid, "file_unique_id": fid[::-1], "file_size": len(data), "file_path": path}

    def add_profile_photo(self, user: int, sizes: list[tuple[int, int, bytes]]) -> list[str]:
        """A new profile photo for `user`, as (width, height, jpeg bytes) sizes; their file_ids."""
        photo = []
        for w, h, data in sorted(sizes, key=lambda s: s[0] * s[1]):
            fid = self.add_file(data, f"profile_photos/{user}_{w}x{h}.jpg", "image/jpeg")
            photo.append({"file_id": fid, "file_unique_id": fid[::-1], "width": w, "height": h,
                          "file_size": len(data)})
        self.profile_photos[user].insert(0, photo)
        return [p["file_id"] for p in photo]

    async def _getUserProfilePhotos(self, p: dict[str, Any]) -> Answer:
        user = int(p["user_id"])
        if user <= 0:
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: user not found"}
        photos = self.profile_photos.get(user, [])
        offset, limit = int(p.get("offset") or 0), int(p.get("limit") or 100)
        return 200, {"total_count": len(photos), "photos": photos[offset:offset + limit]}

    async def _setWebhook(self, p: dict[str, Any]) -> Answer:
        self.webhook = p
        return 200, True

    async def _deleteWebhook(self, p: dict[str, Any]) -> Answer:
        self.webhook = None
        return 200, True

    async def _answerCallbackQuery(self, p: dict[str, Any]) -> Answer:
        return 200, True

    async def _getUpdates(self, p: dict[str, Any]) -> Answer:
        offset = int(p.get("offset") or 0)
        self.updates = [u for u in self.updates if u["update_id"] >= offset]
        if not self.updates:
            await asyncio.sleep(min(float(p.get("timeout") or 0), 0.2))
        return 200, list(self.updates)

    async def download(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        for path, data in self.files.values():
            if path == request.match_info["path"]:
                ctype = self.file_types.get(path, "application/octet-stream")
                if ctype == "fail":
                    del self.file_types[path]
                    return web.Response(status=500)
                return web.Response(body=data, content_type=ctype)
        return web.Response(status=404)


@asynccontextmanager
async def fake_telegram(**kw: Any) -> AsyncIterator[FakeTelegram]:
    fake = FakeTelegram(**kw)
    async with serve_app(fake.app()) as base:
        fake.base = base
        yield fake
