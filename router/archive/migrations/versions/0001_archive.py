"""The archive: conversations, their messages and their assignment events."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "conversations",
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
        sa.Column("archived_at", sa.Float, nullable=False),
    )
    op.create_index("ix_conversations_closed_at", "conversations", ["closed_at"])
    op.create_index("ix_conversations_created", "conversations", ["created"])
    op.create_index("ix_conversations_agent_created", "conversations", ["agent", "created"])
    op.create_index("ix_conversations_pool_created", "conversations", ["pool", "created"])
    op.create_index("ix_conversations_channel_created", "conversations", ["channel", "created"])
    op.create_index("ix_conversations_customer", "conversations", ["customer_id", "created"])
    op.create_table(
        "messages",
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
    op.create_table(
        "events",
        sa.Column("conversation_id", sa.String(64), sa.ForeignKey("conversations.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("agent", sa.String(64)),
        sa.Column("pool", sa.String(64)),
        sa.Column("data", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("events")
    op.drop_table("messages")
    op.drop_table("conversations")
