"""Time windows, weekday sets, durations and business-hour calendars.

Windows are half-open, [start, end), in minutes after local midnight; a window whose end is not
after its start crosses midnight ("22:00-08:00"). Parsers raise ValueError with a message an
admin can act on; the rule parser adds the position.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from kefu_common.errors import ValueProblem

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_ALIASES = {
    **{d: i for i, d in enumerate(DAY_NAMES)},
    **{full: i for i, full in enumerate(
        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))},
    **{zh: i for i, zh in enumerate(("周一", "周二", "周三", "周四", "周五", "周六", "周日"))},
}
_DAY_SETS = {
    "all": frozenset(range(7)), "daily": frozenset(range(7)), "every day": frozenset(range(7)),
    "weekdays": frozenset(range(5)), "weekends": frozenset({5, 6}),
}
_HHMM = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)?\s*$")


def parse_hhmm(text: str) -> int:
    m = _HHMM.match(text)
    if not m:
        raise ValueProblem(f"expected a time as HH:MM, got {text!r}", code="time_format", value=text)
    h, mi = int(m.group(1)), int(m.group(2))
    if h > 24 or mi > 59 or (h == 24 and mi):
        raise ValueProblem(f"time {text!r} is out of range 00:00-24:00", code="time_range", value=text)
    return h * 60 + mi


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True, slots=True)
class Window:
    """Minutes [start, end) after local midnight; crosses midnight when end <= start."""

    start: int
    end: int

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start

    def contains(self, minute: int) -> bool:
        if self.crosses_midnight:
            return minute >= self.start or minute < self.end
        return self.start <= minute < self.end

    def __str__(self) -> str:
        return f"{_hhmm(self.start)}-{_hhmm(self.end)}"


def parse_window(text: str) -> Window:
    """"09:00-18:00" or "22:00-08:00" (crosses midnight)."""
    # An en dash often comes along when hours are pasted from a document.
    parts = text.replace("\u2013", "-").split("-")
    if len(parts) != 2:
        raise ValueProblem(f"expected a window as HH:MM-HH:MM, got {text!r}", code="window_format",
                           value=text)
    start, end = parse_hhmm(parts[0]), parse_hhmm(parts[1])
    if start == end and start != 0:
        raise ValueProblem(f"window {text!r} is empty; use 00:00-24:00 for the whole day",
                           code="window_empty", value=text)
    if start == 0 and end in (0, 1440):
        return Window(0, 1440)
    return Window(start, end % 1440 if end == 1440 else end)


def _one_day(text: str) -> int:
    key = text.strip().lower()
    if key not in _DAY_ALIASES:
        raise ValueProblem(f"unknown day {text!r}; expected one of {', '.join(DAY_NAMES)}",
                           code="unknown_day", value=text, expected=list(DAY_NAMES))
    return _DAY_ALIASES[key]


def parse_days(value: str | list[str]) -> frozenset[int]:
    """"mon-fri", "weekends", "sat,sun" or a list of day names; 0 is Monday."""
    items = value if isinstance(value, list) else [value]
    out: set[int] = set()
    for item in items:
        for piece in str(item).split(","):
            key = piece.strip().lower()
            if key in _DAY_SETS:
                out |= _DAY_SETS[key]
            elif "-" in key:
                a, b = (_one_day(x) for x in key.split("-", 1))
                # "fri-mon" wraps through the weekend.
                out |= {(a + i) % 7 for i in range((b - a) % 7 + 1)}
            else:
                out.add(_one_day(key))
    return frozenset(out)


def days_text(days: frozenset[int]) -> str:
    return ",".join(DAY_NAMES[d] for d in sorted(days))


def parse_duration(value: object) -> float:
    """Seconds from 60, "60s", "5m", "1h" or "1.5h"."""
    if isinstance(value, bool):
        raise ValueProblem("expected a duration like 60s, 5m or 1h, got a boolean",
                           code="duration_format", got="boolean")
    if isinstance(value, int | float):
        secs = float(value)
    else:
        m = _DURATION.match(str(value))
        if not m:
            raise ValueProblem(f"expected a duration like 60s, 5m or 1h, got {value!r}",
                               code="duration_format", got="string", value=str(value))
        unit = {"ms": 0.001, "s": 1, None: 1, "m": 60, "min": 60, "h": 3600}[m.group(2)]
        secs = float(m.group(1)) * unit
    if secs < 0:
        raise ValueProblem("a duration cannot be negative", code="duration_negative")
    return secs


@dataclass(frozen=True, slots=True)
class Calendar:
    """Business hours: on `days`, within any of `windows`, except on `closed` dates.

    A window that crosses midnight belongs to the day it starts: with days mon-fri and
    22:00-08:00, Saturday 03:00 is inside (Friday's night shift), Monday 03:00 is not.
    """

    name: str
    days: frozenset[int]
    windows: tuple[Window, ...]
    closed: frozenset[date] = frozenset()

    def is_open(self, local: datetime) -> bool:
        minute = local.hour * 60 + local.minute
        today = local.date()
        for w in self.windows:
            if w.crosses_midnight and minute < w.end:
                day = date.fromordinal(today.toordinal() - 1)
            elif w.contains(minute):
                day = today
            else:
                continue
            if day.weekday() in self.days and day not in self.closed:
                return True
        return False

    def __str__(self) -> str:
        return f"{days_text(self.days)} {', '.join(str(w) for w in self.windows)}"
