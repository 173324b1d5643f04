"""A new channel through the registry alone.

`ParrotChannel` lives only in this file: its adapter class, its settings type and its checks. It
is registered, configured in YAML under `channels.parrot`, receives a webhook, the customer is
routed to an agent, and the agent's reply goes back through its `send_part`, split within its
limit, and it keeps a count of its own through the store. Nothing in the product knows its name.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import aiohttp
import msgspec
import pytest
from aiohttp import web
from helpers.app import BASIC, running
from helpers.clients import agent, msg_id

from adapters import registry
from adapters.base import Capabilities, Deps, Limits, WebhookAdapter
from adapters.registry import Problem
from kefu_common.errors import AuthError, ConfigErrors, ProtocolError
from router.config.settings import parse_settings, read_settings
from router.models import Channel, Message, Reply, new_id

REPO = Path(__file__).resolve().parents[2]
SECRET = "squawk-squawk"


class ParrotSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    account: str
    shared_secret: str


class ParrotChannel(WebhookAdapter):
    """A bird app: JSON webhooks with a shared secret header; messages of at most 100 characters."""

    channel: ClassVar[Channel] = Channel("parrot")
    settings_type: ClassVar[type[Any]] = ParrotSettings
    capabilities: ClassVar[Capabilities] = Capabilities()
    limits: ClassVar[Limits] = Limits(max_text_chars=100, max_parts=3)

    def __init__(self, cfg: ParrotSettings, deps: Deps) -> None:
        super().__init__(cfg.account, deps)
        self.cfg = cfg
        self.sent: list[tuple[str, int, str]] = []

    @classmethod
    def from_settings(cls, settings: Any, deps: Deps) -> ParrotChannel:
        return cls(settings, deps)

    @classmethod
    def validate(cls, settings: Any) -> list[Problem]:
        if len(settings.shared_secret) < 8:
            return [(("shared_secret",), "shared_secret must be at least 8 characters")]
        return []

    @classmethod
    def secrets(cls, settings: Any) -> list[str]:
        return [settings.shared_secret]

    def routes(self) -> Sequence[web.RouteDef]:
        return [web.post(f"/webhooks/parrot/{self.account}", self.handle)]

    def precheck(self, request: web.Request) -> None:
        if request.headers.get("X-Parrot-Secret") != self.cfg.shared_secret:
            raise AuthError("bad X-Parrot-Secret", status=403)

    def verify(self, request: web.Request, body: bytes) -> bytes:
        return body

    def parse(self, payload: bytes) -> Sequence[Message]:
        try:
            data = json.loads(payload)
            return [Message(id=new_id("m"), channel=self.channel, account=self.account,
                            native_id=str(data["id"]), sender_ref=str(data["from"]), text=str(data["text"]))]
        except (ValueError, KeyError, TypeError):
            raise ProtocolError("bad_json", "not a parrot message") from None

    async def send_part(self, reply: Reply, text: str, index: int) -> None:
        self.sent.append((reply.chat, index, text))
        # State of its own, through the store's door: a count of messages each bird was sent.
        state = self.deps.store.channels
        heard = int(await state.state(self.channel, self.account, "heard", reply.chat) or 0)
        await state.keep_state(str(heard + 1), self.channel, self.account, "heard", reply.chat, ttl_s=3600)


CONFIG = BASIC.format(cap=5) + f"""
channels:
  parrot:
    - account: zoo
      shared_secret: {SECRET}
"""


@pytest.fixture
def parrot() -> Iterator[None]:
    registry.register(ParrotChannel)
    try:
        yield None
    finally:
        registry.unregister("parrot")


async def test_a_new_channel_needs_only_its_own_class(parrot: None, redis_url: str) -> None:
    settings = parse_settings(CONFIG, "<test>")
    [cfg] = settings.channels.of("parrot")
    assert cfg == ParrotSettings(account="zoo", shared_secret=SECRET)
    async with running(settings, redis_url) as (rt, base), aiohttp.ClientSession() as http:
        adapter = rt.adapters[("parrot", "zoo")]
        assert isinstance(adapter, ParrotChannel)
        # The console learns what the channel can do from the router, not from its name.
        async with http.get(f"{base}/api/v1/channels", headers={"Authorization": "Bearer alice-token-1234"}) as r:
            listed = {c["channel"]: c for c in (await r.json())["channels"]}
        assert listed["parrot"] == {"channel": "parrot", "accounts": ["zoo"],
                                    "capabilities": {"live_frames": False, "media": False, "quota": False,
                                                     "split_replies": True, "media_messages": False, "page_cards": False},
                                    "limits": {"max_text_chars": 100, "max_parts": 3}}
        assert listed["webchat"]["capabilities"]["live_frames"] is True
        alice = await agent(http, base, "alice-token-1234")
        update = {"id": 1, "from": "polly", "text": "Polly wants a cracker"}
        async with http.post(f"{base}/webhooks/parrot/zoo", json=update) as r:
            assert r.status == 403  # no secret: refused by its own precheck
        for _ in range(2):  # a retried webhook is accepted once
            async with http.post(f"{base}/webhooks/parrot/zoo", json=update,
                                 headers={"X-Parrot-Secret": SECRET}) as r:
                assert r.status == 200
        frame = await alice.expect(lambda f: f["type"] == "assigned")
        conv = frame["conversation"]
        assert (conv["channel"], conv["account"]) == ("parrot", "zoo")
        assert [m["text"] for m in frame["messages"]] == ["Polly wants a cracker"]

        words = " ".join(f"w{i:03d}" for i in range(50))  # 249 characters: three parts of <= 100
        cid = msg_id()
        await alice.send({"type": "reply", "conversation_id": conv["id"], "text": words, "client_msg_id": cid})
        ack = await alice.expect(lambda f: f["type"] == "ack" and f["client_msg_id"] == cid)
        delivery = await alice.expect(lambda f: f["type"] == "delivery" and f["message_id"] == ack["message_id"])
        assert delivery["status"] == "sent"
        assert [i for _, i, _ in adapter.sent] == [0, 1, 2]
        assert all(chat == "polly" and len(text) <= 100 for chat, _, text in adapter.sent)
        assert " ".join(text for _, _, text in adapter.sent) == words

        # Four parts would be needed: the socket refuses it, and the bird hears nothing more.
        await alice.send({"type": "reply", "conversation_id": conv["id"], "text": "x" * 301,
                          "client_msg_id": "too-long"})
        err = await alice.expect(lambda f: f["type"] == "error" and f.get("ref") == "too-long")
        assert err["code"] == "undeliverable"
        assert len(adapter.sent) == 3
        assert await rt.store.channels.state("parrot", "zoo", "heard", "polly") == "3"


def test_its_settings_are_checked_where_kefu_check_sees_them(parrot: None, tmp_path: Path) -> None:
    path = tmp_path / "kefu.yaml"
    path.write_text(CONFIG.replace(f"shared_secret: {SECRET}", "shared_secret: short")
                    + "  parot: {}\n")
    _settings, errors = read_settings(path)
    lines = CONFIG.splitlines()
    secret_line = next(i for i, line in enumerate(lines, 1) if "shared_secret" in line)
    assert [str(e) for e in errors] == [
        f"{path}:{secret_line}:22: channels.parrot: shared_secret must be at least 8 characters",
        f"{path}:{len(lines) + 1}:3: unknown channel 'parot'; did you mean 'parrot'?",
    ]
    with pytest.raises(ConfigErrors):  # what kefu serve loads with
        parse_settings(path.read_text(), str(path))


def test_a_channel_name_is_taken_once(parrot: None) -> None:
    class Impostor(ParrotChannel):
        pass

    with pytest.raises(ValueError, match="already registered"):
        registry.register(Impostor)


def test_the_product_does_not_know_the_new_channel() -> None:
    """Adding parrot changed no product file: its name is in none of them."""
    found = [str(p.relative_to(REPO)) for pkg in ("router", "adapters", "routing_rules", "kefu_common")
             for p in (REPO / pkg).rglob("*") if p.is_file() and p.suffix in {".py", ".lua", ".js", ".css", ".html"}
             and "parrot" in p.read_text(encoding="utf-8", errors="replace").lower()]
    assert found == []
