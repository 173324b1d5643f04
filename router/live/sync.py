"""Keeps this process on the active version of every live document, as router/rules/sync.py
does for the rules.

At start, a kind without a version in Redis is seeded from the config (its file, or its
section); a kind whose active version came from the config file and whose file has changed since
takes the file again as a new version, until an admin has edited it in the console: after that
Redis holds the truth and a differing file is only reported. Then one task listens for
activation notices and, because pub/sub may drop one, re-reads the pointers every `poll_s`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kefu_common.errors import ConfigError, ConfigErrors
from kefu_common.yamlpos import read_text
from router.bot.library import Library
from router.config.settings import Settings
from router.live.apply import FILE_KINDS, Applier
from router.live.kinds import KINDS, hours_source, pools_source, shifts_source
from router.live.versions import LiveVersions
from router.rules.versions import StaleVersion
from router.store import Store
from router.store.follow import Follower

log = logging.getLogger("kefu.live")

Seed = Callable[[], tuple[str, str]]
"""A kind's source from the config and its author ('file:PATH' or 'config')."""


def by_person(author: str) -> bool:
    return not (author.startswith("file:") or author == "config")


class LiveSync(Follower):
    name = "live config sync"

    def __init__(self, store: Store, applier: Applier, seeds: dict[str, Seed], poll_s: float = 2.0) -> None:
        super().__init__(store, store.keys.live_channel, poll_s)
        self.versions = LiveVersions(store)
        self.applier = applier
        self.seeds = seeds
        self.current: dict[str, str] = {}
        """The version of each kind this process uses."""
        self._failed: set[tuple[str, str]] = set()

    async def start(self) -> None:
        await self.subscribe()
        for kind in KINDS:
            await self._adopt(kind)
        await self.refresh()

    async def _adopt(self, kind: str) -> None:
        seed = self.seeds.get(kind)
        if seed is None:
            return
        try:
            source, author = seed()
        except ConfigError as exc:
            log.error("%s: the config's file cannot be read: %s", kind, exc)
            return
        stored = await self.versions.active(kind)
        if stored is not None and (stored["source"] == source or by_person(stored["author"])):
            if stored["source"] != source:
                log.warning("%s: the config differs from the active version %s (edited by %s); using %s",
                            kind, stored["version"], stored["author"], stored["version"])
            return
        expected = stored["version"] if stored else ""
        try:
            vid, _ = await self.versions.activate(kind, source, author, expected)
            log.info("%s: %s activated from %s", kind, vid, author)
        except StaleVersion:
            pass  # another process starting with it got there first
        except ConfigErrors as exc:
            log.error("%s from %s not used:\n%s", kind, author, exc)

    async def refresh(self) -> None:
        """Follow the pointers: Redis says which version of each kind is live."""
        active = await self.store.live.active_ids(KINDS)
        for kind, vid in active.items():
            if vid and vid != self.current.get(kind) and (kind, vid) not in self._failed:
                await self._use(kind, vid)

    async def _use(self, kind: str, vid: str) -> None:
        stored = await self.versions.get(kind, vid)
        if stored is None:
            return
        try:
            value = await self.versions.check(kind, stored["source"])
        except ConfigErrors as exc:
            # E.g. a shift naming an agent this process's Redis does not know yet: keep the old.
            self._failed.add((kind, vid))
            log.error("%s %s cannot be used by this process; keeping %s:\n%s", kind, vid,
                      self.current.get(kind, "the config's"), exc)
            return
        await self.applier.apply(kind, value, by_person(stored["author"]))
        self.current[kind] = vid
        log.info("%s: now using %s", kind, vid)

    async def install(self, kind: str, vid: str, value: Any, author: str) -> None:
        """Use a version this process just activated at once (the notice comes too)."""
        await self.applier.apply(kind, value, by_person(author))
        self.current[kind] = vid



def config_seeds(settings: Settings, library: Library) -> dict[str, Seed]:
    """What seeds each kind in an empty Redis: the config's sections and the bot's files."""
    out: dict[str, Seed] = {
        "hours": lambda: (hours_source(settings.bot.hours), "config"),
        "shifts": lambda: (shifts_source(settings.shifts), "config"),
    }
    if settings.pools:  # without any, rules may name any pool: nothing to seed or check
        out["pools"] = lambda: (pools_source(settings.pools), "config")
    for kind in FILE_KINDS:
        path = getattr(library.paths, kind)
        if path is not None:
            out[kind] = _file_seed(path)
    return out


def _file_seed(path: Path) -> Seed:
    return lambda: (read_text(path), f"file:{path}")
