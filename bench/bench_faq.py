"""Benchmark FAQ matching: FaqIndex.match() against a plain substring scan, same queries.

    /tmp/venv/bin/python bench/bench_faq.py [--rounds N] [--faq config/faq.yaml]

Queries are the held-out customer phrasings (tests/router/bot/faq_heldout.yaml). Reports the
index build time, per-query mean and p99 for both methods, their ratio, and each method's
accuracy on the same set, so speed is never read without quality.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from router.bot.faq_kb import FaqKb  # noqa: E402
from router.bot.faq_match import FaqIndex  # noqa: E402
from router.bot.text import normalise  # noqa: E402


def substring_baseline(kb: FaqKb) -> Callable[[str], str | None]:
    """The naive matcher: the first entry one of whose phrasings is inside the query or holds it."""
    table = [(e.id, [normalise(p).replace(" ", "") for p in (e.question, *e.variants)]) for e in kb.entries]

    def match(text: str) -> str | None:
        q = normalise(text).replace(" ", "")
        if not q:
            return None
        for entry_id, phrasings in table:
            if any(p and (p in q or q in p) for p in phrasings):
                return entry_id
        return None

    return match


def timed(fn: Callable[[str], object], queries: list[str], rounds: int, label: str) -> list[float]:
    """Per-call times in seconds over `rounds` passes, with a progress line on stderr."""
    out: list[float] = []
    clock = time.perf_counter
    for r in range(rounds):
        for q in queries:
            t0 = clock()
            fn(q)
            out.append(clock() - t0)
        if r % max(1, rounds // 20) == 0 or r == rounds - 1:
            done = (r + 1) / rounds
            bar = "#" * int(done * 30)
            print(f"\r{label:<10} [{bar:<30}] {done:4.0%}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return out


def p99(xs: list[float]) -> float:
    return sorted(xs)[min(len(xs) - 1, int(len(xs) * 0.99))]


def accuracy(fn: Callable[[str], str | None], items: list[dict[str, str | None]]) -> tuple[float, float]:
    ans = [i for i in items if i["id"] is not None]
    nul = [i for i in items if i["id"] is None]
    right = sum(fn(str(i["q"])) == i["id"] for i in ans)
    wrong = sum(fn(str(i["q"])) is not None for i in nul)
    return right / len(ans), wrong / len(nul)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--faq", default=str(ROOT / "config" / "faq.yaml"))
    ap.add_argument("--queries", default=str(ROOT / "tests" / "router" / "bot" / "faq_heldout.yaml"))
    ap.add_argument("--rounds", type=int, default=100)
    args = ap.parse_args()

    items = yaml.safe_load(Path(args.queries).read_text(encoding="utf-8"))
    queries = [str(i["q"]) for i in items]
    t0 = time.perf_counter()
    index = FaqIndex.from_file(args.faq)
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    FaqIndex(index.kb)  # a reload: the segmenter for these words is cached
    warm = time.perf_counter() - t0
    base = substring_baseline(index.kb)

    def idx_match(q: str) -> str | None:
        hit = index.match(q)
        return hit.entry.id if hit else None

    for q in queries:  # warm caches for both before timing
        idx_match(q)
        base(q)
    t_idx = timed(idx_match, queries, args.rounds, "FaqIndex")
    t_base = timed(base, queries, args.rounds, "substring")
    acc_i, wrong_i = accuracy(idx_match, items)
    acc_b, wrong_b = accuracy(base, items)
    us = 1e6
    print(f"FAQ: {len(index.kb.entries)} entries; {len(queries)} held-out queries x {args.rounds} rounds")
    print(f"index build: {cold * 1000:.0f} ms cold (loads jieba), {warm * 1000:.1f} ms reload")
    print(f"{'method':<10} {'mean us':>9} {'p99 us':>9} {'top-1 acc':>10} {'wrong-ans':>10}")
    for name, ts, acc, wrong in (
        ("FaqIndex", t_idx, acc_i, wrong_i),
        ("substring", t_base, acc_b, wrong_b),
    ):
        print(f"{name:<10} {statistics.fmean(ts) * us:9.1f} {p99(ts) * us:9.1f} {acc:10.1%} {wrong:10.1%}")
    ratio = statistics.fmean(t_idx) / statistics.fmean(t_base)
    print(f"FaqIndex / substring mean time: {ratio:.1f}x; p99: {p99(t_idx) / p99(t_base):.1f}x")


if __name__ == "__main__":
    main()
