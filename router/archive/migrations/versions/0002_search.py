"""Search: jieba tokens per conversation, in FTS5 on SQLite and a tsvector on PostgreSQL."""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("CREATE VIRTUAL TABLE search_fts USING fts5(conversation_id UNINDEXED, tokens, "
                   "tokenize = 'unicode61 remove_diacritics 0')")
    else:
        op.execute("CREATE TABLE search_index (conversation_id VARCHAR(64) PRIMARY KEY "
                   "REFERENCES conversations(id) ON DELETE CASCADE, tokens TSVECTOR NOT NULL)")
        op.execute("CREATE INDEX ix_search_index_tokens ON search_index USING GIN (tokens)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE search_fts")
    else:
        op.execute("DROP TABLE search_index")
