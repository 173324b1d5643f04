"""Settings of outbound webhooks (router/hooks): the webhooks the config defines, and how every
webhook is delivered. settings.py embeds the structs and calls the check.

```yaml
webhooks:
  - id: erp                        # optional; the API's id for it (default: config-1, config-2, ...)
    url: https://erp.example.com/kefu/events
    secret_env: KEFU_ERP_HOOK_SECRET   # signs each body: X-Kefu-Signature: sha256=HMAC(secret, body)
    events: [conversation.closed, csat.created]   # default: all
webhook_delivery:
  allow_private_networks: false    # true: URLs on loopback, link-local and private addresses too
  max_attempts: 8                  # then the delivery is dead-lettered
  base_delay_s: 1.0                # backoff: base * 2^(attempt-1), full jitter, at most max_delay_s
  max_delay_s: 300.0
  timeout_s: 10.0                  # one POST; a slower receiver counts as failed
  concurrency: 32                  # deliveries in flight per process
```
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import msgspec

from kefu_common.errors import ConfigError
from router.hooks.events import EVENT_TYPES
from router.hooks.ssrf import check_url

if TYPE_CHECKING:
    from kefu_common.yamlpos import YamlDoc

HOOK_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
MIN_SECRET = 16


class WebhookSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    url: str
    secret: str
    events: tuple[str, ...] = EVENT_TYPES
    id: str | None = None
    enabled: bool = True


class WebhookDeliverySettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    allow_private_networks: bool = False
    """URLs that are, or resolve to, loopback, link-local or private addresses are refused unless
    this is true (docs/security.md, "Outbound webhooks")."""
    max_attempts: int = 8
    base_delay_s: float = 1.0
    max_delay_s: float = 300.0
    timeout_s: float = 10.0
    concurrency: int = 32
    log_keep: int = 1000
    """Deliveries kept in each webhook's log (GET /api/v1/webhooks/{id}/deliveries)."""
    record_ttl_s: int = 7 * 86400
    """How long a delivery's record (and body, for redelivery) is kept."""


def config_hook_id(index: int, given: str | None) -> str:
    return given or f"config-{index + 1}"


def check_events(events: object) -> str | None:
    """What is wrong with an event list, or None."""
    if not isinstance(events, list | tuple) or not events or not all(isinstance(e, str) for e in events):
        return f"events: expected a non-empty list of event types: {', '.join(EVENT_TYPES)}"
    unknown = [e for e in events if e not in EVENT_TYPES]
    if unknown:
        return f"events: unknown {', '.join(map(repr, unknown))}; event types are {', '.join(EVENT_TYPES)}"
    return None


def check_webhooks(doc: YamlDoc, hooks: tuple[WebhookSettings, ...],
                   d: WebhookDeliverySettings) -> list[ConfigError]:
    errors: list[ConfigError] = []
    seen: set[str] = set()
    for i, h in enumerate(hooks):
        where = ("webhooks", i)
        hid = config_hook_id(i, h.id)
        if not HOOK_ID.match(hid):
            errors.append(doc.error((*where, "id"), f"webhooks.id {hid!r} must be 1-64 of A-Z a-z 0-9 _ . -"))
        if hid in seen:
            errors.append(doc.error((*where, "id"), f"webhooks: two webhooks have the id {hid!r}"))
        seen.add(hid)
        problem = check_url(h.url, d.allow_private_networks)
        if problem:
            errors.append(doc.error((*where, "url"), f"webhooks.url: {problem}"))
        if len(h.secret) < MIN_SECRET:
            errors.append(doc.error((*where, "secret"), f"webhooks.secret: at least {MIN_SECRET} characters"))
        problem = check_events(list(h.events))
        if problem:
            errors.append(doc.error((*where, "events"), f"webhooks.{problem}"))
    if d.max_attempts < 1 or d.concurrency < 1 or d.log_keep < 1:
        errors.append(doc.error(("webhook_delivery",), "webhook_delivery: max_attempts, concurrency and log_keep "
                                                       "must be at least 1"))
    if d.base_delay_s <= 0 or d.max_delay_s < d.base_delay_s or d.timeout_s <= 0:
        errors.append(doc.error(("webhook_delivery",), "webhook_delivery: base_delay_s and timeout_s must be more "
                                                       "than 0, max_delay_s at least base_delay_s"))
    if d.record_ttl_s < 3600:
        errors.append(doc.error(("webhook_delivery", "record_ttl_s"),
                                "webhook_delivery.record_ttl_s: expected at least 3600"))
    return errors
