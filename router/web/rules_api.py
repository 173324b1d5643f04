"""The routing-rules API: read, validate, explain, replay, activate, list and roll back versions.

Reading needs the supervisor role; activating (PUT, rollback) the admin role. PUT takes the
version it replaces in If-Match (the ETag of GET), so two admins editing at once cannot overwrite
each other: the second gets 412 and reloads. Invalid rules get 422 with every problem at its
line and column, and change nothing. The refusal shape is the usual {error, detail}, plus
`problems` for 422.
"""

from __future__ import annotations

import asyncio
import difflib
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from kefu_common.errors import ConfigError, ProtocolError
from router.auth import Principal
from router.models import Role
from router.rules.history import records
from router.rules.versions import RuleVersions, StaleVersion
from router.runtime import RUNTIME
from router.web.api import json_body, principal
from router.web.proxy import client
from router.web.versioned import if_match, source_of
from routing_rules import CheckResult, RuleInput, RuleSet
from routing_rules.problems import as_json
from routing_rules.replay import DEFAULT_LABEL, replay

routes = web.RouteTableDef()

REPLAY_LIMIT = 20000


def _versions(request: web.Request) -> RuleVersions:
    return request.app[RUNTIME].rule_sync.versions


def _problems(errors: list[ConfigError], warnings: list[ConfigError]) -> list[dict[str, Any]]:
    tagged = [(e, "error") for e in errors] + [(w, "warning") for w in warnings]
    tagged.sort(key=lambda t: (t[0].line, t[0].col))
    return [as_json(e, s) for e, s in tagged]


def _invalid(result: CheckResult) -> web.Response:
    n = len(result.errors)
    return web.json_response({"error": "invalid_rules", "detail": f"{n} problem{'s' * (n != 1)} in the rules",
                              "problems": _problems(result.errors, result.warnings)}, status=422)


async def _source(request: web.Request) -> str:
    return await source_of(request, what="the rules YAML text", blank=False)


async def _candidate(request: web.Request, body: dict[str, Any]) -> RuleSet | web.Response:
    """The rules to try: the given source (checked), or the live version."""
    source = body.get("source")
    if source is None:
        return request.app[RUNTIME].rules.current
    if not isinstance(source, str):
        raise ProtocolError("bad_request", '"source" must be the rules YAML text')
    result = await asyncio.to_thread(_versions(request).check, source)
    return result.ruleset if result.ruleset is not None else _invalid(result)


def _time(value: Any, key: str, rules: RuleSet) -> datetime | None:
    """Epoch seconds or ISO 8601; without an offset, in the rules' timezone as an admin means it."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    try:
        dt = datetime.fromisoformat(str(value))
    except ValueError:
        raise ProtocolError("bad_request", f'"{key}" must be epoch seconds or ISO 8601') from None
    return dt if dt.tzinfo else dt.replace(tzinfo=ZoneInfo(rules.timezone))


def _get(body: dict[str, Any], key: str, kind: type | tuple[type, ...], default: Any) -> Any:
    value = body.get(key, default)
    if value is not default and (not isinstance(value, kind) or (isinstance(value, bool) and kind is int)):
        raise ProtocolError("bad_request", f'"{key}" has the wrong type')
    return value


@routes.get("/api/v1/rules")
async def get_rules(request: web.Request) -> web.Response:
    who = principal(request, Role.SUPERVISOR)
    versions = _versions(request)
    stored = await versions.get(await versions.active_id())
    if stored is None:
        raise ProtocolError("not_found", "no rule version is active yet", 404)
    etag = f'"{stored["version"]}"'
    if request.headers.get("If-None-Match", "").removeprefix("W/") == etag:
        return web.Response(status=304, headers={"ETag": etag})  # an editor polling for changes
    return web.json_response({"version": stored["version"], "source": stored["source"],
                              "activated_at": stored["at"], "activated_by": stored["author"],
                              "summary": stored["summary"], "can_activate": _may_edit(request, who)},
                             headers={"ETag": etag})


def _may_edit(request: web.Request, who: Principal) -> bool:
    """What _editor would let through: the console shows Activate and roll back only to them, so a
    supervisor is not offered a button that only earns a 403 (issue 19)."""
    grant = request.app[RUNTIME].settings.accounts.supervisors_edit_rules
    return who.can(Role.SUPERVISOR if grant else Role.ADMIN)


def _editor(request: web.Request) -> Principal:
    """Who may activate rules: admins, and supervisors when the shop grants it
    (accounts.supervisors_edit_rules)."""
    grant = request.app[RUNTIME].settings.accounts.supervisors_edit_rules
    return principal(request, Role.SUPERVISOR if grant else Role.ADMIN)


@routes.put("/api/v1/rules")
async def put_rules(request: web.Request) -> web.Response:
    who = _editor(request)
    expected = if_match(request, etag_of="GET /api/v1/rules") or ""  # required: never None here
    return await _activate(request, await _source(request), who, expected)


async def _activate(request: web.Request, source: str, who: Principal, expected: str, note: str = "",
                    action: str = "rules.activate") -> web.Response:
    versions = _versions(request)
    current = await versions.active_id()
    if current != expected:
        raise StaleVersion(expected, current)
    result = await asyncio.to_thread(versions.check, source)
    if result.ruleset is None:
        return _invalid(result)
    rs = await versions.activate(source, who.agent_id, expected, note=note, checked=result)
    rt = request.app[RUNTIME]
    rt.rule_sync.install(rs)
    stored = await versions.get(rs.version)
    await rt.audit.record(who, action, "rules", before={"version": expected or None},
                          after={"version": rs.version}, addr=client(request),
                          detail={"summary": stored["summary"] if stored else "",
                                  "diff": (stored["diff"] if stored else "")[:20_000]})
    return web.json_response({"version": rs.version, "problems": _problems([], result.warnings)},
                             headers={"ETag": f'"{rs.version}"'})


@routes.post("/api/v1/rules/validate")
async def validate(request: web.Request) -> web.Response:
    who = principal(request, Role.SUPERVISOR)
    result = await asyncio.to_thread(_versions(request).check, await _source(request))
    await request.app[RUNTIME].audit.record(who, "rules.validate", "rules", addr=client(request), detail={
        "ok": result.ok, "errors": len(result.errors), "warnings": len(result.warnings)})
    return web.json_response({"ok": result.ok, "problems": _problems(result.errors, result.warnings)})


@routes.post("/api/v1/rules/explain")
async def explain(request: web.Request) -> web.Response:
    principal(request, Role.SUPERVISOR)
    body = await json_body(request)
    rules = await _candidate(request, body)
    if isinstance(rules, web.Response):
        return rules
    text = body.get("text")
    if not isinstance(text, str):
        raise ProtocolError("bad_request", '"text" (the customer message) is required')
    now = _time(body.get("at"), "at", rules) or datetime.now(UTC)
    d = rules.explain(RuleInput(
        text=text, channel=_get(body, "channel", str, "webchat"), account=_get(body, "account", str, "default"),
        now=now, kind=_get(body, "kind", str, "text"),
        customer_tags=frozenset(str(t) for t in _get(body, "tags", list, [])),
        segment=_get(body, "segment", str, "new"), language=_get(body, "language", str, None),
        message_count=_get(body, "message_count", int, 1), reopened=bool(body.get("reopened", False)),
        previous_pool=_get(body, "previous_pool", str, None),
        product_id=_get(body, "product_id", str, None), product_title=_get(body, "product_title", str, ""),
    ))
    decision = {
        "pool": d.pool, "priority": d.priority, "skills": list(d.skills), "min_level": d.min_level,
        "tags": list(d.tags), "bot_first": d.bot_first, "sla_profile": d.sla_profile,
        "intents": list(d.intents), "rule": d.rule, "version": d.version,
        "fallback": [{"after_s": f.after_s, "pool": f.pool, "min_level": f.min_level} for f in d.fallback],
    }
    # `explanation` is the engine's English (the CLI's words, kept for API clients); `steps` is the
    # same as codes and parameters, which the console words in the agent's language.
    return web.json_response({"version": rules.version, "at": now.isoformat(), "decision": decision,
                              "explanation": list(d.explanation), "steps": list(d.steps)})


@routes.post("/api/v1/rules/replay")
async def replay_history(request: web.Request) -> web.Response:
    """Re-decide recorded conversations with candidate rules; nothing live changes."""
    principal(request, Role.SUPERVISOR)
    body = await json_body(request)
    if "source" not in body:
        raise ProtocolError("bad_request", '"source" (the candidate rules) is required')
    rules = await _candidate(request, body)
    if isinstance(rules, web.Response):
        return rules
    since, until = _time(body.get("since"), "since", rules), _time(body.get("until"), "until", rules)
    limit = min(max(int(_get(body, "limit", int, REPLAY_LIMIT)), 1), REPLAY_LIMIT)
    store = request.app[RUNTIME].store
    recs = [r async for r in records(store, since.timestamp() if since else None,
                                     until.timestamp() if until else None, limit=limit)]
    rep = await asyncio.to_thread(replay, recs, rules)  # up to a second of deciding: off the loop
    return web.json_response({
        "total": rep.total, "pool_changed": rep.pool_changed, "priority_changed": rep.priority_changed,
        "bot_changed": rep.bot_changed, "any_changed": rep.any_changed, "new_version": rules.version,
        "old_versions": sorted(rep.old_version), "truncated": len(recs) >= limit,
        "moves": [{"from": a, "to": b, "count": k} for (a, b), k in rep.moves.most_common()],
        "fires": [{"rule": n, "old": rep.old_fires[n], "new": rep.new_fires[n], "default": n == DEFAULT_LABEL}
                  for n in sorted(set(rep.old_fires) | set(rep.new_fires))],
        "lines": rep.lines(),
    })


@routes.get("/api/v1/rules/versions")
async def list_versions(request: web.Request) -> web.Response:
    principal(request, Role.SUPERVISOR)
    return web.json_response(await _versions(request).history())


@routes.get("/api/v1/rules/versions/{v}")
async def get_version(request: web.Request) -> web.Response:
    principal(request, Role.SUPERVISOR)
    versions = _versions(request)
    stored = await versions.get(request.match_info["v"])
    if stored is None:
        raise ProtocolError("not_found", f"no rule version {request.match_info['v']}", 404)
    # `diff` is against the version before it; `rollback_diff` against the active version, which
    # is what rolling back to it would change (issue 19: the preview diffed against nothing).
    current_id = await versions.active_id()
    current = await versions.get(current_id) if current_id else None
    rollback_diff = "".join(difflib.unified_diff(
        (current["source"] if current else "").splitlines(keepends=True),
        str(stored["source"]).splitlines(keepends=True),
        fromfile=current_id or "(none)", tofile=str(stored["version"])))
    return web.json_response({**stored, "current": current_id, "rollback_diff": rollback_diff[:20_000]})


@routes.post("/api/v1/rules/rollback/{v}")
async def rollback(request: web.Request) -> web.Response:
    """The old source becomes a new version: history only grows."""
    who = _editor(request)
    target = request.match_info["v"]
    stored = await _versions(request).get(target)
    if stored is None:
        raise ProtocolError("not_found", f"no rule version {target}", 404)
    expected = request.headers.get("If-Match", "").strip()
    expected = expected.removeprefix("W/").strip('"') if expected else await _versions(request).active_id()
    return await _activate(request, stored["source"], who, expected, note=f"rollback to {target}",
                           action="rules.rollback")
