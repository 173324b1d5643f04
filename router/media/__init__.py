"""Photos, voice notes, videos and files: the media store (base.py has the contract)."""

from __future__ import annotations

from pathlib import Path

from kefu_common.errors import StartupError
from router.config.media import MediaSettings
from router.media.base import MediaNotFound, MediaStore, pending_owner
from router.media.directory import DirectoryStore
from router.media.policy import MediaPolicy

__all__ = ["DirectoryStore", "MediaNotFound", "MediaPolicy", "MediaStore", "build_store", "pending_owner"]


def build_store(settings: MediaSettings, data_dir: str | Path) -> MediaStore:
    """The store `media.store` names: a folder under the data dir, or an S3-compatible bucket."""
    policy = MediaPolicy(settings)
    if settings.store == "s3":
        raise StartupError("media.store: s3 is not available in this build yet")
    root = Path(settings.path)
    return DirectoryStore(root if root.is_absolute() else Path(data_dir) / root, policy)
