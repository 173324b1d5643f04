"""Time-based one-time codes (RFC 6238, pyotp): 6 digits, 30-second steps, one step of drift
either way. The clock is injectable so tests check codes at fixed times. A code is accepted
once (the step is recorded: router/store/lua/totp_step.lua)."""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable

import pyotp
import segno


class Totp:
    def __init__(self, issuer: str, clock: Callable[[], float] = time.time) -> None:
        self.issuer = issuer
        self.clock = clock

    @staticmethod
    def new_secret() -> str:
        return pyotp.random_base32()

    def uri(self, secret: str, account: str) -> str:
        """The otpauth:// URI an authenticator app reads from the QR code."""
        return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=self.issuer)

    @staticmethod
    def qr_svg(uri: str) -> str:
        """The URI as a QR code, an SVG drawn on the server (no image leaves for a third party)."""
        return str(segno.make(uri, error="m").svg_inline(scale=4, dark="#111", light="#fff"))

    def step(self, secret: str, code: object) -> int | None:
        """The time step `code` belongs to (now, or one step either side), None if it fits none."""
        if not isinstance(code, str) or not code.strip().isdigit():
            return None
        code = code.strip()
        otp = pyotp.TOTP(secret)
        now = self.clock()
        for drift in (0, -1, 1):
            at = now + drift * otp.interval
            if hmac.compare_digest(otp.at(at), code):
                return int(otp.timecode(at))
        return None

    def code(self, secret: str, at: float | None = None) -> str:
        """The code at `at` (now by default): for tests and the enrolment check."""
        return str(pyotp.TOTP(secret).at(self.clock() if at is None else at))

