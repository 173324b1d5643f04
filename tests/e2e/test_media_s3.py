"""`media.store: s3` end to end: a web chat photo lands in the bucket (under the shop's prefix),
the agent reads it back through the API, and a bucket that does not answer is a 503, not a 500."""

from __future__ import annotations

import aiohttp
import boto3
from helpers import images
from helpers.app import BASIC, running
from helpers.clients import agent, customer
from helpers.media import fetch, form, send_photo, upload
from helpers.s3 import moto_server

from router.config.settings import parse_settings


async def test_photos_go_to_the_bucket_and_back(redis_url: str) -> None:
    with moto_server() as moto:
        bucket = moto.bucket()
        settings = parse_settings(BASIC.format(cap=5) + f"""
media:
  store: s3
  s3:
    bucket: {bucket.bucket}
    endpoint_url: {moto.url}
    access_key_id: test
    secret_access_key: test
    prefix: shop1/
""", "<test>")
        async with running(settings, redis_url) as (_rt, base), aiohttp.ClientSession() as http:
            alice = await agent(http, base, "alice-token-1234")
            cust, session = await customer(http, base)
            status, up = await upload(http, base, session, images.jpeg(800, 600, gps=True))
            assert status == 201, up
            await send_photo(cust, up["media_id"], "破了")
            await alice.expect(lambda f: f["type"] == "assigned")
            status, body, mime = await fetch(http, f"{base}/api/v1/media/{up['media_id']}", "alice-token-1234")
            assert (status, mime) == (200, "image/jpeg") and b"Exif" not in body
            s3 = boto3.client("s3", endpoint_url=moto.url, region_name="us-east-1",
                              aws_access_key_id="test", aws_secret_access_key="test")
            keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket.bucket)["Contents"]}
            assert f"shop1/blobs/{up['media_id']}" in keys and f"shop1/refs/{up['media_id']}.json" in keys
            assert all(k.startswith("shop1/") for k in keys)

            moto.stop()  # the bucket goes away: a clear 503 with Retry-After, and the next try may work
            async with http.post(f"{base}/api/v1/webchat/uploads",
                                 data=form(images.png()), headers={"Authorization": f"Bearer {session}"}) as r:
                assert r.status == 503 and r.headers["Retry-After"]
            await alice.close()
            await cust.close()
