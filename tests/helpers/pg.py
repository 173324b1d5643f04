"""Private PostgreSQL databases on the machine's server (127.0.0.1:5432, trust, user postgres).

Each gets a random name and is dropped afterwards, so parallel tests and sessions never share one.
tests/machine.sh starts the server where none runs.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

PG_HOST = os.environ.get("KEFU_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("KEFU_TEST_PG_PORT", "5432"))


@asynccontextmanager
async def private_database(prefix: str = "kefu_test") -> AsyncIterator[str]:
    """A fresh database; yields its config URL (postgresql://postgres@HOST:PORT/NAME)."""
    name = f"{prefix}_{os.getpid()}_{os.urandom(4).hex()}"
    admin = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user="postgres", database="postgres")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield f"postgresql://postgres@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        admin = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user="postgres", database="postgres")
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
