"""The files the bot and the agents share: FAQ, quick replies, compliance terms.

Each is swapped whole when its file changes (checked every `reload_s`) or on POST
/api/v1/bot/reload. A file that no longer loads leaves the previous version in place: a typo
in the FAQ must not take the bot down.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

from kefu_common.errors import ConfigError
from router.bot.compliance import ComplianceMode, CompliancePolicy, load_compliance
from router.bot.config import BotSettings, resolve
from router.bot.faq_match import FaqIndex
from router.bot.quick_replies import QuickReplies, load_quick_replies
from router.supervisor import Loop

log = logging.getLogger("kefu.bot")


@dataclass(frozen=True, slots=True)
class Paths:
    faq: Path | None
    quick_replies: Path | None
    compliance: Path | None


class Library:
    def __init__(self, settings: BotSettings, base_dir: str) -> None:
        self.settings = settings
        self.paths = Paths(
            resolve(base_dir, settings.faq, "faq.yaml"),
            resolve(base_dir, settings.quick_replies, "quick_replies.yaml"),
            resolve(base_dir, settings.compliance, "compliance.yaml"),
        )
        self.faq: FaqIndex | None = None
        self.quick: QuickReplies = QuickReplies((), ())
        self.compliance = CompliancePolicy(mode=self._mode(None))
        self._mtimes: dict[str, float] = {}
        self.pinned: set[str] = set()
        """Files an admin has since edited in the console (router/live): Redis holds them now,
        and a change to the file no longer replaces them."""

    def _mode(self, policy: CompliancePolicy | None) -> ComplianceMode:
        if self.settings.compliance_mode:
            return ComplianceMode(self.settings.compliance_mode)
        return policy.mode if policy else ComplianceMode.WARN

    def load_all(self) -> None:
        """First load: a broken file is a start-up error, named FILE:LINE:COL."""
        self.reload(strict=True)

    def reload(self, strict: bool = False, only_changed: bool = False) -> list[str]:
        """Reload the files (all, or those whose mtime moved); returns what was reloaded."""
        done: list[str] = []
        for name in ("faq", "quick_replies", "compliance"):
            path: Path | None = getattr(self.paths, name)
            if path is None or name in self.pinned:
                continue
            try:
                mtime = path.stat().st_mtime
            except OSError as exc:
                if strict:
                    raise ConfigError(f"{path}: cannot read: {exc}") from None
                log.error("bot %s file unreadable, keeping the loaded one: %s", name, exc)
                continue
            if only_changed and self._mtimes.get(name) == mtime:
                continue
            try:
                self._load(name, path)
            except (ConfigError, OSError) as exc:
                if strict:
                    raise
                log.error("bot %s file not reloaded, keeping the loaded one: %s", name, exc)
                if not only_changed:
                    raise
            self._mtimes[name] = mtime
            done.append(name)
        if done:
            log.info("bot files loaded: %s", ", ".join(done))
        return done

    def _load(self, name: str, path: Path) -> None:
        if name == "faq":
            self.faq = FaqIndex.from_file(path, threshold=self.settings.faq_threshold)
        elif name == "quick_replies":
            self.quick = load_quick_replies(path)
        else:
            policy = load_compliance(path)
            self.compliance = CompliancePolicy(policy.terms, policy.allow, self._mode(policy))

    async def watch(self, stop: asyncio.Event) -> None:
        """Reload changed files until `stop` is set."""
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), self.settings.reload_s)
            except TimeoutError:
                await asyncio.to_thread(self.reload, False, True)


class LibraryWatch(Loop):
    """A web process (`kefu serve --role web`) runs no bot turns, so not the bot stage that
    reloads these files; but it checks agents' replies against the compliance list and serves
    quick replies, so it reloads them itself."""

    name = "bot library"

    def __init__(self, library: Library) -> None:
        super().__init__()
        self.library = library

    async def run(self) -> None:
        await self.library.watch(self._stopping)
