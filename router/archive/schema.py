"""The archive's one schema, for SQLite and PostgreSQL alike (Alembic migrations build it).

Times are epoch seconds as floats, the same as in Redis and on the wire, so reports compare and
bucket numbers on both databases without dialect date functions.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

conversations = sa.Table(
    "conversations", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("customer_id", sa.String(64), nullable=False),
    sa.Column("customer_name", sa.Text, nullable=False, server_default=""),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("account", sa.String(64), nullable=False, server_default=""),
    sa.Column("chat", sa.String(128), nullable=False, server_default=""),
    sa.Column("identities", sa.Text, nullable=False, server_default="[]"),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("pool", sa.String(64)),
    sa.Column("agent", sa.String(64)),
    sa.Column("priority", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("queued_at", sa.Float),
    sa.Column("assigned_at", sa.Float),
    sa.Column("first_reply_at", sa.Float),
    sa.Column("closed_at", sa.Float, nullable=False),
    sa.Column("resolution", sa.String(64)),
    sa.Column("reopened", sa.Integer, nullable=False, server_default="0"),
    sa.Column("messages_in", sa.Integer, nullable=False, server_default="0"),
    sa.Column("messages_out", sa.Integer, nullable=False, server_default="0"),
    sa.Column("first_response_s", sa.Float),
    sa.Column("resolution_s", sa.Float),
    sa.Column("sla_breaches", sa.Integer, nullable=False, server_default="0"),
    sa.Column("bot_outcome", sa.String(16)),
    sa.Column("csat_rating", sa.Integer),
    sa.Column("csat_comment", sa.Text),
    sa.Column("csat_at", sa.Float),
    sa.Column("decision", sa.Text),
    sa.Column("sla", sa.Text),
    sa.Column("bot", sa.Text),
    sa.Column("bot_turn", sa.Text),  # the bot's last turn record (migration 0004)
    # Who besides supervisors may read it: JSON list of agent ids (migration 0005).
    sa.Column("readers", sa.Text),
    sa.Column("archived_at", sa.Float, nullable=False),
    # Reports filter a time range, often narrowed to one pool, agent or channel.
    sa.Index("ix_conversations_closed_at", "closed_at"),
    sa.Index("ix_conversations_created", "created"),
    sa.Index("ix_conversations_agent_created", "agent", "created"),
    sa.Index("ix_conversations_pool_created", "pool", "created"),
    sa.Index("ix_conversations_channel_created", "channel", "created"),
    sa.Index("ix_conversations_customer", "customer_id", "created"),
)

messages = sa.Table(
    "messages", metadata,
    sa.Column("conversation_id", sa.String(64), sa.ForeignKey("conversations.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("id", sa.String(64), nullable=False),
    sa.Column("direction", sa.String(8), nullable=False),
    sa.Column("sender", sa.String(16), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("author", sa.String(64)),
    sa.Column("text", sa.Text, nullable=False, server_default=""),
    sa.Column("ts", sa.Float, nullable=False),
    sa.Column("media", sa.Text),
    sa.Column("delivery", sa.Text),
)

events = sa.Table(
    "events", metadata,
    sa.Column("conversation_id", sa.String(64), sa.ForeignKey("conversations.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("agent", sa.String(64)),
    sa.Column("pool", sa.String(64)),
    sa.Column("data", sa.Text, nullable=False),
)
"""Assignments, queueings, transfers and the bot's turn records in order (keys.conv_trail)."""

audit = sa.Table(
    "audit", metadata,
    sa.Column("id", sa.String(48), primary_key=True),
    sa.Column("ms", sa.BigInteger, nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("actor", sa.String(64), nullable=False, server_default=""),
    sa.Column("actor_name", sa.Text, nullable=False, server_default=""),
    sa.Column("role", sa.String(16), nullable=False, server_default=""),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("target", sa.String(256), nullable=False, server_default=""),
    sa.Column("addr", sa.String(64), nullable=False, server_default=""),
    sa.Column("before", sa.Text),
    sa.Column("after", sa.Text),
    sa.Column("detail", sa.Text),
    # The log reads newest first, often narrowed to one person, one kind of change or one thing.
    sa.Index("ix_audit_ms", "ms", "seq"),
    sa.Index("ix_audit_at", "at"),
    sa.Index("ix_audit_actor", "actor", "ms"),
    sa.Index("ix_audit_action", "action", "ms"),
    sa.Index("ix_audit_target", "target", "ms"),
)
"""The audit log (router/ops/audit.py): the Redis stream's entries, copied by
router/archive/audit.py under their stream ids, so a copy made twice is one row."""
