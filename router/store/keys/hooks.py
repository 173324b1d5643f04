"""Outbound webhooks (router/hooks/): what happened is on a stream in ``{rt:NS}``, written by the
routing scripts themselves; the admins' webhooks, the delivery stream, each delivery's record
and log and per-conversation delivery order are in ``{wh:NS}``.
"""

from __future__ import annotations

from router.store.keys.base import KeysBase


class HookKeys(KeysBase):
    """Keys of outbound webhooks: events, readers, deliveries and their order."""

    __slots__ = ()

    @property
    def hook_on(self) -> str:
        """String, present while some webhook is enabled: the routing scripts write events to
        `hook_events` only then, so a shop without webhooks pays nothing for them."""
        return f"{self.rt}hook:on"

    @property
    def hook_events(self) -> str:
        """Stream (capped): what happened (conversation.created, message.created, ...), written in
        the same script step as the effect; its entry id is the event's id."""
        return f"{self.rt}hook:events"

    def hook_seen(self, event_key: str) -> str:
        """String (EX): an event emitted from Python (a reply sent, a rating) was written once,
        so the retry of the step that emitted it does not write it twice."""
        return f"{self.rt}hook:seen:{event_key}"

    @property
    def hook_keep(self) -> str:
        """String (PX): present while a process reads `hook_events` for a channel of its own (the
        WeCom session state, adapters/wecom_state.py); `hook_on` is not cleared while it is."""
        return f"{self.rt}hook:keep"

    def hook_reader_cursor(self, reader: str) -> str:
        """String: the last `hook_events` entry one channel reader (e.g. `wecom`) handled."""
        return f"{self.rt}hook:reader:{reader}:cursor"

    def hook_reader_lease(self, reader: str) -> str:
        """String (PX): the one process at a time that runs the channel reader `reader`."""
        return f"{self.rt}hook:reader:{reader}:lease"

    # Deliveries {wh}.

    @property
    def hook_cursor(self) -> str:
        """String: the last `hook_events` entry turned into deliveries."""
        return f"{{wh:{self.ns}}}:cursor"

    @property
    def hook_lease(self) -> str:
        """String (PX): the process that turns events into deliveries, one at a time, so each
        conversation's deliveries are numbered in the order its events happened."""
        return f"{{wh:{self.ns}}}:lease"

    @property
    def webhooks(self) -> str:
        """Hash: webhook id -> its settings (JSON: url, secret, events, enabled, source)."""
        return f"{{wh:{self.ns}}}:hooks"

    @property
    def hook_deliveries(self) -> str:
        """Stream: deliveries to make (webhook id, delivery id, number in its conversation)."""
        return f"{{wh:{self.ns}}}:deliveries"

    @property
    def hook_tries(self) -> str:
        """Hash: delivery entry id -> failed handling tries (a bug, not a receiver's refusal)."""
        return f"{{wh:{self.ns}}}:tries"

    @property
    def hook_dead_letters(self) -> str:
        """Stream (capped): deliveries given up after `webhook_delivery.max_attempts`."""
        return f"{{wh:{self.ns}}}:dead"

    def hook_delivery(self, hook: str, event: str) -> str:
        """Hash (EX a week): one event's delivery to one webhook: its body, status, attempts and
        last error, for the delivery log and redelivery."""
        return f"{{wh:{self.ns}}}:d:{hook}:{event}"

    def hook_log(self, hook: str) -> str:
        """Sorted set: one webhook's delivery ids by time, newest kept (the delivery log)."""
        return f"{{wh:{self.ns}}}:log:{hook}"

    def hook_seq(self, hook: str, cid: str) -> str:
        """Counter: deliveries numbered per (webhook, conversation), so they go in order."""
        return f"{{wh:{self.ns}}}:seq:{hook}:{cid}"

    def hook_done(self, hook: str, cid: str) -> str:
        """String: the highest delivery number finished (delivered or dead) per (webhook,
        conversation); number n goes after n-1 is finished."""
        return f"{{wh:{self.ns}}}:done:{hook}:{cid}"
