"""Reports under /api/v1/reports, for supervisors and admins."""

from __future__ import annotations

from aiohttp import web

from kefu_common.errors import ProtocolError
from router.models import Role
from router.ops.csat import REPORT_ROWS_MAX, Csat, report
from router.runtime import RUNTIME
from router.web.api import principal

routes = web.RouteTableDef()


def _time(request: web.Request, name: str) -> float | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    try:
        return float(raw)
    except ValueError:
        raise ProtocolError("bad_query", f"{name} must be epoch seconds") from None


@routes.get("/api/v1/reports/csat")
async def csat_report(request: web.Request) -> web.Response:
    """Satisfaction overall and per agent, with the newest ratings one by one.
    ?since=&until= are epoch seconds (inclusive); ?agent= narrows to one agent."""
    principal(request, Role.SUPERVISOR)
    since, until = _time(request, "since"), _time(request, "until")
    if since is not None and until is not None and since > until:
        raise ProtocolError("bad_query", "since is after until")
    agent = request.query.get("agent") or None
    try:
        rows = min(int(request.query.get("limit", str(REPORT_ROWS_MAX))), REPORT_ROWS_MAX)
    except ValueError:
        raise ProtocolError("bad_query", "limit must be a whole number") from None
    ratings = await Csat(request.app[RUNTIME].store).ratings(since, until, agent)
    return web.json_response(report(ratings, max(rows, 0)))
