"""Token buckets by key (a visitor, an address), in this process, so that one customer sending
thousands of messages is refused early and cheaply while every other customer goes on."""

from __future__ import annotations

import ipaddress
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence

from router.config.limits import Rate

log = logging.getLogger("kefu.ratelimit")

MAX_KEYS = 100_000
"""Buckets kept; the least recently used go first (a full bucket is the same as none)."""
LOG_EVERY_S = 10.0
"""One log line per key and this many seconds, so a flood does not flood the log too."""


class Buckets:
    def __init__(self, name: str, rate: Rate, clock: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self.rate = rate
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)
        self._logged: dict[str, float] = {}

    def take(self, key: str) -> float:
        """0 when `key` may go now (a token is spent); otherwise the seconds until it may."""
        now = self.clock()
        tokens, at = self._buckets.pop(key, (float(self.rate.burst), now))
        tokens = min(float(self.rate.burst), tokens + (now - at) * self.rate.per_s)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / self.rate.per_s
        self._buckets[key] = (tokens, now)
        if len(self._buckets) > MAX_KEYS:
            self._buckets.popitem(last=False)
        if wait and now - self._logged.get(key, -LOG_EVERY_S) >= LOG_EVERY_S:
            self._logged[key] = now
            if len(self._logged) > MAX_KEYS:
                self._logged.clear()
            log.warning("rate limit %s: %s refused (%g/s, burst %d)", self.name, key, self.rate.per_s,
                        self.rate.burst)
        return wait


class ChatLimits:
    """The web chat's four limits (`rate_limits` in the config)."""

    def __init__(self, customer_messages: Rate, address_messages: Rate, address_sessions: Rate,
                 customer_connects: Rate, enabled: bool = True, exempt: Sequence[str] = ()) -> None:
        self.enabled = enabled
        self.exempt = tuple(ipaddress.ip_network(n, strict=False) for n in exempt)
        self.customer_messages = Buckets("customer_messages", customer_messages)
        self.address_messages = Buckets("address_messages", address_messages)
        self.address_sessions = Buckets("address_sessions", address_sessions)
        self.customer_connects = Buckets("customer_connects", customer_connects)

    def message(self, visitor: str, address: str) -> float:
        if not self.enabled:
            return 0.0
        # The customer's own bucket first: a flooding visitor does not spend their neighbours'.
        return self.customer_messages.take(visitor) or (
            0.0 if self._exempt(address) else self.address_messages.take(address))

    def session(self, address: str) -> float:
        return self.address_sessions.take(address) if self.enabled and not self._exempt(address) else 0.0

    def _exempt(self, address: str) -> bool:
        try:
            addr = ipaddress.ip_address(address)
        except ValueError:  # a Unix socket peer
            return True
        return any(addr in net for net in self.exempt)

    def connect(self, visitor: str) -> float:
        return self.customer_connects.take(visitor) if self.enabled else 0.0
