"""`when:` YAML to compiled conditions, reporting every problem with its position."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from typing import Any

from kefu_common.errors import ConfigError
from kefu_common.yamlpos import Path_
from routing_rules.conditions import (
    All,
    AnyOf,
    Compare,
    Cond,
    Contains,
    DaysIn,
    Flag,
    InCalendar,
    Matches,
    Not,
    OneOf,
    ProductTitle,
    SetAny,
    TimeIn,
)
from routing_rules.ctx import Ctx, kind_of
from routing_rules.problems import kind_code, reason_of, shown
from routing_rules.regex import Regex, RegexBank
from routing_rules.times import Calendar, parse_days, parse_window

SEGMENTS = ("new", "returning", "vip")
COMBINATORS = ("all", "any", "not")
_COMPARE = re.compile(r"^\s*(==|!=|<=|>=|<|>|=)?\s*(-?\d+)\s*$")


class WhenParser:
    """Parses condition trees against the calendars and intents the file defines."""

    def __init__(self, ctx: Ctx, calendars: Mapping[str, Calendar], intents: tuple[str, ...]):
        self.bank = RegexBank()
        self.ctx = ctx
        self.calendars = calendars
        self.intents = intents
        self.leaves: dict[str, Callable[[Path_, Any], Cond | None]] = {
            "channel": self._one_of("channel", "inp.channel"),
            "account": self._one_of("account", "inp.account"),
            "segment": self._one_of("segment", "inp.segment"),
            "language": self._one_of("language", "language"),
            "kind": self._one_of("kind", "inp.kind"),
            "previous_pool": self._one_of("previous pool", "inp.previous_pool"),
            "product": self._one_of("product", "inp.product_id"),
            "product_title": self._product_title,
            "intent": self._intent,
            "tag": self._tags(need_all=False),
            "tags_all": self._tags(need_all=True),
            "contains": self._contains(need_all=False),
            "contains_all": self._contains(need_all=True),
            "matches": self._matches,
            "angry": self._flag("angry", "angry"),
            "reopened": self._flag("reopened", "inp.reopened"),
            "message_count": self._message_count,
            "time": self._time,
            "days": self._days,
            "in_calendar": self._calendar(want=True),
            "outside_calendar": self._calendar(want=False),
        }

    def parse(self, path: Path_, value: Any) -> Cond | None:
        """A condition tree; None for "always" (no conditions) or after an error."""
        if value is None or value == {}:
            return None
        node = self.ctx.mapping(
            path, value, "conditions (e.g. {intent: refund}, or all/any/not)"
        )
        if node is None:
            return None
        allowed = (*COMBINATORS, *self.leaves)
        self.ctx.unknown_keys(path, allowed)
        items: list[Cond] = []
        for key, sub in node.items():
            if key not in allowed:
                continue
            p = (*path, key)
            cond = self._combinator(p, key, sub) if key in COMBINATORS else self.leaves[key](p, sub)
            if cond is not None:
                items.append(cond)
        if len(items) != len(node):
            return None
        # Several keys in one mapping mean all of them, which reads naturally in YAML.
        return items[0] if len(items) == 1 else All(tuple(items))

    def _combinator(self, path: Path_, key: str, value: Any) -> Cond | None:
        if key == "not":
            if not isinstance(value, dict) or not value:
                self.ctx.err(path, f"not: expected a mapping of conditions, got {kind_of(value)}",
                             "not_mapping", got=kind_code(value))
                return None
            inner = self.parse(path, value)
            return Not(inner) if inner is not None else None
        if not isinstance(value, list) or not value:
            got = "an empty list" if value == [] else kind_of(value)
            self.ctx.err(path, f"{key}: expected a non-empty list of conditions, got {got}",
                         "combinator_list", field=key, got="empty_list" if value == [] else kind_code(value))
            return None
        parts = [self.parse((*path, i), item) for i, item in enumerate(value)]
        if any(p is None for p in parts):
            for i, item in enumerate(value):
                if item is None or item == {}:
                    self.ctx.err((*path, i), f"{key}: an empty condition is not allowed here",
                                 "empty_condition", field=key)
            return None
        conds = tuple(p for p in parts if p is not None)
        return All(conds) if key == "all" else AnyOf(conds)

    def _one_of(self, label: str, attr: str) -> Callable[[Path_, Any], Cond | None]:
        def leaf(path: Path_, value: Any) -> Cond | None:
            values = self.ctx.strings(path, value, label)
            if values is None:
                return None
            ok = True
            for i, v in enumerate(values):
                vp = (*path, i) if isinstance(value, list) else path
                if label == "segment":
                    ok &= self.ctx.known(vp, v, SEGMENTS, "segment")
                elif label == "previous pool":
                    ok &= self.ctx.known(vp, v, self.ctx.pools, "pool")
                elif label == "channel" and v not in self.ctx.channels:
                    # Other channels may be added later, so only a near miss is worth a word.
                    hint = difflib.get_close_matches(v, sorted(set(self.ctx.channels)), n=1)
                    if hint:
                        self.ctx.warn(vp, f"channel {v!r} is not a known channel; did you mean {hint[0]!r}?",
                                      "channel_near_miss", channel=v, suggestion=hint[0])
            return OneOf(label, attr, values) if ok else None

        return leaf

    def _intent(self, path: Path_, value: Any) -> Cond | None:
        values = self.ctx.strings(path, value, "intent")
        if values is None:
            return None
        ok = True
        for i, v in enumerate(values):
            vp = (*path, i) if isinstance(value, list) else path
            ok &= self.ctx.known(vp, v, self.intents, "intent")
        return SetAny("intent", "intents", values, need_all=False) if ok else None

    def _tags(self, *, need_all: bool) -> Callable[[Path_, Any], Cond | None]:
        def leaf(path: Path_, value: Any) -> Cond | None:
            values = self.ctx.strings(path, value, "customer tag")
            if values is None:
                return None
            return SetAny("customer tag", "inp.customer_tags", values, need_all=need_all)

        return leaf

    def _contains(self, *, need_all: bool) -> Callable[[Path_, Any], Cond | None]:
        def leaf(path: Path_, value: Any) -> Cond | None:
            values = self.ctx.strings(path, value, "text to look for")
            return Contains(values, need_all) if values is not None else None

        return leaf

    def _product_title(self, path: Path_, value: Any) -> Cond | None:
        words = self.ctx.strings(path, value, "word of a product title")
        return ProductTitle(words) if words is not None else None

    def _matches(self, path: Path_, value: Any) -> Cond | None:
        patterns = self.ctx.strings(path, value, "regex")
        if patterns is None:
            return None
        conds: list[Cond] = []
        for i, pat in enumerate(patterns):
            try:
                rx = Regex.compile(pat)
                conds.append(Matches(rx, self.bank.add(rx)))
            except ConfigError as exc:
                self.ctx.err((*path, i) if isinstance(value, list) else path, exc.message,
                             "bad_pattern", detail=exc.message, **reason_of(exc))
        if len(conds) != len(patterns):
            return None
        return conds[0] if len(conds) == 1 else AnyOf(tuple(conds))

    def _flag(self, label: str, attr: str) -> Callable[[Path_, Any], Cond | None]:
        def leaf(path: Path_, value: Any) -> Cond | None:
            want = self.ctx.boolean(path, value, label)
            return Flag(label, attr, want) if want is not None else None

        return leaf

    def _message_count(self, path: Path_, value: Any) -> Cond | None:
        label, attr = "message count", "inp.message_count"
        if isinstance(value, int) and not isinstance(value, bool):
            return Compare(label, attr, "==", value)
        if isinstance(value, str) and (m := _COMPARE.match(value)):
            op = m.group(1) or "=="
            return Compare(label, attr, "==" if op == "=" else op, int(m.group(2)))
        if isinstance(value, dict):
            self.ctx.unknown_keys(path, ("min", "max"))
            parts: list[Cond] = []
            for bound, op in (("min", ">="), ("max", "<=")):
                if bound in value:
                    n = self.ctx.integer((*path, bound), value[bound], f"message_count {bound}")
                    if n is None:
                        return None
                    parts.append(Compare(label, attr, op, n))
            if set(value) - {"min", "max"} or not parts:
                if not parts:
                    self.ctx.err(path, "message_count: give min, max or both", "message_count_bounds")
                return None
            return parts[0] if len(parts) == 1 else All(tuple(parts))
        self.ctx.err(
            path,
            "message_count: expected an integer, a quoted comparison like \">= 3\", "
            f"or {{min: N, max: M}}, got {kind_of(value)} {value!r}",
            "bad_message_count", got=kind_code(value), value=shown(value),
        )
        return None

    def _time(self, path: Path_, value: Any) -> Cond | None:
        windows = self.ctx.strings(path, value, "time window (HH:MM-HH:MM)")
        if windows is None:
            return None
        out = []
        for i, w in enumerate(windows):
            try:
                out.append(parse_window(w))
            except ValueError as exc:
                self.ctx.err((*path, i) if isinstance(value, list) else path, f"time: {exc}",
                             "bad_time", detail=str(exc), **reason_of(exc))
        return TimeIn(tuple(out)) if len(out) == len(windows) else None

    def _days(self, path: Path_, value: Any) -> Cond | None:
        if self.ctx.strings(path, value, "days (e.g. mon-fri or [sat, sun])") is None:
            return None
        try:
            return DaysIn(parse_days(value))
        except ValueError as exc:
            self.ctx.err(path, f"days: {exc}", "bad_days", detail=str(exc), **reason_of(exc))
            return None

    def _calendar(self, *, want: bool) -> Callable[[Path_, Any], Cond | None]:
        def leaf(path: Path_, value: Any) -> Cond | None:
            name = self.ctx.string(path, value, "calendar name")
            if name is None or not self.ctx.known(path, name, self.calendars, "calendar"):
                return None
            return InCalendar(self.calendars[name], want)

        return leaf
