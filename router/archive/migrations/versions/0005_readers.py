"""Who may read an archived conversation: `readers` (JSON list of agent ids).

Its agent, the agents its notes named and those who transferred it away could read it live; the
archive keeps them, so an archived conversation answers them as the live one did. Rows archived
before it read their readers from the agent and the transfers in `events` (router/archive/db.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.add_column("conversations", sa.Column("readers", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:  # SQLite before 3.35 cannot drop columns
        batch.drop_column("readers")
