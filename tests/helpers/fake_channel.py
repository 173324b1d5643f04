"""A scriptable channel: the adapter contract with sends that fail as a test says."""

from __future__ import annotations

import time
from typing import Any, ClassVar

from adapters.base import Adapter, Deps, Limits
from kefu_common.errors import ChannelError
from router.models import Channel, Message, Reply, new_id


class ScriptedChannel(Adapter):
    """Each send pops the next scripted outcome: an exception to raise, or None for success.
    Not registered: tests put it into a running router's adapters by hand."""

    channel: ClassVar[Channel] = Channel("telegram")
    settings_type: ClassVar[type[Any]] = dict
    limits: ClassVar[Limits] = Limits(max_text_chars=4096)

    def __init__(self, account: str, deps: Deps) -> None:
        super().__init__(account, deps)
        self.script: list[ChannelError | None] = []
        self.attempts: list[Reply] = []
        self.delivered: list[Reply] = []

    @classmethod
    def from_settings(cls, settings: Any, deps: Deps) -> ScriptedChannel:
        return cls(str(settings["account"]), deps)

    async def send_part(self, reply: Reply, text: str, index: int) -> None:
        self.attempts.append(reply)
        outcome = self.script.pop(0) if self.script else None
        if outcome is not None:
            raise outcome
        self.delivered.append(reply)

    def inbound(self, chat: str, text: str, native_id: str | None = None) -> Message:
        return Message(id=new_id("m"), channel=self.channel, account=self.account,
                       native_id=native_id or new_id("n"), sender_ref=chat, text=text, ts=time.time())
