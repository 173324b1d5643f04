"""The live documents, one per kind, and their checks: the same as the config files get, with
every problem at FILE:LINE:COL of the document (`pools.yaml:3:7: ...`).

A document's shape is the config section it replaces, so an exported document pastes back into
a config file: `pools: [...]`, `hours: {...}` (bot.hours; `hours: null` is always open),
`shifts: [...]`; quick replies and the FAQ are their files as they are.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

import msgspec
import yaml

from kefu_common.errors import ConfigError, ConfigErrors
from kefu_common.yamlpos import YamlDoc, load_yaml
from router.bot.config import HoursSettings
from router.bot.faq_kb import FaqKb, parse_faq
from router.bot.hours import BusinessHours
from router.bot.quick_replies import QuickReplies, parse_quick_replies
from router.config.ops import OpsSettings, ShiftSettings, check_ops, minutes
from router.config.schema import PoolSettings
from router.config.settings import validation_error
from routing_rules.problems import reason_of

_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


@dataclass(frozen=True, slots=True)
class Context:
    """What a check needs from the live state: the agents a shift may name (None: any)."""

    agents: Collection[str] | None = None


@dataclass(frozen=True, slots=True)
class _Agent:
    id: str
    discount_limit: float | None = None


class _Pools(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    pools: tuple[PoolSettings, ...] = ()


class _Hours(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    hours: HoursSettings | None = None


class _Shifts(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    shifts: tuple[ShiftSettings, ...] = ()


def _doc(source: str, file: str) -> YamlDoc:
    doc = load_yaml(source, file)
    if doc.data is None:
        doc.data = {}
    return doc


def _convert(doc: YamlDoc, typ: type[Any]) -> Any:
    if not isinstance(doc.data, dict):
        raise ConfigErrors([doc.error((), "expected a mapping", code="document_not_mapping")])
    try:
        return msgspec.convert(doc.data, typ)
    except msgspec.ValidationError as exc:
        raise ConfigErrors([validation_error(doc, exc)]) from None


def check_pools(source: str, ctx: Context, file: str = "pools.yaml") -> tuple[PoolSettings, ...]:
    doc = _doc(source, file)
    pools: tuple[PoolSettings, ...] = _convert(doc, _Pools).pools
    errors: list[ConfigError] = []
    seen: set[str] = set()
    for i, p in enumerate(pools):
        if not _ID.match(p.id):
            errors.append(doc.error(("pools", i, "id"), f"pool id {p.id!r} must be 1-64 of A-Z a-z 0-9 _ . -",
                                    code="bad_pool_id", params={"value": p.id}))
        if p.id in seen:
            errors.append(doc.error(("pools", i, "id"), f"duplicate pool id {p.id!r}",
                                    code="duplicate_pool_id", params={"value": p.id}))
        seen.add(p.id)
        if len(p.name) > 200:
            errors.append(doc.error(("pools", i, "name"), "pools.name: at most 200 characters",
                                    code="pool_name_too_long", params={"limit": 200}))
        for j, skill in enumerate(p.skills):
            if not _ID.match(skill):
                errors.append(doc.error(("pools", i, "skills", j),
                                        f"skill {skill!r} must be 1-64 of A-Z a-z 0-9 _ . -",
                                        code="bad_skill_id", params={"value": skill}))
    if not pools:
        errors.append(doc.error((), "pools: at least one pool is needed", code="no_pools"))
    if errors:
        raise ConfigErrors(errors)
    return pools


def check_hours(source: str, ctx: Context, file: str = "hours.yaml") -> HoursSettings | None:
    doc = _doc(source, file)
    hours: HoursSettings | None = _convert(doc, _Hours).hours
    if hours is not None:
        try:
            BusinessHours.from_settings(hours)
        except ValueError as exc:
            # Why, as the rules' `hours:` problem has it: a day, a window, a date, a time zone.
            raise ConfigErrors([doc.error(("hours",), f"hours: {exc}", code="bad_hours",
                                          params={"detail": str(exc), **reason_of(exc)})]) from None
    return hours


def check_shifts(source: str, ctx: Context, file: str = "shifts.yaml") -> tuple[ShiftSettings, ...]:
    doc = _doc(source, file)
    shifts: tuple[ShiftSettings, ...] = _convert(doc, _Shifts).shifts
    # An agent list of every name a shift uses when the caller knows no agents: nothing unknown.
    known = ctx.agents if ctx.agents is not None else {a for s in shifts for a in s.agents}
    errors = check_ops(doc, OpsSettings(), shifts, [_Agent(a) for a in sorted(known)])
    if errors:
        raise ConfigErrors(errors)
    return shifts


def check_quick_replies(source: str, ctx: Context, file: str = "quick_replies.yaml") -> QuickReplies:
    return parse_quick_replies(source, file)


def check_faq(source: str, ctx: Context, file: str = "faq.yaml") -> FaqKb:
    return parse_faq(source, file)


@dataclass(frozen=True, slots=True)
class Kind:
    name: str
    file: str
    """How errors name the document: `faq.yaml:12:5: ...`."""
    check: Callable[[str, Context], Any]
    items: Callable[[Any], list[str]]
    """The ids of what the document lists, for a version's summary (added, removed)."""


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("pools", "pools.yaml", check_pools, lambda v: [p.id for p in v]),
    Kind("hours", "hours.yaml", check_hours, lambda v: []),
    Kind("shifts", "shifts.yaml", check_shifts, lambda v: [s.name for s in v]),
    Kind("quick_replies", "quick_replies.yaml", check_quick_replies, lambda v: [r.id for r in v.replies]),
    Kind("faq", "faq.yaml", check_faq, lambda v: [e.id for e in v.entries]),
)}


def _hhmm(value: str | int) -> str:
    m = minutes(value)
    return f"{m // 60:02d}:{m % 60:02d}" if m is not None else str(value)


def dump(data: Any) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, default_flow_style=False, width=100)


def pools_source(pools: Collection[PoolSettings]) -> str:
    out = []
    for p in pools:
        item: dict[str, Any] = {"id": p.id}
        if p.name:
            item["name"] = p.name
        if p.skills:
            item["skills"] = list(p.skills)
        out.append(item)
    return dump({"pools": out})


def hours_source(hours: HoursSettings | None) -> str:
    if hours is None:
        return "# No business hours: agents are always in.\nhours: null\n"
    return dump({"hours": msgspec.to_builtins(hours)})


def shifts_source(shifts: Collection[ShiftSettings]) -> str:
    out = []
    for s in shifts:
        item = msgspec.to_builtins(s)
        item["start"], item["end"] = _hhmm(s.start), _hhmm(s.end)
        out.append(item)
    return dump({"shifts": out})
