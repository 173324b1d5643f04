"""The rule builder over HTTP (issue 19): the YAML as form rows, and form rows back into the YAML.

Neither route stores anything: the console puts the written YAML into its editor, and saving
goes through validate and PUT /api/v1/rules like any edit, with the same roles. Reading needs a
supervisor, as the rules do.

    POST /api/v1/rules/builder/read  {"source"}          -> {"rules": [row...], "choices": {...}}
    POST /api/v1/rules/builder       {"source", "rules"} -> {"source", "ok", "problems", "spans"}

A YAML that does not parse, or a row the form could not have sent, is refused with 422 and every
problem at its place: `line`/`col` in the YAML, `rule`/`field` in the form.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from adapters import registry
from kefu_common.errors import ConfigError, ConfigErrors, ProtocolError
from router.models import Role
from router.runtime import RUNTIME
from router.web.api import json_body, principal
from routing_rules.builder import FormError, read_form
from routing_rules.builder_write import write_form
from routing_rules.frames import FRAME_INTENTS
from routing_rules.intents import BUILTIN_INTENTS
from routing_rules.problems import as_json

routes = web.RouteTableDef()


def _refusal(errors: list[ConfigError]) -> web.Response:
    problems = []
    for e in errors:
        p = as_json(e, "error")
        if isinstance(e, FormError):
            p.update(rule=e.rule, field=e.field)
        problems.append(p)
    n = len(problems)
    return web.json_response({"error": "invalid_form", "detail": f"{n} problem{'s' * (n != 1)} in the form",
                              "problems": problems}, status=422)


def _source(body: dict[str, Any]) -> str:
    source = body.get("source")
    if not isinstance(source, str):
        raise ProtocolError("bad_request", '"source" must be the rules YAML text the form edits')
    return source


def _choices(request: web.Request, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """What the form's pickers offer: the shop's pools, SLA profiles with their first-response
    seconds, the intents and channels."""
    rt = request.app[RUNTIME]
    versions = rt.rule_sync.versions
    pools = set(versions.pools or ()) | {r["pool"] for r in rows if r.get("pool")}
    return {
        "pools": sorted(pools),
        "sla": [{"name": name, "first_response_s": p.first_response_s}
                for name, p in sorted(rt.sla.profiles.items())],
        "intents": [*BUILTIN_INTENTS, *FRAME_INTENTS],
        "channels": sorted(registry.names()),
        "priorities": ["low", "normal", "high", "urgent"],
    }


@routes.post("/api/v1/rules/builder/read")
async def read(request: web.Request) -> web.Response:
    principal(request, Role.SUPERVISOR)
    source = _source(await json_body(request))
    try:
        rows = await asyncio.to_thread(read_form, source)
    except ConfigErrors as exc:
        return _refusal(exc.errors)
    except ConfigError as exc:
        return _refusal([exc])
    return web.json_response({"rules": rows, "choices": _choices(request, rows)})


@routes.post("/api/v1/rules/builder")
async def write(request: web.Request) -> web.Response:
    principal(request, Role.SUPERVISOR)
    body = await json_body(request)
    source = _source(body)
    try:
        written = await asyncio.to_thread(write_form, source, body.get("rules"))
    except ConfigErrors as exc:
        return _refusal(exc.errors)
    except ConfigError as exc:
        return _refusal([exc])
    # The written YAML checked as Validate would: an unknown pool or SLA profile is the shop's
    # to see, at its line and at its row, before anything is activated.
    result = await asyncio.to_thread(request.app[RUNTIME].rule_sync.versions.check, written.text)
    tagged = [(e, "error") for e in result.errors] + [(w, "warning") for w in result.warnings]
    tagged.sort(key=lambda t: (t[0].line, t[0].col))
    problems = [{**as_json(e, s), "rule": written.rule_at(e.line)} for e, s in tagged]
    return web.json_response({"source": written.text, "ok": result.ok, "problems": problems,
                              "spans": written.spans})
