"""What the APIs of versioned YAML documents share: the routing rules (router/web/rules_api.py)
and the documents admins edit live (router/web/admin_api.py). Both take the new source as the
YAML text itself or as JSON {"source": ...}, and the version it replaces in If-Match, so two
admins editing at once cannot overwrite each other unseen."""

from __future__ import annotations

from aiohttp import web

from kefu_common.errors import ProtocolError
from router.web.api import json_body

YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "text/plain")


async def source_of(request: web.Request, *, what: str = "the YAML text", blank: bool = True) -> str:
    """A JSON body {"source": ...} or the YAML text itself; `blank`: whether an empty one is taken
    (an empty live document is one with nothing in it; empty rules are a mistake)."""
    if request.content_type == "application/json":
        source = (await json_body(request)).get("source")
    elif request.content_type in YAML_TYPES or not request.content_type:
        source = await request.text()
    else:
        raise ProtocolError("bad_request", "send YAML text or JSON {\"source\": ...}", 415)
    if not isinstance(source, str) or not (blank or source.strip()):
        raise ProtocolError("bad_request", f'"source" must be {what}')
    return source


def if_match(request: web.Request, *, etag_of: str = "GET", required: bool = True) -> str | None:
    """The version the caller edited (If-Match, weak or strong); None when absent and not required."""
    raw = request.headers.get("If-Match", "").strip()
    if not raw:
        if required:
            raise ProtocolError("precondition_required",
                                f"If-Match with the version you edited (the ETag of {etag_of}) is required", 428)
        return None
    return raw.removeprefix("W/").strip('"')
