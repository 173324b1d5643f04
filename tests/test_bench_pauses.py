"""The machine-pause probe of the latency benchmark (bench/pauses.py): a process stopped from
outside for 80 ms, twice, is seen as two pauses of about that length, 0.3 s apart, whether it
probes the idle machine or watches beside a run; and the summary's row compares a kefu run's
paused share with its baselines'."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from bench.latency import pause_row
from bench.pauses import Watch, probe, say, short

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


def test_a_watch_beside_a_run_sees_the_stops_it_went_through() -> None:
    watch = Watch()
    pid = watch._proc.pid
    for _ in range(2):
        time.sleep(0.2)
        os.kill(pid, signal.SIGSTOP)
        time.sleep(0.08)
        os.kill(pid, signal.SIGCONT)
    time.sleep(0.2)
    p = watch.stop()
    assert p["pauses"] >= 2 and 70 <= p["max_ms"] < 1000, p
    assert 0.6 <= p["seconds"] < 5, p  # it stopped when told, not at MAX_WATCH_S
    assert isinstance(p["realtime"], bool)
    assert short(p).startswith(f"{p['pauses']} (")


def test_the_pause_row_compares_the_kefu_runs_paused_share_with_the_baselines() -> None:
    def run(total_ms: float, seconds: float = 10.0) -> dict[str, float]:
        return {"pauses": 3, "total_ms": total_ms, "max_ms": 4.0, "seconds": seconds}

    seen = {"floor": run(10.0), "relay": run(30.0)}
    assert pause_row(run(40.0), seen).ratio == 2.0  # 4 ms a second against 2
    assert pause_row(run(0.0), {"floor": run(0.0), "relay": run(0.0)}).ratio == 0.0
    assert pause_row(run(5.0), {"floor": run(0.0), "relay": run(0.0)}).ratio == float("inf")
    assert "kefu run 3 (40 ms, max 4.0)" == pause_row(run(40.0), seen).figure
