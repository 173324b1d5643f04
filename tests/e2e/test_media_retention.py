"""Files live as long as their conversation's history: archived conversations keep showing their
photos, the prune after `archive_days` deletes them, and uploads never sent go after `pending_s`."""

from __future__ import annotations

import asyncio
import time

import aiohttp
from helpers import images
from helpers.app import BASIC, running
from helpers.clients import agent, customer
from helpers.media import send_photo, upload
from helpers.traffic import close

from router.config.settings import parse_settings

CLOSED = 40


async def test_media_goes_with_the_conversations_retention(redis_url: str) -> None:
    settings = parse_settings(BASIC.format(cap=100) + """
retention:
  redis_after_close_s: 1
  archive_days: 1
  sweep_interval_s: 3600
media:
  pending_s: 3600
""", "<test>")
    async with running(settings, redis_url) as (rt, base), aiohttp.ClientSession() as http:
        alice = await agent(http, base, "alice-token-1234")
        closed: list[tuple[str, str]] = []
        first_session = ""
        for i in range(CLOSED + 1):
            cust, session = await customer(http, base)
            _, up = await upload(http, base, session, images.png(16 + i, 16))
            start = len(alice.frames)
            await send_photo(cust, up["media_id"], f"photo {i}")
            cid = (await alice.expect(lambda f: f["type"] == "assigned", start=start))["conversation"]["id"]
            first_session = first_session or session
            if i < CLOSED:
                await close(alice, cust, cid)
                closed.append((cid, up["media_id"]))
            else:
                still_open = (cid, up["media_id"])
            await cust.close()
        _, never_sent = await upload(http, base, (await customer(http, base))[1], images.png(9, 9))

        await rt.archive.ready.wait()
        deadline = time.monotonic() + 60
        while await rt.archive.count() < CLOSED:
            assert time.monotonic() < deadline, "the closed conversations were not archived"
            await asyncio.sleep(0.2)
        # Archived and gone from Redis, a conversation still shows its photo to staff.
        await rt.retention.sweep(now=time.time() + 5)
        cid, mid = closed[0]
        async with http.get(f"{base}/api/v1/conversations/{cid}",
                            headers={"Authorization": "Bearer sue-token-12345"}) as r:
            body = await r.json()
        assert body["archived"] is True and body["messages"][0]["media"]["id"] == mid
        async with http.get(f"{base}/api/v1/media/{mid}", headers={"Authorization": "Bearer sue-token-12345"}) as r:
            assert r.status == 200
        assert await rt.store.conversations.get(cid) is None
        # The archive keeps who may read a conversation (docs/archive.md): alice handled it, so she
        # still sees its photo; bob never served that customer.
        async with http.get(f"{base}/api/v1/media/{mid}", headers={"Authorization": "Bearer alice-token-1234"}) as r:
            assert r.status == 200
        async with http.get(f"{base}/api/v1/media/{mid}", headers={"Authorization": "Bearer bob-token-12345"}) as r:
            assert r.status == 404
        # The customer comes back: alice serves them again, so their archived photo is hers to see.
        back, _ = await customer(http, base, token=first_session)
        start = len(alice.frames)
        await back.send({"type": "message", "text": "还是上次那件", "client_msg_id": "back-1"})
        await alice.expect(lambda f: f["type"] == "assigned", start=start)
        async with http.get(f"{base}/api/v1/media/{mid}", headers={"Authorization": "Bearer alice-token-1234"}) as r:
            assert r.status == 200
        async with http.get(f"{base}/api/v1/media/{mid}", headers={"Authorization": "Bearer bob-token-12345"}) as r:
            assert r.status == 404
        await back.close()

        # Past archive_days, the prune takes the rows and the files; the open one stays.
        rt.retention._last_prune = 0.0
        await rt.retention.sweep(now=time.time() + 2 * 86400)
        for cid, mid in closed:
            assert await rt.media.ref(mid) is None, cid
        assert await rt.media.ref(still_open[1]) is not None
        assert await rt.media.ref(never_sent["media_id"]) is None  # never sent, older than pending_s
        assert len(await rt.media._list("blobs/")) == 2  # the open conversation's photo and thumbnail
        await alice.close()
