"""The one seam account events go through to the audit log (router/ops/audit.py): sign-ins,
failures and lockouts, agents created, changed, disabled and enabled, password and two-factor
resets, API keys, the account policy.

The audit log replaces secret-looking fields itself; this seam also drops any field that could
hold a password, a TOTP secret or code, or a key before it leaves, so even a log without that
guard never sees one (tests/security/test_account_secrets.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from router.auth import Principal

SECRET_FIELDS = frozenset({"password", "password_hash", "otp", "code", "totp", "totp_secret", "secret", "key",
                           "token", "api_key", "client_secret", "new_password", "old_password", "new", "old"})

Recorder = Callable[..., Awaitable[None]]
"""`Audit.record(who, action, target, *, before, after, addr, detail)`."""


def clean(detail: Mapping[str, Any]) -> dict[str, Any]:
    """`detail` without secret fields, at any depth; a removed field shows as '***'."""
    return {k: "***" if k.lower() in SECRET_FIELDS else clean(v) if isinstance(v, Mapping) else v
            for k, v in detail.items()}


class AccountAudit:
    def __init__(self, record: Recorder) -> None:
        self.record = record

    async def __call__(self, action: str, who: Principal | None, address: str, target: str,
                       before: Mapping[str, Any] | None = None, after: Mapping[str, Any] | None = None,
                       **detail: Any) -> None:
        """`who`: the person acting (None for the system acting on its own, e.g. a lockout, or a
        sign-in that failed: the id tried is the target)."""
        await self.record(who, action, target, before=clean(before) if before is not None else None,
                          after=clean(after) if after is not None else None, addr=address,
                          detail=clean(detail) or None)
