"""Calls of the scripts agent accounts need (router/accounts/)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from router.store.calls import Call
from router.store.keys import Keys


@dataclass(frozen=True, slots=True)
class TotpStep(Call[bool]):
    """Use one TOTP time step of an agent's account once (router/accounts/totp.py)."""

    script: ClassVar[str] = "totp_step"
    aid: str
    step: int

    def keys(self, k: Keys) -> list[str]:
        return [k.account(self.aid)]

    def argv(self) -> list[Any]:
        return [self.step]

    def result(self, reply: Any) -> bool:
        return bool(int(reply))
