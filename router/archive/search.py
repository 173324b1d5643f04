"""Search over the archive: one row of jieba tokens per conversation.

SQLite keeps them in an FTS5 table (tokens joined by spaces, so FTS5's own tokenizer splits only
where jieba did); PostgreSQL in a `tsvector` built with the `simple` configuration (no stemming,
no stop words: the tokens are already words) under a GIN index. Both answer "every query token
is among the conversation's tokens". Why tsvector rather than pg_trgm: docs/archive.md, "Search".
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from router.archive.schema import conversations, messages
from router.archive.snapshot import Snapshot
from router.archive.tokens import Clauses, Pacer, tokens_paced

SNIPPET_CHARS = 80


def document(snap: Snapshot) -> str:
    """The searchable text of a conversation: messages, customer name, identities."""
    parts = [str(m["text"] or "") for m in snap.messages]
    parts.append(str(snap.row.get("customer_name") or ""))
    parts.extend(json.loads(snap.row.get("identities") or "[]"))
    return "\n".join(parts)


async def index_text(snap: Snapshot, pacer: Pacer) -> str:
    """The conversation's index row: its tokens joined by spaces. Cut before the write's
    transaction opens (a SQLite write holds the file's lock), giving way to the loop meanwhile."""
    return " ".join(await tokens_paced(document(snap), pacer))


async def index(conn: AsyncConnection, dialect: str, cid: str, text: str) -> None:
    """Index one conversation (`text` from index_text), replacing its row if it has one."""
    if dialect == "sqlite":
        await conn.execute(sa.text("DELETE FROM search_fts WHERE conversation_id = :c"), {"c": cid})
        await conn.execute(sa.text("INSERT INTO search_fts (conversation_id, tokens) VALUES (:c, :t)"),
                           {"c": cid, "t": text})
    else:
        await conn.execute(sa.text(
            "INSERT INTO search_index (conversation_id, tokens) VALUES (:c, to_tsvector('simple', :t)) "
            "ON CONFLICT (conversation_id) DO UPDATE SET tokens = excluded.tokens"), {"c": cid, "t": text})


async def index_many(conn: AsyncConnection, dialect: str, texts: Sequence[tuple[str, str]]) -> None:
    """Index conversations (id, index_text) that have no index row yet (new, or unindexed just before)."""
    rows = [{"c": cid, "t": text} for cid, text in texts]
    if dialect == "sqlite":
        await conn.execute(sa.text("INSERT INTO search_fts (conversation_id, tokens) VALUES (:c, :t)"), rows)
    else:
        await conn.execute(sa.text("INSERT INTO search_index (conversation_id, tokens) "
                                   "VALUES (:c, to_tsvector('simple', :t))"), rows)


async def unindex(conn: AsyncConnection, dialect: str, ids: Sequence[str]) -> None:
    """Drop index rows (PostgreSQL's also go by cascade when their conversation is deleted)."""
    if dialect == "sqlite":
        await conn.execute(sa.text("DELETE FROM search_fts WHERE conversation_id = :c"), [{"c": c} for c in ids])
    else:
        await conn.execute(sa.text("DELETE FROM search_index WHERE conversation_id = :c"), [{"c": c} for c in ids])


def _fts_query(clauses: Clauses) -> str:
    def tok(t: str) -> str:
        return '"' + t.replace('"', '""') + '"'
    return " AND ".join("(" + " OR ".join("(" + " AND ".join(tok(t) for t in alt) + ")" for alt in alts) + ")"
                        for alts in clauses)


def _ts_query(clauses: Clauses) -> str:
    """For to_tsquery('simple', ...): each token quoted as one lexeme."""
    def tok(t: str) -> str:
        return "'" + t.replace("\\", "\\\\").replace("'", "''") + "'"
    return " & ".join("(" + " | ".join("(" + " & ".join(tok(t) for t in alt) + ")" for alt in alts) + ")"
                      for alts in clauses)


async def find(conn: AsyncConnection, dialect: str, toks: list[str], agent: str | None,
               since: float | None, until: float | None, limit: int,
               clauses: Clauses | None = None) -> list[dict[str, Any]]:
    """Archived conversations holding every token (or, with `clauses`, matching them: see
    router.archive.tokens.query_clauses), newest first; `agent` narrows to theirs."""
    if not toks:
        return []
    match = clauses if clauses else [[[t]] for t in toks]
    c = conversations.c
    hits: sa.Select[Any]
    if dialect == "sqlite":
        hits = sa.select(sa.column("conversation_id")).select_from(sa.table("search_fts")).where(
            sa.text("search_fts MATCH :q")).params(q=_fts_query(match))
    else:
        hits = sa.select(sa.column("conversation_id")).select_from(sa.table("search_index")).where(
            sa.text("tokens @@ to_tsquery('simple', :q)")).params(q=_ts_query(match))
    q = sa.select(c.id, c.customer_id, c.customer_name, c.channel, c.agent, c.closed_at, c.created).where(
        c.id.in_(hits.scalar_subquery()))
    if agent is not None:
        q = q.where(c.agent == agent)
    if since is not None:
        q = q.where(c.closed_at >= since)
    if until is not None:
        q = q.where(c.created <= until)
    rows = (await conn.execute(q.order_by(c.closed_at.desc()).limit(limit))).mappings().all()
    out = []
    for r in rows:
        msgs = (await conn.execute(sa.select(messages.c.text, messages.c.ts)
                                   .where(messages.c.conversation_id == r["id"])
                                   .order_by(messages.c.seq))).all()
        snippet, ts = snippet_of([(m.text, m.ts) for m in msgs], toks, r["closed_at"])
        out.append({"conversation_id": r["id"], "customer_id": r["customer_id"], "customer_name": r["customer_name"],
                    "channel": r["channel"], "agent": r["agent"], "snippet": snippet, "ts": ts,
                    "state": "closed", "archived": True})
    return out


def snippet_of(msgs: list[tuple[str, float]], toks: list[str], default_ts: float) -> tuple[str, float]:
    """The first message holding the most query tokens, cut around the first of them."""
    best: tuple[int, str, float] | None = None
    for text, ts in msgs:
        low = (text or "").lower()
        n = sum(1 for t in toks if t in low)
        if n and (best is None or n > best[0]):
            best = (n, text, ts)
    if best is None:
        return (msgs[0][0][:SNIPPET_CHARS] if msgs else ""), default_ts
    text = best[1]
    at = min((text.lower().find(t) for t in toks if t in text.lower()), default=0)
    start = max(0, at - SNIPPET_CHARS // 3)
    cut = text[start:start + SNIPPET_CHARS]
    return ("…" if start else "") + cut + ("…" if start + SNIPPET_CHARS < len(text) else ""), best[2]
