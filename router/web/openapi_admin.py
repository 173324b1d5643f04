"""The OpenAPI description of what supervisors read and admins change: the routing rules
(router/web/rules_api.py), the live documents and pools (router/web/admin_api.py) and outbound
webhooks (router/hooks/); router/web/openapi.py includes it and passes its operation builder in,
as with openapi_accounts.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Op = Callable[..., dict[str, Any]]
_ID = [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}]
_V = [{"name": "v", "in": "path", "required": True, "schema": {"type": "string"}}]
_SOURCE = {"type": "object", "required": ["source"], "properties": {"source": {"type": "string"}}}


def rules_paths(_op: Op) -> dict[str, Any]:
    """Routing rules (docs/rules.md): supervisors read, admins activate."""
    put = _op("Activate new rules (admin; If-Match: the version replaced; body YAML or {source})",
              "{version, problems}; 422 {error, detail, problems: [{line, col, message, severity}]}, "
              "412 stale If-Match, 428 no If-Match", body=_SOURCE)
    return {
        "/api/v1/rules": {"get": _op("The active rules; ETag is the version",
                                     "{version, source, activated_at, activated_by, summary}"),
                          "put": put},
        "/api/v1/rules/validate": {"post": _op("Check rules without activating", "{ok, problems}",
                                               body=_SOURCE)},
        "/api/v1/rules/explain": {"post": _op(
            "Decide one message and say why each earlier rule did not match",
            "{version, at, decision, explanation}",
            body={"type": "object", "required": ["text"], "properties": {
                "text": {"type": "string"}, "channel": {"type": "string"}, "account": {"type": "string"},
                "tags": {"type": "array", "items": {"type": "string"}}, "segment": {"type": "string"},
                "at": {"type": "string"}, "source": {"type": "string"}}})},
        "/api/v1/rules/replay": {"post": _op(
            "Re-decide recorded conversations with candidate rules; nothing live changes",
            "{total, pool_changed, priority_changed, bot_changed, any_changed, moves, fires, lines}",
            body={"type": "object", "required": ["source"], "properties": {
                "source": {"type": "string"}, "since": {"type": "string"}, "until": {"type": "string"},
                "limit": {"type": "integer"}}})},
        "/api/v1/rules/builder/read": {"post": _op(
            "The rules as the rule builder's form rows; nothing is stored",
            "{rules: [row], choices}; 422 {error, detail, problems: [{line, col, message}]}", body=_SOURCE)},
        "/api/v1/rules/builder": {"post": _op(
            "Form rows written into the rules YAML (comments and other rules kept); nothing is stored",
            "{source, ok, problems, spans}; 422 {error, detail, problems: [{rule, field, line, col, message}]}",
            body={"type": "object", "required": ["source", "rules"], "properties": {
                "source": {"type": "string"}, "rules": {"type": "array", "items": {"type": "object"}}}})},
        "/api/v1/rules/versions": {"get": _op("Every version, newest first",
                                              "[{version, author, at, summary, active}]")},
        "/api/v1/rules/versions/{v}": {"get": _op("One version with its source and diff",
                                                  "{version, source, diff, author, at, summary}", params=_V)},
        "/api/v1/rules/rollback/{v}": {"post": _op(
            "Activate an old version's source as a new version (admin)", "{version}", params=_V)},
    }


_KIND = [{"name": "kind", "in": "path", "required": True,
          "schema": {"type": "string", "enum": ["pools", "hours", "shifts", "quick_replies", "faq"]}}]


def live_paths(_op: Op) -> dict[str, Any]:
    """What admins edit live (docs/admin.md): supervisors read and validate, admins activate."""
    pool = {"type": "object", "properties": {"id": {"type": "string"}, "name": {"type": "string"},
                                             "skills": {"type": "array", "items": {"type": "string"}}}}
    return {
        "/api/v1/admin/{kind}": {
            "get": _op("The active version of a live document; ETag is the version",
                       "{kind, version, source, activated_at, activated_by, summary, in_use}", params=_KIND),
            "put": _op("Activate a new version (admin; If-Match: the version replaced; body YAML or {source})",
                       "{kind, version}; 422 {error, detail, problems: [{file, line, col, message, code, params}]}, "
                       "412, 428",
                       params=_KIND, body=_SOURCE)},
        "/api/v1/admin/{kind}/validate": {"post": _op("Check a document without activating", "{ok, problems}",
                                                      params=_KIND, body=_SOURCE)},
        "/api/v1/admin/{kind}/versions": {"get": _op("Versions, newest first",
                                                     "[{version, author, at, summary, active}]", params=_KIND)},
        "/api/v1/admin/{kind}/versions/{v}": {"get": _op("One version with its source and diff",
                                                         "{kind, version, source, diff, author, at, summary}",
                                                         params=_KIND + _V)},
        "/api/v1/admin/{kind}/rollback/{v}": {"post": _op(
            "Activate an old version's source as a new version (admin)", "{kind, version}", params=_KIND + _V)},
        "/api/v1/pools": {
            "get": _op("The live pools", "{version, pools: [{id, name, skills}]}"),
            "post": _op("Create a pool (admin)",
                        "201 {pool}; 409 exists; 422 {problems: [{field, message, code, params}]}",
                        body={**pool, "required": ["id"]})},
        "/api/v1/pools/{id}": {"patch": _op(
            "Edit a pool's name or skills (admin)", "{pool}; 404; 422 {problems: [{field, message, code, params}]}",
            params=[{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}], body=pool)},
    }


def webhooks_paths(_op: Op, _q: Op) -> dict[str, Any]:
    """Outbound webhooks (admin; docs/channels.md, "Outbound webhooks")."""
    hook = {"type": "object", "properties": {
        "url": {"type": "string"}, "secret": {"type": "string", "minLength": 16},
        "events": {"type": "array", "items": {"enum": ["conversation.created", "conversation.assigned",
                                                       "conversation.transferred", "conversation.closed",
                                                       "message.created", "csat.created", "sla.breached"]}},
        "enabled": {"type": "boolean"}, "id": {"type": "string"}}}
    delivery = [*_ID, {"name": "delivery", "in": "path", "required": True, "schema": {"type": "string"}}]
    return {
        "/api/v1/webhooks": {
            "get": _op("Every webhook, without its secret (admin)", "{webhooks: [...]}"),
            "post": _op("Make a webhook; the answer shows its secret this once (admin); a URL on an internal "
                        "address is 400 url_refused", "{webhook}", body={**hook, "required": ["url"]},
                        status="201")},
        "/api/v1/webhooks/{id}": {
            "get": _op("One webhook (admin)", "{webhook}", params=_ID),
            "patch": _op("Change url, events, secret or enabled (admin); a config webhook is 409", "{webhook}",
                         params=_ID, body=hook),
            "delete": _op("Delete a webhook (admin); a config webhook is 409", "{deleted}", params=_ID)},
        "/api/v1/webhooks/{id}/deliveries": {"get": _op(
            "The delivery log, newest first: status, attempts, last error (admin)", "{webhook, deliveries}",
            params=[*_ID, _q("limit", "integer"), _q("before", "number")])},
        "/api/v1/webhooks/{id}/deliveries/{delivery}/redeliver": {"post": _op(
            "Send a delivery again, same id and body (admin)", "{redelivering}", params=delivery, status="202")},
    }
