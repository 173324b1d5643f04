"""Per-message cost of RuleSet.decide with 10 and with 200 rules.

    python bench/bench_rules.py [--quick] [--seed N]

Generates two rule sets from the same mix of conditions (channel, account, intent, keywords,
regex, tags, segment, time windows, calendars, message counts, any/not) and a few thousand
varied Chinese and English messages, then times decide() one message at a time. Most generated
rules do not match a given message, so a decision usually walks most of the list: the 200-rule
figure is close to the worst case for that size.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from routing_rules import RuleInput, RuleSet, compile_rules
from routing_rules.progress import Progress

POOLS = ["presale", "aftersale", "complaints", "night", "clothing", "3c", "mother_baby"]
INTENTS = ["presale", "order_status", "logistics", "return_exchange", "refund", "complaint",
           "invoice", "cross_border", "human_request"]
WORDS = ["退款", "快递", "尺码", "发票", "优惠券", "奶粉", "蓝牙耳机", "清关", "差评", "换货",
         "refund", "parcel", "size", "invoice", "coupon", "warranty", "customs", "broken"]
ACCOUNTS = [f"store{i}" for i in range(12)]
PHRASES = [
    "你好，这件衣服有M码吗", "我的快递三天了还没到，到哪了", "东西坏了我要退货", "退款什么时候到账",
    "再不处理我就投诉，给差评！！！", "能开增值税专票吗", "清关要几天", "转人工", "宝宝奶粉有货吗",
    "蓝牙耳机保修多久", "Where is my parcel? It is delayed", "I want a refund for the broken item",
    "Do you ship overseas? what about customs", "Can I get an invoice please", "hello",
    "订单 3456789012345678901 什么时候发货", "优惠券怎么用", "这个尺码偏大还是偏小",
]


def leaf(rng: random.Random) -> str:
    kind = rng.randrange(12)
    if kind == 0:
        return f"{{channel: {rng.choice(['wechat', 'telegram', 'webchat'])}}}"
    if kind == 1:
        return f"{{account: [{', '.join(rng.sample(ACCOUNTS, 2))}]}}"
    if kind in (2, 3):
        return f"{{intent: [{', '.join(rng.sample(INTENTS, 2))}]}}"
    if kind == 4:
        return f"{{contains: [{', '.join(rng.sample(WORDS, 3))}]}}"
    if kind == 5:
        return f"{{matches: '{rng.choice(WORDS)}.{{0,8}}(吗|\\?|please)'}}"
    if kind == 6:
        return f"{{tag: tag{rng.randrange(20)}}}"
    if kind == 7:
        return f"{{segment: {rng.choice(['vip', 'returning'])}}}"
    if kind == 8:
        h = rng.randrange(24)
        return f"{{time: '{h:02d}:00-{(h + rng.randrange(1, 9)) % 24:02d}:30'}}"
    if kind == 9:
        return f"{{in_calendar: {rng.choice(['office', 'night'])}}}"
    if kind == 10:
        return f"{{message_count: '>= {rng.randrange(2, 9)}'}}"
    return f"{{not: {{angry: {rng.choice(['true', 'false'])}}}}}"


def make_rules(n: int, rng: random.Random, *, all_continue: bool = False) -> str:
    out = [
        "calendars:",
        "  office: {days: mon-fri, hours: ['09:00-12:00', '13:30-18:30']}",
        "  night: {days: all, hours: '22:00-08:00'}",
        "default: {pool: presale}",
        "rules:",
    ]
    for i in range(n):
        leaves = [leaf(rng) for _ in range(rng.randint(2, 3))]
        when = f"{{all: [{', '.join(leaves)}]}}"
        if rng.random() < 0.15:
            when = f"{{any: [{', '.join(leaves)}]}}"
        out.append(f"  - name: rule{i}")
        out.append(f"    when: {when}")
        if all_continue or rng.random() < 0.1:
            out.append(f"    then: {{boost: {rng.randrange(1, 10)}, tags: [t{i}]}}")
            out.append("    continue: true")
        else:
            out.append(f"    then: {{pool: {rng.choice(POOLS)}, priority: {rng.randrange(40)}}}")
    return "\n".join(out) + "\n"


def make_messages(n: int, rng: random.Random) -> list[RuleInput]:
    t0 = datetime(2026, 11, 11, tzinfo=UTC)
    msgs = []
    for _ in range(n):
        text = rng.choice(PHRASES)
        if rng.random() < 0.5:
            text += " " + rng.choice(PHRASES)
        msgs.append(RuleInput(
            text=text,
            channel=rng.choice(["wechat", "telegram", "webchat"]),
            account=rng.choice(ACCOUNTS),
            now=t0 + timedelta(minutes=rng.randrange(7 * 24 * 60)),
            customer_tags=frozenset(f"tag{rng.randrange(30)}" for _ in range(rng.randrange(3))),
            segment=rng.choice(["new", "new", "returning", "vip"]),
            message_count=rng.randint(1, 10),
        ))
    return msgs


def measure(rules: RuleSet, msgs: list[RuleInput], label: str) -> list[float]:
    for m in msgs[:200]:  # warm caches and zoneinfo before timing
        rules.decide(m)
    bar = Progress(f"timing {label}", len(msgs))
    costs = []
    clock = time.perf_counter_ns
    for i, m in enumerate(msgs, 1):
        start = clock()
        rules.decide(m)
        costs.append((clock() - start) / 1000.0)
        if i % 100 == 0 or i == len(msgs):
            bar.update(i, i)
    bar.close()
    return costs


def summary(costs: list[float]) -> tuple[float, float, float]:
    ordered = sorted(costs)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.fmean(costs), statistics.median(costs), p99


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="1,000 messages instead of 5,000")
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    msgs = make_messages(1000 if args.quick else 5000, rng)
    results = {}
    cases = [(10, False), (200, False), (200, True)]
    for n, worst in cases:
        label = f"{n} rules" + (", all continue (every rule evaluated)" if worst else "")
        seed_rng = random.Random(args.seed + n)  # the worst case reuses the 200-rule conditions
        t = time.perf_counter()
        rules = compile_rules(make_rules(n, seed_rng, all_continue=worst), f"<bench {n}>")
        compile_ms = (time.perf_counter() - t) * 1000
        costs = measure(rules, msgs, label)
        results[(n, worst)] = summary(costs)
        # Rules walked per message, from explain (outside the timed loop).
        walked = statistics.fmean(
            sum(1 for x in rules.explain(m).explanation if x.startswith("rule "))
            for m in msgs[:500]
        )
        mean, p50, p99 = results[(n, worst)]
        print(f"{label}:\n    compile {compile_ms:.1f} ms; decide mean {mean:.1f} us, "
              f"p50 {p50:.1f} us, p99 {p99:.1f} us; rules evaluated per message {walked:.1f}")
    base, big, worst = results[(10, False)], results[(200, False)], results[(200, True)]
    print(f"ratio 200/10 (mean): {big[0] / base[0]:.1f}x; worst case 200/10: "
          f"{worst[0] / base[0]:.1f}x")
    verdict = "met" if worst[2] < 1000 else "NOT met"
    print(f"target 200 rules well under 1 ms: {verdict} (worst-case p99 {worst[2]:.0f} us)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
