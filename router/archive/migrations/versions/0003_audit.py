"""The audit log: who changed what, when, from where, with before and after."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_table(
        "audit",
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
    )
    op.create_index("ix_audit_ms", "audit", ["ms", "seq"])
    op.create_index("ix_audit_at", "audit", ["at"])
    op.create_index("ix_audit_actor", "audit", ["actor", "ms"])
    op.create_index("ix_audit_action", "audit", ["action", "ms"])
    op.create_index("ix_audit_target", "audit", ["target", "ms"])


def downgrade() -> None:
    op.drop_table("audit")
