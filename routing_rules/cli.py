"""`kefu rules check | explain | replay`: argparse wiring and the three commands.

Each `cmd_*` takes the parsed args and returns the exit code, so the `kefu` entry point (or a
test) can call it directly. `python -m routing_rules.cli ...` runs them without the router.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from kefu_common.errors import ConfigError, ConfigErrors
from kefu_common.yamlpos import read_text
from routing_rules.check import check_rules
from routing_rules.model import Decision, RuleInput
from routing_rules.progress import Progress
from routing_rules.replay import replay
from routing_rules.ruleset import RuleSet
from routing_rules.trace import read_trace


def _names(value: str | None) -> frozenset[str] | None:
    if value is None:
        return None
    return frozenset(x.strip() for x in value.split(",") if x.strip())


def iso(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an ISO 8601 time like 2026-11-11T09:30:00+08:00, got {value!r}"
        ) from None


def _in_zone(dt: datetime | None, rules: RuleSet) -> datetime | None:
    """A time given without an offset is read in the rules' timezone, as an admin means it."""
    if dt is None or dt.tzinfo is not None:
        return dt
    return dt.replace(tzinfo=ZoneInfo(rules.timezone))


HistoryReplay = Callable[[argparse.Namespace, RuleSet, "RuleSet | None"], int]
"""Replays the router's own recorded decisions; `kefu rules` supplies one, the engine has none."""


def add_rules_parsers(subparsers: Any, history: HistoryReplay | None = None) -> argparse.ArgumentParser:
    """Add check, explain and replay to an argparse subparsers object (of `kefu rules`).

    Returns the replay parser, so that the router can add the options of its own history source
    (its Redis) without this package importing the router.
    """
    known = argparse.ArgumentParser(add_help=False)
    known.add_argument("--pools", help="comma-separated known pools; others are errors")
    known.add_argument("--skills", help="comma-separated known skills; others are errors")

    p = subparsers.add_parser(
        "check", parents=[known], help="check a rules file; exit 0 when valid, 1 otherwise"
    )
    p.add_argument("file")
    p.set_defaults(func=cmd_check)

    p = subparsers.add_parser(
        "explain", parents=[known], help="show the decision for one message and why"
    )
    p.add_argument("file")
    p.add_argument("--text", required=True)
    p.add_argument("--channel", default="webchat")
    p.add_argument("--account", default="default")
    p.add_argument("--tag", action="append", default=[], help="customer tag (repeatable)")
    p.add_argument("--segment", default="new", help="new | returning | vip")
    p.add_argument("--language", default=None, help="skip detection and use this language")
    p.add_argument("--message-count", type=int, default=1)
    p.add_argument("--reopened", action="store_true")
    p.add_argument("--previous-pool", default=None)
    p.add_argument("--product", default=None, help="id of the product on the customer's page")
    p.add_argument("--product-title", default="", help="its title")
    p.add_argument("--kind", default="text")
    p.add_argument(
        "--at", type=iso, default=None, help="message time (ISO 8601; no offset: rules' zone)"
    )
    p.set_defaults(func=cmd_explain)

    p = replay_parser = subparsers.add_parser(
        "replay", parents=[known], help="replay a decision trace against candidate rules"
    )
    assert isinstance(replay_parser, argparse.ArgumentParser)
    p.add_argument("--rules", required=True, help="the candidate rules file")
    p.add_argument("--trace", default=None,
                   help="JSON Lines trace (docs/rules.md); default: the router's history in Redis")
    p.add_argument("--old", default=None, help="compare with these rules, not the trace")
    p.add_argument("--since", type=iso, default=None)
    p.add_argument("--until", type=iso, default=None)
    p.set_defaults(func=cmd_replay, history=history)
    return replay_parser


def _compile(path: str, args: argparse.Namespace) -> RuleSet | None:
    """Compile or print every problem; warnings go to stderr so stdout stays the answer."""
    try:
        text = read_text(path)
    except ConfigError as exc:
        print(exc)
        return None
    result = check_rules(text, path, pools=_names(args.pools), skills=_names(args.skills))
    for line in result.lines() if result.errors else []:
        print(line)
    if result.ruleset is not None:
        for w in result.warnings:
            print(w, file=sys.stderr)
    return result.ruleset


def cmd_check(args: argparse.Namespace) -> int:
    """Exit 0 when valid (warnings allowed), 1 with one FILE:LINE:COL line per problem."""
    try:
        text = read_text(args.file)
    except ConfigError as exc:
        print(exc)
        return 1
    result = check_rules(text, args.file, pools=_names(args.pools), skills=_names(args.skills))
    for line in result.lines():
        print(line)
    if result.ruleset is None:
        n = len(result.errors)
        print(f"{args.file}: {n} error{'s' * (n != 1)}", file=sys.stderr)
        return 1
    rs = result.ruleset
    print(
        f"{args.file}: ok, {len(rs.rules)} rules, version {rs.version}, "
        f"pools {', '.join(sorted(rs.pools))}"
        + (f", {len(result.warnings)} warning(s)" if result.warnings else "")
    )
    return 0


def format_decision(d: Decision) -> list[str]:
    """The lines `explain` prints for a decision."""
    fallback = "; ".join(
        f"after {s.after_s:g}s " + (f"pool {s.pool}" if s.pool else "any agent")
        + (f" (min level {s.min_level})" if s.min_level else "")
        for s in d.fallback
    )
    return [
        f"pool: {d.pool}",
        f"priority: {d.priority}",
        f"first: {'bot' if d.bot_first else 'human'}",
        f"skills: {', '.join(d.skills) or '-'} (min level {d.min_level})",
        f"sla: {d.sla_profile or '-'}",
        f"tags: {', '.join(d.tags) or '-'}",
        f"fallback: {fallback or '-'}",
        f"intents: {', '.join(d.intents) or '-'}",
        f"rule: {d.rule or '(default)'}",
        f"version: {d.version}",
        "why:",
        *(f"  {line}" for line in d.explanation),
    ]


def cmd_explain(args: argparse.Namespace) -> int:
    rules = _compile(args.file, args)
    if rules is None:
        return 1
    now = _in_zone(args.at, rules) or datetime.now(ZoneInfo(rules.timezone))
    inp = RuleInput(
        text=args.text,
        channel=args.channel,
        account=args.account,
        now=now,
        kind=args.kind,
        customer_tags=frozenset(args.tag),
        segment=args.segment,
        language=args.language,
        message_count=args.message_count,
        reopened=args.reopened,
        previous_pool=args.previous_pool,
        product_id=args.product,
        product_title=args.product_title,
    )
    print(f"message at {now.astimezone(ZoneInfo(rules.timezone)).isoformat()} ({rules.timezone})")
    for line in format_decision(rules.explain(inp)):
        print(line)
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    new = _compile(args.rules, args)
    old = _compile(args.old, args) if args.old else None
    if new is None or (args.old and old is None):
        return 1
    if args.trace is None:
        if args.history is None:
            print("replay: --trace FILE is required here (`kefu rules replay` reads the router's history)")
            return 1
        code: int = args.history(args, new, old)
        return code
    try:
        size = Path(args.trace).stat().st_size
    except OSError as exc:
        print(ConfigError(f"cannot read: {exc.strerror or exc}", args.trace))
        return 1
    bar = Progress("replay", size)
    try:
        report = replay(
            read_trace(args.trace),
            new,
            old=old,
            since=_in_zone(args.since, new),
            until=_in_zone(args.until, new),
            progress=bar.update,
        )
    except ConfigErrors as exc:
        print(exc)
        return 1
    except ConfigError as exc:
        print(exc)
        return 1
    finally:
        bar.close()
    for line in report.lines():
        print(line)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kefu rules", description=__doc__)
    add_rules_parsers(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
