"""The archive: closed conversations in SQL (SQLite under the data dir, or PostgreSQL).

A close puts the conversation on a Redis stream in the same script step (keys.archive_queue); the
archive worker reads it, takes a snapshot of everything Redis knows about the conversation and
writes it in one transaction, then acks. Retention later drops what was archived from Redis. The
archive serves history, search and reports once Redis has let go.
"""
