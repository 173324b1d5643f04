"""GET /api/v1/conversations/{id} for an id Redis does not know: 503 archive_unavailable only when the
archive is down and could hold it (the id has a conversation's shape); an id no conversation could
have is 404 at once; with the archive up, an unknown id is 404."""

from __future__ import annotations

import asyncio

import aiohttp
from helpers.app import BASIC, running
from helpers.redis_server import free_port

from router.config.settings import Settings, parse_settings
from router.models import new_id

SUE = {"Authorization": "Bearer sue-token-12345"}
N = 100
MALFORMED = ["c_nope", "x", "cu_661a1eb7dd43bb18f7e6711", "c_661A1EB7DD43BB18F7E6711", "c_", "c_1234",
             "c_661a1eb7dd43bb18f7e6711-", "c_" + "a" * 40, "c__661a1eb7dd43bb18f7e6711", "%E4%B8%AD"]


async def lookups(http: aiohttp.ClientSession, base: str, ids: list[str]) -> list[tuple[int, str]]:
    out = []
    for cid in ids:
        async with http.get(f"{base}/api/v1/conversations/{cid}", headers=SUE) as r:
            out.append((r.status, (await r.json())["error"]))
    return out


def settings(archive_url: str) -> Settings:
    return parse_settings(BASIC.format(cap=5) + f"archive:\n  url: {archive_url}\n", "<test>")


async def test_unknown_ids_while_no_archive_is_reachable(redis_url: str) -> None:
    # Nothing listens on this port: the archive never finishes starting.
    down = f"postgresql://kefu@127.0.0.1:{free_port()}/kefu"
    async with running(settings(down), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        assert not rt.archive.ready.is_set()
        well_formed = [new_id("c") for _ in range(N)]
        assert await lookups(http, base, well_formed) == [(503, "archive_unavailable")] * N
        assert await lookups(http, base, MALFORMED) == [(404, "not_found")] * len(MALFORMED)
        # A lookup changes nothing: no conversation appears for an id that was asked about.
        assert await rt.store.client.exists(*(rt.store.keys.conv(c) for c in well_formed + MALFORMED)) == 0


async def test_unknown_ids_with_the_archive_up(redis_url: str, archive_url: str) -> None:
    async with running(settings(archive_url), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        await asyncio.wait_for(rt.archive.ready.wait(), 60)  # migrated: the archive answers
        ids = [new_id("c") for _ in range(N)] + MALFORMED
        assert await lookups(http, base, ids) == [(404, "not_found")] * len(ids)
