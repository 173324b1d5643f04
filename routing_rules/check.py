"""The entry points: check a rules text, compile it, or load it from a file."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from kefu_common.errors import ConfigError, ConfigErrors
from kefu_common.yamlpos import load_yaml, read_text
from routing_rules.ctx import Ctx
from routing_rules.parse import parse_rules
from routing_rules.ruleset import RuleSet
from routing_rules.shadow import find_shadowed


@dataclass(slots=True)
class CheckResult:
    """Every problem in a rules file; warnings print as FILE:LINE:COL: warning: ..."""

    errors: list[ConfigError] = field(default_factory=list)
    warnings: list[ConfigError] = field(default_factory=list)
    ruleset: RuleSet | None = None
    """The compiled rules when there were no errors."""

    @property
    def ok(self) -> bool:
        return not self.errors

    def lines(self) -> list[str]:
        """Errors and warnings in file order, one `FILE:LINE:COL: ...` line each."""
        both = sorted([*self.errors, *self.warnings], key=lambda e: (e.line, e.col))
        return [str(e) for e in both]


def check_rules(
    text: str,
    file: str = "<rules>",
    *,
    pools: Collection[str] | None = None,
    skills: Collection[str] | None = None,
    channels: Collection[str] | None = None,
) -> CheckResult:
    """Check a rules text; with `pools`/`skills`, names outside them are errors; a channel
    name near one of `channels` (the router's registered channels) is a warning."""
    return _check(text, file, pools, skills, channels, shadow=True)


def _check(
    text: str,
    file: str,
    pools: Collection[str] | None,
    skills: Collection[str] | None,
    channels: Collection[str] | None,
    *,
    shadow: bool,
) -> CheckResult:
    try:
        doc = load_yaml(text, file)
    except ConfigError as exc:
        return CheckResult(errors=[exc])
    ctx = Ctx(doc, pools, skills, channels)
    ruleset = parse_rules(ctx, text)
    # The quadratic shadow analysis only produces warnings, so compiling for use skips it.
    if ruleset is not None and shadow:
        for later, earlier in find_shadowed(ruleset.rules):
            why = (
                "has no conditions and decides every message"
                if earlier.cond is None
                else "matches every message this rule matches"
            )
            ctx.warn(
                ("rules", later.index),
                f"rule {later.name!r} can never match: earlier rule {earlier.name!r} "
                f"(line {earlier.line}) {why}",
                "shadowed_rule", rule=later.name, earlier=earlier.name, line=earlier.line,
                always=earlier.cond is None,
            )
    errors = sorted(ctx.errors, key=lambda e: (e.line, e.col))
    return CheckResult(errors, ctx.warnings, ruleset if not errors else None)


def compile_rules(
    text: str,
    file: str = "<rules>",
    *,
    pools: Collection[str] | None = None,
    skills: Collection[str] | None = None,
    channels: Collection[str] | None = None,
) -> RuleSet:
    """Compile a rules text once; raises ConfigErrors listing every problem."""
    result = _check(text, file, pools, skills, channels, shadow=False)
    if result.ruleset is None:
        raise ConfigErrors(result.errors)
    return result.ruleset


def load_rules(
    path: str | Path,
    *,
    pools: Collection[str] | None = None,
    skills: Collection[str] | None = None,
    channels: Collection[str] | None = None,
) -> RuleSet:
    """Read and compile a rules file; raises ConfigError(s) naming FILE:LINE:COL."""
    return compile_rules(read_text(path), str(path), pools=pools, skills=skills, channels=channels)
