"""Follow-up tasks that SLA timers create (satisfaction calls ...), for supervisors."""

from __future__ import annotations

import time

from aiohttp import web

from kefu_common.errors import ProtocolError
from router.models import Role
from router.runtime import RUNTIME
from router.web.api import principal

routes = web.RouteTableDef()

TASK_STATES = ("open", "done")


@routes.get("/api/v1/tasks")
async def list_tasks(request: web.Request) -> web.Response:
    """Newest first; `state` filters (open, done)."""
    principal(request, Role.SUPERVISOR)
    store = request.app[RUNTIME].store
    try:
        limit = min(int(request.query.get("limit", "100")), 1000)
    except ValueError:
        raise ProtocolError("bad_query", "limit must be a whole number") from None
    state = request.query.get("state")
    if state is not None and state not in TASK_STATES:
        raise ProtocolError("bad_query", f"state must be one of {', '.join(TASK_STATES)}")
    tasks = await store.ops.tasks(limit * 4 if state else limit)
    if state:
        tasks = [t for t in tasks if t.get("state") == state]
    return web.json_response({"tasks": tasks[:limit]})


@routes.post("/api/v1/tasks/{id}/done")
async def finish_task(request: web.Request) -> web.Response:
    who = principal(request, Role.SUPERVISOR)
    store = request.app[RUNTIME].store
    tid = request.match_info["id"]
    task = await store.ops.task(tid)
    if task is None:
        raise ProtocolError("not_found", f"no task {tid}", 404)
    if task.get("state") != "done":
        task.update(state="done", done_by=who.agent_id, done_at=time.time())
        await store.ops.save_task(tid, task)
    return web.json_response({"task": task})
