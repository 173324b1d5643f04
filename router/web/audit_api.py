"""The audit log for admins: GET /api/v1/audit with filters and cursor paging."""

from __future__ import annotations

import re

from aiohttp import web

from kefu_common.errors import ProtocolError
from router.archive.audit import AuditFilter
from router.models import Role
from router.runtime import RUNTIME
from router.web.api import principal
from router.web.history_api import _limit, when

routes = web.RouteTableDef()

_CURSOR = re.compile(r"\d{1,20}-\d{1,20}")
_FILTER = re.compile(r"[^\x00-\x1f]{0,256}")


def _text(request: web.Request, name: str) -> str:
    raw = request.query.get(name, "").strip()
    if not _FILTER.fullmatch(raw):
        raise ProtocolError("bad_query", f"{name} must be at most 256 printable characters")
    return raw


@routes.get("/api/v1/audit")
async def audit_log(request: web.Request) -> web.Response:
    principal(request, Role.ADMIN)
    f = AuditFilter(actor=_text(request, "actor"), action=_text(request, "action"), target=_text(request, "target"),
                    since=when(request, "since"), until=when(request, "until"))
    cursor = request.query.get("cursor", "").strip() or None
    if cursor is not None and not _CURSOR.fullmatch(cursor):
        raise ProtocolError("bad_query", "cursor must be the next_cursor of a previous page")
    entries, next_cursor, complete = await request.app[RUNTIME].audit.query(f, cursor, _limit(request))
    return web.json_response({"entries": entries, "next_cursor": next_cursor, "archive": complete})
