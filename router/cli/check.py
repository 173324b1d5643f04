"""`kefu check`: what `kefu serve` loads at start, checked without starting anything.

The same loaders run as in `kefu serve` (router/runtime.py): the settings, the rules file against
the configured pools and skills, the SLA profiles and every `sla:` a rule names, the bot's files,
and (within the settings) the shift roster's times, days, zones and agents. Nothing touches Redis,
binds a port or writes a file.

An `X_env: NAME` whose variable is unset is a warning here, not an error: the config is often
checked where the secrets are not (CI, a laptop). X gets a placeholder so the rest is still checked;
`kefu serve` refuses to start until the variable is set.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

from adapters import registry
from kefu_common.errors import ConfigError
from kefu_common.yamlpos import read_text
from router.bot.config import resolve
from router.bot.library import Library
from router.bot.orders import FileOrderService, order_service_class
from router.config.ops import DAYS, minutes
from router.config.settings import Settings, read_settings
from router.ops.sla import check_rules as check_sla_names
from router.ops.sla import profiles_path
from router.ops.sla_profiles import SlaProfile, load_profiles
from router.rules.holder import default_pool, known_names
from routing_rules import RuleSet, builtin_default, check_rules


@dataclass(slots=True)
class Report:
    """What `kefu check` found; `settings` is None when the file's shape is wrong."""

    errors: list[ConfigError] = field(default_factory=list)
    warnings: list[ConfigError] = field(default_factory=list)
    settings: Settings | None = None
    ruleset: RuleSet | None = None
    profiles: dict[str, SlaProfile] = field(default_factory=dict)

    def collect(self, exc: ConfigError) -> None:
        self.errors.extend(getattr(exc, "errors", [exc]))


def check_config(path: str | Path) -> Report:
    """Every problem `kefu serve` would stop at, in the order it meets them."""
    r = Report()
    r.settings, errors = read_settings(path, unset_env=r.warnings)
    r.errors.extend(errors)
    s = r.settings
    if s is None:
        return r  # the later checks need pools, skills and paths
    r.ruleset = _rules(r, s)
    sla = profiles_path(s)
    try:
        if sla is None or sla.exists():  # a missing file was named by the settings
            r.profiles = load_profiles(sla) if sla is not None else {}
            if r.ruleset is not None:
                r.errors.extend(check_sla_names(r.ruleset, r.profiles))
    except ConfigError as exc:
        r.collect(exc)
    _bot_files(r, s)
    return r


def _rules(r: Report, s: Settings) -> RuleSet | None:
    path = s.rules_path()
    if path is None:
        return builtin_default(default_pool(s))
    if not path.exists():
        return None  # the settings said so at routing.rules
    pools, skills = known_names(s)
    try:
        result = check_rules(read_text(path), str(path), pools=pools, skills=skills, channels=registry.names())
    except ConfigError as exc:
        r.collect(exc)
        return None
    r.errors.extend(result.errors)
    r.warnings.extend(result.warnings)
    return result.ruleset


def _bot_files(r: Report, s: Settings) -> None:
    """The FAQ, quick replies, compliance terms and orders, loaded as the bot stage loads them."""
    library = Library(s.bot, s.base_dir)
    paths = [p for p in (library.paths.faq, library.paths.quick_replies, library.paths.compliance) if p]
    try:
        if all(p.exists() for p in paths):  # a missing one was named by the settings
            library.load_all()
    except ConfigError as exc:
        r.collect(exc)
    try:
        if s.bot.order_service:
            order_service_class(s.bot.order_service)  # not built: it may connect somewhere
        elif (orders := resolve(s.base_dir, s.bot.orders)) is not None and orders.exists():
            FileOrderService(orders)
    except ConfigError as exc:
        r.collect(exc)


def summary(r: Report) -> list[str]:
    s, rs = r.settings, r.ruleset
    assert s is not None and rs is not None
    roles: dict[str, int] = {}
    for a in s.agents:
        roles[a.role.value] = roles.get(a.role.value, 0) + 1
    several = sum(len(a.pools) > 1 for a in s.agents)
    shifts = []
    for sh in s.shifts:
        start, end = (f"{m // 60:02}:{m % 60:02}" for m in (minutes(sh.start) or 0, minutes(sh.end) or 0))
        days = "" if set(sh.days) == set(DAYS) else " " + ",".join(sh.days)
        shifts.append(f"{sh.name} {start}-{end}{days} ({len(sh.agents)})")
    sla = profiles_path(s)
    return [
        f"{s.source}: ok",
        f"  pools: {len(s.pools)} ({', '.join(s.pool_ids())})",
        f"  agents: {len(s.agents)} ({', '.join(f'{role} {n}' for role, n in sorted(roles.items()))}); "
        f"{several} in more than one pool",
        f"  shifts: {'; '.join(shifts) or 'none (agents go online by hand)'}",
        f"  rules: {len(rs.rules)} from {_shown(s.rules_path()) or 'the built-in default'}, version {rs.version}",
        f"  SLA profiles: {len(r.profiles)} ({', '.join(sorted(r.profiles))}) from {_shown(sla)}",
    ]


def _shown(path: Path | None) -> str | None:
    """A path below the working directory, relative to it: what a user typed or sees."""
    if path is None:
        return None
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def cmd_check(args: argparse.Namespace) -> int:
    """Exit 0 with a summary (warnings on stderr), or 2 with one FILE:LINE:COL line per problem."""
    config = args.config or ("config/kefu.yaml" if Path("config/kefu.yaml").exists() else None)
    if config is None:
        print("kefu check: no --config and no ./config/kefu.yaml (kefu serve would run the demo)",
              file=sys.stderr)
        return 2
    r = check_config(config)
    for w in r.warnings:
        print(w, file=sys.stderr)
    if r.errors:
        for e in r.errors:
            print(e)
        n = len(r.errors)
        print(f"{config}: {n} error{'s' * (n != 1)}", file=sys.stderr)
        return 2
    for line in summary(r):
        print(line)
    return 0
