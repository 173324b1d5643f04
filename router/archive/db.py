"""The archive database: connect, migrate, write a snapshot in one transaction, read it back.

One code path for SQLite (aiosqlite) and PostgreSQL (asyncpg) through SQLAlchemy Core. A write
is idempotent on (conversation id, version): a version older than the stored one changes
nothing, the same or a newer one replaces the conversation's rows whole, so a re-run writes
nothing twice and a re-closed conversation's row follows it.
"""

from __future__ import annotations

import asyncio
import importlib
import json
from collections.abc import Awaitable, Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from kefu_common.errors import ArchiveError
from router.archive import search
from router.archive.schema import conversations, events, messages
from router.archive.snapshot import Snapshot, json_or_text
from router.archive.tokens import Clauses, Pacer
from router.models import MediaRef
from router.store.conversations import merge_record

DB_ERRORS = (DBAPIError, OperationalError, OSError, ConnectionError, TimeoutError)
"""What a database outage looks like from here: retry later, never drop the entry."""

WRITE_ERRORS = (*DB_ERRORS, SQLAlchemyError)
"""What a write may raise: an outage, or a row the database refuses (DataError, a value that
will not bind); which one it was, `refused` and `Archive.answers` tell."""

PRUNE_BATCH = 250
"""Conversations per prune transaction. Each of its statements names them all (IN, an unindex
executemany), which SQLAlchemy and asyncpg bind and prepare on the event loop: 1,000 held it
6-7 ms of CPU on PostgreSQL, 250 under 2 ms (pruning 2,000 took 0.17 s, now 0.3 s, hourly)."""


def refused(exc: BaseException) -> bool:
    """Whether a failed write was the database refusing this row rather than being unreachable:
    connection, lock and disk errors (OperationalError, InterfaceError, sockets, timeouts, a
    connection found dead) are an outage, whatever the row."""
    if isinstance(exc, (OperationalError, InterfaceError, OSError, ConnectionError, TimeoutError)):
        return False
    return not (isinstance(exc, DBAPIError) and exc.connection_invalidated)


def engine_url(url: str) -> str:
    """The SQLAlchemy async URL for a config URL (sqlite:///PATH, postgresql://USER@HOST:PORT/DB)."""
    if url.startswith("sqlite:"):
        return "sqlite+aiosqlite:" + url[len("sqlite:"):]
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix):]
    return url


def default_url(data_dir: str | Path) -> str:
    return f"sqlite:///{Path(data_dir).resolve() / 'archive.db'}"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets readers (history, reports) go on while the worker writes; foreign keys make the
    # cascades real; the busy timeout lets several processes share one file.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def reason(exc: BaseException) -> str:
    """A failed write as a dead letter's reason: the database's own message, without the
    statement and its parameters (long, and the customer's words)."""
    orig = getattr(exc, "orig", None) if isinstance(exc, DBAPIError) else None
    text = str(orig if orig is not None else exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


class Archive:
    """The archive database behind one URL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.ready = asyncio.Event()
        """Set once the schema is migrated; the worker and retention wait for it."""
        self.dialect = "sqlite" if url.startswith("sqlite") else "postgresql"
        if self.dialect == "sqlite":
            self.engine: AsyncEngine = create_async_engine(engine_url(url))
            sa.event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        else:
            self.engine = create_async_engine(engine_url(url), pool_pre_ping=True, pool_size=5,
                                              connect_args={"timeout": 10})

    async def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision (every process may do this at start)."""
        if self.dialect == "sqlite":
            path = self.url.split(":///", 1)[1] if ":///" in self.url else ""
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
        # Alembic takes about a second to import on a busy machine; in a thread, so the event
        # loop (sockets, acks) goes on meanwhile. The upgrade itself then takes milliseconds.
        await asyncio.to_thread(importlib.import_module, "alembic.command")
        try:
            async with self.engine.begin() as conn:
                await conn.run_sync(_upgrade)
        except DB_ERRORS as exc:
            raise ArchiveError(f"cannot migrate the archive at {self.safe_url}: {exc}") from exc
        self.ready.set()

    async def migrate_until_done(self, stopping: asyncio.Event, log: Any) -> bool:
        """Migrate, retrying while the database is down (a process starts without it, and
        closes queue up meanwhile); False if told to stop first."""
        delay = 0.5
        while not stopping.is_set():
            try:
                await self.migrate()
                return True
            except ArchiveError as exc:
                log.warning("%s; retrying in %.0fs", exc, delay)
            try:
                await asyncio.wait_for(stopping.wait(), delay)
            except TimeoutError:
                delay = min(delay * 2, 10.0)
        return False

    async def answers(self, timeout_s: float = 5.0) -> bool:
        """Whether the database answers a trivial query now; PostgreSQL shutting down reports its
        refusals as plain errors, so a failed write alone does not tell an outage from a bad row."""
        try:
            async with asyncio.timeout(timeout_s):
                async with self.engine.connect() as conn:
                    await conn.execute(sa.text("SELECT 1"))
            return True
        except (*WRITE_ERRORS, TimeoutError):
            return False

    @property
    def safe_url(self) -> str:
        return sa.engine.make_url(engine_url(self.url)).render_as_string(hide_password=True)

    async def aclose(self) -> None:
        await self.engine.dispose()

    async def write(self, snap: Snapshot, text: str | None = None) -> bool:
        """Write one conversation in one transaction; False when a newer version is already there.
        `text`: its search.index_text, when the caller has it already."""
        if text is None:
            text = await search.index_text(snap, Pacer())
        for attempt in (1, 2):
            try:
                async with self.engine.begin() as conn:
                    return await self._write(conn, snap, text)
            except IntegrityError:
                # Two processes inserted the same new conversation at once: the loser re-reads.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def write_many(self, snaps: list[Snapshot]) -> list[bool]:
        """Write several conversations in one transaction, a statement per table for the whole
        batch (a batch costs about what one conversation did); each is whole either way. A race
        on a new row falls back to one transaction each."""
        if not snaps:
            return []
        pacer = Pacer()
        texts = {s.id: await search.index_text(s, pacer) for s in snaps}
        try:
            async with self.engine.begin() as conn:
                return await self._write_batch(conn, snaps, texts)
        except IntegrityError:
            return [await self.write(snap, texts[snap.id]) for snap in snaps]

    async def _write_batch(self, conn: AsyncConnection, snaps: list[Snapshot], texts: dict[str, str]) -> list[bool]:
        ids = [s.id for s in snaps]
        q = sa.select(conversations.c.id, conversations.c.version).where(conversations.c.id.in_(ids))
        if self.dialect == "postgresql":
            q = q.with_for_update()
        stored = {row[0]: row[1] for row in (await conn.execute(q)).all()}
        go = [s for s in snaps if stored.get(s.id, -1) <= s.version]
        replace = [s.id for s in go if s.id in stored]
        if replace:
            await conn.execute(sa.delete(messages).where(messages.c.conversation_id.in_(replace)))
            await conn.execute(sa.delete(events).where(events.c.conversation_id.in_(replace)))
            await conn.execute(sa.delete(conversations).where(conversations.c.id.in_(replace)))
            await search.unindex(conn, self.dialect, replace)
        if go:
            await _insert(conn, conversations, [s.row for s in go])
            await _insert(conn, messages, [m for s in go for m in s.messages])
            await _insert(conn, events, [e for s in go for e in s.events])
            await search.index_many(conn, self.dialect, [(s.id, texts[s.id]) for s in go])
        written = {s.id for s in go}
        return [s.id in written for s in snaps]

    async def _write(self, conn: AsyncConnection, snap: Snapshot, text: str) -> bool:
        q = sa.select(conversations.c.version).where(conversations.c.id == snap.id)
        if self.dialect == "postgresql":
            q = q.with_for_update()
        stored = (await conn.execute(q)).scalar_one_or_none()
        if stored is not None and stored > snap.version:
            return False
        if stored is not None:
            await conn.execute(sa.delete(messages).where(messages.c.conversation_id == snap.id))
            await conn.execute(sa.delete(events).where(events.c.conversation_id == snap.id))
            await conn.execute(sa.update(conversations).where(conversations.c.id == snap.id).values(**snap.row))
        else:
            await conn.execute(sa.insert(conversations).values(**snap.row))
        if snap.messages:
            await conn.execute(sa.insert(messages), snap.messages)
        if snap.events:
            await conn.execute(sa.insert(events), snap.events)
        await self.after_write(conn, snap, text)
        return True

    async def after_write(self, conn: AsyncConnection, snap: Snapshot, text: str) -> None:
        """Inside the write's transaction: the search index follows the row."""
        await search.index(conn, self.dialect, snap.id, text)

    async def version(self, cid: str) -> int | None:
        async with self.engine.connect() as conn:
            q = sa.select(conversations.c.version).where(conversations.c.id == cid)
            v: int | None = (await conn.execute(q)).scalar_one_or_none()
            return v

    async def conversation(self, cid: str) -> dict[str, Any] | None:
        """The archived conversation in the API's shape, with `messages`; None when absent."""
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(conversations).where(conversations.c.id == cid))).mappings().first()
            if row is None:
                return None
            msgs = (await conn.execute(sa.select(messages).where(messages.c.conversation_id == cid)
                                       .order_by(messages.c.seq))).mappings().all()
            evs = (await conn.execute(sa.select(events).where(events.c.conversation_id == cid)
                                      .order_by(events.c.seq))).mappings().all()
        trail = [json.loads(e["data"]) for e in evs]
        return {**view(row), "messages": [message_view(m) for m in msgs], "events": trail,
                "readers": _readers(row, trail)}

    async def customer_conversations(self, cust: str, limit: int) -> list[dict[str, Any]]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(conversations).where(conversations.c.customer_id == cust)
                                       .order_by(conversations.c.created.desc()).limit(limit))).mappings().all()
        return [view(r) for r in rows]

    async def transcript(self, cid: str, limit: int) -> list[dict[str, Any]]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(messages).where(messages.c.conversation_id == cid)
                                       .order_by(messages.c.seq.desc()).limit(limit))).mappings().all()
        return [message_view(m) for m in reversed(rows)]

    async def count(self) -> int:
        async with self.engine.connect() as conn:
            n: int = (await conn.execute(sa.select(sa.func.count()).select_from(conversations))).scalar_one()
            return n

    async def prune(self, closed_before: float, batch: int = PRUNE_BATCH,
                    files: Callable[[Sequence[str]], Awaitable[object]] | None = None) -> int:
        """Delete conversations closed before `closed_before`, a batch per transaction.

        `files` deletes the batch's media first (router/media: retention follows the
        conversation's): should it fail, the rows stay and the next prune tries the batch again;
        should the rows' delete fail after it, the next prune finds them and the files already gone.
        """
        total = 0
        while True:
            async with self.engine.begin() as conn:
                ids = (await conn.execute(sa.select(conversations.c.id).where(conversations.c.closed_at < closed_before)
                                          .limit(batch))).scalars().all()
                if not ids:
                    return total
                if files is not None:
                    await files(ids)
                await self.before_delete(conn, ids)
                await conn.execute(sa.delete(messages).where(messages.c.conversation_id.in_(ids)))
                await conn.execute(sa.delete(events).where(events.c.conversation_id.in_(ids)))
                await conn.execute(sa.delete(conversations).where(conversations.c.id.in_(ids)))
                total += len(ids)

    async def before_delete(self, conn: AsyncConnection, ids: Sequence[str]) -> None:
        """Inside a prune's transaction: FTS5 rows have no foreign key to cascade."""
        await search.unindex(conn, self.dialect, ids)

    async def search(self, toks: list[str], agent: str | None, since: float | None, until: float | None,
                     limit: int, clauses: Clauses | None = None) -> list[dict[str, Any]]:
        async with self.engine.connect() as conn:
            return await search.find(conn, self.dialect, toks, agent, since, until, limit, clauses)


VALUES_PER_STATEMENT = 1500
"""Bound values per INSERT of a batch. SQLAlchemy binds and converts an executemany's rows on
the event loop before the driver gets them: the 1,250 message rows of 50 conversations held it
5-9 ms in one statement; 1,500 values (136 messages, 41 conversation rows) take about 1 ms."""


async def _insert(conn: AsyncConnection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Insert `rows` a few at a time (VALUES_PER_STATEMENT), the loop going on between statements."""
    step = max(1, VALUES_PER_STATEMENT // len(table.columns))
    for i in range(0, len(rows), step):
        await conn.execute(sa.insert(table), rows[i:i + step])


def _upgrade(sync_conn: sa.Connection) -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("router.archive").joinpath("migrations")))
    cfg.attributes["connection"] = sync_conn
    command.upgrade(cfg, "head")


def view(r: Any) -> dict[str, Any]:
    """An archive row in the shape of the live API's conversation (router.store._conv_view)."""
    decision = json.loads(r["decision"]) if r["decision"] else {}
    return {
        "id": r["id"], "state": r["state"], "customer_id": r["customer_id"], "customer_name": r["customer_name"],
        "channel": r["channel"], "account": r["account"], "pool": r["pool"], "agent": r["agent"],
        "priority": r["priority"], "messages": r["messages_in"] + r["messages_out"], "reopened": r["reopened"],
        "created": r["created"], "updated": r["closed_at"], "queued_at": r["queued_at"],
        "assigned_at": r["assigned_at"], "first_reply_at": r["first_reply_at"], "closed_at": r["closed_at"],
        "resolution": r["resolution"], "decision": merge_record(decision.get("decision"), decision.get("assignment")),
        "sla": json.loads(r["sla"]) if r["sla"] else {"profile": None, "state": "none"},
        "bot": json.loads(r["bot"]) if r["bot"] else None,
        "bot_turn": json_or_text(r["bot_turn"]),
        "csat": {"rating": r["csat_rating"], "comment": r["csat_comment"], "at": r["csat_at"]}
        if r["csat_rating"] is not None else None,
        "first_response_s": r["first_response_s"], "resolution_s": r["resolution_s"],
        "version": r["version"], "archived": True,
    }


def _readers(row: Any, trail: list[dict[str, Any]]) -> list[str]:
    """Who besides supervisors may read it (snapshot.readers_of); a row archived before the
    column has its agent and those who transferred it away, from its events."""
    if row["readers"]:
        return list(json.loads(row["readers"]))
    froms = {str(e["from"]) for e in trail if isinstance(e, dict) and e.get("kind") == "transfer" and e.get("from")}
    return sorted(froms | ({row["agent"]} if row["agent"] else set()))


def archived_media(text: str) -> object:
    """The `media` column: a MediaRef as JSON, or (archived before the media store) the channel's
    own reference string, shown as it is."""
    if text.startswith("{"):
        return msgspec.json.decode(text, type=MediaRef).public()
    return text


def message_view(m: Any) -> dict[str, Any]:
    """An archived message in the shape of router.models.Message.public()."""
    out: dict[str, Any] = {"id": m["id"], "from": m["sender"], "text": m["text"], "ts": m["ts"], "kind": m["kind"]}
    if m["media"]:
        out["media"] = archived_media(m["media"])
    if m["author"]:
        out["agent_id"] = m["author"]
    if m["direction"] in ("note", "whisper"):
        out["note"] = True
    if m["direction"] == "whisper":
        out["whisper"] = True  # for whom is not kept: archived, supervisors alone read it
    if m["delivery"]:
        out["delivery"] = json.loads(m["delivery"])
    return out
