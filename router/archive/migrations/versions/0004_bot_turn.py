"""The bot's decision record: the conversation's last turn (`bot_turn`) beside `bot`.

Each turn's record also reaches the `events` table, as a `bot_turn` entry of the conversation's
trail (bot_done.lua), so an archived conversation shows why the bot answered or handed on at
every turn; this column keeps the last one in the same place as the live conversation.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    # A nullable column with no default: a plain ALTER TABLE on SQLite and PostgreSQL alike, and
    # rows archived before it read as "no record".
    op.add_column("conversations", sa.Column("bot_turn", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:  # SQLite before 3.35 cannot drop columns
        batch.drop_column("bot_turn")
