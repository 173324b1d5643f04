"""The latency benchmark's account of the loop between two scrapes of /metrics (bench/latency.py):
how often kefu's event loop was held past 5 and 25 ms during a run, and its collections."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from bench.latency import parse_stalls, say_stalls, stalls_between
from router.stalls import Stalls
from router.web.metrics import _Fixed


def _text(stalls: Stalls) -> str:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Fixed(stalls.families()))
    return generate_latest(registry).decode()


def test_what_happened_between_two_scrapes() -> None:
    s = Stalls()
    for v in (0.0002, 0.004, 0.03):
        s.lag.observe(v)
    s.pauses[0].observe(0.002)
    before = parse_stalls(_text(s))
    for v in (0.0001, 0.006, 0.007, 0.04, 0.3):
        s.lag.observe(v)
    s.pauses[0].observe(0.003)
    s.pauses[2].observe(0.02)
    held = stalls_between(before, parse_stalls(_text(s)))
    assert held["lag_over_5ms"] == 4 and held["lag_over_25ms"] == 2
    assert held["gc0_n"] == 1 and held["gc0_ms"] == 3.0
    assert held["gc1_n"] == 0 and held["gc2_n"] == 1 and held["gc2_ms"] == 20.0
    assert say_stalls(held) == ("loop held > 5 ms 4 times (> 25 ms 2); collections gen 0 1 (3.0 ms), "
                                "gen 1 0 (0.0 ms), gen 2 1 (20.0 ms)")
