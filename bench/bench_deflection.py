"""Deflection as a shop sees it: a mixed stream of customer lines through the demo's pipeline.

    python bench/bench_deflection.py [--set heldout|dev|both] [--concurrency 20] [--no-baseline]

The demo (`kefu serve` with no config: config/routing.yaml, faq.yaml, orders-demo.yaml,
products-demo.yaml) runs in this process against a private redis-server. Each line of
bench/data/deflection_lines.yaml is a new web chat customer; a burst's lines go out 0.3 s apart
(inside the 1.5 s debounce window). The conversation's own record (state, `bot`, `bot_turn`)
says what happened. Two passes, the bot's clock at 10:00 and at 23:30 Shanghai (in business
hours and out); a baseline pass replays the held-out set in hours with the rules as shipped
before issue 18 (the bot only for logistics and order status), in the same run.

Figures per set and pass:
* deflection: lines whose conversation stayed with the bot (answered, or asked for the order
  number), out of all lines;
* faq_right: FAQ-answerable lines answered with the expected entry (target >= 60 %);
* wrong: lines that got an FAQ answer other than the expected one, out of all lines (<= 5 %);
* must_handoff: complaints, anger, requests for a person, refunds and returns handed to people
  (>= 95 %); also apart per batch: the first lines, the `added` ones, `round3` and `round4`;
* order / product / burst: order questions sent to the order flow, product-stock questions to the
  product look-up (or a person), bursts with every question answered or handed on.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
import yaml
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import start_redis  # noqa: E402
from router.config.demo import demo_settings  # noqa: E402
from router.config.settings import Settings  # noqa: E402
from router.runtime import Runtime  # noqa: E402
from router.web.app import build_app  # noqa: E402

LINES = ROOT / "bench" / "data" / "deflection_lines.yaml"
CST = timezone(timedelta(hours=8))
CLOCKS = {"in_hours": datetime(2026, 11, 11, 10, 0, tzinfo=CST),
          "off_hours": datetime(2026, 11, 11, 23, 30, tzinfo=CST)}
TARGETS = {"faq_right": (">=", 0.60), "must_handoff": (">=", 0.95), "wrong": ("<=", 0.05)}
# The demo's rules before issue 18: the bot only for logistics, order status and off hours.
BASELINE_RULES = """
timezone: Asia/Shanghai
calendars: {business: {days: mon-sun, hours: "09:00-22:00"}}
default: {pool: presale}
rules:
  - {name: complaint, when: {any: [{intent: complaint}, {angry: true}]}, then: {pool: aftersale, human: true}}
  - {name: human-request, when: {intent: human_request}, then: {human: true}}
  - {name: return-refund, when: {intent: [return_exchange, refund]}, then: {pool: aftersale}}
  - {name: logistics, when: {intent: logistics}, then: {pool: aftersale, bot: true}}
  - {name: order-status, when: {intent: order_status}, then: {pool: aftersale, bot: true}}
  - {name: invoice, when: {intent: invoice}, then: {pool: presale}}
  - {name: after-hours, when: {outside_calendar: business}, then: {bot: true}}
"""


@dataclass(frozen=True, slots=True)
class Line:
    kind: str
    expected: str
    text: str
    # "first" (written with the first held-out run), "added" (the 34 must-handoff lines written
    # after it), "round3" (the third batch: must-handoff, FAQ and chat lines, written together) or
    # "round4" (the fourth: must-handoff lines and the policy questions next to them).
    batch: str = "first"

    @property
    def lines(self) -> list[str]:
        return [t.strip() for t in self.text.split(" | ")] if self.kind == "burst" else [self.text]


def load(which: str) -> list[Line]:
    data = yaml.safe_load(LINES.read_text(encoding="utf-8"))
    return [Line(str(row[0]), str(row[1]), str(row[2]), batch=str(row[3]) if row[3:] else "first")
            for row in data[which]]


async def one(http: aiohttp.ClientSession, base: str, rt: Runtime, line: Line) -> dict[str, Any]:
    """Send the line(s) as a new customer; the conversation's record once the bot is done."""
    async with http.post(f"{base}/api/v1/webchat/sessions") as r:
        token = (await r.json())["session"]
    ws = await http.ws_connect(f"{base}/ws/chat?session={token}")
    cid = None
    try:
        for n, text in enumerate(line.lines):
            if n:
                await asyncio.sleep(0.3)
            await ws.send_json({"type": "message", "text": text, "client_msg_id": f"b{time.monotonic_ns()}"})
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                msg = await ws.receive(timeout=0.2)
                if msg.type == aiohttp.WSMsgType.TEXT:
                    cid = cid or json.loads(msg.data).get("conversation_id")
            except TimeoutError:
                pass
            if cid:
                conv = await rt.store.conversation(cid)
                # Done: the bot recorded its turn, or the rules sent it straight to people (a
                # bot handoff moves the state before the turn's record is written).
                handed = conv and conv["state"] in ("queued", "assigned")
                if conv and (conv.get("bot_turn") or (handed and not conv.get("bot"))):
                    return dict(conv)
        raise RuntimeError(f"no outcome within 30 s for {line.text!r}")
    finally:
        await ws.close()


def judge(line: Line, conv: dict[str, Any]) -> dict[str, bool]:
    turn = conv.get("bot_turn") or {}
    parts = turn.get("parts") or ([turn] if turn else [])
    faq_ids = {p["faq_id"] for p in parts if p.get("faq_id")}
    topics = {p.get("topic") for p in parts}
    handed = conv["state"] in ("queued", "assigned")
    expected = set(line.expected.split("+")) if line.kind == "burst" else {f"faq:{line.expected}"}
    want_faq = {e[4:] for e in expected if e.startswith("faq:")} if line.kind in ("faq", "burst") else set()
    covered = {e for e in expected if (e.startswith("faq:") and e[4:] in faq_ids)
               or (e == "order" and "order_status" in topics) or (e == "product" and "product" in topics)}
    return {
        "handed": handed,
        "right": {"faq": line.expected in faq_ids, "order": "order_status" in topics,
                  "product": "product" in topics, "handoff": handed, "chat": not faq_ids,
                  "burst": covered == expected}[line.kind],
        "wrong": bool(faq_ids - want_faq),
    }


def figures(lines: list[Line], results: list[dict[str, bool]]) -> dict[str, Any]:
    def rate(kind: str | None, key: str, batch: str | None = None) -> float | None:
        rows = [r for ln, r in zip(lines, results, strict=True)
                if (kind is None or ln.kind == kind) and (batch is None or ln.batch == batch)]
        return round(sum(r[key] for r in rows) / len(rows), 4) if rows else None

    def count(kind: str, key: str, batch: str) -> str:
        rows = [r for ln, r in zip(lines, results, strict=True) if ln.kind == kind and ln.batch == batch]
        return f"{sum(r[key] for r in rows)}/{len(rows)}"

    return {
        "lines": len(lines),
        "deflection": round(sum(not r["handed"] for r in results) / len(results), 4),
        "faq_right": rate("faq", "right"),
        "wrong": rate(None, "wrong"),
        "must_handoff": rate("handoff", "right"),
        "must_handoff_first": rate("handoff", "right", batch="first"),
        "must_handoff_added": rate("handoff", "right", batch="added"),
        "must_handoff_round3": rate("handoff", "right", batch="round3"),
        "faq_right_round3": rate("faq", "right", batch="round3"),
        "wrong_round3": rate(None, "wrong", batch="round3"),
        "must_handoff_round4": rate("handoff", "right", batch="round4"),
        "faq_right_round4": rate("faq", "right", batch="round4"),
        "wrong_round4": rate(None, "wrong", batch="round4"),
        "counts": {f"{kind}/{batch}": count(kind, "right", batch) for kind in ("handoff", "faq")
                   for batch in ("first", "added", "round3", "round4") if any(ln.kind == kind and ln.batch == batch
                                                                    for ln in lines)},
        "order": rate("order", "right"),
        "product": rate("product", "right"),
        "burst": rate("burst", "right"),
        "kinds": dict(Counter(ln.kind for ln in lines)),
    }


async def run_pass(settings: Settings, redis_url: str, lines: list[Line], clock: datetime, concurrency: int,
                   label: str) -> tuple[dict[str, Any], list[tuple[Line, dict[str, Any]]]]:
    data_dir = Path(tempfile.mkdtemp(prefix="kefu-bench-"))
    rt = Runtime(settings, redis_url=redis_url, data_dir=data_dir)
    rt.bot.clock = clock.timestamp  # type: ignore[union-attr]
    runner = web.AppRunner(build_app(rt), handle_signals=False, shutdown_timeout=2)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    gate = asyncio.Semaphore(concurrency)
    done = 0
    t0 = time.monotonic()

    async def guarded(line: Line) -> dict[str, Any]:
        nonlocal done
        async with gate:
            conv = await one(http, base, rt, line)
        done += 1
        if done % 25 == 0 or done == len(lines):
            print(f"  {label}: {done}/{len(lines)} lines ({time.monotonic() - t0:.0f} s)", flush=True)
        return conv

    try:
        async with aiohttp.ClientSession() as http:
            convs = await asyncio.gather(*(guarded(ln) for ln in lines))
    finally:
        await runner.cleanup()
        shutil.rmtree(data_dir, ignore_errors=True)
    results = [judge(ln, c) for ln, c in zip(lines, convs, strict=True)]
    return figures(lines, results), [(ln, {**c, **j}) for ln, c, j in zip(lines, convs, results, strict=True)]


def pct(v: float | None) -> str:
    return "-" if v is None else f"{v:.1%}"


def verdict(fig: dict[str, Any]) -> str:
    out = []
    for key, (op, goal) in TARGETS.items():
        v = fig[key]
        ok = v is not None and (v >= goal if op == ">=" else v <= goal)
        out.append(f"{key} {v:.1%} {'ok' if ok else 'MISSED'} ({op} {goal:.0%})")
    return "; ".join(out)


async def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--set", choices=["heldout", "dev", "both"], default="both")
    ap.add_argument("--concurrency", type=int, default=20)
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--misses", action="store_true", help="print the lines judged wrong (dev set only)")
    args = ap.parse_args()
    sets = ["dev", "heldout"] if args.set == "both" else [args.set]
    work = Path(tempfile.mkdtemp(prefix="kefu-bench-redis-"))
    redis, url = start_redis(work)
    report: dict[str, Any] = {}
    try:
        demo = demo_settings(work / "demo")
        for which in sets:
            lines = load(which)
            for when, clock in CLOCKS.items():
                fig, rows = await run_pass(demo, url, lines, clock, args.concurrency, f"{which}/{when}")
                report[f"{which}/{when}"] = fig
                print(f"{which}/{when}: deflection {fig['deflection']:.1%}; {verdict(fig)}; order {fig['order']:.0%}"
                      f", product {fig['product']:.0%}, burst {fig['burst']:.0%}; must_handoff first lines"
                      f" {fig['must_handoff_first']:.1%}, added lines {fig['must_handoff_added']:.1%}, round3"
                      f" {fig['must_handoff_round3']:.1%}; round3 faq_right {fig['faq_right_round3']:.1%}, wrong"
                      f" {fig['wrong_round3']:.1%}; round4 must_handoff {pct(fig['must_handoff_round4'])}, faq_right"
                      f" {pct(fig['faq_right_round4'])}, wrong {pct(fig['wrong_round4'])}", flush=True)
                if args.misses and which == "dev":
                    for ln, r in rows:
                        if not r["right"] or r["wrong"]:
                            print(f"    {ln.kind} {ln.expected} {ln.text!r} -> {r.get('bot_turn')} {r.get('bot')}")
        if not args.no_baseline:
            rules = work / "baseline-rules.yaml"
            rules.write_text(BASELINE_RULES, encoding="utf-8")
            base_settings = msgspec.structs.replace(demo, routing=msgspec.structs.replace(demo.routing,
                                                                                          rules=str(rules)))
            lines = load("heldout")
            fig, _ = await run_pass(base_settings, url, lines, CLOCKS["in_hours"], args.concurrency,
                                    "baseline heldout/in_hours")
            report["baseline heldout/in_hours"] = fig
            now = report.get("heldout/in_hours")
            ratio = f", {now['deflection'] / fig['deflection']:.2f}x" if now and fig["deflection"] else ""
            print(f"baseline (rules before issue 18) heldout/in_hours: deflection {fig['deflection']:.1%}"
                  f" (now {now['deflection']:.1%}{ratio}); faq_right {fig['faq_right']:.1%}" if now else "", flush=True)
    finally:
        redis.terminate()
        redis.wait(10)
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(report, ensure_ascii=False, indent=1))
    held = [v for k, v in report.items() if k.startswith("heldout/")]
    return 0 if all(verdict(f).count("MISSED") == 0 for f in held) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
