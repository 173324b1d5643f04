"""The machine-pause probe of the latency benchmark (bench/pauses.py): a process stopped from
outside for 80 ms, twice, is seen as two pauses of about that length, 0.3 s apart."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from bench.pauses import probe, say

ROOT = Path(__file__).resolve().parents[1]


def test_a_stopped_process_sees_each_stop_as_a_pause() -> None:
    proc = subprocess.Popen([sys.executable, str(ROOT / "bench" / "pauses.py"), "1.5"], stdout=subprocess.PIPE)
    try:
        time.sleep(0.4)
        for _ in range(2):
            os.kill(proc.pid, signal.SIGSTOP)
            time.sleep(0.08)
            os.kill(proc.pid, signal.SIGCONT)
            time.sleep(0.3)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    p = json.loads(out)
    big = p["max_ms"]
    assert p["pauses"] >= 2 and 70 <= big < 1000, p
    assert p["total_ms"] >= 140, p
    assert "paused" in say(p) and f"{big:.1f} ms" in say(p)


def test_nothing_to_report_reads_as_such() -> None:
    p = probe(0.05, threshold_ms=1e6)
    assert p["pauses"] == 0 and p["every_s"] is None and p["max_ms"] == 0.0
    assert say(p) == "the idle machine never paused in 0 s"
