"""The deployments the benchmarks measure kefu in, started as real `kefu serve` processes.

- all-in-one: one `kefu serve` (`--role all`), as the demo and a small shop run it;
- web+worker: one `--role web` process taking the traffic and one `--role worker` routing it
  (docs/operations.md, "Web and worker processes"), both on the same Redis.

The figure of a shape is its whole: CPU per message is summed over all its processes.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import psutil

from bench.common import free_port
from bench.startup import wait_ready
from router.childproc import die_with_parent

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Shape:
    name: str
    roles: tuple[str, ...]
    """One `kefu serve --role R` per entry; the processes not `worker` take the traffic."""


ALL_IN_ONE = Shape("all-in-one", ("all",))
WEB_WORKER = Shape("web+worker", ("web", "worker"))
SHAPES = (ALL_IN_ONE, WEB_WORKER)
BY_NAME = {s.name: s for s in SHAPES}


@dataclass
class Running:
    shape: Shape
    procs: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)
    bases: list[str] = field(default_factory=list)
    """The URLs of the processes that take traffic."""
    urls: list[str] = field(default_factory=list)
    """Every process's URL (a worker answers /metrics too)."""

    @property
    def pids(self) -> list[int]:
        return [p.pid for _, p in self.procs]

    @property
    def front_pids(self) -> list[int]:
        """The processes that take the traffic (the ones to profile)."""
        return [p.pid for role, p in self.procs if role != "worker"]


def cpu_s(pids: list[int]) -> float:
    """CPU seconds the processes have run, summed. Read from each process's CPU-time clock on
    Linux: exact for a process that is waiting, and at most a scheduler tick behind for one that
    is running (4 ms at this machine's 250 Hz). psutil's user and system times, the fallback,
    move in 10 ms steps, which over a burst of 200 new chats is 0.05 ms a chat: the size of the
    changes weighed with it."""
    total = 0.0
    for pid in pids:
        try:
            total += time.clock_gettime(_cpu_clock(pid))
        except (OSError, AttributeError):  # not Linux, or the process is gone
            t = psutil.Process(pid).cpu_times()
            total += float(t.user + t.system)
    return total


def _cpu_clock(pid: int) -> int:
    """The clock id of `pid`'s whole-process CPU time (Linux's MAKE_PROCESS_CPUCLOCK(pid,
    CPUCLOCK_SCHED), what clock_getcpuclockid(3) returns; Python does not wrap that call)."""
    return ((~pid) << 3) | 2


@contextlib.contextmanager
def start(shape: Shape, config: Path, redis_url: str, data_dir: Path, say: Any,
          log: IO[bytes] | None = None, log_level: str = "ERROR", build: Path = ROOT) -> Iterator[Running]:
    """The shape's processes, each ready (`/readyz` 200), stopped on leaving. `build`: the checkout
    whose kefu they run (a before/after in one sitting); this one's by default."""
    running = Running(shape)
    env = {**os.environ, "PYTHONPATH": str(build)}
    out: Any = log if log is not None else subprocess.DEVNULL
    try:
        ports = []
        for i, role in enumerate(shape.roles):
            port = free_port()
            ports.append(port)
            # `all` is the default: left out, the all-in-one shape also runs against a build that
            # predates --role, for a before/after in one sitting.
            args = ["--role", role] if role != "all" else []
            proc = subprocess.Popen([sys.executable, "-m", "router", "serve", *args, "--port", str(port),
                                     "--config", str(config), "--redis-url", redis_url, "--log-level", log_level,
                                     "--data-dir", str(data_dir / f"{role}-{i}")],
                                    cwd=build, stdout=out, stderr=subprocess.STDOUT, env=env,
                                    preexec_fn=die_with_parent())
            running.procs.append((role, proc))
            running.urls.append(f"http://127.0.0.1:{port}")
            if role != "worker":
                running.bases.append(f"http://127.0.0.1:{port}")
        for (role, proc), port in zip(running.procs, ports, strict=True):  # cold starts side by side
            wait_ready(proc, f"http://127.0.0.1:{port}/readyz", say, f"kefu serve --role {role} ({shape.name})")
        yield running
    finally:
        for _, p in running.procs:
            p.terminate()
        for _, p in running.procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)


def add_build_args(p: argparse.ArgumentParser, shape: str) -> None:
    """`--shape` and `--build`, as every before/after benchmark takes them (bench_burst.py,
    bench_answers.py, bench_reconnect.py)."""
    p.add_argument("--shape", choices=sorted(BY_NAME), default=shape)
    p.add_argument("--build", action="append", default=[],
                   help="a checkout whose kefu is measured; several: a before/after, rounds alternating")


def chosen_builds(args: argparse.Namespace) -> list[Path]:
    """The checkouts `--build` names, else this one."""
    return [Path(b).resolve() for b in args.build] or [ROOT]


def build_names(builds: list[Path]) -> list[str]:
    """How the rounds and medians name each build: its folder, numbered when there are several."""
    return [f"{b.name}#{i}" if len(builds) > 1 else b.name for i, b in enumerate(builds)]
