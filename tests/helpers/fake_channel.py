"""A scriptable channel: the adapter contract with sends that fail as a test says."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import ClassVar

from aiohttp import web

from adapters.base import Adapter, Limits, Sink
from kefu_common.errors import ChannelError
from router.models import Channel, Message, Reply, new_id


class ScriptedChannel(Adapter):
    """Each send pops the next scripted outcome: an exception to raise, or None for success."""

    channel: ClassVar[Channel] = Channel.TELEGRAM
    limits: ClassVar[Limits] = Limits(max_text_chars=4096)

    def __init__(self, account: str, sink: Sink) -> None:
        super().__init__(account, sink)
        self.script: list[ChannelError | None] = []
        self.attempts: list[Reply] = []
        self.delivered: list[Reply] = []

    def routes(self) -> Sequence[web.RouteDef]:
        return []

    async def send(self, reply: Reply) -> None:
        self.attempts.append(reply)
        outcome = self.script.pop(0) if self.script else None
        if outcome is not None:
            raise outcome
        self.delivered.append(reply)

    def inbound(self, chat: str, text: str, native_id: str | None = None) -> Message:
        return Message(id=new_id("m"), channel=self.channel, account=self.account,
                       native_id=native_id or new_id("n"), sender_ref=chat, text=text, ts=time.time())
