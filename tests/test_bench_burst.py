"""The burst benchmark (bench/bench_burst.py): a real `kefu serve` on a private redis-server takes a
round of new chats, and every figure the round reports comes from what was measured."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.bench_burst import summary

ROOT = Path(__file__).resolve().parents[1]


def test_a_round_of_new_chats_is_measured_end_to_end(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "bench_burst.py"), "--rounds", "1", "--chats", "30",
                           "--rate", "300", "--timeout-s", "60"],
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
    assert "round 1/1" in proc.stderr and "medians: new chats p50" in proc.stderr, proc.stderr[-2000:]


def _round(p50: float, kefu: float) -> dict[str, float]:
    return {"p50_ms": p50, "p99_ms": 2 * p50, "kefu_cpu_ms_per_chat": kefu, "redis_cpu_ms_per_chat": 0.5,
            "redis_commands_per_chat": 90.0, "route_mean_ms": p50, "floor_p99_ms": 1.0}


def test_the_summary_gives_medians_and_each_build_against_the_first() -> None:
    lines = summary({"before": [_round(40, 1.0), _round(60, 0.8), _round(50, 0.9)],
                     "after": [_round(20, 0.5), _round(30, 0.4), _round(25, 0.45)]})
    assert lines[0].startswith("before: 3 rounds") and "p50 50.0 / p99 100.0 ms" in lines[0], lines
    assert "kefu 0.900" in lines[0], lines
    assert lines[1].startswith("after: 3 rounds") and "p50 25.0" in lines[1], lines
    assert "p50_ms 0.50x" in lines[2] and "kefu_cpu_ms_per_chat 0.50x" in lines[2], lines
