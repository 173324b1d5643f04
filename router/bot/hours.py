"""Business hours: is anyone in now, and when are they back. The clock is always passed in."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from kefu_common.errors import ValueProblem
from routing_rules.times import Calendar, parse_days, parse_window


class HoursSettings(Protocol):
    """The shape of router.bot.config.HoursSettings, named here so config can check hours
    without the two modules importing each other."""

    @property
    def timezone(self) -> str: ...
    @property
    def days(self) -> str | Sequence[str]: ...
    @property
    def hours(self) -> str | Sequence[str]: ...
    @property
    def closed(self) -> Sequence[str]: ...


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        # date's own words ("month must be in 1..12"), with the code a console words it by.
        raise ValueProblem(str(exc), code="closed_bad_date", value=text) from None


_LOOKAHEAD_DAYS = 31  # holidays longer than a month are not business hours worth announcing


class BusinessHours:
    def __init__(self, calendar: Calendar, timezone: str) -> None:
        self.calendar = calendar
        self.tz = ZoneInfo(timezone)

    @classmethod
    def from_settings(cls, s: HoursSettings) -> BusinessHours:
        """Raises ValueError (with the problem) on a bad day, window, date or time zone."""
        windows = [s.hours] if isinstance(s.hours, str) else list(s.hours)
        closed = frozenset(_date(d) for d in s.closed)
        days = s.days if isinstance(s.days, str) else list(s.days)
        cal = Calendar("business", parse_days(days), tuple(parse_window(w) for w in windows), closed)
        try:
            return cls(cal, s.timezone)
        except (KeyError, ValueError) as exc:
            raise ValueProblem(f"unknown time zone {s.timezone!r}", code="unknown_timezone",
                               name=s.timezone) from exc

    def is_open(self, ts: float) -> bool:
        return self.calendar.is_open(datetime.fromtimestamp(ts, self.tz))

    def next_open(self, ts: float) -> datetime | None:
        """The next moment after `ts` when the calendar opens, in the calendar's zone."""
        now = datetime.fromtimestamp(ts, self.tz)
        day = now.date()
        for offset in range(_LOOKAHEAD_DAYS + 1):
            d = day + timedelta(days=offset)
            starts = sorted(w.start for w in self.calendar.windows)
            for minute in starts:
                at = datetime(d.year, d.month, d.day, minute // 60, minute % 60, tzinfo=self.tz)
                if at > now and self.calendar.is_open(at):
                    return at
        return None
