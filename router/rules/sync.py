"""Keeps this process on the active rule version in Redis, and optionally watches the rules file.

At start, a Redis without rule versions is seeded with the configured file (or the built-in
rules); otherwise the active version there wins over the file. Then one task listens for
activation notices and, because pub/sub may drop one, also re-reads the pointer every
`poll_s`. A new version is loaded and compiled whole before the holder is swapped in one
assignment, so no message is decided by a half-loaded set.

With `watch` set (`kefu serve --watch-rules`) the task also polls the rules file's mtime and
size, and on a change of content activates it as a new version; an invalid file is logged as
FILE:LINE:COL lines and the current version stays.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from pathlib import Path

from kefu_common.errors import ConfigError, ConfigErrors
from kefu_common.yamlpos import read_text
from router.config.settings import Settings
from router.rules.holder import RulesHolder, initial_source, known_names
from router.rules.versions import RuleVersions, StaleVersion, version_number
from router.store import Store
from router.store.follow import Follower
from routing_rules import RuleSet

log = logging.getLogger("kefu.rules")


class RuleSync(Follower):
    name = "rule sync"

    def __init__(self, store: Store, holder: RulesHolder, settings: Settings, poll_s: float = 5.0) -> None:
        super().__init__(store, store.keys.rules_channel, poll_s)
        self.holder = holder
        self.settings = settings
        self.versions = RuleVersions(store, *known_names(settings))
        self.watch: Path | None = None
        """The rules file to follow, when `kefu serve --watch-rules` asked for it."""
        self._failed: set[str] = set()
        self._file_stamp: tuple[int, int] | None = None
        self._file_hash = ""

    async def start(self) -> None:
        await self.subscribe()
        await self._adopt_file()
        await self.refresh()
        if self.watch is not None:
            self._file_stamp, self._file_hash = self._stamp(), self._hash()

    async def _adopt_file(self) -> None:
        """Seed an empty Redis with the configured rules. Until an admin has activated rules
        over HTTP, the file stays the source: an edited file is taken at restart. After that,
        Redis wins and a differing file is only reported."""
        source, author = initial_source(self.settings)
        active = await self.versions.active_id()
        stored = await self.versions.get(active) if active else None
        if stored is not None and stored["source"] == source:
            return
        by_admin = stored is not None and not stored["author"].startswith("file:") and stored["author"] != "startup"
        if by_admin:
            assert stored is not None
            log.warning("rules: %s differs from the active version %s (activated by %s); using %s. "
                        "Change it with PUT /api/v1/rules or --watch-rules", author.removeprefix("file:"),
                        active, stored["author"], active)
            return
        with contextlib.suppress(StaleVersion):  # another process starting with it got there first
            rs = await self.versions.activate(source, author, expected=active, file=author.removeprefix("file:"))
            log.info("rules: %s activated from %s", rs.version, author)

    def forget_failures(self) -> None:
        """Try again versions this process could not compile: the pools it knows just changed."""
        self._failed.clear()

    def install(self, rs: RuleSet) -> None:
        """Use a version this process just activated, unless a newer one is already live."""
        if version_number(rs.version) > version_number(self.holder.current.version):
            self.holder.swap(rs)

    async def refresh(self) -> None:
        """Follow the pointer: Redis says which version is live, whatever this process has."""
        vid = await self.versions.active_id()
        if not vid or vid == self.holder.current.version or vid in self._failed:
            return
        stored = await self.versions.get(vid)
        if stored is None:
            return
        try:
            rs = await asyncio.to_thread(self.versions.compile, vid, stored["source"])
        except ConfigError as exc:
            # Another process's config knows pools this one does not: keep deciding as before.
            self._failed.add(vid)
            log.error("rules %s cannot be used by this process; keeping %s:\n%s",
                      vid, self.holder.current.version, exc)
            return
        if await self.versions.active_id() != vid:
            return  # overtaken while compiling (maybe installed by this process's own PUT)
        old = self.holder.swap(rs)
        log.info("rules: now deciding with %s (was %s)", vid, old.version)

    async def tick(self) -> None:
        if self.watch is not None:
            await self.check_file()

    # -- --watch-rules -----------------------------------------------------------------------
    def _stamp(self) -> tuple[int, int] | None:
        assert self.watch is not None
        try:
            st = self.watch.stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size

    def _hash(self) -> str:
        assert self.watch is not None
        try:
            return hashlib.sha256(self.watch.read_bytes()).hexdigest()
        except OSError:
            return ""

    async def check_file(self) -> None:
        """Activate the watched file when its content changed; an editor's half-written save
        is just an invalid version that the next save replaces."""
        stamp = self._stamp()
        if stamp is None or stamp == self._file_stamp:
            return
        self._file_stamp = stamp
        digest = self._hash()
        if digest == self._file_hash:
            return
        self._file_hash = digest
        assert self.watch is not None
        try:
            source = read_text(self.watch)
        except ConfigError as exc:
            log.warning("rules file not read; keeping %s: %s", self.holder.current.version, exc)
            return
        for _ in range(3):  # bounded: each retry means another process activated meanwhile
            active = await self.versions.active_id()
            stored = await self.versions.get(active) if active else None
            if stored is not None and stored["source"] == source:
                return  # another process watching the same file got there first
            try:
                self.install(await self.versions.activate(
                    source, f"file:{self.watch}", expected=active, file=str(self.watch)))
            except StaleVersion:
                continue
            except ConfigErrors as exc:
                log.warning("rules file %s is invalid; keeping %s:\n%s",
                            self.watch, self.holder.current.version, exc)
                return
            log.info("rules: %s activated from %s", self.holder.current.version, self.watch)
            return
