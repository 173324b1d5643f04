"""Search on PostgreSQL: jieba tokens in a `tsvector` (what the archive does) against pg_trgm over
the raw text, for answer quality on labelled Chinese queries and for speed.

    python bench/bench_search.py [--conversations 20000] [--runs 5] [--pg-host H] [--pg-port P]

Generates conversations from customer-service lines, each line labelled with what it is about
(a refund, an invoice, a tracking number, an order number...), so every query has a known set of
right answers: the conversations holding a line about what the query asks for. Both indexes are
built in one private database (dropped afterwards):

- tsvector: `to_tsvector('simple', jieba tokens)` under GIN, queried as router/archive/search.py
  does (`to_tsquery` of router.archive.tokens.query_clauses: per word, its tokens, or itself
  whole, or the dictionary words covering it), and, as it did before, with every query token
  required (`plainto_tsquery`, `tsvector_and`);
- pg_trgm: the text under a GIN `gin_trgm_ops` index, queried with `text LIKE '%word%'` for each
  word of the query (what pg_trgm can accelerate; similarity ranking would only reorder these).

Per query: precision and recall against the labels, and the median time. The baseline for time
is a primary-key lookup in the same database in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg

from router.archive.search import _ts_query
from router.archive.tokens import query_clauses, query_tokens, tokens

# Lines customers and agents write, by what they are about. Some share characters with another
# topic's words on purpose: 订单号 (order number) holds 单号 (tracking number), 开发 holds 发,
# 发货地 and 收货地址 share 货地, 退货 and 退款 share 退, as real chats do.
LINES: dict[str, list[str]] = {
    "refund": ["我要退款", "退款什么时候到账", "申请退款被拒绝了", "钱退回原支付账户了吗", "仅退款不退货可以吗"],
    "return": ["我想退货", "退货地址发我一下", "七天无理由退货怎么操作", "退货运费谁出"],
    "invoice": ["能开发票吗", "发票抬头写公司名", "电子发票发我邮箱", "增值税专用发票可以开吗"],
    "damage": ["收到的杯子破损了", "外包装破损了，里面没事", "屏幕有划痕，是坏的", "商品有破损要求补发"],
    "tracking": ["快递单号是多少", "麻烦给我物流单号查一下", "单号查不到物流信息", "运单号发一下"],
    "order_no": ["我的订单号是多少", "订单号在哪里看", "这个订单号下错了"],
    "size": ["尺码偏大吗", "M码还有吗", "我身高170穿什么尺码", "尺寸表发我看看"],
    "exchange": ["可以换货吗", "换一个颜色", "换大一码", "换货流程是什么"],
    "coupon": ["优惠券用不了", "满减券怎么领", "优惠码无效", "领的券过期了"],
    "ship": ["什么时候发货", "还没发货吗", "今天能发出吗", "几天能到"],
    "address": ["修改收货地址", "地址填错了", "能改一下收件地址吗", "送到公司地址"],
    "origin": ["发货地是哪里", "从哪个仓库发货地址是哪", "是国内发货吗"],
    "other": ["你好", "在吗", "谢谢", "好的", "人工客服", "我再看看", "价格能便宜点吗", "质量怎么样"],
}

QUERIES: list[tuple[str, set[str]]] = [
    ("退款", {"refund"}),
    ("退货", {"return"}),
    ("发票", {"invoice"}),
    ("破损", {"damage"}),
    ("单号", {"tracking"}),
    ("订单号", {"order_no"}),
    ("尺码", {"size"}),
    ("换货", {"exchange"}),
    ("优惠券", {"coupon"}),
    ("发货", {"ship", "origin"}),
    ("地址", {"address", "return", "origin"}),
    ("收货地址", {"address"}),
    ("快递单号", {"tracking"}),
    ("电子发票", {"invoice"}),
]


def corpus(n: int, seed: int = 11) -> tuple[list[tuple[str, str]], dict[str, set[str]]]:
    """(id, text) per conversation, and the ids holding a line of each topic."""
    rnd = random.Random(seed)
    topics = [t for t in LINES if t != "other"]
    docs, about = [], {t: set() for t in LINES}
    for i in range(n):
        cid = f"c{i:06d}"
        chosen = rnd.sample(topics, rnd.choice((1, 1, 2)))
        lines = [rnd.choice(LINES[t]) for t in chosen] + [rnd.choice(LINES["other"]) for _ in range(rnd.randint(1, 3))]
        lines.append(f"订单2024{rnd.randrange(10**11):011d}")
        rnd.shuffle(lines)
        for t in chosen:
            about[t].add(cid)
        docs.append((cid, "\n".join(lines)))
    return docs, about


async def timed(conn: asyncpg.Connection, sql: str, arg: object, runs: int) -> tuple[float, set[str]]:
    times, found = [], set()
    for _ in range(runs):
        t0 = time.perf_counter()
        found = {r[0] for r in await conn.fetch(sql, arg)}
        times.append(time.perf_counter() - t0)
    return statistics.median(times), found


async def run(args: argparse.Namespace) -> dict[str, object]:
    print(f"generating {args.conversations:,} conversations", flush=True)
    docs, about = corpus(args.conversations)
    name = f"kefu_bench_search_{os.getpid()}"
    admin = await asyncpg.connect(host=args.pg_host, port=args.pg_port, user="postgres", database="postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    conn = await asyncpg.connect(host=args.pg_host, port=args.pg_port, user="postgres", database=name)
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        await conn.execute("CREATE TABLE ts (id text PRIMARY KEY, tokens tsvector NOT NULL)")
        await conn.execute("CREATE TABLE tg (id text PRIMARY KEY, body text NOT NULL)")
        t0 = time.perf_counter()
        for start in range(0, len(docs), 5000):
            page = docs[start:start + 5000]
            await conn.executemany("INSERT INTO ts VALUES ($1, to_tsvector('simple', $2))",
                                   [(cid, " ".join(tokens(text))) for cid, text in page])
            await conn.executemany("INSERT INTO tg VALUES ($1, $2)", page)
            print(f"  {start + len(page):,}/{len(docs):,} conversations indexed", flush=True)
        await conn.execute("CREATE INDEX ts_gin ON ts USING gin (tokens)")
        await conn.execute("CREATE INDEX tg_gin ON tg USING gin (body gin_trgm_ops)")
        await conn.execute("ANALYZE")
        build_s = time.perf_counter() - t0
        base, _ = await timed(conn, "SELECT id FROM tg WHERE id = $1", docs[0][0], args.runs)
        rows = []
        for q, topics in QUERIES:
            right = set().union(*(about[t] for t in topics))
            and_s, and_found = await timed(conn, "SELECT id FROM ts WHERE tokens @@ plainto_tsquery('simple', $1)",
                                           " ".join(query_tokens(q)), args.runs)
            ts_s, ts_found = await timed(conn, "SELECT id FROM ts WHERE tokens @@ to_tsquery('simple', $1)",
                                         _ts_query(query_clauses(q)), args.runs)
            tg_s, tg_found = await timed(conn, "SELECT id FROM tg WHERE body LIKE $1", f"%{q}%", args.runs)
            row: dict[str, object] = {"query": q, "right": len(right)}
            for label, found, secs in (("tsvector_and", and_found, and_s), ("tsvector", ts_found, ts_s),
                                       ("trgm", tg_found, tg_s)):
                hit = len(found & right)
                row[label] = {"found": len(found), "precision": round(hit / len(found), 3) if found else None,
                              "recall": round(hit / len(right), 3) if right else None, "ms": round(secs * 1000, 2)}
            rows.append(row)
            print(f"  {q}: AND {row['tsvector_and']}  clauses {row['tsvector']}  trgm {row['trgm']}", flush=True)
        def mean(label: str, key: str) -> float:
            vals = [float(r[label][key]) for r in rows if r[label][key] is not None]  # type: ignore[index]
            return round(sum(vals) / len(vals), 3)

        return {"conversations": len(docs), "build_s": round(build_s, 1), "baseline_pk_ms": round(base * 1000, 3),
                "load_average": os.getloadavg(),
                "mean": {label: {k: mean(label, k) for k in ("precision", "recall", "ms")}
                         for label in ("tsvector_and", "tsvector", "trgm")},
                "queries": rows}
    finally:
        await conn.close()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--conversations", type=int, default=20_000)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--pg-host", default=os.environ.get("KEFU_TEST_PG_HOST", "127.0.0.1"))
    p.add_argument("--pg-port", type=int, default=int(os.environ.get("KEFU_TEST_PG_PORT", "5432")))
    print(json.dumps(asyncio.run(run(p.parse_args())), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
