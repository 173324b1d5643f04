"""A rules file's YAML to a RuleSet: top level, calendars, intents, `then` and the default."""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kefu_common.errors import ConfigError
from kefu_common.yamlpos import Path_
from routing_rules.ctx import Ctx, kind_of
from routing_rules.intents import BUILTIN_ANGRY, BUILTIN_INTENTS, builtin_table
from routing_rules.model import FallbackStep
from routing_rules.parse_when import WhenParser
from routing_rules.problems import kind_code, reason_of, shown
from routing_rules.regex import Regex
from routing_rules.ruleset import DEFAULT_TIMEZONE, PRIORITY_NAMES, Action, Rule, RuleSet
from routing_rules.times import Calendar, parse_days, parse_duration, parse_window

TOP_KEYS = ("timezone", "calendars", "intents", "angry", "default", "rules")
RULE_KEYS = ("name", "description", "when", "then", "continue", "enabled")
ACTION_KEYS = ("pool", "priority", "boost", "skills", "min_level", "tags", "bot", "human",
               "fallback", "sla")
CONTINUE_KEYS = ("tags", "boost")
LEXICON_KEYS = ("keywords", "add_keywords", "remove_keywords", "patterns", "add_patterns")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def version_of(text: str) -> str:
    """Stable content hash of the rules source: the same text is the same version."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def parse_rules(ctx: Ctx, text: str) -> RuleSet | None:
    """The compiled RuleSet, or None when ctx holds errors."""
    root = ctx.mapping((), ctx.doc.data, "rules file")
    if root is None:
        return None
    ctx.unknown_keys((), TOP_KEYS)
    tz = _timezone(ctx, root)
    calendars = _calendars(ctx, root.get("calendars"))
    table = _intents(ctx, root)
    default = _default(ctx, root)
    when = WhenParser(ctx, calendars, table.names)
    rules = _rules(ctx, root.get("rules"), when, default)
    if ctx.errors or default is None or rules is None:
        return None
    return RuleSet(
        rules,
        default,
        version=version_of(text),
        timezone=tz,
        table=table,
        file=ctx.doc.file,
        bank=when.bank.freeze(),
    )


def _timezone(ctx: Ctx, root: dict[str, Any]) -> str:
    if "timezone" not in root:
        return DEFAULT_TIMEZONE
    name = ctx.string(("timezone",), root["timezone"], "timezone")
    if name is None:
        return DEFAULT_TIMEZONE
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        ctx.err(("timezone",), f"unknown timezone {name!r}; expected an IANA name such as "
                "Asia/Shanghai or Europe/Berlin", "unknown_timezone", name=name)
        return DEFAULT_TIMEZONE
    return name


def _calendars(ctx: Ctx, value: Any) -> dict[str, Calendar]:
    out: dict[str, Calendar] = {}
    if value is None:
        return out
    node = ctx.mapping(("calendars",), value, "calendars")
    for name, spec in (node or {}).items():
        path: Path_ = ("calendars", name)
        body = ctx.mapping(path, spec, f"calendar {name!r}")
        if body is None:
            continue
        ctx.unknown_keys(path, ("days", "hours", "closed"))
        try:
            days = parse_days(body.get("days", "all"))
        except (ValueError, TypeError) as exc:
            ctx.err((*path, "days"), f"days: {exc}", "bad_days", detail=str(exc), **reason_of(exc))
            continue
        windows = ctx.strings((*path, "hours"), body.get("hours"), "hours (HH:MM-HH:MM)")
        if windows is None:
            continue
        parsed = []
        for i, w in enumerate(windows):
            try:
                parsed.append(parse_window(w))
            except ValueError as exc:
                wp = (*path, "hours", i) if isinstance(body["hours"], list) else (*path, "hours")
                ctx.err(wp, f"hours: {exc}", "bad_hours", detail=str(exc), **reason_of(exc))
        closed = _dates(ctx, (*path, "closed"), body.get("closed", []))
        if len(parsed) == len(windows) and closed is not None:
            out[name] = Calendar(name, days, tuple(parsed), closed)
    return out


def _dates(ctx: Ctx, path: Path_, value: Any) -> frozenset[date] | None:
    if not isinstance(value, list):
        ctx.err(path, f"closed: expected a list of dates (YYYY-MM-DD), got {kind_of(value)}",
                "closed_not_list", got=kind_code(value))
        return None
    out = set()
    for i, item in enumerate(value):
        try:
            out.add(item if isinstance(item, date) else date.fromisoformat(str(item)))
        except ValueError:
            ctx.err((*path, i), f"closed: expected a date as YYYY-MM-DD, got {item!r}",
                    "closed_bad_date", value=shown(item))
            return None
    return frozenset(out)


def _lexicon(
    ctx: Ctx, path: Path_, spec: Any, base: tuple[tuple[str, ...], tuple[str, ...]]
) -> tuple[tuple[str, ...], tuple[Regex, ...]] | None:
    """A built-in (or empty) keyword/pattern list with the file's replace/add/remove applied."""
    body = ctx.mapping(path, spec, "intent lists (keywords, add_keywords, patterns, ...)")
    if body is None:
        return None
    ctx.unknown_keys(path, LEXICON_KEYS)
    lists: dict[str, tuple[str, ...]] = {}
    for key in LEXICON_KEYS:
        if key in body:
            # An empty list is how an admin clears a built-in list, so it is allowed here.
            got = () if body[key] == [] else ctx.strings((*path, key), body[key], key)
            if got is None:
                return None
            lists[key] = got
    keywords = list(lists.get("keywords", base[0])) + list(lists.get("add_keywords", ()))
    for i, kw in enumerate(lists.get("remove_keywords", ())):
        if kw in keywords:
            keywords = [k for k in keywords if k != kw]
        else:
            ctx.warn((*path, "remove_keywords", i), f"keyword {kw!r} is not in the list",
                     "keyword_not_in_list", keyword=kw)
    patterns = []
    if "patterns" not in lists:
        patterns = [Regex.compile(p) for p in base[1]]
    for key in ("patterns", "add_patterns"):
        for i, source in enumerate(lists.get(key, ())):
            try:
                patterns.append(Regex.compile(source))
            except ConfigError as exc:
                where = (*path, key, i) if isinstance(body[key], list) else (*path, key)
                ctx.err(where, exc.message, "bad_pattern", detail=exc.message, **reason_of(exc))
    if not keywords and not patterns:
        ctx.err(path, "no keywords or patterns left: the intent could never be detected",
                "intent_never_detected")
        return None
    return tuple(keywords), tuple(patterns)


def _intents(ctx: Ctx, root: dict[str, Any]) -> Any:
    overrides = {}
    node = ctx.mapping(("intents",), root["intents"], "intents") if "intents" in root else None
    for name, spec in (node or {}).items():
        path: Path_ = ("intents", name)
        if name not in BUILTIN_INTENTS and not _NAME.match(name):
            ctx.err(path, f"intent name {name!r}: use lower case letters, digits and _",
                    "bad_intent_name", key=True, name=name)
            continue
        merged = _lexicon(ctx, path, spec, BUILTIN_INTENTS.get(name, ((), ())))
        if merged is not None:
            overrides[name] = merged
    angry = None
    if "angry" in root:
        angry = _lexicon(ctx, ("angry",), root["angry"], BUILTIN_ANGRY)
    return builtin_table(overrides, angry)


def _default(ctx: Ctx, root: dict[str, Any]) -> Action | None:
    if "default" not in root:
        ctx.err((), "missing 'default': the decision when no rule matches, "
                "e.g. default: {pool: presale}", "missing_default")
        return None
    body = ctx.mapping(("default",), root["default"], "default")
    if body is None:
        return None
    if "pool" not in body:
        ctx.err(("default",), "default: missing 'pool'", "default_missing_pool")
    allowed = tuple(k for k in ACTION_KEYS if k != "boost")
    return _action(ctx, ("default",), body, allowed, base=None)


def _action(
    ctx: Ctx, path: Path_, body: dict[str, Any], allowed: tuple[str, ...], base: Action | None
) -> Action | None:
    """`then` (or `default`) as an Action; keys it leaves out come from `base`."""
    ctx.unknown_keys(path, allowed)
    before = len(ctx.errors)
    pool = base.pool if base else ""
    if "pool" in body and (p := ctx.string((*path, "pool"), body["pool"], "pool")):
        if ctx.known((*path, "pool"), p, ctx.pools, "pool"):
            pool = p
    priority = base.priority if base else PRIORITY_NAMES["normal"]
    if "priority" in body:
        priority = _priority(ctx, (*path, "priority"), body["priority"])
    skills = base.skills if base else ()
    if "skills" in body and (got := ctx.strings((*path, "skills"), body["skills"], "skills")):
        for i, s in enumerate(got):
            sp = (*path, "skills", i) if isinstance(body["skills"], list) else (*path, "skills")
            ctx.known(sp, s, ctx.skills, "skill")
        skills = got
    min_level = base.min_level if base else 1
    if "min_level" in body:
        min_level = _level(ctx, (*path, "min_level"), body["min_level"])
    bot_first = base.bot_first if base else False
    bot, human = body.get("bot"), body.get("human")
    if "bot" in body and ctx.boolean((*path, "bot"), bot, "bot") is not None:
        bot_first = bool(bot)
    if "human" in body and ctx.boolean((*path, "human"), human, "human") is not None:
        if "bot" in body and bool(bot) == bool(human):
            ctx.err((*path, "human"), "give either bot: true or human: true, not both",
                    "bot_and_human")
        bot_first = not human
    fallback = base.fallback if base else ()
    if "fallback" in body:
        fallback = _fallback(ctx, (*path, "fallback"), body["fallback"])
    sla = base.sla_profile if base else None
    if "sla" in body:
        sla = ctx.string((*path, "sla"), body["sla"], "sla profile name")
    tags = _tags(ctx, path, body) if base is None else ()
    if len(ctx.errors) > before:
        return None
    return Action(pool, priority, skills, min_level, bot_first, fallback, sla, tags)


def _tags(ctx: Ctx, path: Path_, body: dict[str, Any]) -> tuple[str, ...]:
    if "tags" not in body:
        return ()
    return ctx.strings((*path, "tags"), body["tags"], "tags") or ()


def _priority(ctx: Ctx, path: Path_, value: Any) -> int:
    if isinstance(value, str) and value in PRIORITY_NAMES:
        return PRIORITY_NAMES[value]
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    names = ", ".join(f"{k} ({v})" for k, v in PRIORITY_NAMES.items())
    ctx.err(path, f"priority: expected an integer or one of {names}, got {kind_of(value)} "
            f"{value!r}", "bad_priority", names=list(PRIORITY_NAMES), got=kind_code(value),
            value=shown(value))
    return 0


def _level(ctx: Ctx, path: Path_, value: Any) -> int:
    level = ctx.integer(path, value, "min_level")
    if level is not None and not 1 <= level <= 5:
        ctx.err(path, f"min_level: expected 1 to 5, got {level}", "min_level_range", level=level)
    return level or 1


def _fallback(ctx: Ctx, path: Path_, value: Any) -> tuple[FallbackStep, ...]:
    if not isinstance(value, list):
        ctx.err(path, f"fallback: expected a list of steps like {{after: 60s, pool: general}}, "
                f"got {kind_of(value)}", "fallback_not_list", got=kind_code(value))
        return ()
    steps: list[FallbackStep] = []
    for i, item in enumerate(value):
        sp: Path_ = (*path, i)
        body = ctx.mapping(sp, item, "fallback step")
        if body is None:
            continue
        ctx.unknown_keys(sp, ("after", "pool", "any_agent", "min_level"))
        try:
            after = parse_duration(body.get("after"))
        except ValueError as exc:
            ctx.err((*sp, "after") if "after" in body else sp, f"fallback after: {exc}",
                    "bad_fallback_after", detail=str(exc), **reason_of(exc))
            continue
        pool = None
        if ("pool" in body) == bool(body.get("any_agent")):
            ctx.err(sp, "fallback step: give either pool: NAME or any_agent: true",
                    "fallback_step_target")
            continue
        if "pool" in body:
            pool = ctx.string((*sp, "pool"), body["pool"], "pool")
            if pool is None or not ctx.known((*sp, "pool"), pool, ctx.pools, "pool"):
                continue
        level = _level(ctx, (*sp, "min_level"), body["min_level"]) if "min_level" in body else None
        if steps and after <= steps[-1].after_s:
            ctx.err((*sp, "after"), "fallback steps must be in increasing order of 'after'",
                    "fallback_order")
        steps.append(FallbackStep(after, pool, level))
    return tuple(steps)


def _rules(
    ctx: Ctx, value: Any, when: WhenParser, default: Action | None
) -> tuple[Rule, ...] | None:
    if value is None:
        return ()
    if not isinstance(value, list):
        ctx.err(("rules",), f"rules: expected a list of rules, got {kind_of(value)}", "rules_not_list",
                got=kind_code(value))
        return None
    base = default or Action(pool="")
    out: list[Rule] = []
    names: dict[str, int] = {}
    for i, item in enumerate(value):
        path: Path_ = ("rules", i)
        body = ctx.mapping(path, item, f"rule #{i + 1}")
        if body is None:
            continue
        ctx.unknown_keys(path, RULE_KEYS)
        name = ctx.string((*path, "name"), body.get("name"), "rule name")
        if name and name in names:
            ctx.err((*path, "name"), f"duplicate rule name {name!r} (first at line {names[name]})",
                    "duplicate_rule", name=name, line=names[name])
        elif name:
            names[name] = ctx.line_of((*path, "name"))
        cont = bool(body.get("continue", False))
        if "continue" in body:
            cont = bool(ctx.boolean((*path, "continue"), body["continue"], "continue"))
        enabled = True
        if "enabled" in body:
            enabled = ctx.boolean((*path, "enabled"), body["enabled"], "enabled") is not False
        cond = when.parse((*path, "when"), body.get("when"))
        if "then" not in body:
            ctx.err(path, f"rule {name or i + 1!r}: missing 'then'", "missing_then", rule=name or i + 1)
            continue
        then = ctx.mapping((*path, "then"), body["then"], "then")
        if then is None:
            continue
        rule = _rule(ctx, (*path, "then"), then, name or "", cond, cont, base)
        if rule is not None and enabled:
            out.append(replace(rule, line=ctx.line_of(path), index=i))
    return tuple(out)


def _rule(
    ctx: Ctx, path: Path_, then: dict[str, Any], name: str, cond: Any, cont: bool, base: Action
) -> Rule | None:
    tags = _tags(ctx, path, then)
    boost = 0
    if "boost" in then:
        boost = ctx.integer((*path, "boost"), then["boost"], "boost") or 0
    if cont:
        for key in then:
            if key not in CONTINUE_KEYS and key in ACTION_KEYS:
                ctx.err((*path, key), f"{key!r} in a continue rule: a continue rule only adds "
                        "tags and boost; move it to a rule without continue", "continue_rule_key",
                        key=True, field=key)
        ctx.unknown_keys(path, ACTION_KEYS)
        return Rule(name, cond, None, tags, boost)
    action = _action(ctx, path, then, ACTION_KEYS, base)
    if action is None:
        return None
    return Rule(name, cond, action, tags, boost)
