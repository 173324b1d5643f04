"""Cold start of `kefu serve`: seconds and CPU seconds from exec to the first 200 on /readyz.

    python -m bench startup [--quick]

On a 2-core machine shared with other work the wall time follows the load; the CPU seconds the
process spent before it was ready do not, so both are reported. The baseline is a bare aiohttp
server (bench/relay_server.py) started the same way in the same run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import psutil

from bench.common import Row, free_port, start_redis
from router.childproc import die_with_parent

ROOT = Path(__file__).resolve().parents[1]
CONFIG = "pools:\n  - id: presale\nagents:\n  - id: a0\n    token: bench-startup-token\n    pools: [presale]\n"


def wait_ready(proc: subprocess.Popen[bytes], url: str, say: Any, what: str) -> None:
    """Until `url` answers 200, as long as the process lives: a loaded machine makes a cold start
    slow, not wrong, so there is no deadline short of the process exiting (progress every 10 s)."""
    started = last = time.monotonic()
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited {proc.returncode} before it was ready")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() - last >= 10:
            last = time.monotonic()
            say(f"{what}: not ready after {last - started:.0f} s (load average {os.getloadavg()[0]:.1f})")
        time.sleep(0.05)


def cold_start(args: list[str], url: str, say: Any, what: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds) from exec to ready."""
    t = time.monotonic()
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, preexec_fn=die_with_parent())
    try:
        wait_ready(proc, url, say, what)
        wall = time.monotonic() - t
        cpu = psutil.Process(proc.pid).cpu_times()
        return wall, cpu.user + cpu.system
    finally:
        proc.terminate()
        proc.wait(20)


def median(xs: list[float]) -> float:
    return sorted(xs)[len(xs) // 2]


def measure(runs: int, say: Any) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="kefu-bench-start-") as tmp:
        work = Path(tmp)
        redis_proc, url = start_redis(work / "redis")
        (work / "kefu.yaml").write_text(CONFIG)
        kefu: list[tuple[float, float]] = []
        bare: list[tuple[float, float]] = []
        try:
            for i in range(runs):
                say(f"startup: cold start {i + 1}/{runs}")
                port = free_port()
                kefu.append(cold_start(
                    [sys.executable, "-m", "router", "serve", "--port", str(port), "--config",
                     str(work / "kefu.yaml"), "--redis-url", url, "--log-level", "WARNING",
                     "--data-dir", str(work / "data")],
                    f"http://127.0.0.1:{port}/readyz", say, "kefu serve"))
                port = free_port()
                bare.append(cold_start([sys.executable, str(ROOT / "bench" / "relay_server.py"), str(port)],
                                       f"http://127.0.0.1:{port}/ready", say, "bare aiohttp"))
        finally:
            redis_proc.terminate()
            redis_proc.wait(10)
    kw, kc = median([w for w, _ in kefu]), median([c for _, c in kefu])
    bw, bc = median([w for w, _ in bare]), median([c for _, c in bare])
    return [Row("startup", f"{kw:.1f} s, {kc:.2f} CPU s", f"bare aiohttp {bw:.1f} s, {bc:.2f} CPU s",
                kc / bc if bc else float("nan"), "CPU s / bare (lower is better)",
                {"kefu": kefu, "bare": bare, "runs": runs})]
