"""Live admin over HTTP: pools, business hours, shifts, quick replies and the FAQ.

Each kind is a YAML document with versions like the rules: GET it (supervisors and admins; the
ETag is its version), PUT a new version with If-Match (admins; 412 when someone else changed it
first, 422 with every problem at line and column, nothing stored), validate, list versions, read
one with its diff, roll back (the old source becomes a new version). Pools also have JSON
routes: `POST /api/v1/pools {id, name, skills}` and `PATCH /api/v1/pools/{id}`, whose refusals
name the field (`skills[1]`). Every activation is audited and reaches every process
(router/live/sync.py) without a restart.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from kefu_common.errors import ConfigErrors, ProtocolError
from router.auth import Principal
from router.config.schema import PoolSettings
from router.live.kinds import pools_source
from router.live.versions import LiveVersions, kind_of
from router.models import Role
from router.rules.versions import StaleVersion
from router.runtime import RUNTIME
from router.web.api import json_body, principal
from router.web.proxy import client
from router.web.versioned import if_match, source_of
from routing_rules.problems import as_json, kind_code, shown

routes = web.RouteTableDef()

_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def _versions(request: web.Request) -> LiveVersions:
    return request.app[RUNTIME].live.versions


def _problems(exc: ConfigErrors) -> list[dict[str, Any]]:
    # As the rules API: the English message, and code + params for the console to word it by
    # (router/config/problems.py lists the codes).
    return [{**as_json(e, "error"), "file": e.file} for e in sorted(exc.errors, key=lambda e: (e.line, e.col))]


def _invalid(kind: str, exc: ConfigErrors) -> web.Response:
    n = len(exc.errors)
    return web.json_response({"error": "invalid_document", "detail": f"{n} problem{'s' * (n != 1)} in {kind}",
                              "problems": _problems(exc)}, status=422)


async def activate(request: web.Request, who: Principal, kind: str, source: str, expected: str, *,
                   action: str, note: str = "", parsed: Any = None,
                   audit_before: dict[str, Any] | None = None,
                   audit_after: dict[str, Any] | None = None, target: str | None = None) -> str:
    """Activate, use it in this process at once, and audit; raises ConfigErrors or StaleVersion."""
    rt = request.app[RUNTIME]
    versions = _versions(request)
    vid, value = await versions.activate(kind, source, who.agent_id, expected, note=note, parsed=parsed)
    await rt.live.install(kind, vid, value, who.agent_id)
    stored = await versions.get(kind, vid)
    if audit_after is None:  # a whole document: its versions; a pool: the pool itself
        audit_before, audit_after = {"version": expected or None}, {"version": vid}
    await rt.audit.record(who, action, target or kind, before=audit_before, after=audit_after, addr=client(request),
                          detail={"version": vid, "summary": stored["summary"] if stored else "",
                                  "diff": (stored["diff"] if stored else "")[:20_000]})
    return vid


@routes.get("/api/v1/admin/{kind}")
async def get_document(request: web.Request) -> web.Response:
    principal(request, Role.SUPERVISOR)
    kind = kind_of(request.match_info["kind"]).name
    stored = await _versions(request).active(kind)
    if stored is None:
        raise ProtocolError("not_found", f"no version of {kind} is active yet", 404)
    etag = f'"{stored["version"]}"'
    if request.headers.get("If-None-Match", "").removeprefix("W/") == etag:
        return web.Response(status=304, headers={"ETag": etag})
    return web.json_response({"kind": kind, "version": stored["version"], "source": stored["source"],
                              "activated_at": stored["at"], "activated_by": stored["author"],
                              "summary": stored["summary"],
                              # What this process uses now: the active version once it has followed.
                              "in_use": request.app[RUNTIME].live.current.get(kind)}, headers={"ETag": etag})


@routes.put("/api/v1/admin/{kind}")
async def put_document(request: web.Request) -> web.Response:
    who = principal(request, Role.ADMIN)
    kind = kind_of(request.match_info["kind"]).name
    expected = if_match(request) or ""
    source = await source_of(request)
    try:
        vid = await activate(request, who, kind, source, expected, action=f"{kind}.update")
    except ConfigErrors as exc:
        return _invalid(kind, exc)
    return web.json_response({"kind": kind, "version": vid}, headers={"ETag": f'"{vid}"'})


@routes.post("/api/v1/admin/{kind}/validate")
async def validate_document(request: web.Request) -> web.Response:
    principal(request, Role.SUPERVISOR)
    kind = kind_of(request.match_info["kind"]).name
    try:
        await _versions(request).check(kind, await source_of(request))
    except ConfigErrors as exc:
        return web.json_response({"ok": False, "problems": _problems(exc)})
    return web.json_response({"ok": True, "problems": []})


@routes.get("/api/v1/admin/{kind}/versions")
async def list_versions(request: web.Request) -> web.Response:
    principal(request, Role.SUPERVISOR)
    kind = kind_of(request.match_info["kind"]).name
    return web.json_response(await _versions(request).history(kind))


@routes.get("/api/v1/admin/{kind}/versions/{v}")
async def get_version(request: web.Request) -> web.Response:
    principal(request, Role.SUPERVISOR)
    kind = kind_of(request.match_info["kind"]).name
    stored = await _versions(request).get(kind, request.match_info["v"])
    if stored is None:
        raise ProtocolError("not_found", f"no {kind} version {request.match_info['v']}", 404)
    return web.json_response(stored)


@routes.post("/api/v1/admin/{kind}/rollback/{v}")
async def rollback(request: web.Request) -> web.Response:
    who = principal(request, Role.ADMIN)
    kind = kind_of(request.match_info["kind"]).name
    target = request.match_info["v"]
    versions = _versions(request)
    stored = await versions.get(kind, target)
    if stored is None:
        raise ProtocolError("not_found", f"no {kind} version {target}", 404)
    expected = if_match(request, required=False) or await versions.active_id(kind)
    try:
        vid = await activate(request, who, kind, stored["source"], expected, action=f"{kind}.rollback",
                             note=f"rollback to {target}")
    except ConfigErrors as exc:
        return _invalid(kind, exc)  # e.g. a shift naming an agent removed since
    return web.json_response({"kind": kind, "version": vid}, headers={"ETag": f'"{vid}"'})


# -- pools as JSON --------------------------------------------------------------------------------
def _pool_view(p: PoolSettings) -> dict[str, Any]:
    return {"id": p.id, "name": p.name, "skills": list(p.skills)}


def _pool_fields(body: dict[str, Any], partial: bool) -> dict[str, Any]:
    """The fields given, checked; a refusal names the field (`skills[1]`) and changes nothing.
    Each problem has the code and params of the pools document's (router/config/problems.py),
    for the console to word it in its language."""
    problems: list[dict[str, Any]] = []

    def refuse(field: str, message: str, code: str, **params: Any) -> None:
        problems.append({"field": field, "message": message, "code": code, "params": params})

    out: dict[str, Any] = {}
    allowed = ("name", "skills") if partial else ("id", "name", "skills")
    for key in body:
        if key not in allowed:
            refuse(key, f"unknown field; expected one of {', '.join(allowed)}", "unknown_key",
                   key=key, expected=list(allowed))
    if not partial:
        pid = body.get("id")
        if not isinstance(pid, str) or not _ID.match(pid):
            refuse("id", "required: 1-64 of A-Z a-z 0-9 _ . -", "bad_pool_id", value=shown(pid))
        else:
            out["id"] = pid
    if "name" in body:
        if not isinstance(body["name"], str) or len(body["name"]) > 200:
            refuse("name", "a string of at most 200 characters", "pool_name_too_long", limit=200)
        else:
            out["name"] = body["name"]
    if "skills" in body:
        skills = body["skills"]
        if not isinstance(skills, list):
            refuse("skills", "a list of skill names", "expected_list", what="skills", got=kind_code(skills))
        else:
            for i, s in enumerate(skills):
                if not isinstance(s, str) or not _ID.match(s):
                    refuse(f"skills[{i}]", "1-64 of A-Z a-z 0-9 _ . -", "bad_skill_id", value=shown(s))
            out["skills"] = tuple(dict.fromkeys(s for s in skills if isinstance(s, str)))
    if problems:
        raise _PoolRefused(problems)
    return out


class _PoolRefused(ProtocolError):
    def __init__(self, problems: list[dict[str, Any]]) -> None:
        super().__init__("invalid_pool", "; ".join(f"{p['field']}: {p['message']}" for p in problems), 422)
        self.problems = problems


async def _current_pools(request: web.Request) -> tuple[str, tuple[PoolSettings, ...]]:
    versions = _versions(request)
    stored = await versions.active("pools")
    if stored is None:
        return "", ()
    pools: tuple[PoolSettings, ...] = await versions.check("pools", stored["source"])
    return stored["version"], pools


async def _change_pools(request: web.Request, who: Principal, pid: str, fields: dict[str, Any],
                        create: bool) -> web.Response:
    for _ in range(3):  # bounded: each retry means another admin changed the pools meanwhile
        expected, pools = await _current_pools(request)
        found = next((p for p in pools if p.id == pid), None)
        if create and found is not None:
            raise ProtocolError("exists", f"pool {pid} exists; PATCH /api/v1/pools/{pid} edits it", 409)
        if not create and found is None:
            raise ProtocolError("not_found", f"no pool {pid}", 404)
        new = PoolSettings(**fields) if create else PoolSettings(
            id=pid, name=fields.get("name", found.name if found else ""),
            skills=fields.get("skills", found.skills if found else ()))
        after = (*pools, new) if create else tuple(new if p.id == pid else p for p in pools)
        try:
            await activate(request, who, "pools", pools_source(after), expected,
                           action="pool.create" if create else "pool.update", target=pid,
                           audit_before=_pool_view(found) if found else None, audit_after=_pool_view(new))
        except StaleVersion:
            continue
        return web.json_response({"pool": _pool_view(new)}, status=201 if create else 200)
    raise ProtocolError("busy", "the pools kept changing; try again", 409)


@routes.get("/api/v1/pools")
async def list_pools(request: web.Request) -> web.Response:
    principal(request, Role.SUPERVISOR)
    version, pools = await _current_pools(request)
    return web.json_response({"version": version, "pools": [_pool_view(p) for p in pools]})


@routes.post("/api/v1/pools")
async def create_pool(request: web.Request) -> web.Response:
    who = principal(request, Role.ADMIN)
    try:
        fields = _pool_fields(await json_body(request), partial=False)
    except _PoolRefused as exc:
        return web.json_response({"error": exc.code, "detail": exc.detail, "problems": exc.problems}, status=422)
    return await _change_pools(request, who, fields["id"], fields, create=True)


@routes.patch("/api/v1/pools/{id}")
async def edit_pool(request: web.Request) -> web.Response:
    who = principal(request, Role.ADMIN)
    try:
        fields = _pool_fields(await json_body(request), partial=True)
    except _PoolRefused as exc:
        return web.json_response({"error": exc.code, "detail": exc.detail, "problems": exc.problems}, status=422)
    return await _change_pools(request, who, request.match_info["id"], fields, create=False)



