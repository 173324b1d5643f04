"""The answers benchmark (bench/bench_answers.py): real `kefu serve` processes on a private
redis-server take a round of chats whose every line an agent answers, and each figure it reports
was measured: every line and answer counted at the other end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_a_round_of_answered_chats_is_measured(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "bench_answers.py"), "--rounds", "1", "--rate", "100",
                           "--customers", "40", "--duration", "2"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    [r] = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert r["sent"] == r["answers_delivered"] == 200, r
    assert r["lost_to_agent"] == r["lost_to_customer"] == r["duplicates_at_agent"] == r["duplicates_at_customer"] == 0
    assert r["web_cpu_ms"] > 0 and r["worker_cpu_ms"] > 0 and r["redis_cpu_ms"] > 0, r
    assert 0 < r["to_agent_p50_ms"] <= r["to_agent_p99_ms"] and 0 < r["to_customer_p50_ms"] <= r["to_customer_p99_ms"], r
    assert "round 1/1" in proc.stderr and "medians " in proc.stderr, proc.stderr[-2000:]
