"""The Redis a running `kefu serve` uses, for commands that read alongside it."""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported when used: keeps `kefu --version` fast
    from router.store import Store


def add_store_args(parser: Any) -> None:
    parser.add_argument("--config", help="YAML config; default ./config/kefu.yaml, else the demo")
    parser.add_argument("--redis-url", default=None, help="the server's Redis; default its embedded one")
    parser.add_argument("--data-dir", default=os.environ.get("KEFU_DATA_DIR", ".kefu"))


@asynccontextmanager
async def server_store(args: argparse.Namespace) -> AsyncIterator[Store]:
    """The store of the config's Redis (KEFU_REDIS_URL included), else of the embedded server
    running on the data dir, else of one started on it for the command."""
    from router.config.resolve import resolve_settings
    from router.store import Store
    from router.store.embedded import EmbeddedRedis, redis_url_for

    data_dir = Path(args.data_dir)
    settings = resolve_settings(args.config, data_dir)
    url = args.redis_url or settings.redis.url
    embedded = EmbeddedRedis(data_dir)
    if not url and embedded.socket.exists():
        url = embedded.url  # the server is running on this data dir: ask it
    async with redis_url_for(url, data_dir) as resolved:
        store = Store(resolved, settings.redis.namespace, cluster=settings.redis.cluster and resolved == url,
                      options=settings.redis)
        try:
            yield store
        finally:
            await store.close()
