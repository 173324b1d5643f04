"""The media store in an S3-compatible bucket (AWS S3, MinIO, Ceph, Aliyun OSS, Tencent COS...):
what several processes on several machines share.

Keys are the base class's, under `media.s3.prefix`. S3 writes are whole-object, so a reader never
sees half a file. The client is aiobotocore's, opened on first use and closed with the runtime.
The bucket is the operator's to create (and to give a lifecycle policy, if they like); the store
never creates or deletes buckets.
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from typing import Any

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import BotoCoreError, ClientError

from kefu_common.errors import StoreUnavailable
from router.config.media import S3Settings
from router.media.base import MediaStore
from router.media.policy import MediaPolicy

MISSING = {"NoSuchKey", "404", "NotFound"}
DELETE_BATCH = 1000
"""The most keys one DeleteObjects request takes."""


class S3Store(MediaStore):
    def __init__(self, settings: S3Settings, policy: MediaPolicy) -> None:
        super().__init__(policy)
        self.settings = settings
        self.bucket = settings.bucket
        self.prefix = settings.prefix
        self._stack = AsyncExitStack()
        self._client: Any = None
        self._opening = asyncio.Lock()

    async def _s3(self) -> Any:
        if self._client is None:
            async with self._opening:
                if self._client is None:
                    s = self.settings
                    # Path-style addressing for a custom endpoint: most self-hosted services
                    # (and the test emulator) serve no per-bucket host names.
                    style = {"s3": {"addressing_style": "path"}} if s.endpoint_url else {}
                    self._client = await self._stack.enter_async_context(get_session().create_client(
                        "s3", region_name=s.region, endpoint_url=s.endpoint_url,
                        aws_access_key_id=s.access_key_id, aws_secret_access_key=s.secret_access_key,
                        config=AioConfig(connect_timeout=5, read_timeout=30, retries={"max_attempts": 3}, **style),
                    ))
        return self._client

    async def _read(self, key: str) -> bytes | None:
        try:
            answer = await (await self._s3()).get_object(Bucket=self.bucket, Key=self.prefix + key)
            async with answer["Body"] as body:
                data: bytes = await body.read()
                return data
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in MISSING:
                return None
            raise _unavailable(exc) from exc
        except BotoCoreError as exc:
            raise _unavailable(exc) from exc

    async def _write(self, key: str, data: bytes) -> None:
        try:
            await (await self._s3()).put_object(Bucket=self.bucket, Key=self.prefix + key, Body=data)
        except (ClientError, BotoCoreError) as exc:
            raise _unavailable(exc) from exc

    async def _delete(self, keys: list[str]) -> None:
        try:
            s3 = await self._s3()
            for i in range(0, len(keys), DELETE_BATCH):
                batch = [{"Key": self.prefix + k} for k in keys[i:i + DELETE_BATCH]]
                await s3.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
        except (ClientError, BotoCoreError) as exc:
            raise _unavailable(exc) from exc

    async def _list(self, prefix: str) -> list[str]:
        out: list[str] = []
        try:
            pages = (await self._s3()).get_paginator("list_objects_v2")
            async for page in pages.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
                out.extend(item["Key"][len(self.prefix):] for item in page.get("Contents", []))
        except (ClientError, BotoCoreError) as exc:
            raise _unavailable(exc) from exc
        return sorted(out)

    async def aclose(self) -> None:
        await self._stack.aclose()
        self._client = None


def _unavailable(exc: Exception) -> StoreUnavailable:
    """The bucket did not answer or refused us: the request may work later (503, Retry-After)."""
    return StoreUnavailable(f"the media store (S3) failed: {exc}", retry_after=2.0)
