"""Settings of agent accounts: sign-in throttling and lockout, two-factor by role, who may change
the rules, and an optional OpenID Connect provider (docs/security.md, "Accounts").

Kept apart from router/config/settings.py so the checks live beside the types they check;
settings.py embeds `AccountSettings` and calls `check_accounts`.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import msgspec

from kefu_common.errors import ConfigError
from router.models import Role

if TYPE_CHECKING:
    from kefu_common.yamlpos import YamlDoc


class OidcSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    issuer: str
    """The provider's issuer URL; its /.well-known/openid-configuration is read at first use."""
    client_id: str
    client_secret: str = ""
    client_secret_env: str = ""
    """The variable holding the client secret, so the file need not."""
    claim: str = "preferred_username"
    """The id_token claim whose value is the agent id (e.g. `email` with agent ids as addresses)."""
    scope: str = "openid profile email"
    redirect_url: str = ""
    """This router's callback as the provider knows it; by default the request's own origin +
    /api/v1/oidc/callback."""
    label: str = "SSO"
    """The sign-in button's text."""

    def secret(self) -> str:
        return os.environ.get(self.client_secret_env, "") if self.client_secret_env else self.client_secret


class AccountSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    password_min_length: int = 10
    max_failures: int = 5
    """Failed sign-ins in a row that lock an account for `lockout_s`."""
    address_max_failures: int = 20
    """Failed sign-ins from one address (any accounts) that lock the address for `lockout_s`."""
    failure_window_s: int = 900
    """A failure is forgotten this long after the last one."""
    lockout_s: int = 900
    slow_base_s: float = 1.0
    """After an account's n-th failure the next try waits slow_base_s * 2^(n-1), at most slow_max_s
    (an address's only past max_failures: router/accounts/throttle.py)."""
    slow_max_s: float = 30.0
    require_2fa: tuple[Role, ...] = ()
    """Roles that must sign in with a TOTP code; the console can change this live."""
    supervisors_edit_rules: bool = False
    """Supervisors may save and activate routing rules (otherwise admins only)."""
    totp_issuer: str = "kefu-router"
    oidc: OidcSettings | None = None


def check_accounts(doc: YamlDoc, a: AccountSettings) -> list[ConfigError]:
    errors: list[ConfigError] = []
    if a.password_min_length < 8:
        errors.append(doc.error(("accounts", "password_min_length"), "accounts.password_min_length: at least 8"))
    if a.max_failures < 1 or a.address_max_failures < 1:
        errors.append(doc.error(("accounts",), "accounts: max_failures and address_max_failures must be at least 1"))
    if a.lockout_s < 1 or a.failure_window_s < 1 or a.slow_base_s < 0 or a.slow_max_s < a.slow_base_s:
        errors.append(doc.error(("accounts",), "accounts: lockout_s and failure_window_s must be at least 1, "
                                               "0 <= slow_base_s <= slow_max_s"))
    o = a.oidc
    if o is not None:
        if not o.issuer.startswith(("https://", "http://")):
            errors.append(doc.error(("accounts", "oidc", "issuer"), "accounts.oidc.issuer: expected a URL"))
        if o.client_secret_env and not os.environ.get(o.client_secret_env):
            errors.append(doc.error(("accounts", "oidc", "client_secret_env"),
                                    f"accounts.oidc.client_secret_env: {o.client_secret_env} is not set"))
        if not o.secret():
            errors.append(doc.error(("accounts", "oidc"),
                                "accounts.oidc: client_secret or client_secret_env is required"))
    return errors
