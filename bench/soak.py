"""Soak: one `kefu serve` at a steady rate for ten minutes with retention on; the process's RSS
and Redis's used_memory sampled every few seconds, their slopes fitted, and both plotted.

    python -m bench soak [--quick]   # or: python bench/soak.py --minutes 10 --png docs/soak-rss.png

Customers write `kefu loadgen`'s script at RATE lines a second; agents answer each line and close
the conversation after its last one, so a customer's next line opens a new conversation.
Retention drops a closed conversation's Redis keys RETENTION_S after it is archived. Memory is
flat when the fitted slope over the steady part (after the first fifth, the warm-up: pools,
caches, the archive's first pages) moves memory by less than the samples' own noise (two
standard deviations of the residuals) over the steady part's length.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil
import redis.asyncio as aioredis

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import Row, free_port, start_redis
from bench.startup import wait_ready
from router.childproc import die_with_parent
from router.loadgen import Plan, Tally, run

ROOT = Path(__file__).resolve().parents[1]
AGENTS = 20
CUSTOMERS = 200
RATE = 20.0
RETENTION_S = 10
SAMPLE_S = 5.0


def config() -> str:
    return ("pools:\n  - id: presale\nagents:\n"
            + "".join(f"  - id: a{i}\n    token: soak-agent-token-{i:03d}\n    pools: [presale]\n    max_chats: 50\n"
                      for i in range(AGENTS))
            + "bot:\n  enabled: false\nworker:\n  reopen_window_s: 0\n"
            + f"retention:\n  redis_after_close_s: {RETENTION_S}\n  sweep_interval_s: 2\n  idempotency_s: 60\n")


def slope(samples: list[dict[str, float]], field: str) -> dict[str, float]:
    """Least-squares slope of `field` (MB) over the steady part, and whether it is flat."""
    steady = samples[len(samples) // 5:]
    xs = [s["t"] for s in steady]
    ys = [s[field] for s in steady]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx if sxx else 0.0
    noise = statistics.pstdev([y - (my + b * (x - mx)) for x, y in zip(xs, ys, strict=True)])
    drift = b * (xs[-1] - xs[0])
    return {"mb_per_min": round(b * 60, 4), "drift_mb": round(drift, 3), "noise_mb": round(noise, 3),
            "mean_mb": round(my, 2), "flat": abs(drift) <= max(2 * noise, 0.01 * my)}


def plot(samples: list[dict[str, float]], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = [s["t"] / 60 for s in samples]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 5.5), dpi=110, sharex=True)
    top.plot(t, [s["rss_mb"] for s in samples], color="#2c3e50")
    top.set_ylabel("kefu serve RSS (MB)")
    top.set_ylim(bottom=0)
    bottom.plot(t, [s["used_memory_mb"] for s in samples], color="#c0392b")
    bottom.set_ylabel("Redis used_memory (MB)")
    bottom.set_ylim(bottom=0)
    bottom.set_xlabel("minutes")
    ax2 = bottom.twinx()
    ax2.plot(t, [s["assigned"] for s in samples], color="#7f8c8d", linestyle=":", label="conversations assigned")
    ax2.set_ylabel("conversations assigned")
    ax2.legend(loc="lower right")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def measure(minutes: float, say: Any, png: Path | None = None) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="kefu-bench-soak-") as tmp:
        work = Path(tmp)
        redis_proc, url = start_redis(work / "redis")
        (work / "kefu.yaml").write_text(config())
        port = free_port()
        kefu = subprocess.Popen([sys.executable, "-m", "router", "serve", "--port", str(port), "--config",
                                 str(work / "kefu.yaml"), "--redis-url", url, "--log-level", "WARNING",
                                 "--data-dir", str(work / "data")],
                                cwd=ROOT, stdout=(work / "serve.log").open("wb"), stderr=subprocess.STDOUT,
                                env={**os.environ, "PYTHONPATH": str(ROOT)}, preexec_fn=die_with_parent())
        try:
            wait_ready(kefu, f"http://127.0.0.1:{port}/readyz", say, "kefu serve")
            samples, report = asyncio.run(_soak(f"http://127.0.0.1:{port}", url, kefu.pid, minutes, say))
        finally:
            kefu.terminate()
            kefu.wait(30)
            redis_proc.terminate()
            redis_proc.wait(10)
    rss, mem = slope(samples, "rss_mb"), slope(samples, "used_memory_mb")
    if png is not None:
        plot(samples, png, f"{minutes:g} min at {RATE:g} lines/s, retention {RETENTION_S} s after close: "
                           f"{samples[-1]['assigned']:,.0f} conversations")
    detail = {"rss": rss, "used_memory": mem, "report": report, "samples": samples}
    return [Row("soak RSS", f"{rss['mb_per_min']:+.3f} MB/min", f"noise {rss['noise_mb']:.2f} MB",
                abs(rss["drift_mb"]) / max(2 * rss["noise_mb"], 0.01 * rss["mean_mb"]), "drift / noise <= 1", detail),
            Row("soak used_memory", f"{mem['mb_per_min']:+.3f} MB/min", f"noise {mem['noise_mb']:.2f} MB",
                abs(mem["drift_mb"]) / max(2 * mem["noise_mb"], 0.01 * mem["mean_mb"]), "drift / noise <= 1", {})]


async def _soak(base: str, url: str, pid: int, minutes: float,
                say: Any) -> tuple[list[dict[str, float]], dict[str, Any]]:
    proc = psutil.Process(pid)
    r = aioredis.from_url(url)
    samples: list[dict[str, float]] = []
    started = time.monotonic()

    async def sample(tally: Tally) -> None:
        last_said = 0.0
        while time.monotonic() - started < minutes * 60:
            info = await r.info("memory")
            samples.append({"t": round(time.monotonic() - started, 1), "rss_mb": proc.memory_info().rss / 2**20,
                            "used_memory_mb": int(info["used_memory"]) / 2**20, "keys": await r.dbsize(),
                            "assigned": float(sum(len(v) for v in tally.assigned.values()))})
            if time.monotonic() - last_said >= 30:
                last_said = time.monotonic()
                s = samples[-1]
                say(f"soak {s['t'] / 60:.1f}/{minutes:g} min: RSS {s['rss_mb']:.1f} MB, used_memory "
                    f"{s['used_memory_mb']:.1f} MB, {s['keys']:.0f} keys, {s['assigned']:.0f} conversations assigned "
                    f"(load average {os.getloadavg()[0]:.1f})")
            await asyncio.sleep(SAMPLE_S)

    plan = Plan(bases=(base,), agent_tokens=tuple(f"soak-agent-token-{i:03d}" for i in range(AGENTS)),
                customers=CUSTOMERS, rate=RATE, duration_s=minutes * 60, drain_s=60)
    try:
        report, _ = await run(plan, progress=False, during=sample)
    finally:
        await r.aclose()
    return samples, report


def main() -> None:
    import argparse
    import json

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--png", default=None)
    ap.add_argument("--json", default=None)
    a = ap.parse_args()

    def say(text: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)

    rows = measure(a.minutes, say, Path(a.png) if a.png else None)
    for row in rows:
        print(f"{row.name}: {row.figure} ({row.baseline}), ratio {row.ratio:.2f}")
    if a.json:
        Path(a.json).write_text(json.dumps({"load_average": os.getloadavg(), "rows": [x.__dict__ for x in rows]},
                                           indent=1, default=str))


if __name__ == "__main__":
    main()
