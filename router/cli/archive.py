"""`kefu archive ...`: write what Redis already holds to the archive (backfill), prune it."""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import sys
import time
from pathlib import Path
from typing import Any, TextIO

PAGE = 500


def add_archive_parsers(sub: Any) -> None:
    backfill = sub.add_parser("backfill", help="archive the closed conversations Redis holds that the archive "
                                                "does not (from versions before the archive), with progress")
    _common(backfill)
    backfill.set_defaults(func=cmd_backfill)
    prune = sub.add_parser("prune", help="delete archived conversations closed more than retention.archive_days ago")
    _common(prune)
    prune.set_defaults(func=cmd_prune)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", help="YAML config; default ./config/kefu.yaml, else the demo")
    p.add_argument("--redis-url", default=None, help="the server's Redis; default its embedded one")
    p.add_argument("--data-dir", default=os.environ.get("KEFU_DATA_DIR", ".kefu"))


class Progress:
    """One line redrawn in place on a terminal, a line per tenth otherwise (logs stay short)."""

    def __init__(self, total: int, out: TextIO = sys.stderr) -> None:
        self.total, self.out, self.start = total, out, time.monotonic()
        self.tty = out.isatty()
        self._shown = -1

    def show(self, done: int, written: int) -> None:
        tenth = done * 10 // max(self.total, 1)
        if not self.tty and tenth == self._shown and done != self.total:
            return
        self._shown = tenth
        rate = done / max(time.monotonic() - self.start, 1e-6)
        width = 30
        filled = width * done // max(self.total, 1)
        line = (f"[{'#' * filled}{'.' * (width - filled)}] {done}/{self.total} conversations, "
                f"{written} written, {rate:.0f}/s")
        self.out.write(("\r" + line) if self.tty else line + "\n")
        self.out.flush()

    def end(self) -> None:
        if self.tty:
            self.out.write("\n")


def cmd_backfill(args: argparse.Namespace) -> int:
    return asyncio.run(_with_parts(args, _backfill))


def cmd_prune(args: argparse.Namespace) -> int:
    return asyncio.run(_with_parts(args, functools.partial(_prune, data_dir=Path(args.data_dir))))


async def _with_parts(args: argparse.Namespace, job: Any) -> int:
    from router.archive.db import Archive, default_url
    from router.config.resolve import resolve_settings
    from router.store import Store
    from router.store.embedded import EmbeddedRedis, redis_url_for

    data_dir = Path(args.data_dir)
    settings = resolve_settings(args.config, data_dir)
    url = args.redis_url or os.environ.get("KEFU_REDIS_URL") or settings.redis.url
    embedded = EmbeddedRedis(data_dir)
    if not url and embedded.socket.exists():
        url = embedded.url
    archive = Archive(settings.archive.url or default_url(data_dir))
    async with redis_url_for(url, data_dir) as resolved:
        store = Store(resolved, settings.redis.namespace, cluster=settings.redis.cluster and resolved == url)
        try:
            await store.open()
            await archive.migrate()
            code: int = await job(store, archive, settings)
            return code
        finally:
            await store.close()
            await archive.aclose()


async def _backfill(store: Any, archive: Any, _settings: Any) -> int:
    from router.archive.snapshot import take
    from router.store.calls.background import Archived

    total = await store.archive.total()
    bar = Progress(total)
    done = written = 0
    cursor = 0
    while True:
        cursor, page = await store.archive.states_page(cursor, PAGE)
        for cid, state, version, archived in page:
            done += 1
            if state == "closed" and (archived is None or archived != (version or "1")):
                snap = await take(store, cid)
                if snap is not None:
                    written += await archive.write(snap)
                    await store.run(Archived(cid, snap.version))
            bar.show(min(done, total), written)
        if cursor == 0:
            break
    bar.end()
    print(f"backfill: {written} conversations written to the archive ({archive.safe_url}); "
          f"{done - written} were open or already there", flush=True)
    return 0


async def _prune(_store: Any, archive: Any, settings: Any, data_dir: Path) -> int:
    """The archive rows and, as the running sweep does, the conversations' files (docs/media.md)."""
    from router.media import build_store

    days = settings.retention.archive_days
    media = build_store(settings.media, data_dir)
    try:
        n = await archive.prune(time.time() - days * 86400, files=media.delete_conversations)
    finally:
        await media.aclose()
    print(f"prune: {n} conversations closed more than {days:g} days ago deleted from the archive "
          "(their files with them)", flush=True)
    return 0
