"""A fake WeCom API on loopback for the 微信客服 channel: `gettoken`, `kf/sync_msg` with pages and
cursors, `kf/send_msg`, `kf/send_msg_on_event`, `kf/service_state/trans`, `media/get` and
`media/upload`; and callbacks built as WeCom posts them, encrypted by wechatpy's own
WXBizMsgCrypt (wechatpy.enterprise.crypto).

Customers' messages are queued per kf account with `push`; `sync_msg` serves them from a cursor
(`c<index>`), `limit` at a time, and keeps every (kfid, cursor) it served in `syncs`, so a test
can tell whether a page was read twice. `callback_token` makes the sync tokens a callback
carries; an unknown token answers 95007. Sends are scriptable as in fake_wechat: push errcodes on
`script`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import xmltodict  # type: ignore[import-untyped]
from aiohttp import web
from wechatpy.enterprise.crypto import WeChatCrypto

from helpers.fake_wechat import serve_app

CORP_ID = "wwfakecorp0001"
SECRET = "wecom-fake-secret"
KFID = "wkFAKEkf0001"
CB_TOKEN = "wecom-cb-token"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"


class FakeWecom:
    def __init__(self, corp_id: str = CORP_ID, secret: str = SECRET) -> None:
        self.corp_id, self.secret = corp_id, secret
        self.base = ""
        self.valid_tokens: set[str] = set()
        self.token_calls = 0
        self.queue: dict[str, list[dict[str, Any]]] = {}
        self.syncs: list[tuple[str, str, str]] = []
        """(open_kfid, cursor, sync token) of every sync_msg served."""
        self.sync_tokens: set[str] = set()
        self.sync_delay_s = 0.0
        self.sync_gate: asyncio.Event | None = None
        """When set to an Event, sync_msg answers wait for it: a test holds a pull open."""
        self.syncs_started: list[tuple[str, str]] = []
        self.served_to: dict[str, int] = {}
        self.sync_script: list[int] = []
        self.script: list[int] = []
        self.sent: list[dict[str, Any]] = []
        self.attempts: list[dict[str, Any]] = []
        self.on_event: list[dict[str, Any]] = []
        self.welcome_codes: set[str] = set()
        self.trans: list[dict[str, Any]] = []
        self.trans_script: list[int] = []
        """errcodes the next service_state/trans calls answer (0: taken)."""
        self.media: dict[str, tuple[str, str, bytes]] = {}
        self.uploaded: dict[str, tuple[str, bytes]] = {}
        self._n = itertools.count(1)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/cgi-bin/gettoken", self.gettoken)
        app.router.add_post("/cgi-bin/kf/sync_msg", self.sync_msg)
        app.router.add_post("/cgi-bin/kf/send_msg", self.send_msg)
        app.router.add_post("/cgi-bin/kf/send_msg_on_event", self.send_msg_on_event)
        app.router.add_post("/cgi-bin/kf/service_state/trans", self.service_state_trans)
        app.router.add_get("/cgi-bin/media/get", self.media_get)
        app.router.add_post("/cgi-bin/media/upload", self.media_upload)
        return app

    @staticmethod
    def _err(code: int, msg: str = "") -> web.Response:
        return web.json_response({"errcode": code, "errmsg": msg or f"error {code}"})

    def _authed(self, request: web.Request) -> bool:
        return request.query.get("access_token", "") in self.valid_tokens

    async def gettoken(self, request: web.Request) -> web.Response:
        q = request.query
        if q.get("corpid") != self.corp_id:
            return self._err(40013, "invalid corpid")
        if q.get("corpsecret") != self.secret:
            return self._err(40001, "invalid secret")
        self.token_calls += 1
        token = f"WTOKEN-{next(self._n)}"
        self.valid_tokens.add(token)
        return web.json_response({"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200})

    # -- sync_msg ---------------------------------------------------------------------------------
    def push(self, kfid: str, *entries: dict[str, Any]) -> None:
        self.queue.setdefault(kfid, []).extend(entries)

    def callback_token(self) -> str:
        token = f"SYNC{uuid.uuid4().hex[:12]}"
        self.sync_tokens.add(token)
        return token

    async def sync_msg(self, request: web.Request) -> web.Response:
        if not self._authed(request):
            return self._err(40014, "invalid access_token")
        body = await request.json()
        kfid, cursor, token = str(body.get("open_kfid", "")), str(body.get("cursor", "")), str(body.get("token", ""))
        if token and token not in self.sync_tokens:
            return self._err(95007, "invalid msg token")
        if self.sync_script:
            return self._err(self.sync_script.pop(0))
        self.syncs_started.append((kfid, cursor))
        if self.sync_gate is not None:
            await asyncio.wait_for(self.sync_gate.wait(), 60)
        if self.sync_delay_s:
            await asyncio.sleep(self.sync_delay_s)
        self.syncs.append((kfid, cursor, token))
        limit = int(body.get("limit") or 1000)
        start = int(cursor[1:]) if cursor.startswith("c") else 0
        entries = self.queue.get(kfid, [])
        page = entries[start:start + limit]
        end = start + len(page)
        self.served_to[kfid] = max(self.served_to.get(kfid, 0), end)
        return web.json_response({"errcode": 0, "errmsg": "ok", "next_cursor": f"c{end}",
                                  "has_more": 1 if end < len(entries) else 0, "msg_list": page})

    def queue_left(self, kfid: str) -> int:
        """Entries of `kfid` that no sync_msg has served yet."""
        return len(self.queue.get(kfid, [])) - self.served_to.get(kfid, 0)

    def pages_read(self) -> list[tuple[str, str]]:
        return [(k, c) for k, c, _ in self.syncs]

    # -- replies ------------------------------------------------------------------------------------
    async def send_msg(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.attempts.append(body)
        if not self._authed(request):
            return self._err(40014, "invalid access_token")
        code = self.script.pop(0) if self.script else 0
        mtype = body.get("msgtype")
        if code == 0 and mtype in ("image", "voice", "video", "file") and \
                body.get(mtype, {}).get("media_id") not in self.uploaded:
            code = 40007
        if code == 0 and (not body.get("touser") or not body.get("open_kfid")):
            code = 40096
        if code:
            return self._err(code)
        self.sent.append(body)
        return web.json_response({"errcode": 0, "errmsg": "ok", "msgid": body.get("msgid") or uuid.uuid4().hex})

    def texts_to(self, user: str) -> list[str]:
        return [s["text"]["content"] for s in self.sent if s["touser"] == user and s["msgtype"] == "text"]

    async def send_msg_on_event(self, request: web.Request) -> web.Response:
        if not self._authed(request):
            return self._err(40014, "invalid access_token")
        body = await request.json()
        code = str(body.get("code", ""))
        if code not in self.welcome_codes:
            return self._err(95017, "invalid welcome code")  # used, expired or never given
        self.welcome_codes.discard(code)
        self.on_event.append(body)
        return web.json_response({"errcode": 0, "errmsg": "ok", "msgid": uuid.uuid4().hex})

    async def service_state_trans(self, request: web.Request) -> web.Response:
        if not self._authed(request):
            return self._err(40014, "invalid access_token")
        body = await request.json()
        if body.get("service_state") == 3 and not body.get("servicer_userid"):
            return self._err(95014, "servicer_userid needed")
        code = self.trans_script.pop(0) if self.trans_script else 0
        if code:
            return self._err(code)
        self.trans.append(body)
        return web.json_response({"errcode": 0, "errmsg": "ok", "msg_code": ""})

    # -- media --------------------------------------------------------------------------------------
    def add_media(self, data: bytes, content_type: str, name: str = "") -> str:
        media_id = f"WMEDIA_{next(self._n)}"
        self.media[media_id] = (content_type, name or media_id, data)
        return media_id

    async def media_get(self, request: web.Request) -> web.Response:
        if not self._authed(request):
            return web.Response(text=json.dumps({"errcode": 40014, "errmsg": "invalid access_token"}),
                                content_type="application/json")
        found = self.media.get(request.query.get("media_id", ""))
        if found is None:
            return web.Response(text=json.dumps({"errcode": 40007, "errmsg": "invalid media_id"}),
                                content_type="application/json")
        ctype, name, data = found
        return web.Response(body=data, headers={"Content-Type": ctype,
                                                "Content-Disposition": f'attachment; filename="{name}"'})

    async def media_upload(self, request: web.Request) -> web.Response:
        if not self._authed(request):
            return self._err(40014, "invalid access_token")
        form = await request.post()
        field = form.get("media")
        if not isinstance(field, web.FileField):
            return self._err(41005, "media data missing")
        media_id = f"WUP_{next(self._n)}"
        self.uploaded[media_id] = (request.query.get("type", ""), field.file.read())
        return web.json_response({"errcode": 0, "errmsg": "ok", "type": request.query.get("type"),
                                  "media_id": media_id, "created_at": str(int(time.time()))})


@asynccontextmanager
async def fake_wecom() -> AsyncIterator[FakeWecom]:
    fake = FakeWecom()
    async with serve_app(fake.app()) as base:
        fake.base = base
        yield fake


# -- entries as sync_msg lists them ---------------------------------------------------------------
_SEQ = itertools.count(1)


def entry(user: str, msgtype: str, body: dict[str, Any], kfid: str = KFID, msgid: str | None = None,
          origin: int = 3) -> dict[str, Any]:
    return {"msgid": msgid or f"MSG{next(_SEQ):06d}{uuid.uuid4().hex[:6]}", "open_kfid": kfid,
            "external_userid": user, "send_time": int(time.time()), "origin": origin, "msgtype": msgtype,
            msgtype: body}


def text(user: str, content: str, **kw: Any) -> dict[str, Any]:
    return entry(user, "text", {"content": content}, **kw)


def event(user: str, event_type: str, kfid: str = KFID, **fields: Any) -> dict[str, Any]:
    body = {"event_type": event_type, "open_kfid": kfid, "external_userid": user, **fields}
    e = entry(user, "event", body, kfid=kfid, origin=4)
    return e


# -- callbacks as WeCom posts them ------------------------------------------------------------------
def callback_xml(kfid: str, token: str, corp_id: str = CORP_ID) -> str:
    return (f"<xml><ToUserName><![CDATA[{corp_id}]]></ToUserName><CreateTime>{int(time.time())}</CreateTime>"
            f"<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[kf_msg_or_event]]></Event>"
            f"<Token><![CDATA[{token}]]></Token><OpenKfId><![CDATA[{kfid}]]></OpenKfId></xml>")


def encrypted_callback(plain: str, token: str = CB_TOKEN, aes_key: str = AES_KEY, corp_id: str = CORP_ID,
                       timestamp: str | None = None, nonce: str | None = None) -> tuple[str, dict[str, str]]:
    """(body, query) of a callback carrying `plain`, encrypted and signed by wechatpy."""
    nonce = nonce or uuid.uuid4().hex[:10]
    timestamp = timestamp or str(int(time.time()))
    out = xmltodict.parse(WeChatCrypto(token, aes_key, corp_id).encrypt_message(plain, nonce, timestamp))["xml"]
    body = (f"<xml><ToUserName><![CDATA[{corp_id}]]></ToUserName><AgentID><![CDATA[]]></AgentID>"
            f"<Encrypt><![CDATA[{out['Encrypt']}]]></Encrypt></xml>")
    return body, {"msg_signature": out["MsgSignature"], "timestamp": timestamp, "nonce": nonce}
