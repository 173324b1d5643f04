"""The OpenAPI description of the JSON API, served at /api/v1/openapi.json."""

from __future__ import annotations

from typing import Any

from router import __version__
from router.web.openapi_accounts import accounts_paths, create_agent_op
from router.web.openapi_admin import live_paths, rules_paths, webhooks_paths

_BEARER: list[dict[str, list[str]]] = [{"bearer": []}]
_ERR = {"description": "refused, with {error, detail}",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _op(summary: str, ok: str, *, params: list[dict[str, Any]] | None = None,
        body: dict[str, Any] | None = None, status: str = "200", auth: bool = True) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "responses": {status: {"description": ok}, "400": _ERR, "401": _ERR},
    }
    if auth:
        op["security"] = _BEARER
    if params:
        op["parameters"] = params
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return op


_ID = [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}]


def _q(name: str, kind: str = "string", required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": {"type": kind}}


def spec() -> dict[str, Any]:

    return {
        "openapi": "3.1.0",
        "info": {"title": "kefu-router", "version": __version__,
                 "description": "JSON API of kefu-router. WebSocket frames are described in docs/protocol.md."},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": {"type": "object", "required": ["error", "detail"],
                                  "properties": {"error": {"type": "string"}, "detail": {"type": "string"}}}},
        },
        "paths": {
            "/healthz": {"get": _op("Liveness", "the process runs", auth=False)},
            "/readyz": {"get": _op("Readiness: Redis answers and workers run", "ready; 503 otherwise", auth=False)},
            "/api/v1/webchat/sessions": {"post": _op("Start a web chat session", "{session, visitor}",
                                                     status="201", auth=False)},
            "/api/v1/conversations": {"get": _op(
                "One page of a view of conversations, live and archived (agents: their own)",
                "{conversations: [...], next_cursor}",
                params=[{"name": "view", "in": "query", "schema": {
                            "enum": ["mine", "unassigned", "open", "closed", "recent", "all"]}},
                        {"name": "pool", "in": "query", "schema": {"type": "string", "maxLength": 64}},
                        {"name": "q", "in": "query", "description": "words to search the view for (one page)",
                         "schema": {"type": "string", "maxLength": 200}},
                        {"name": "channel", "in": "query", "schema": {"type": "string"}},
                        {"name": "tag", "in": "query", "description": "one of the routing decision's tags",
                         "schema": {"type": "string", "maxLength": 64}},
                        {"name": "days", "in": "query", "description": "view=recent: closed within this many days",
                         "schema": {"type": "integer", "minimum": 1, "maximum": 365, "default": 7}},
                        {"name": "cursor", "in": "query", "schema": {"type": "string"}},
                        {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 200}},
                        {"name": "state", "in": "query", "schema": {
                            "enum": ["new", "bot", "queued", "assigned", "closed"]}}])},
            "/api/v1/search": {"get": _op(
                "Conversations, live and archived, holding every word of q (agents: their own)",
                "{results: [{conversation_id, customer_id, channel, snippet, ts}]}",
                params=[{"name": "q", "in": "query", "required": True, "schema": {"type": "string"}},
                        {"name": "from", "in": "query", "schema": {"type": "string", "format": "date-time"}},
                        {"name": "to", "in": "query", "schema": {"type": "string", "format": "date-time"}},
                        {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 200}}])},
            "/api/v1/conversations/{id}": {"get": _op(
                "One conversation with its customer, messages and decision record (the rules' "
                "decision plus candidates, chosen and policy of the choice of agent); from the "
                "archive, with archived: true, once Redis has dropped it; 403 unless it is yours, a note named "
                "you in it or you transferred it away (live or archived alike); 404 not_found, or 503 "
                "archive_unavailable while the archive is down and the id could be in it",
                "{conversation, customer, messages, archived}", params=_ID)},
            "/api/v1/conversations/{id}/join": {"post": _op(
                "Supervisors: join someone's open conversation (the customer and the agent are told once; "
                "reply with the socket's reply frame); audited. 403 for agents, 409 closed",
                "{joined, agent, new}", params=_ID)},
            "/api/v1/conversations/{id}/whisper": {"post": _op(
                "Supervisors: a note only the conversation's agent (and supervisors) see, never sent to the "
                "customer; audited. 403 for agents, 409 closed / no_agent / own_conversation",
                "{message}", status="201", params=_ID,
                body={"type": "object", "required": ["text", "client_msg_id"],
                      "properties": {"text": {"type": "string"},
                                     "client_msg_id": {"type": "string", "maxLength": 128}}})},
            "/api/v1/conversations/{id}/close": {"post": _op(
                "Close a conversation", "{closed}", params=_ID,
                body={"type": "object", "properties": {"resolution": {"type": "string"}}})},
            "/api/v1/conversations/bulk-close": {"post": _op(
                "Close several conversations, each once as a single close would; a result per chat "
                "(ok, or error: unknown_conversation, already_closed, not_assigned_to_you, ...)",
                "{results: [{id, ok, error, detail}], closed, failed}",
                body={"type": "object", "required": ["ids"],
                      "properties": {"ids": {"type": "array", "items": {"type": "string"}, "maxItems": 500},
                                     "resolution": {"type": "string"}}})},
            "/api/v1/agents": {"get": _op("List agents with live status and load", "{agents: [...]}"),
                               "post": create_agent_op(_op)},
            "/api/v1/channels": {"get": _op(
                "The configured channels: accounts, capabilities (live_frames, media, quota, "
                "split_replies) and limits (max_text_chars, max_parts)", "{channels: [...]}")},
            "/api/v1/session": {
                "post": _op("Console sign-in: trade an agent token for an HttpOnly session cookie",
                            "{agent, csrf}; Set-Cookie kefu_agent", auth=False,
                            body={"type": "object", "required": ["token"],
                                  "properties": {"token": {"type": "string"}}}),
                "get": _op("Who the session cookie (or Bearer token) belongs to", "{agent}"),
                "delete": _op("Sign out: end the session on the server and clear the cookie", "{signed_out}",
                              auth=False),
            },
            "/api/v1/customers/{id}/history": {"get": _op(
                "A customer's conversations on every channel, newest first, with their messages: live ones "
                "from Redis and those retention left only in the archive (\"archived\": true)",
                "{customer, conversations: [...], archive: ok|starting|unavailable}; 403 unless one of your "
                "conversations is theirs", params=_ID)},
            "/api/v1/customers/{id}": {
                "get": _op("A customer's profile: name, masked phone, segment, tags, attributes, avatar, the "
                           "product on their page, identities, and the customers merged into them",
                           "{customer}; 403 unless one of your conversations is theirs", params=_ID),
                "patch": _op("Edit a customer's profile; the next message is routed with it (segment, tags)",
                             "{customer[, same_phone_as]}; 400 with the reason, nothing written", params=_ID,
                             body={"type": "object", "properties": {
                                 "name": {"type": "string"}, "phone": {"type": "string"},
                                 "segment": {"enum": ["new", "returning", "vip"]},
                                 "tags": {"type": "array", "items": {"type": "string"}},
                                 "attributes": {"type": "object"}}}),
            },
            "/api/v1/customers/{id}/merge": {"post": _op(
                "Merge customer `other` into this one (identities, conversations, empty fields, tags); audited",
                "{customer, merged}; 409 already_merged", params=_ID,
                body={"type": "object", "required": ["other"], "properties": {"other": {"type": "string"}}})},
            "/api/v1/customers/{id}/unmerge": {"post": _op(
                "Undo the merge of this customer into another; audited", "{customer, unmerged_from}; 409 not_merged",
                params=_ID)},
            "/api/v1/webchat/identify": {"post": _op(
                "kefu('identify'): a profile the shop's backend signed (HMAC-SHA256 of the string with "
                "channels.webchat.identify_secret) names the web chat visitor", "{customer, merged}; 401 bad "
                "or stale signature; 404 not_configured", auth=False,
                body={"type": "object", "required": ["session", "profile", "signature"], "properties": {
                    "session": {"type": "string"}, "profile": {"type": "string"}, "signature": {"type": "string"}}})},
            "/api/v1/webchat/context": {"post": _op(
                "kefu('context'): the product on the visitor's page, for the agent's card and rules' product:",
                "{product}", auth=False,
                body={"type": "object", "required": ["session", "product"], "properties": {
                    "session": {"type": "string"}, "product": {"type": "object"}}})},
            "/api/v1/customers/{id}/orders": {"get": _op(
                "A customer's orders from the shop's OrderService", "{orders: [...]}; 404 no_order_service",
                params=_ID)},
            "/api/v1/agents/{id}/status": {"post": _op(
                "Set an agent's status", "{agent}", params=_ID,
                body={"type": "object", "required": ["status"],
                      "properties": {"status": {"enum": ["online", "away", "offline"]},
                                     "reason": {"type": "string", "description":
                                                "with away: busy, break, training or an ops.away_reasons id"}}})},
            "/api/v1/tasks": {"get": _op(
                "Follow-up tasks created by SLA timers, newest first (supervisor)", "{tasks: [...]}",
                params=[{"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 1000}},
                        {"name": "state", "in": "query", "schema": {"enum": ["open", "done"]}}])},
            "/api/v1/tasks/{id}/done": {"post": _op("Mark a follow-up task done (supervisor)", "{task}",
                                                    params=_ID)},
            "/api/v1/quick-replies": {"get": _op(
                "Search quick replies; render them for a conversation",
                "{items: [{id, category, title, text, rendered}]}",
                params=[_q("q"), _q("category"), _q("conversation_id"), _q("limit", "integer")])},
            "/api/v1/faq/search": {"get": _op(
                "Search the FAQ, best first", "{items: [{id, question, answer, score}]}",
                params=[_q("q", required=True), _q("limit", "integer")])},
            "/api/v1/compliance/check": {"post": _op(
                "Check a text against the banned advertising terms", "{mode, findings: [{term, start, end}]}",
                body={"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}})},
            "/api/v1/conversations/{id}/suggestion": {"post": _op(
                "The copilot: a reply drafted by the language model for the latest customer lines, "
                "grounded and guarded like the bot's; never sent (404 no_model without bot.llm)",
                "{suggestion, question, faq_ids, model, outcome, prompt_chars, latency_ms, prompt_tokens, "
                "completion_tokens}", params=_ID)},
            "/api/v1/bot/stats": {"get": _op(
                "Bot deflection: resolved without a person / all bot conversations; handoff reasons (supervisors)",
                "{conversations, resolved_by_bot, handed_off, deflection_rate, handoff_reasons, ...}")},
            "/api/v1/bot/unknown": {"get": _op(
                "Questions the bot could not answer, most asked first (supervisors)",
                "{items: [{question, count, example}]}", params=[_q("limit", "integer")])},
            "/api/v1/bot/reload": {"post": _op(
                "Reload the FAQ, quick-reply and compliance files (admins); 422 if one is broken",
                "{reloaded, faq_version}")},
            "/api/v1/reports/summary": {"get": _op(
                "Figures of the conversations created in [from, to), archived and (live) those only Redis "
                "holds yet, optionally of one pool, agent or channel (supervisor, admin)",
                "{conversations, live, messages_in, messages_out, first_response_s: {p50, p90}, "
                "resolution_s: {p50, p90}, "
                "sla_breaches, deflection_rate, bot_conversations, bot_resolved, csat: {count, average}, "
                "first_response_hist: [{le, count}], by: {pool, agent, channel, hour: [{key, ...}]}}; "
                "403 for agents; 503 archive_unavailable",
                params=[_q("from", required=True), _q("to", required=True), _q("pool"), _q("agent"), _q("channel")])},
            "/api/v1/reports/export.csv": {"get": _op(
                "One CSV row per archived conversation created in [from, to), a header row first (supervisor, admin)",
                "text/csv; 403 for agents; 503 archive_unavailable",
                params=[_q("from", required=True), _q("to", required=True)])},
            "/api/v1/audit": {"get": _op(
                "The audit log, newest first: every change a person made, with who, when, from where, "
                "before and after; secrets never appear (admin). `action` and `target` ending in * match "
                "a prefix (rules.*); `cursor` is the previous page's next_cursor",
                "{entries: [{id, at, actor, actor_name, role, action, target, addr, before, after, detail}], "
                "next_cursor, archive}; 403 for agents and supervisors",
                params=[_q("actor"), _q("action"), _q("target"), _q("since"), _q("until"), _q("cursor"),
                        {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 200}}])},
            "/api/v1/reports/csat": {"get": _op(
                "Customer satisfaction overall, per agent and per conversation (supervisor, admin)",
                "{overall: {count, avg}, agents: [{agent, count, avg}], "
                "conversations: [{conversation_id, agent, rating, comment, at}]}",
                params=[{"name": n, "in": "query", "schema": {"type": "number"}} for n in ("since", "until")]
                + [{"name": "agent", "in": "query", "schema": {"type": "string"}},
                   {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 1000}}])},
            "/api/v1/webchat/widget": {"get": _op(
                "What the chat page starts from: the welcome card and whether any agent is online",
                "{welcome: {name, logo, colour, text_colour, greeting: {zh, en}}, online}", auth=False)},
            "/api/v1/webchat/logo": {
                "get": _op("The shop's logo for the welcome card (channels.webchat.welcome.logo)",
                           "the image; 404 when none", auth=False),
                "put": _op("Upload the welcome card's logo (admin; multipart `file`, PNG, JPEG or WebP up to "
                           "512 KB); it wins over the config's while set", "{logo}"),
                "delete": _op("Remove the uploaded logo: the config's again (admin)", "{logo: null}")},
            "/api/v1/webchat/logo/uploaded": {"get": _op(
                "The uploaded logo's URL and the config's (admin)", "{logo, configured}")},
            "/api/v1/webchat/leave-message": {"post": _op(
                "Leave a message off hours; it is queued like any web chat message", "{message_id}",
                status="201", auth=False,
                body={"type": "object", "required": ["session", "name", "contact", "message", "client_msg_id"],
                      "properties": {"session": {"type": "string"}, "name": {"type": "string", "maxLength": 64},
                                     "contact": {"type": "string", "maxLength": 128},
                                     "message": {"type": "string"}, "client_msg_id": {"type": "string"}}})},
            **rules_paths(_op),
            **live_paths(_op),
            **ops_paths(),
            **accounts_paths(_op),
            **media_paths(),
        },
    }


def ops_paths() -> dict[str, Any]:
    """Caps, the supervisor overview, handovers, approvals and transfer (router/web/ops_api.py)."""
    note = {"note": {"type": "string", "maxLength": 2000}}
    return {
        "/api/v1/agents/{id}/avatar": {
            "put": _op("Set an agent's profile picture (their own, or anyone's for an admin; multipart `file`, "
                       "PNG, JPEG or WebP up to 2 MB); the one it replaces is deleted", "{agent, avatar}",
                       params=_ID),
            "delete": _op("Remove an agent's profile picture (initials again)", "{agent, avatar: null}", params=_ID)},
        "/api/v1/agents/{id}/cap": {
            "put": _op(
                "Change an agent's cap live (supervisor); a raise takes waiting work at once. It overrides "
                "the config's max_chats, restarts included; null clears the override", "{agent}",
                params=_ID, body={"type": "object", "required": ["cap"], "properties": {
                    "cap": {"type": ["integer", "null"], "minimum": 0, "maximum": 100}}}),
            "delete": _op("Clear an agent's live cap: the config's max_chats again (supervisor)", "{agent}",
                          params=_ID)},
        "/api/v1/supervisor/overview": {"get": _op(
            "Queues per pool, agents' status and load, SLA breaches (supervisor)", "{pools, agents, breaches}")},
        "/api/v1/handovers": {"get": _op(
            "Conversations handed over when their agent went offline, newest first (supervisor)",
            "{handovers: [...]}", params=[{"name": "since", "in": "query", "schema": {"type": "number"}},
                                          {"name": "limit", "in": "query", "schema": {"type": "integer"}}])},
        "/api/v1/dead-letters": {"get": _op(
            "Stream entries that could not be parsed or handled, newest first, with the reason (admin)",
            "{inbound: {count, entries}, outbound: {count, entries}, archive: {count, entries}}",
            params=[{"name": "stream", "in": "query", "schema": {"enum": ["inbound", "outbound", "archive"]}},
                    {"name": "limit", "in": "query", "schema": {"type": "integer"}}])},
        **webhooks_paths(_op, _q),
        "/api/v1/approvals": {"get": _op(
            "Pending discount approvals (all for supervisors, one's own for agents)", "{approvals: [...]}")},
        "/api/v1/approvals/{id}": {"post": _op(
            "Answer a discount approval (supervisor); 409 when already answered", "{approval}", params=_ID,
            body={"type": "object", "required": ["approved"],
                  "properties": {"approved": {"type": "boolean"}, **note}})},
        "/api/v1/conversations/{id}/transfer": {"post": _op(
            "Transfer to an agent or a pool; supervisors may take any conversation", "{conversation_id, outcome, to}",
            params=_ID, body={"type": "object", "properties": {
                "to_agent": {"type": "string"}, "to_pool": {"type": "string"}, **note}})},
    }


_UPLOAD = {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary"}, "conversation_id": {"type": "string"}}}}}}
_UPLOADED = ("{media_id, kind, mime, size, name, width, height, url, thumb_url, media}; 413 over the size limit, "
             "415 a type the channel does not take (sniffed from the bytes), 422 empty, truncated or a "
             "decompression bomb")


def media_paths() -> dict[str, Any]:
    """Photos, voice notes and files (docs/protocol.md, Media)."""
    customer = _op("Upload a file to send in the web chat (Authorization: Bearer SESSION)", _UPLOADED, status="201")
    customer["requestBody"] = _UPLOAD
    agent = _op("Upload a file to send in a conversation you may see (field conversation_id)", _UPLOADED,
                status="201")
    agent["requestBody"] = _UPLOAD
    for op in (customer, agent):
        op["responses"].update({"413": _ERR, "415": _ERR, "422": _ERR})
    read = _op("The file's bytes, to its conversation's customer and staff who may see it; 404 to anyone else",
               "the bytes", params=[*_ID, _q("thumb"), _q("download"), _q("exp"), _q("sig")])
    read["responses"]["404"] = _ERR
    link = _op("A short-lived signed URL of the file for an <img> tag", "{url, thumb_url, expires_in, media}",
               params=_ID)
    link["responses"]["404"] = _ERR
    return {"/api/v1/webchat/uploads": {"post": customer}, "/api/v1/media": {"post": agent},
            "/api/v1/media/{id}": {"get": read}, "/api/v1/media/{id}/link": {"get": link}}
