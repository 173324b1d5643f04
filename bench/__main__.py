"""`python -m bench [latency] [--quick] [--json FILE]`: the benchmark suite, with progress and a
summary table. Every figure is a ratio against a baseline measured in the same run
(docs/performance.md); none of it is a pass/fail test."""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import ingest, latency, roundtrips, soak, startup
from bench.common import REDIS_SERVER_ENV, Row, redis_server, redis_version
from bench.shapes import BY_NAME, SHAPES
from bench.slices import SLICE_S

SUITES = ("startup", "ingest", "roundtrips", "latency", "soak")


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def machine() -> dict[str, Any]:
    import os

    return {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
            "load_average": [round(x, 1) for x in os.getloadavg()], "redis_server": redis_version(redis_server())}


def table(rows: list[Row]) -> str:
    head = f"{'benchmark':<32} {'kefu':<28} {'baseline (same run)':<36} {'ratio':>6}  goal"
    lines = [head, "-" * len(head)]
    lines += [f"{r.name:<32} {r.figure:<28} {r.baseline:<36} {r.ratio:>6.2f}  {r.goal}" for r in rows]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("suites", nargs="*", choices=SUITES, help="default: all")
    parser.add_argument("--quick", action="store_true", help="shorter runs, for a first look")
    parser.add_argument("--profile", metavar="DIR", help="py-spy samples of kefu's hot path, kept in DIR")
    parser.add_argument("--png-dir", metavar="DIR", help="write the plots (the soak's memory) into DIR")
    parser.add_argument("--json", metavar="FILE", help="also write every figure and the machine as JSON")
    parser.add_argument("--shape", action="append", choices=list(BY_NAME),
                        help="the deployment shapes ingest and latency measure kefu in (bench/shapes.py); "
                             "repeat for several; default: all of them")
    parser.add_argument("--redis-server", metavar="PATH",
                        help="the redis-server binary every part starts (the floors' and kefu's alike); "
                             "default: the machine's redis-server (>= 6.2), else the embedded one")
    parser.add_argument("--redis-socket", choices=("tcp", "unix"), default="tcp",
                        help="how kefu and the floor reach Redis in the latency runs: loopback TCP, or a unix "
                             "socket, as `kefu serve`'s embedded server is reached (default: tcp)")
    parser.add_argument("--slice-s", type=float, default=0.0, metavar="SECONDS",
                        help="in the latency runs, the floor, the relay and kefu take turns writing this long "
                             f"each (bench/slices.py; {SLICE_S:.0f} s, say); default 0: one after the other "
                             "(each turn starts cold, which costs kefu more than the relay)")
    args = parser.parse_args()
    if args.redis_server:
        import os

        os.environ[REDIS_SERVER_ENV] = args.redis_server  # read where each part starts its server
    shapes = tuple(BY_NAME[n] for n in args.shape) if args.shape else SHAPES
    chosen = args.suites or list(SUITES)
    rows: list[Row] = []
    before = machine()
    say(f"redis-server: {before['redis_server']}")
    profile = Path(args.profile) if args.profile else None
    png = Path(args.png_dir) / "soak-rss.png" if args.png_dir else None
    parts: dict[str, Callable[[], list[Row]]] = {
        "startup": lambda: startup.measure(3 if args.quick else 5, say),
        "ingest": lambda: ingest.measure(5.0 if args.quick else 10.0, 1 if args.quick else 3, say, profile, shapes),
        "roundtrips": lambda: roundtrips.measure(100 if args.quick else roundtrips.BATCH, say),
        "latency": lambda: latency.measure([500.0, 1000.0] if args.quick else [500.0, 1000.0, 2000.0],
                                           5.0 if args.quick else 10.0, say, profile, shapes,
                                           unix=args.redis_socket == "unix", slice_s=args.slice_s),
        "soak": lambda: soak.measure(2.0 if args.quick else 10.0, say, png),
    }
    failed = []
    for name in SUITES:
        if name not in chosen:
            continue
        try:
            rows += parts[name]()
        except Exception as exc:  # one part failing does not cost the figures of the others
            failed.append(name)
            say(f"{name} failed: {type(exc).__name__}: {exc}")
    print(table(rows))
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": before, "rows": [r.__dict__ for r in rows]},
                                              indent=2, ensure_ascii=False, default=str))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
