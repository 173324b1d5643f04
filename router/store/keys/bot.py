"""The bot's keys: its turns, leases and stats in ``{rt:NS}`` (a handoff moves the conversation in
the same script), its unanswered questions in ``{bot:NS}``.
"""

from __future__ import annotations

from router.store.keys.base import KeysBase


class BotKeys(KeysBase):
    """Keys of the bot stage and its knowledge gaps."""

    __slots__ = ()

    def bot(self, cid: str) -> str:
        """Hash: what the bot remembers of one conversation (BotState JSON, last turn time)."""
        return f"{self.rt}bot:{cid}"

    def bot_pending(self, cid: str) -> str:
        """List: customer lines waiting for the bot's next turn; trimmed only once answered,
        so a process dying inside the debounce window or mid-turn loses none of them."""
        return f"{self.rt}bot:{cid}:pending"

    def bot_lease(self, cid: str) -> str:
        """String (PX): the process answering a bot turn; lapses if that process dies."""
        return f"{self.rt}bot:{cid}:lease"

    @property
    def bot_due(self) -> str:
        """Sorted set: conversation -> when its pending lines become a turn (end of the burst)."""
        return f"{self.rt}bot:due"

    @property
    def bot_idle(self) -> str:
        """Sorted set: bot conversation -> last bot turn, to close quiet ones as bot-resolved."""
        return f"{self.rt}bot:idle"

    @property
    def bot_stats(self) -> str:
        """Hash: deflection counters (conversations, resolved, handed_off, reason:<r>, answers)."""
        return f"{self.rt}bot:stats"

    # Bot knowledge gaps {bot}.

    @property
    def bot_unknown(self) -> str:
        """Sorted set: normalised unanswered question -> times asked, so the FAQ can grow."""
        return f"{{bot:{self.ns}}}:unknown"

    @property
    def bot_unknown_text(self) -> str:
        """Hash: normalised question -> the latest wording asked (PII-masked), for admins."""
        return f"{{bot:{self.ns}}}:unknown:text"
