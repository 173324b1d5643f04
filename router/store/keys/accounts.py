"""Agent accounts in ``{acct:NS}``: credentials and sign-in throttling (router/store/accounts.py);
and console sessions, untagged.
"""

from __future__ import annotations

from router.store.keys.base import KeysBase


class AccountKeys(KeysBase):
    """Keys of agents' credentials, API keys, sign-in throttling and console sessions."""

    __slots__ = ()

    # Apart from {rt}: no routing script reads them, and a password check should not queue behind
    # assignment on the routing slot.

    @property
    def _acct(self) -> str:
        return f"{{acct:{self.ns}}}:"

    def account(self, aid: str) -> str:
        """Hash: one agent's credentials: argon2 password hash, TOTP secret (and one being
        enrolled), the last TOTP step used (no replay), the credential epoch sessions are bound to."""
        return f"{self._acct}agent:{aid}"

    def account_sessions(self, aid: str) -> str:
        """Set: the agent's console session ids, so disabling them ends every one at once."""
        return f"{self._acct}agent:{aid}:sessions"

    def api_key(self, digest: str) -> str:
        """Hash: an API key by the SHA-256 of its secret (never the secret): owner, role, label."""
        return f"{self._acct}key:{digest}"

    def api_keys_of(self, aid: str) -> str:
        """Hash: key id -> digest, an agent's API keys, to list and revoke them by id."""
        return f"{self._acct}agent:{aid}:keys"

    @property
    def api_key_ids(self) -> str:
        """Hash: key id -> digest, every key, so an admin revokes one by id alone."""
        return f"{self._acct}keys"

    def login_failures(self, kind: str, who: str) -> str:
        """String (EX failure window): failed sign-ins in a row of an account or an address."""
        return f"{self._acct}fail:{kind}:{who}"

    def login_wait(self, kind: str, who: str) -> str:
        """String (PX): present while the next try must wait; its TTL is the Retry-After."""
        return f"{self._acct}wait:{kind}:{who}"

    def login_lock(self, kind: str, who: str) -> str:
        """String (EX lockout): present while the account or address is locked."""
        return f"{self._acct}lock:{kind}:{who}"

    @property
    def account_policy(self) -> str:
        """Hash: live account policy (require_2fa: JSON list of roles); the config seeds it."""
        return f"{self._acct}policy"

    def oidc_state(self, state: str) -> str:
        """String (EX 10 min): an OIDC sign-in under way, its nonce; taken once by the callback."""
        return f"{self._acct}oidc:{state}"

    def session(self, sid: str) -> str:
        """Hash (EX, the cookie's lifetime): one console sign-in, its agent and their token's
        fingerprint. Deleting it signs the agent out at once, whatever the cookie still says."""
        return f"{self.ns}:session:{sid}"
