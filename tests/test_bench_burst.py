"""The burst benchmark (bench/bench_burst.py): a real `kefu serve` on a private redis-server takes a
round of new chats, and every figure the round reports comes from what was measured."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from bench.bench_burst import summary
from bench.shapes import cpu_s

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("redis", ["tcp", "unix"])
def test_a_round_of_new_chats_is_measured_end_to_end(tmp_path: Path, redis: str) -> None:
    """Over loopback TCP, and over a unix socket as the embedded server is reached."""
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "bench_burst.py"), "--rounds", "1", "--chats", "30",
                           "--rate", "300", "--timeout-s", "60", "--redis-socket", redis],
                          capture_output=True, text=True, timeout=240, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rounds = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert len(rounds) == 1, proc.stdout
    r = rounds[0]
    assert r["reached"] == r["chats"] == 30, r
    assert 0 < r["p50_ms"] <= r["p90_ms"] <= r["p99_ms"] <= r["all_reached_ms"], r
    assert r["floor_p99_ms"] > 0, r
    assert r["kefu_cpu_ms_per_chat"] > 0 and r["redis_cpu_ms_per_chat"] > 0, r
    # Each new chat is resolved, decided, queued, assigned and announced: dozens of commands.
    assert 20 < r["redis_commands_per_chat"] < 500, r
    assert r["routed_by_workers"] == 0, r  # each new visitor's first line was routed as it was taken in
    assert "round 1/1" in proc.stderr and "medians: new chats p50" in proc.stderr, proc.stderr[-2000:]


def _round(p50: float, kefu: float) -> dict[str, float]:
    return {"p50_ms": p50, "p99_ms": 2 * p50, "kefu_cpu_ms_per_chat": kefu, "redis_cpu_ms_per_chat": 0.5,
            "redis_commands_per_chat": 90.0, "route_mean_ms": p50, "floor_p99_ms": 1.0, "routed_by_workers": 0.0}


def test_the_summary_gives_medians_and_each_build_against_the_first() -> None:
    lines = summary({"before": [_round(40, 1.0), _round(60, 0.8), _round(50, 0.9)],
                     "after": [_round(20, 0.5), _round(30, 0.4), _round(25, 0.45)]})
    assert lines[0].startswith("before: 3 rounds") and "p50 50.0 / p99 100.0 ms" in lines[0], lines
    assert "kefu 0.900" in lines[0], lines
    assert lines[1].startswith("after: 3 rounds") and "p50 25.0" in lines[1], lines
    assert "p50_ms 0.50x" in lines[2] and "kefu_cpu_ms_per_chat 0.50x" in lines[2], lines


def test_cpu_time_is_read_finer_than_the_clock_tick() -> None:
    """kefu's CPU per new chat is read from its CPU-time clock: for a process that waits, to the
    nanosecond, where psutil's user and system times come in 10 ms steps. A child spins for
    about 3 ms of CPU and sleeps; its reading agrees with psutil's within a step and is no
    multiple of 10 ms."""
    child = subprocess.Popen([sys.executable, "-c",
                              "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.003: pass\n"
                              "print('done', flush=True)\ntime.sleep(30)"], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "done"
        time.sleep(0.05)  # asleep now: its clock holds still
        first, again = cpu_s([child.pid]), cpu_s([child.pid])
        assert first == again > 0.003
        assert round(first * 1000, 3) % 10 != 0, first
        t = psutil.Process(child.pid).cpu_times()
        assert abs(first - (t.user + t.system)) <= 0.021, (first, t)
    finally:
        child.kill()
        child.communicate()
