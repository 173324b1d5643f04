"""The latency benchmark's account of the loop between two scrapes of /metrics (bench/latency.py):
how often kefu's event loop was held past 5 and 25 ms during a run, and its collections."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from bench.latency import parse_stalls, say_stalls, stalls_between
from router.pipeline.worker import ROUTE_DELAY_BUCKETS
from router.stalls import Histogram, Stalls
from router.web.metrics import _Fixed, route_delay


def _text(stalls: Stalls, *routes: Histogram) -> str:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Fixed([*stalls.families(), *([route_delay(routes)] if routes else [])]))
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


def test_the_route_workers_delay_between_two_scrapes() -> None:
    """Two partitions' workers, read as one: the lines routed between the scrapes, their mean
    wait since intake, and how many waited over 25 ms."""
    s, a, b = Stalls(), Histogram(ROUTE_DELAY_BUCKETS), Histogram(ROUTE_DELAY_BUCKETS)
    a.observe(0.5)
    before = parse_stalls(_text(s, a, b))
    a.observe(0.002)
    b.observe(0.004)
    b.observe(0.054)
    held = stalls_between(before, parse_stalls(_text(s, a, b)))
    assert held["route_n"] == 3 and held["route_mean_ms"] == 20.0 and held["route_over_25ms"] == 1
    assert say_stalls(held).endswith("; the route workers took 3 lines 20.0 ms after their intake on average "
                                     "(1 over 25 ms)")
