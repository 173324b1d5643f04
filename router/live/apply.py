"""Putting an active live document in place in this process: each kind swaps one reference in
the part that reads it, so nothing sees half a change."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from router.bot.faq_match import FaqIndex
from router.bot.hours import BusinessHours
from router.ops.roster import Shift
from router.store import Store

if TYPE_CHECKING:
    from router.bot.stage import BotStage
    from router.ops.roster import Roster
    from router.rules.sync import RuleSync

log = logging.getLogger("kefu.live")

FILE_KINDS = ("quick_replies", "faq")
"""Kinds the bot's library also reads from files (router/bot/library.py)."""


class Applier:
    def __init__(self, store: Store, bot: BotStage, roster: Roster, rule_sync: RuleSync) -> None:
        self.store = store
        self.bot = bot
        self.roster = roster
        self.rule_sync = rule_sync
        self._skills = set(rule_sync.versions.skills or ())
        """The agents' skills from the config; a pool's skills are added to them."""

    async def apply(self, kind: str, value: Any, by_person: bool) -> None:
        """Use `value` (kinds.KINDS[kind].check's result). `by_person`: an admin made this version,
        so the library stops following the file of that kind."""
        if kind == "pools":
            await self.store.live.add_pools(p.id for p in value)
            versions = self.rule_sync.versions
            versions.pools = {p.id for p in value}
            versions.skills = (self._skills | {s for p in value for s in p.skills}) or None
            self.bot.pools = frozenset(p.id for p in value)
            self.rule_sync.forget_failures()  # a version that named a pool unknown until now
            await self.rule_sync.refresh()
        elif kind == "hours":
            self.bot.hours = BusinessHours.from_settings(value) if value is not None else None
        elif kind == "shifts":
            self.roster.shifts = [Shift.from_settings(s) for s in value]
        elif kind == "quick_replies":
            self.bot.library.quick = value
        elif kind == "faq":
            # Indexing segments every entry with jieba: off the event loop.
            self.bot.library.faq = await asyncio.to_thread(FaqIndex, value, self.bot.library.settings.faq_threshold)
        if by_person and kind in FILE_KINDS:
            self.bot.library.pinned.add(kind)
