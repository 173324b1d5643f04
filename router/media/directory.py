"""The default media store: a folder under the data dir (`media.path`, default DATA_DIR/media).

Keys map to relative paths; each write goes to a temporary file in the same folder and is
renamed over the target, so a reader (this process or another one) sees the whole old file or
the whole new one. File work runs in a thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from pathlib import Path

from router.media.base import MediaStore
from router.media.policy import MediaPolicy


class DirectoryStore(MediaStore):
    def __init__(self, root: str | Path, policy: MediaPolicy) -> None:
        super().__init__(policy)
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        # Keys are built by the base class from checked ids and quoted owners; this guard is
        # for a future caller that forgets.
        if key.startswith("/") or ".." in key.split("/"):
            raise ValueError(f"bad media key {key!r}")
        return self.root / key

    async def _read(self, key: str) -> bytes | None:
        path = self._path(key)

        def read() -> bytes | None:
            try:
                return path.read_bytes()
            except FileNotFoundError:
                return None

        return await asyncio.to_thread(read)

    async def _write(self, key: str, data: bytes) -> None:
        path = self._path(key)

        def write() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                os.replace(tmp, path)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
                raise

        await asyncio.to_thread(write)

    async def _delete(self, keys: list[str]) -> None:
        paths = [self._path(k) for k in keys]

        def delete() -> None:
            for path in paths:
                path.unlink(missing_ok=True)
                with contextlib.suppress(OSError):
                    path.parent.rmdir()  # an owner's folder, once empty; a full one stays

        await asyncio.to_thread(delete)

    async def _list(self, prefix: str) -> list[str]:
        folder = self._path(prefix.rstrip("/"))

        def walk() -> list[str]:
            if not folder.is_dir():
                return []
            return sorted(str(p.relative_to(self.root)) for p in folder.rglob("*")
                          if p.is_file() and not p.name.startswith(".tmp-"))

        return await asyncio.to_thread(walk)
