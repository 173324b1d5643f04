"""Pictures over HTTP (router/ops/pictures.py does the checks):

- `PUT /api/v1/agents/{id}/avatar` (multipart `file`): the agent's profile picture, by the agent
  themself or an admin (the Team tab); `DELETE` removes it. Another agent's is a 403.
- `PUT /api/v1/webchat/logo` (multipart `file`, admin): the welcome card's logo, which wins over
  `channels.webchat.welcome.logo` while it is set; `DELETE` goes back to the config's.

Each answers with the new URL (`null` after a removal) and is recorded in the audit log. The
pictures themselves are read through `GET /api/v1/media/{id}` (router/web/media_api.py).
"""

from __future__ import annotations

from aiohttp import web

from kefu_common.errors import AuthError, ProtocolError
from router.auth import Principal
from router.models import Role
from router.ops.pictures import AVATAR_MAX_BYTES, LOGO_MAX_BYTES, Pictures
from router.runtime import RUNTIME
from router.web.api import principal
from router.web.media_api import read_upload
from router.web.proxy import client

routes = web.RouteTableDef()


def _pictures(request: web.Request) -> Pictures:
    rt = request.app[RUNTIME]
    return Pictures(rt.store, rt.media)


async def _agent_for(request: web.Request) -> tuple[Principal, str]:
    """The caller and the agent whose picture they change: their own, or anyone's for an admin."""
    who = principal(request)
    aid = request.match_info["id"]
    if aid != who.agent_id and not who.can(Role.ADMIN):
        raise AuthError("only admins change another agent's picture", status=403)
    if await request.app[RUNTIME].store.agents.get(aid) is None:
        raise ProtocolError("not_found", f"no agent {aid}", 404)
    return who, aid


@routes.put("/api/v1/agents/{id}/avatar")
async def set_avatar(request: web.Request) -> web.Response:
    who, aid = await _agent_for(request)
    upload = await read_upload(request, AVATAR_MAX_BYTES)
    url = await _pictures(request).set_avatar(aid, upload.data)
    await request.app[RUNTIME].audit.record(who, "agent.avatar", aid, after={"avatar": url}, addr=client(request))
    return web.json_response({"agent": aid, "avatar": url})


@routes.delete("/api/v1/agents/{id}/avatar")
async def remove_avatar(request: web.Request) -> web.Response:
    who, aid = await _agent_for(request)
    if await _pictures(request).remove_avatar(aid):
        await request.app[RUNTIME].audit.record(who, "agent.avatar", aid, after={"avatar": None},
                                                addr=client(request))
    return web.json_response({"agent": aid, "avatar": None})


@routes.get("/api/v1/webchat/logo/uploaded")
async def uploaded_logo(request: web.Request) -> web.Response:
    """The uploaded logo's URL (null when none) and whether the config names one."""
    principal(request, Role.ADMIN)
    rt = request.app[RUNTIME]
    return web.json_response({"logo": await _pictures(request).logo() or None,
                              "configured": rt.settings.channels.webchat.welcome.logo or None})


@routes.put("/api/v1/webchat/logo")
async def set_logo(request: web.Request) -> web.Response:
    who = principal(request, Role.ADMIN)
    upload = await read_upload(request, LOGO_MAX_BYTES)
    url = await _pictures(request).set_logo(upload.data)
    await request.app[RUNTIME].audit.record(who, "webchat.logo", "webchat", after={"logo": url},
                                            addr=client(request))
    return web.json_response({"logo": url})


@routes.delete("/api/v1/webchat/logo")
async def remove_logo(request: web.Request) -> web.Response:
    who = principal(request, Role.ADMIN)
    if await _pictures(request).remove_logo():
        await request.app[RUNTIME].audit.record(who, "webchat.logo", "webchat", after={"logo": None},
                                                addr=client(request))
    return web.json_response({"logo": None})
