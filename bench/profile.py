"""Sum up a py-spy profile in collapsed form (`py-spy record -f raw`, as `python -m bench
--profile DIR` writes them): the share of samples in which each of kefu's own functions was on
the stack, and the functions the samples ended in.

    python bench/profile.py docs/profiles/ingest-wechat.txt [--top 25]
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

OURS = re.compile(r"\((router|adapters|routing_rules|kefu_common)/")


def shares(path: Path) -> tuple[int, Counter[str], Counter[str]]:
    """(samples, on-stack samples of our functions, samples ending in each function)."""
    total = 0
    inclusive: Counter[str] = Counter()
    leaf: Counter[str] = Counter()
    for line in path.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not n.isdigit():
            continue
        count = int(n)
        total += count
        frames = [re.sub(r":\d+\)$", ")", f) for f in stack.split(";")]
        for f in set(frames):
            if OURS.search(f):
                inclusive[f] += count
        leaf[frames[-1]] += count
    return total, inclusive, leaf


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("profile", type=Path)
    ap.add_argument("--top", type=int, default=25)
    a = ap.parse_args()
    total, inclusive, leaf = shares(a.profile)
    print(f"{total} samples")
    print("on the stack (kefu's functions):")
    for f, n in inclusive.most_common(a.top):
        print(f"  {100 * n / total:5.1f}%  {f}")
    print("where the samples ended:")
    for f, n in leaf.most_common(a.top // 2):
        print(f"  {100 * n / total:5.1f}%  {f}")


if __name__ == "__main__":
    main()
