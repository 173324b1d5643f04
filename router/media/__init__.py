"""Photos, voice notes, videos and files: the media store (base.py has the contract)."""

from __future__ import annotations

from pathlib import Path

from kefu_common.errors import StartupError
from router.config.media import MediaSettings
from router.media.base import (
    MediaNotFound,
    MediaStore,
    agent_avatar_owner,
    avatar_customer,
    avatar_owner,
    pending_owner,
    public_picture,
)
from router.media.directory import DirectoryStore
from router.media.policy import MediaPolicy

__all__ = ["DirectoryStore", "MediaNotFound", "MediaPolicy", "MediaStore", "agent_avatar_owner", "avatar_customer",
           "avatar_owner", "build_store", "pending_owner", "public_picture"]


def build_store(settings: MediaSettings, data_dir: str | Path) -> MediaStore:
    """The store `media.store` names: a folder under the data dir, or an S3-compatible bucket."""
    policy = MediaPolicy(settings)
    if settings.store == "s3":
        if settings.s3 is None:  # the config check refuses this; a hand-built Settings may not
            raise StartupError("media.store is s3 but media.s3 (bucket, endpoint_url, ...) is missing")
        try:
            from router.media.s3 import S3Store  # only an S3 shop needs the client library
        except ImportError:
            raise StartupError("media.store: s3 needs aiobotocore: pip install 'kefu-router[s3]'") from None
        return S3Store(settings.s3, policy)
    root = Path(settings.path)
    return DirectoryStore(root if root.is_absolute() else Path(data_dir) / root, policy)
