"""Routing-rule versions kept in Redis, the source of truth once a router has started.

Every activation keeps the YAML source with its author, time, a unified diff against the version
before and a one-line summary, under an id that only grows: 'v1', 'v2', ... A rollback activates
an old source again as a new version, so the history stays a line. `activate` compares the
caller's idea of the active version with the pointer and writes version and pointer in one Lua
script (rules_activate.lua), which also publishes a notice; router/rules/sync.py makes every
process follow the pointer.
"""

from __future__ import annotations

import asyncio
import difflib
import time
from collections.abc import Collection
from typing import Any

from adapters import registry
from kefu_common.errors import ConfigError, ConfigErrors, ProtocolError
from kefu_common.yamlpos import load_yaml
from router.ops.sla import check_rules as check_sla
from router.store import Store
from router.store.calls.streams import RulesActivate
from routing_rules import CheckResult, RuleSet, check_rules, compile_rules


class StaleVersion(ProtocolError):
    """The active version is no longer the one the caller based its change on."""

    def __init__(self, expected: str, current: str) -> None:
        super().__init__("stale_version", f"the active rules are {current or 'none'}, not "
                         f"{expected or 'none'}; reload them and apply your change again", 412)
        self.current = current


def version_number(vid: str) -> int:
    """12 for 'v12'; 0 for anything else (a content-hash version compiled from a file)."""
    return int(vid[1:]) if vid[:1] == "v" and vid[1:].isdigit() else 0


def _rule_names(source: str) -> list[str]:
    """Rule names only, from the YAML alone: compiling twice more per activation costs too much."""
    try:
        doc = load_yaml(source).data
    except ConfigError:
        return []
    rules = doc.get("rules") if isinstance(doc, dict) else None
    if not isinstance(rules, list):
        return []
    return [str(r["name"]) for r in rules if isinstance(r, dict) and "name" in r]


def summarize(old: str, new: str, diff: str) -> str:
    """'rules added: a; removed: b; +3 -1 lines' -- what a person scanning the history needs."""
    added = sum(1 for ln in diff.splitlines() if ln.startswith("+") and not ln.startswith("+++"))
    removed = sum(1 for ln in diff.splitlines() if ln.startswith("-") and not ln.startswith("---"))
    if not old:
        n = len(_rule_names(new))
        return f"first version, {n} rule{'s' * (n != 1)}"
    if not diff:
        return "same source as before"
    before, after = _rule_names(old), _rule_names(new)
    parts = []
    if gained := [n for n in after if n not in before]:
        parts.append("rules added: " + ", ".join(gained))
    if lost := [n for n in before if n not in after]:
        parts.append("removed: " + ", ".join(lost))
    if not gained and not lost and before != after:
        parts.append("rules reordered")
    parts.append(f"+{added} -{removed} lines")
    return "; ".join(parts)


class RuleVersions:
    """Reads and activates rule versions; compiles against the configured pools and skills."""

    def __init__(self, store: Store, pools: Collection[str] | None, skills: Collection[str] | None) -> None:
        self.store = store
        self.keys = store.keys
        self.pools = pools
        self.skills = skills
        self.sla_profiles: Collection[str] | None = None
        """Names a rule's `sla:` may use (router/ops/sla.py sets them); None checks nothing."""

    def check(self, source: str, file: str = "<rules>") -> CheckResult:
        result = check_rules(source, file, pools=self.pools, skills=self.skills, channels=registry.names())
        if result.ruleset is not None and self.sla_profiles is not None:
            if problems := check_sla(result.ruleset, self.sla_profiles):
                result.errors.extend(problems)
                result.ruleset = None
        return result

    def compile(self, vid: str, source: str) -> RuleSet:
        """The whole version compiled, named by its id so decision records say which one decided;
        raises ConfigErrors."""
        rs = compile_rules(source, f"rules {vid}", pools=self.pools, skills=self.skills)
        rs.version = vid
        return rs

    async def active_id(self) -> str:
        """The active version id, '' before the first activation."""
        return await self.store.rules.active_id()

    async def get(self, vid: str) -> dict[str, Any] | None:
        data = await self.store.rules.version(vid)
        if not data:
            return None
        return {
            "version": data["version"],
            "source": data.get("source", ""),
            "diff": data.get("diff", ""),
            "author": data.get("author", ""),
            "at": float(data.get("at") or 0),
            "summary": data.get("summary", ""),
            "previous": data.get("previous") or None,
        }

    async def history(self, limit: int = 200) -> list[dict[str, Any]]:
        """Newest first, without sources and diffs."""
        rows = await self.store.rules.log(limit)
        active = await self.active_id()
        return [{"version": vid, "author": author, "at": at, "summary": summary, "active": vid == active}
                for vid, author, at, summary in rows]

    async def activate(self, source: str, author: str, expected: str, *, note: str = "",
                       file: str = "<rules>", checked: CheckResult | None = None) -> RuleSet:
        """Check `source` (unless `checked` is its result), then make it the active version if
        `expected` still is.

        Raises ConfigErrors (nothing stored) or StaleVersion (nothing stored). Returns the
        compiled rules, whose `version` is the new id.
        """
        # Compiling a large set takes tens of milliseconds: off the event loop, so the route
        # worker and the sockets of this process keep going meanwhile.
        result = checked if checked is not None else await asyncio.to_thread(self.check, source, file)
        if result.ruleset is None:
            raise ConfigErrors(result.errors)
        current = await self.active_id()
        if current != expected:
            raise StaleVersion(expected, current)  # cheap early answer; the script decides for real
        old = await self.get(expected) if expected else None
        old_source = old["source"] if old else ""
        diff = "".join(difflib.unified_diff(
            old_source.splitlines(keepends=True), source.splitlines(keepends=True),
            fromfile=expected or "(none)", tofile="(new version)"))
        summary = summarize(old_source, source, diff)
        if note:
            summary = f"{note}; {summary}"
        done = await self.store.run(RulesActivate(expected, source, author, time.time(), diff, summary,
                                                  result.ruleset.version))
        if not done.ok:
            raise StaleVersion(expected, done.version)
        rs = result.ruleset
        rs.version = done.version
        return rs
