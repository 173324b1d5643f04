"""Customers' keys: who they are and their identities in ``{rt:NS}`` (resolve.lua links them while
routing), and a web chat customer's feed in ``{f:NS:<customer>}``.
"""

from __future__ import annotations

from router.store.keys.base import KeysBase


class CustomerKeys(KeysBase):
    """Keys of customers, their channel identities and web chat feeds."""

    __slots__ = ()

    def customer(self, cust: str) -> str:
        """Hash: customer name, segment, tags, open conversation, last agent (stickiness)."""
        return f"{self.rt}cust:{cust}"

    def customer_identities(self, cust: str) -> str:
        """Set: the channel identities ('channel:account:user') linked to one customer."""
        return f"{self.rt}cust:{cust}:idents"

    def customer_convs(self, cust: str) -> str:
        """Sorted set: the customer's conversations by creation time, so the console can show
        their history across channels without scanning every conversation."""
        return f"{self.rt}cust:{cust}:convs"

    def customer_merge(self, cust: str) -> str:
        """String: JSON of what merging this customer into another moved (its identities and
        conversations, the fields it filled), so an unmerge can put each back."""
        return f"{self.rt}cust:{cust}:merge"

    def customer_merged(self, cust: str) -> str:
        """Set: the customers merged into this one, whose archived conversations its history
        reads too (the archive keeps the id a conversation was created under)."""
        return f"{self.rt}cust:{cust}:merged"

    def profile_asked(self, ident: str) -> str:
        """String with a TTL: the channel was asked for this identity's profile lately (WeChat
        user/info), so the processes ask once a day, not once per message."""
        return f"{self.rt}ident:{ident}:asked"

    def identity(self, channel: str, account: str, user: str) -> str:
        """String: channel identity -> customer id. One customer, many channels."""
        return self.identity_of(f"{channel}:{account}:{user}")

    def identity_of(self, ident: str) -> str:
        """The same key, from the identity as resolve.lua gets it ('channel:account:user')."""
        return f"{self.rt}ident:{ident}"

    @property
    def phone_secret(self) -> str:
        """String: the key of the digests phone numbers are linked by (router/ops/profiles.py),
        shared by all processes, so a number is never stored and still finds its customer."""
        return f"{self.rt}phone:secret"

    @property
    def webchat_logo(self) -> str:
        """String: the URL of the welcome card's logo an admin uploaded (`/api/v1/media/{id}`); it
        wins over channels.webchat.welcome.logo while it is set (router/ops/pictures.py)."""
        return f"{self.rt}webchat:logo"

    @property
    def webchat_secret(self) -> str:
        """String: the session-signing secret shared by all processes when the config has none."""
        return f"{self.rt}webchat:secret"

    # Web chat feed {f:NS:visitor}.

    def feed(self, visitor: str) -> str:
        """Stream: frames a web chat visitor is shown, replayed after `last_seen`."""
        return f"{{f:{self.ns}:{visitor}}}:feed"

    def feed_ids(self, visitor: str) -> str:
        """Hash: message id -> feed entry id, to find `last_seen` and to add each message once."""
        return f"{{f:{self.ns}:{visitor}}}:ids"

    @property
    def customer_channel(self) -> str:
        """Pub/sub: customer events, addressed 'channel:chat' (feed entries, queue position)."""
        return f"{self.rt}events:customer"
