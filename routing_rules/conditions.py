"""Compiled `when` conditions: pure predicates over the facts of one message.

Every node answers `test(facts)` on the fast path and, only when a decision is explained,
`why(facts, held)`: one phrase saying what held or what failed. `key` is a canonical, hashable
form used by the shadowing analysis: two nodes with equal keys test the same thing.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from typing import Any

from routing_rules.intents import IntentTable, detect_language, normalize
from routing_rules.model import RuleInput
from routing_rules.regex import Regex, RegexBank
from routing_rules.times import Calendar, Window, days_text


class Facts:
    """What one message offers to rules; the costly parts are computed on first use."""

    __slots__ = (
        "_cal", "_lang", "_local", "_minute", "_rx", "angry", "bank", "inp", "intents", "text",
        "tz",
    )

    def __init__(
        self, inp: RuleInput, table: IntentTable, tz: tzinfo, bank: RegexBank | None = None
    ) -> None:
        self.inp = inp
        self.tz = tz
        self.bank = bank
        self.text = normalize(inp.text)
        self.intents, self.angry = table.scan(self.text)
        self._lang: str | None = inp.language
        self._local: datetime | None = None
        self._minute = -1
        self._rx: frozenset[int] | None = None
        self._cal: dict[str, bool] = {}

    @property
    def regex_hits(self) -> frozenset[int]:
        if self._rx is None:
            self._rx = self.bank.scan(self.text) if self.bank else frozenset()
        return self._rx

    def calendar_open(self, cal: Calendar) -> bool:
        # Several rules often test the same calendar; work it out once per message.
        hit = self._cal.get(cal.name)
        if hit is None:
            hit = self._cal[cal.name] = cal.is_open(self.local)
        return hit

    @property
    def language(self) -> str:
        if self._lang is None:
            self._lang = detect_language(self.text)
        return self._lang

    @property
    def local(self) -> datetime:
        if self._local is None:
            now = self.inp.now
            # A naive time is taken as UTC rather than guessed as the host's zone.
            if now.tzinfo is None:
                now = now.replace(tzinfo=UTC)
            self._local = now.astimezone(self.tz)
        return self._local

    @property
    def minute(self) -> int:
        if self._minute < 0:
            self._minute = self.local.hour * 60 + self.local.minute
        return self._minute


class Cond:
    """A compiled condition."""

    __slots__ = ()
    key: Any
    cost = 1
    """Rough relative price of `test`; `all` tries cheap conditions first."""

    def test(self, f: Facts) -> bool:
        raise NotImplementedError

    def why(self, f: Facts, held: bool) -> str:
        raise NotImplementedError


def _list(values: tuple[str, ...]) -> str:
    return ", ".join(repr(v) for v in values)


class OneOf(Cond):
    """A single-valued attribute (channel, segment, ...) equals one of `values`."""

    __slots__ = ("get", "key", "label", "order", "values")

    def __init__(self, label: str, attr: str, values: tuple[str, ...]) -> None:
        self.label = label
        self.order = values
        self.values = frozenset(values)
        self.get: Callable[[Facts], Any] = operator.attrgetter(attr)
        self.key = ("oneof", label, self.values)

    def test(self, f: Facts) -> bool:
        return self.get(f) in self.values

    def why(self, f: Facts, held: bool) -> str:
        actual = self.get(f)
        if len(self.order) == 1:
            return f"{self.label} is {actual!r}" if held else (
                f"{self.label} is {actual!r}, not {self.order[0]!r}")
        return f"{self.label} {actual!r} is {'' if held else 'not '}one of {_list(self.order)}"


class SetAny(Cond):
    """A set attribute (detected intents, customer tags) has any (or all) of `values`."""

    __slots__ = ("get", "key", "label", "need_all", "order", "values")

    def __init__(self, label: str, attr: str, values: tuple[str, ...], need_all: bool) -> None:
        self.label = label
        self.order = values
        self.values = frozenset(values)
        self.need_all = need_all
        self.get: Callable[[Facts], frozenset[str]] = operator.attrgetter(attr)
        self.key = ("setall" if need_all else "setany", label, self.values)

    def test(self, f: Facts) -> bool:
        have = self.get(f)
        return self.values <= have if self.need_all else not self.values.isdisjoint(have)

    def why(self, f: Facts, held: bool) -> str:
        have = self.get(f)
        verb = "detected" if self.label == "intent" else "present"
        shown = ", ".join(sorted(have)) or "none"
        if held:
            hits = [v for v in self.order if v in have]
            return f"{self.label} {_list(tuple(hits))} {verb}"
        if len(self.order) == 1:
            return f"no {self.label} {self.order[0]!r} {verb} ({verb}: {shown})"
        quant = "all" if self.need_all else "any"
        return f"not {quant} of {self.label} {_list(self.order)} {verb} ({verb}: {shown})"


class Contains(Cond):
    """The normalized text contains any (or all) of the keywords, as substrings."""

    __slots__ = ("key", "need_all", "words")
    cost = 2

    def __init__(self, words: tuple[str, ...], need_all: bool) -> None:
        self.words = tuple(dict.fromkeys(normalize(w) for w in words))
        self.need_all = need_all
        self.key = ("contains_all" if need_all else "contains", frozenset(self.words))

    def test(self, f: Facts) -> bool:
        text = f.text
        if self.need_all:
            return all(w in text for w in self.words)
        return any(w in text for w in self.words)

    def why(self, f: Facts, held: bool) -> str:
        found = tuple(w for w in self.words if w in f.text)
        if held:
            return f"text contains {_list(found)}"
        if self.need_all:
            missing = tuple(w for w in self.words if w not in found)
            return f"text lacks {_list(missing)}"
        return f"text contains none of {_list(self.words)}"


class ProductTitle(Cond):
    """The title of the product on the customer's page contains any of the words."""

    __slots__ = ("key", "words")

    def __init__(self, words: tuple[str, ...]) -> None:
        self.words = tuple(dict.fromkeys(normalize(w) for w in words))
        self.key = ("product_title", frozenset(self.words))

    def test(self, f: Facts) -> bool:
        title = normalize(f.inp.product_title)
        return bool(title) and any(w in title for w in self.words)

    def why(self, f: Facts, held: bool) -> str:
        if not f.inp.product_title:
            return "no product on the customer's page"
        title = normalize(f.inp.product_title)
        found = tuple(w for w in self.words if w in title)
        if held:
            return f"product title contains {_list(found)}"
        return f"product title {f.inp.product_title!r} contains none of {_list(self.words)}"


class Matches(Cond):
    """The normalized text matches an re2 regex (number `index` in the rule set's bank)."""

    __slots__ = ("index", "key", "rx")
    cost = 3

    def __init__(self, rx: Regex, index: int) -> None:
        self.rx = rx
        self.index = index
        self.key = ("matches", rx.pattern)

    def test(self, f: Facts) -> bool:
        return self.index in f.regex_hits

    def why(self, f: Facts, held: bool) -> str:
        return f"text {'matches' if held else 'does not match'} /{self.rx.pattern}/"


class Flag(Cond):
    """A boolean fact (angry, reopened) equals `want`."""

    __slots__ = ("get", "key", "label", "want")

    def __init__(self, label: str, attr: str, want: bool) -> None:
        self.label = label
        self.want = want
        self.get: Callable[[Facts], bool] = operator.attrgetter(attr)
        self.key = ("flag", label, want)

    def test(self, f: Facts) -> bool:
        return bool(self.get(f)) is self.want

    def why(self, f: Facts, held: bool) -> str:
        return f"{self.label} is {str(bool(self.get(f))).lower()}" + ("" if held else (
            f", wanted {str(self.want).lower()}"))


_OPS: dict[str, Callable[[int, int], bool]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt,
    "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}


class Compare(Cond):
    """An integer fact compared with a constant (message_count >= 3)."""

    __slots__ = ("fn", "get", "key", "label", "op", "value")

    def __init__(self, label: str, attr: str, op: str, value: int) -> None:
        self.label, self.op, self.value = label, op, value
        self.fn = _OPS[op]
        self.get: Callable[[Facts], int] = operator.attrgetter(attr)
        self.key = ("compare", label, op, value)

    def test(self, f: Facts) -> bool:
        return self.fn(self.get(f), self.value)

    def why(self, f: Facts, held: bool) -> str:
        return f"{self.label} {self.get(f)} {'' if held else 'is not '}{self.op} {self.value}"


class TimeIn(Cond):
    """Local time of day (rules' timezone) is inside one of the windows."""

    __slots__ = ("key", "windows")
    cost = 3

    def __init__(self, windows: tuple[Window, ...]) -> None:
        self.windows = windows
        self.key = ("time", windows)

    def test(self, f: Facts) -> bool:
        m = f.minute
        return any(w.contains(m) for w in self.windows)

    def why(self, f: Facts, held: bool) -> str:
        ws = ", ".join(str(w) for w in self.windows)
        return f"local time {f.local:%H:%M} ({f.tz}) is {'' if held else 'not '}within {ws}"


class DaysIn(Cond):
    """Local weekday (rules' timezone) is one of `days`."""

    __slots__ = ("days", "key")
    cost = 3

    def __init__(self, days: frozenset[int]) -> None:
        self.days = days
        self.key = ("days", days)

    def test(self, f: Facts) -> bool:
        return f.local.weekday() in self.days

    def why(self, f: Facts, held: bool) -> str:
        neg = "" if held else "not "
        return f"local day {f.local:%a %Y-%m-%d} is {neg}in {days_text(self.days)}"


class InCalendar(Cond):
    """The message time is inside (or outside) a named calendar's business hours."""

    __slots__ = ("cal", "key", "want")
    cost = 3

    def __init__(self, cal: Calendar, want: bool) -> None:
        self.cal, self.want = cal, want
        self.key = ("calendar", cal.name, want)

    def test(self, f: Facts) -> bool:
        return f.calendar_open(self.cal) is self.want

    def why(self, f: Facts, held: bool) -> str:
        inside = self.cal.is_open(f.local)
        where = "inside" if inside else "outside"
        return f"local {f.local:%a %H:%M} is {where} calendar {self.cal.name!r} ({self.cal})"


class All(Cond):
    __slots__ = ("items", "key", "written")
    cost = 4

    def __init__(self, items: tuple[Cond, ...]) -> None:
        # Conditions are pure, so their order cannot change the outcome; cheap ones first.
        self.items = tuple(sorted(items, key=lambda c: c.cost))
        self.written = items
        self.key = ("all", frozenset(c.key for c in items))

    def test(self, f: Facts) -> bool:
        for c in self.items:
            if not c.test(f):
                return False
        return True

    def why(self, f: Facts, held: bool) -> str:
        if held:
            return " and ".join(c.why(f, True) for c in self.written) or "always"
        first = next(c for c in self.written if not c.test(f))
        return first.why(f, False)


class AnyOf(Cond):
    __slots__ = ("items", "key")
    cost = 4

    def __init__(self, items: tuple[Cond, ...]) -> None:
        self.items = items
        self.key = ("any", frozenset(c.key for c in items))

    def test(self, f: Facts) -> bool:
        for c in self.items:
            if c.test(f):
                return True
        return False

    def why(self, f: Facts, held: bool) -> str:
        if held:
            return next(c for c in self.items if c.test(f)).why(f, True)
        return "none of (" + "; ".join(c.why(f, False) for c in self.items) + ")"


class Not(Cond):
    __slots__ = ("inner", "key")
    cost = 4

    def __init__(self, inner: Cond) -> None:
        self.inner = inner
        self.key = ("not", inner.key)

    def test(self, f: Facts) -> bool:
        return not self.inner.test(f)

    def why(self, f: Facts, held: bool) -> str:
        return f"not ({self.inner.why(f, not held)})"
