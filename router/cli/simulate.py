"""`kefu simulate`: a Double-11 day on the real assignment scripts, with a virtual clock."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from dataclasses import replace
from typing import Any

from kefu_common.errors import ConfigError
from router.loadgen.progress import Progress
from router.pipeline.assignment import POLICIES


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "simulate", help="simulate a day of chats on the real assignment scripts; compare with Erlang-A",
        description="Poisson arrivals (or an hourly --trace), exponential or log-normal handle times, customers "
                    "who give up; the real routing scripts on an embedded Redis with a virtual clock.")
    p.add_argument("--agents", type=int, default=10)
    p.add_argument("--arrivals", type=float, default=200.0, metavar="PER_HOUR")
    p.add_argument("--handle-s", type=float, default=180.0, help="mean handle time (s)")
    p.add_argument("--handle-dist", choices=("exp", "lognormal"), default="exp")
    p.add_argument("--handle-cv", type=float, default=1.0, help="log-normal: standard deviation / mean")
    p.add_argument("--patience-s", type=float, default=120.0, help="mean patience (s); 0: nobody gives up")
    p.add_argument("--hours", type=float, default=8.0)
    p.add_argument("--policy", choices=POLICIES, default="least_loaded")
    p.add_argument("--chats-per-agent", type=int, default=1)
    p.add_argument("--skills", metavar="FILE", help="a kefu config (e.g. config/examples/shop.yaml): its pools, "
                                                     "agents and skills instead of --agents in one pool")
    p.add_argument("--trace", metavar="FILE", help="arrivals per hour, one number a line from hour 0")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--plot", metavar="PNG", help="write queue length and service level over the day")
    p.add_argument("--target-sl", type=float, default=0.8, help="with --find-agents: service level to reach")
    p.add_argument("--find-agents", action="store_true", help="the fewest agents each hour that reach --target-sl")
    p.add_argument("--json", action="store_true", help="print JSON only")
    p.set_defaults(func=cmd_simulate)


def plan_from(args: argparse.Namespace) -> Any:
    from kefu_common.errors import ConfigErrors
    from router.config.settings import read_settings
    from router.simulate.workload import SimPlan, read_trace, shop_needs

    def refuse(msg: str) -> SystemExit:
        print(f"kefu simulate: {msg}", file=sys.stderr)
        return SystemExit(2)

    if args.agents < 1 or args.chats_per_agent < 1:
        raise refuse("--agents and --chats-per-agent must be at least 1")
    if args.handle_s <= 0 or args.patience_s < 0 or args.hours <= 0 or args.arrivals < 0 or args.handle_cv <= 0:
        raise refuse("--handle-s, --hours and --handle-cv must be > 0; --arrivals and --patience-s >= 0")
    if not 0 < args.target_sl < 1:
        raise refuse("--target-sl is a fraction between 0 and 1, e.g. 0.8")
    try:
        trace = read_trace(args.trace) if args.trace else ()
        shop = None
        if args.skills:
            # Only pools, agents and skills matter here: tokens and secrets may stay unset.
            shop, errors = read_settings(args.skills, unset_env=[])
            if errors or shop is None:
                raise ConfigErrors(errors)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        raise SystemExit(2) from None
    plan = SimPlan(agents=args.agents, arrivals_per_hour=args.arrivals, handle_s=args.handle_s,
                   handle_dist=args.handle_dist, handle_cv=args.handle_cv, patience_s=args.patience_s,
                   hours=args.hours, policy=args.policy, chats_per_agent=args.chats_per_agent, trace=trace,
                   seed=args.seed, shop=shop)
    if shop is not None:
        needs = shop_needs(shop)
        if not needs:
            raise refuse(f"{args.skills} has no pool with agents who take chats")
        plan = replace(plan, needs=needs)
    return plan


def cmd_simulate(args: argparse.Namespace) -> int:
    plan = plan_from(args)
    if args.find_agents:
        table = asyncio.run(find_agents(plan, args.target_sl, quiet=args.json))
        if args.json:
            print(json.dumps(table, indent=2))
        else:
            print(f"{'hour':>4} {'arrivals':>9} {'Erlang-A':>9} {'simulated':>10} {'service level':>14}")
            for row in table["hours"]:
                print(f"{row['hour']:>4} {row['arrivals']:>9.0f} {row['agents_erlang_a']:>9} "
                      f"{row['agents']:>10} {row['service_level_30s']:>14}")
        return 0
    report, out = asyncio.run(simulate(plan, quiet=args.json))
    if args.plot:
        from router.simulate.plots import plot_day

        plot_day(out, report, args.plot)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        shown = {k: v for k, v in report.items() if k != "hours"}
        for k, v in shown.items():
            print(f"{k:>28}: {v}")
    return 0


async def simulate(plan: Any, quiet: bool = False, url: str | None = None) -> tuple[dict[str, Any], Any]:
    """Run one plan on a throwaway embedded Redis (or `url`); the report and the raw outcome."""
    from router.simulate.engine import Simulation, settings_for, summary
    from router.store.embedded import EmbeddedRedis

    bar = Progress("simulated hours", int(plan.hours))
    seats = sum(a.max_chats for a in settings_for(plan).agents)

    async def go(redis_url: str) -> Any:
        sim = Simulation(plan, redis_url, None if quiet else (lambda t: bar.show(int(t // 3600))))
        return await sim.run()

    if url is not None:
        out = await go(url)
    else:
        with tempfile.TemporaryDirectory(prefix="kefu-sim-") as tmp:
            async with EmbeddedRedis(tmp, fsync="no") as server:
                out = await go(server.url)
    if not quiet:
        bar.done(int(plan.hours))
    return summary(plan, out, seats), out


async def find_agents(plan: Any, target: float, quiet: bool = False) -> dict[str, Any]:
    """Per hour of the trace (or the one rate): Erlang-A's answer, then the simulation's, found by
    simulating that hour's rate at steady state and adding agents until the target is met."""
    from router.simulate.erlang import agents_for

    rates = list(plan.trace) if plan.trace else [plan.arrivals_per_hour]
    theta = 1 / plan.patience_s if plan.patience_s > 0 else 0.0
    rows = []
    for hour, per_hour in enumerate(rates):
        model = agents_for(per_hour / 3600, 1 / plan.handle_s, theta, target) if per_hour > 0 else 0
        n, sl = max(1, model), None
        for _ in range(20):
            if per_hour <= 0:
                sl = 1.0
                break
            probe = replace(plan, agents=n, trace=(), arrivals_per_hour=per_hour, hours=2.0, shop=None, needs=())
            report, _ = await simulate(probe, quiet=True)
            sl = report["service_level_30s"]
            if sl is not None and sl >= target:
                break
            n += 1
        rows.append({"hour": hour, "arrivals": per_hour, "agents_erlang_a": model,
                     "agents": n if per_hour > 0 else 0, "service_level_30s": sl})
        if not quiet:
            print(f"hour {hour}: {rows[-1]['agents']} agents", file=sys.stderr)
    return {"target_service_level_30s": target, "hours": rows}
