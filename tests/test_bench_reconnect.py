"""The reconnect storm benchmark (bench/bench_reconnect.py): real `kefu serve` processes on a private
redis-server take a round of reconnecting pages, and each figure it reports was measured."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_a_round_of_reconnects_is_measured_against_the_relay(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "bench_reconnect.py"), "--pages", "60",
                           "--rounds", "2"], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rounds = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert [r["round"] for r in rounds] == [0, 1], proc.stdout
    for r in rounds:
        assert r["pages"] == 60 and r["shape"] == "web+worker", r
        assert 0 < r["all_in_s"] < 60 and 0 < r["relay_all_in_s"] < 60, r
        assert r["cpu_ms_per_reconnect"] > 0 and r["relay_cpu_ms_per_connect"] > 0, r
        assert abs(r["ratio"] - r["relay_cpu_ms_per_connect"] / r["cpu_ms_per_reconnect"]) < 0.01, r  # of the unrounded
    assert "round 2/2" in proc.stderr and "medians " in proc.stderr and "CPU ms a reconnect" in proc.stderr, proc.stderr
