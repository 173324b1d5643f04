"""Failed sign-ins, slowed and then locked, per account and per address.

After an account's n-th failure in a row the next try must wait `slow_base_s * 2^(n-1)` (at most
`slow_max_s`); a try during the wait is refused without checking the password (429, Retry-After).
An address is slowed the same way only past `max_failures` of its own (its n-th failure waits
`slow_base_s * 2^(n-max_failures-1)`): a shop's agents often sign in from one address (the
office's NAT), and one agent's typo at the start of a shift must not make every colleague wait.
Guessing from one address still slows after as many misses as lock an account.
At `max_failures` for an account, or `address_max_failures` for an address, it is locked for
`lockout_s`. The counts, waits and locks are Redis keys with expiries, so every process sees the
same, and the time left is the key's TTL. A success clears the account's count (not the
address's: one good password from an address guessing others should not reset it)."""

from __future__ import annotations

import math

from kefu_common.errors import SignInLocked
from router.config.accounts import AccountSettings
from router.store.accounts import LOCK, WAIT, AccountRecords

ACCOUNT, ADDRESS = "acct", "addr"


class Throttle:
    def __init__(self, records: AccountRecords, settings: AccountSettings) -> None:
        self.records = records
        self.s = settings

    async def check(self, aid: str, address: str) -> None:
        """Raise SignInLocked while the account or the address must not try."""
        for kind, who in ((ACCOUNT, aid), (ADDRESS, address)):
            held = await self.records.blocked_for(kind, who)
            if held is None:
                continue
            what, left = held
            subject = "this account" if kind == ACCOUNT else "this address"
            if what == LOCK:
                raise SignInLocked(f"{subject} is locked after too many failed sign-ins; try again in "
                                   f"{math.ceil(left)} s", left, locked=True)
            raise SignInLocked(f"too many failed sign-ins; wait {left:.1f} s", left, locked=False)

    async def failed(self, aid: str, address: str) -> list[str]:
        """Count a failure against both; the kinds ('acct', 'addr') this failure locked."""
        locked = []
        # free: the failures that slow nobody (an address's first max_failures, the docstring's why).
        for kind, who, limit, free in ((ACCOUNT, aid, self.s.max_failures, 0),
                                       (ADDRESS, address, self.s.address_max_failures, self.s.max_failures)):
            count = await self.records.failed(kind, who, self.s.failure_window_s)
            if count >= limit:
                await self.records.hold(kind, who, LOCK, self.s.lockout_s)
                locked.append(kind)
            elif self.s.slow_base_s > 0 and count > free:
                wait = self.s.slow_base_s * 2 ** (count - free - 1)
                await self.records.hold(kind, who, WAIT, min(self.s.slow_max_s, wait))
        return locked

    async def succeeded(self, aid: str) -> None:
        await self.records.succeeded(ACCOUNT, aid)
