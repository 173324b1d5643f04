"""Sending to Telegram: splitting long texts, pacing per chat, and PTB's errors as channel errors.

PTB's AIORateLimiter pauses *every* request while any chat is under a 429, so one flooded chat
would stall all others. `Pacer` keeps the waits apart: each chat has its own spacing and its own
retry-after; only the overall rate is shared.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import time
import warnings
from collections import deque

from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.warnings import PTBDeprecationWarning

from adapters.base import Limits
from adapters.split import split_text as split
from adapters.split import u16
from kefu_common.errors import PermanentChannelError, RetryableChannelError

__all__ = ["MAX_TEXT", "Pacer", "channel_error", "pacer_for", "retry_seconds", "split_text", "u16"]

# PTB 22 warns on every RetryAfter it builds (its int time periods are deprecated) unless the
# process opts in to the timedelta periods of its next major version; we read both forms.
os.environ.setdefault("PTB_TIMEDELTA", "true")

MAX_TEXT = 4096
"""Telegram's limit, counted in UTF-16 code units after entity parsing."""

PRUNE_AT = 10_000
"""Chats tracked before idle ones are forgotten."""


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Parts of at most `limit` UTF-16 units, cut at paragraph, then sentence, boundaries."""
    return split(text, limit, u16)


class Pacer:
    """Spacing per chat (1/s, groups 20/min) and overall (30/s); a 429 blocks only its chat.

    In-process: several router processes each keep these rates, and a 429 seen by one process
    is learnt by the others from their own 429s.
    """

    def __init__(self, per_chat_s: float = 1.0, group_per_min: int = 20, overall_per_s: int = 30) -> None:
        self.per_chat_s = per_chat_s
        self.group_per_min = group_per_min
        self.overall_per_s = overall_per_s
        self._last: dict[str, float] = {}
        self._groups: dict[str, deque[float]] = {}
        self._overall: deque[float] = deque()
        self._blocked: dict[str, float] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._overall_lock = asyncio.Lock()

    def blocked_for(self, chat: str) -> float:
        """Seconds left of the chat's retry-after, 0 when it may be written to."""
        return max(0.0, self._blocked.get(chat, 0.0) - time.monotonic())

    def block(self, chat: str, seconds: float) -> None:
        self._blocked[chat] = time.monotonic() + seconds

    async def wait(self, chat: str) -> None:
        """Wait for the chat's turn, then for a slot in the overall rate."""
        lock = self._locks.setdefault(chat, asyncio.Lock())
        async with lock:
            now = time.monotonic()
            delay = self._last.get(chat, -1e9) + self.per_chat_s - now
            if chat.startswith("-"):  # group and channel ids are negative
                times = self._groups.setdefault(chat, deque())
                while times and times[0] <= now - 60:
                    times.popleft()
                if len(times) >= self.group_per_min:
                    delay = max(delay, times[0] + 60 - now)
            if delay > 0:
                await asyncio.sleep(delay)
            async with self._overall_lock:
                while True:
                    now = time.monotonic()
                    while self._overall and self._overall[0] <= now - 1:
                        self._overall.popleft()
                    if len(self._overall) < self.overall_per_s:
                        break
                    await asyncio.sleep(self._overall[0] + 1 - now)
                self._overall.append(now)
            self._last[chat] = now
            if chat.startswith("-"):
                self._groups[chat].append(now)
            if len(self._last) > PRUNE_AT:
                self._prune(now)

    def answered(self, chat: str) -> None:
        """Telegram answered a send to `chat`: the next one waits a full spacing from now.

        Counting from the send's start alone let latency eat the spacing: a request slow to
        arrive, followed by a prompt one, reached Telegram less than a second apart (under load
        the 10,000-character reply's parts did). Telegram has a message by the time it answers,
        so spacing from the answer holds at Telegram's end whatever the latency."""
        self._last[chat] = max(self._last.get(chat, -1e9), time.monotonic())

    def _prune(self, now: float) -> None:
        """Forget chats idle for a minute, so a bot with many customers keeps a small table."""
        for chat in [c for c, t in self._last.items() if t < now - 60 and not self._locks[c].locked()]:
            self._last.pop(chat, None)
            self._groups.pop(chat, None)
            self._locks.pop(chat, None)
        for chat in [c for c, until in self._blocked.items() if until < now]:
            del self._blocked[chat]


def pacer_for(limits: Limits) -> Pacer:
    """A pacer keeping the rates the adapter declares."""
    return Pacer(per_chat_s=1.0 / (limits.per_chat_per_s or 1.0),
                 group_per_min=int(limits.per_group_per_min or 20),
                 overall_per_s=int(limits.overall_per_s or 30))


def retry_seconds(exc: RetryAfter) -> float:
    """RetryAfter's wait in seconds, without PTB's int-or-timedelta deprecation warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


def channel_error(exc: TelegramError) -> RetryableChannelError | PermanentChannelError:
    """The retry decision for a PTB error. BadRequest subclasses NetworkError, so the permanent
    cases are tested first: the type alone would call a bad request retryable."""
    text = exc.message if hasattr(exc, "message") else str(exc)
    low = text.lower()
    if isinstance(exc, Forbidden):
        if "blocked" in low:
            return PermanentChannelError("the customer blocked the bot on Telegram")
        if "deactivated" in low:
            return PermanentChannelError("the customer's Telegram account is deactivated")
        if "kicked" in low or "not a member" in low:
            return PermanentChannelError("the bot was removed from this Telegram chat")
        return PermanentChannelError(f"Telegram refused the reply: {text}")
    if isinstance(exc, BadRequest):
        if "chat not found" in low:
            return PermanentChannelError("Telegram says this chat does not exist (chat not found)")
        return PermanentChannelError(f"Telegram rejected the reply: {text}")
    if isinstance(exc, InvalidToken):
        return PermanentChannelError("Telegram rejected the bot token; check the configuration")
    if isinstance(exc, Conflict):
        return PermanentChannelError(f"Telegram reported a conflict: {text}")
    if isinstance(exc, NetworkError):  # timeouts, 5xx, connection errors
        return RetryableChannelError(f"Telegram did not take the reply: {text}")
    return RetryableChannelError(f"Telegram error: {text}")
