"""JSON API of the bot's knowledge: quick replies and FAQ for agents, compliance checks, the
bot's figures (deflection, unanswered questions) and the reload of its files."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from kefu_common.errors import AuthError, ConfigError, ProtocolError
from router.auth import Principal
from router.bot.brain_types import BotContext
from router.bot.figures import deflection, unknown_questions
from router.bot.llm import build_prompt
from router.bot.llm_step import order_facts
from router.models import Role
from router.runtime import RUNTIME, Runtime
from router.web.api import json_body, principal
from router.web.proxy import client

routes = web.RouteTableDef()

MAX_QUERY = 200


def _query(request: web.Request, name: str) -> str:
    value = request.query.get(name, "").strip()
    if len(value) > MAX_QUERY:
        raise ProtocolError("too_long", f"{name} is longer than {MAX_QUERY} characters")
    return value


def _limit(request: web.Request, default: int, top: int = 200) -> int:
    try:
        n = int(request.query.get("limit", str(default)))
    except ValueError:
        raise ProtocolError("bad_query", "limit must be a whole number") from None
    if not 1 <= n <= top:
        raise ProtocolError("bad_query", f"limit must be 1 to {top}")
    return n


async def _placeholders(rt: Runtime, cid: str, who: Principal) -> dict[str, str | None]:
    """Values for {customer_name}, {agent_name}, {shop}, {order_id} in one conversation."""
    values: dict[str, str | None] = {"agent_name": who.name, "shop": rt.settings.shop.name}
    if not cid:
        return values
    conv = await rt.store.conversations.get(cid)
    if conv is None:
        raise ProtocolError("not_found", f"no conversation {cid}", 404)
    if not who.can(Role.SUPERVISOR) and conv.agent != who.agent_id:
        raise AuthError("this conversation is not assigned to you", status=403)
    customer = await rt.store.customers.get(conv.customer_id or "")
    values["customer_name"] = (customer and customer.name) or None
    bot = conv.bot or {}
    linked = conv.linked_order
    state = await rt.store.conversations.bot_memory(cid)
    remembered = None
    if state:
        from router.bot.stage import load_state

        remembered = load_state(state).order_id
    values["order_id"] = bot.get("order_id") or linked or remembered
    return values


@routes.get("/api/v1/quick-replies")
async def quick_replies(request: web.Request) -> web.Response:
    """Search by keyword or pinyin initials, filter by category; render for a conversation."""
    who = principal(request)
    rt = request.app[RUNTIME]
    lib = rt.bot.library.quick
    category = _query(request, "category") or None
    if category is not None:
        stages = dict(lib.stages)
        by_title = {title: sid for sid, title in lib.stages}
        category = category if category in stages else by_title.get(category, category)
        if category not in stages:
            raise ProtocolError("bad_query", f"unknown category {category!r}; known: {', '.join(stages)}")
    values = await _placeholders(rt, _query(request, "conversation_id"), who)
    items: list[dict[str, Any]] = []
    titles = dict(lib.stages)  # the stage's name as the file gives it (欢迎语), not its id (issue 19)
    for r in lib.search(_query(request, "q"), stage=category, limit=_limit(request, 20)):
        try:
            rendered: str | None = r.render(values)
        except ValueError:
            rendered = None  # needs an order number this conversation does not have
        items.append({"id": r.id, "category": r.stage, "category_title": titles.get(r.stage, r.stage),
                      "title": r.title, "text": r.text, "rendered": rendered})
    return web.json_response({"items": items})


@routes.get("/api/v1/faq/search")
async def faq_search(request: web.Request) -> web.Response:
    principal(request)
    faq = request.app[RUNTIME].bot.library.faq
    q = _query(request, "q")
    if not q:
        raise ProtocolError("bad_query", "q is required")
    hits = faq.search(q, limit=_limit(request, 5, 50)) if faq is not None else []
    return web.json_response({"items": [
        {"id": h.entry.id, "question": h.entry.question, "answer": h.entry.answer,
         "score": round(h.score, 4)} for h in hits]})


@routes.post("/api/v1/compliance/check")
async def compliance_check(request: web.Request) -> web.Response:
    principal(request)
    rt = request.app[RUNTIME]
    text = (await json_body(request)).get("text")
    if not isinstance(text, str):
        raise ProtocolError("bad_request", '"text" must be a string')
    if len(text) > rt.settings.limits.max_text_chars:
        raise ProtocolError("too_long", f'"text" is longer than {rt.settings.limits.max_text_chars} characters',
                            params={"field": "text", "limit": rt.settings.limits.max_text_chars})
    result = rt.bot.library.compliance.check(text)
    return web.json_response({"mode": result.mode.value, "findings": [
        {"term": f.term, "start": f.start, "end": f.end} for f in result.findings]})


@routes.get("/api/v1/bot/stats")
async def bot_stats(request: web.Request) -> web.Response:
    """Deflection: bot conversations closed without a person, out of all bot conversations."""
    principal(request, Role.SUPERVISOR)
    return web.json_response(await deflection(request.app[RUNTIME].store))


@routes.get("/api/v1/bot/unknown")
async def bot_unknown(request: web.Request) -> web.Response:
    principal(request, Role.SUPERVISOR)
    store = request.app[RUNTIME].store
    return web.json_response({"items": await unknown_questions(store, _limit(request, 20, 1000))})


@routes.post("/api/v1/bot/reload")
async def bot_reload(request: web.Request) -> web.Response:
    """Reload FAQ, quick replies and compliance now; a broken file changes nothing (422)."""
    who = principal(request, Role.ADMIN)
    lib = request.app[RUNTIME].bot.library
    try:
        done = lib.reload()
    except ConfigError as exc:
        raise ProtocolError("invalid_file", str(exc), 422) from None
    await request.app[RUNTIME].audit.record(who, "bot.reload", "bot", addr=client(request),
                                            detail={"reloaded": done})
    return web.json_response({"reloaded": done, "faq_version": lib.faq.version if lib.faq else None})


def check_agent_text(rt: Runtime, text: str, client_msg_id: str) -> dict[str, Any] | None:
    """The advertising-law check of an agent's reply: a `warning` frame to show before it goes,
    or, in block mode, a refusal (error frame `compliance_blocked`) and nothing is sent."""
    result = rt.bot.library.compliance.check(text)
    if result.ok:
        return None
    terms = list(dict.fromkeys(f.term for f in result.findings))
    if result.blocked:
        raise ProtocolError("compliance_blocked", f"the reply uses banned terms: {', '.join(terms)}")
    return {"type": "warning", "code": "compliance", "client_msg_id": client_msg_id, "terms": terms,
            "findings": [{"term": f.term, "start": f.start, "end": f.end} for f in result.findings]}


@routes.post("/api/v1/conversations/{id}/suggestion")
async def suggest_reply(request: web.Request) -> web.Response:
    """The copilot: a reply the model drafts for the conversation's latest customer lines, with the
    bot's grounding (FAQ entries, policies, the order's facts for its owner) and its guardrails.
    Only shown to the agent, who edits and sends it; nothing is ever sent from here."""
    who = principal(request)
    rt = request.app[RUNTIME]
    client = rt.bot.llm
    if client is None:
        raise ProtocolError("no_model", "no language model is configured (bot.llm)", 404)
    cid = request.match_info["id"]
    conv = await rt.store.conversation(cid)
    if conv is None:
        raise ProtocolError("not_found", f"no conversation {cid}", 404)
    if not who.can(Role.SUPERVISOR) and conv["agent"] != who.agent_id:
        raise AuthError("this conversation is not assigned to you", status=403)
    question = _latest_customer_lines(await rt.transcript.public(cid))
    if not question:
        raise ProtocolError("nothing_to_answer", "the customer has not written anything yet", 409)
    customer = conv["customer_id"] or ""
    ctx = BotContext(customer_id=customer, identities=frozenset(await rt.store.customers.identities(customer)))
    facts = await order_facts(rt.bot.orders, (conv.get("bot") or {}).get("order_id"), ctx, ())
    prompt = build_prompt(client.settings, rt.bot.config.shop, question, rt.bot.library.faq, facts, role="agent")
    turn = await client.ask(prompt, rt.bot.library.compliance)
    return web.json_response({"suggestion": turn.text if turn.answered else None, "question": question,
                              "faq_ids": list(prompt.faq_ids), **turn.record()})


def _latest_customer_lines(messages: list[dict[str, Any]], most: int = 3) -> str:
    """The customer's lines since anyone else last wrote (at most `most`), oldest first."""
    lines: list[str] = []
    for m in reversed(messages):
        if m.get("from") in ("agent", "bot"):
            if lines:
                break
            continue
        if m.get("from") == "customer" and str(m.get("text") or "").strip():
            lines.append(str(m["text"]).strip())
            if len(lines) >= most:
                break
    return "\n".join(reversed(lines))
