"""The one seam account events go through to the audit log (sign-ins, lockouts, agents created,
changed, disabled, password resets, API keys).

`Recorder` is what the runtime's audit log offers (`await rt.audit.record(...)`) when it has one;
without it, events go to the log at INFO. Detail is cleaned first: a field that could hold a
password, a TOTP secret or code, or a key never leaves here (tests/security/test_account_secrets.py)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

log = logging.getLogger("kefu.audit")

SECRET_FIELDS = frozenset({"password", "password_hash", "otp", "code", "totp", "totp_secret", "secret", "key",
                           "token", "api_key", "client_secret", "new_password", "old_password"})

Recorder = Callable[..., Awaitable[Any]]


def clean(detail: Mapping[str, Any]) -> dict[str, Any]:
    """`detail` without secret fields, at any depth; a removed field shows as '***' so the record
    still says it changed."""
    out: dict[str, Any] = {}
    for k, v in detail.items():
        if k.lower() in SECRET_FIELDS:
            out[k] = "***"
        elif isinstance(v, Mapping):
            out[k] = clean(v)
        else:
            out[k] = v
    return out


class AccountAudit:
    """Where account events go; `record` is set to the audit log's once the runtime has one."""

    def __init__(self, record: Recorder | None = None) -> None:
        self.record = record

    async def __call__(self, action: str, actor: str | None, address: str | None, target: str | None = None,
                       before: Mapping[str, Any] | None = None, after: Mapping[str, Any] | None = None,
                       **detail: Any) -> None:
        before_c = clean(before) if before is not None else None
        after_c = clean(after) if after is not None else None
        extra = clean(detail)
        if self.record is None:
            log.info("audit %s actor=%s from=%s target=%s before=%s after=%s %s", action, actor, address, target,
                     before_c, after_c, extra)
            return
        await self.record(action=action, actor=actor, address=address, target=target, before=before_c,
                          after=after_c, detail=extra)
