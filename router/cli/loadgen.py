"""`kefu loadgen`: drive a deployment with web chat customers and agents; report latency and loss."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from urllib.parse import urlsplit

from router.loadgen.run import SCRIPT, Plan, run
from router.loadgen.tally import render


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "loadgen", help="web chat customers and agents with a scripted conversation against a deployment",
        description="Customers write the script's lines at --rate for --duration; agents answer each line and "
                    "close the chat after the last. Prints latency percentiles and loss counts; exit 1 when "
                    "anything was lost or shown twice.")
    p.add_argument("url", nargs="+", help="deployment base URL(s), e.g. http://127.0.0.1:8080; sockets go round")
    p.add_argument("--agent-token", action="append", default=[], metavar="TOKEN",
                   help="an agent's token (repeat for several agents)")
    p.add_argument("--agent-tokens-file", metavar="FILE", help="agent tokens, one a line")
    p.add_argument("--customers", type=int, default=100)
    p.add_argument("--rate", type=float, default=50.0,
                   help="customer lines per second over all customers; 0: every customer writes its script at once")
    p.add_argument("--duration", type=float, default=10.0, help="seconds of writing at --rate")
    p.add_argument("--ramp", type=float, default=0.0, metavar="SECONDS",
                   help="customers join evenly over this many seconds, each writing at rate/customers from then "
                        "on (default 0: every customer opens its chat in the first round)")
    p.add_argument("--script", metavar="FILE", help="the customer's lines, one a line (default: a short pre-sale chat)")
    p.add_argument("--drain", type=float, default=60.0, help="seconds to wait for what is still on its way")
    p.add_argument("--no-answer", action="store_true", help="agents only read; nothing is answered or closed")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(func=cmd_loadgen)


def plan_from(args: argparse.Namespace) -> Plan:
    """The plan, or SystemExit(2) with the reason when an argument is wrong."""
    def refuse(msg: str) -> SystemExit:
        print(f"kefu loadgen: {msg}", file=sys.stderr)
        return SystemExit(2)

    for url in args.url:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise refuse(f"{url!r} is not an http(s) base URL such as http://127.0.0.1:8080")
    tokens = list(args.agent_token)
    if args.agent_tokens_file:
        try:
            tokens += [t.strip() for t in Path(args.agent_tokens_file).read_text().splitlines() if t.strip()]
        except OSError as exc:
            raise refuse(f"cannot read {args.agent_tokens_file}: {exc.strerror}") from None
    if not tokens:
        raise refuse("give at least one agent: --agent-token TOKEN or --agent-tokens-file FILE")
    script: tuple[str, ...] = SCRIPT
    if args.script:
        try:
            script = tuple(s.strip() for s in Path(args.script).read_text().splitlines() if s.strip())
        except OSError as exc:
            raise refuse(f"cannot read {args.script}: {exc.strerror}") from None
        if not script:
            raise refuse(f"{args.script}:1:1: the script has no lines")
    if args.customers < 1:
        raise refuse("--customers must be at least 1")
    if args.rate < 0 or args.duration <= 0 or args.drain < 0:
        raise refuse("--rate must be >= 0, --duration > 0 and --drain >= 0")
    if args.ramp < 0 or args.ramp >= args.duration:
        raise refuse("--ramp must be >= 0 and shorter than --duration")
    if args.ramp and args.rate == 0:
        raise refuse("--ramp needs a --rate: at rate 0 every customer writes its script at once")
    return Plan(bases=tuple(u.rstrip("/") for u in args.url), agent_tokens=tuple(tokens),
                customers=args.customers, rate=args.rate, duration_s=args.duration, script=script,
                drain_s=args.drain, answer=not args.no_answer, ramp_s=args.ramp)


def cmd_loadgen(args: argparse.Namespace) -> int:
    plan = plan_from(args)
    report, _ = asyncio.run(run(plan, progress=not args.quiet))
    print(json.dumps(report, ensure_ascii=False, indent=2) if args.json else render(report))
    bad = report["lost_to_agent"] + report["lost_to_customer"] + report["duplicates_at_agent"] \
        + report["duplicates_at_customer"]
    return 1 if bad else 0
