"""Why a rule matched or missed, as codes and parameters instead of English sentences.

`Cond.why` writes one English phrase for the CLI; the console words the same facts in the
agent's language, so `explain` also returns each step as data (issue 19, item 8). Every reason is
a JSON-ready dict with a `code` and `held` (whether the condition held), plus what the code names:

    {"code": "contains", "held": true, "words": ["退款"]}              the keywords found
    {"code": "contains", "held": false, "all": true, "words": ["a"]}  the keywords missing
    {"code": "is", "field": "channel", "actual": "wechat", "values": ["webchat"], "held": false}
    {"code": "has", "field": "intent", "values": ["refund"], "present": ["refund"], ...}
    {"code": "all", "items": [...]}  {"code": "none_of", "items": [...]}  {"code": "not", "item": ...}

Fields are the rule language's keys (channel, segment, customer_tag, message_count, ...). A
step says what one rule did: {"rule", "outcome": decided | matched | missed, "reason"}, with the
boost and tags of a `continue` rule; the last step of a default decision is
{"outcome": "default", "pool"}. Values (rule names, pools, keywords, the customer's title) are
given as written: they are the shop's data, not words to translate.
"""

from __future__ import annotations

from typing import Any

from routing_rules.conditions import (
    All,
    AnyOf,
    Compare,
    Cond,
    Contains,
    DaysIn,
    Facts,
    Flag,
    InCalendar,
    Matches,
    Not,
    OneOf,
    ProductTitle,
    SetAny,
    TimeIn,
)
from routing_rules.intents import normalize

Reason = dict[str, Any]


def _field(label: str) -> str:
    """The rule language's key for a condition's label ("previous pool" -> previous_pool)."""
    return label.replace(" ", "_")


def reason(cond: Cond, f: Facts, held: bool) -> Reason:
    """The data behind `cond.why(f, held)`: the same facts, one level per combinator."""
    if isinstance(cond, All):
        if held:
            return {"code": "all", "held": True, "items": [reason(c, f, True) for c in cond.written]}
        return reason(next(c for c in cond.written if not c.test(f)), f, False)
    if isinstance(cond, AnyOf):
        if held:
            return reason(next(c for c in cond.items if c.test(f)), f, True)
        return {"code": "none_of", "held": False, "items": [reason(c, f, False) for c in cond.items]}
    if isinstance(cond, Not):
        return {"code": "not", "held": held, "item": reason(cond.inner, f, not held)}
    return {**_leaf(cond, f, held), "held": held}


def _leaf(cond: Cond, f: Facts, held: bool) -> Reason:
    if isinstance(cond, OneOf):
        return {"code": "is", "field": _field(cond.label), "actual": cond.get(f), "values": list(cond.order)}
    if isinstance(cond, SetAny):
        have = cond.get(f)
        return {"code": "has", "field": _field(cond.label), "all": cond.need_all,
                "values": list(cond.order), "present": sorted(have),
                "hits": [v for v in cond.order if v in have]}
    if isinstance(cond, Contains):
        found = [w for w in cond.words if w in f.text]
        return {"code": "contains", "all": cond.need_all, "words": list(cond.words), "found": found,
                "missing": [w for w in cond.words if w not in found]}
    if isinstance(cond, ProductTitle):
        if not f.inp.product_title:
            return {"code": "no_product", "words": list(cond.words)}
        return {"code": "product_title", "title": f.inp.product_title, "words": list(cond.words),
                "found": [w for w in cond.words if w in normalize(f.inp.product_title)]}
    if isinstance(cond, Matches):
        return {"code": "matches", "pattern": cond.rx.pattern}
    if isinstance(cond, Flag):
        return {"code": "flag", "field": _field(cond.label), "actual": bool(cond.get(f)), "want": cond.want}
    if isinstance(cond, Compare):
        return {"code": "compare", "field": _field(cond.label), "actual": cond.get(f), "op": cond.op,
                "value": cond.value}
    if isinstance(cond, TimeIn):
        return {"code": "time", "local": f"{f.local:%H:%M}", "timezone": str(f.tz),
                "windows": [str(w) for w in cond.windows]}
    if isinstance(cond, DaysIn):
        # Weekdays as numbers (0 = Monday) so that the console can name them in its language.
        return {"code": "days", "date": f"{f.local:%Y-%m-%d}", "weekday": f.local.weekday(),
                "days": sorted(cond.days)}
    if isinstance(cond, InCalendar):
        return {"code": "calendar", "calendar": cond.cal.name, "inside": cond.cal.is_open(f.local),
                "want": cond.want, "local": f"{f.local:%H:%M}", "weekday": f.local.weekday()}
    return {"code": "other", "text": cond.why(f, held)}  # a kind added later: at least the CLI's words


def step(name: str, outcome: str, cond: Cond | None, f: Facts, held: bool) -> Reason:
    """One rule's line of an explanation; a rule without conditions always holds."""
    why = reason(cond, f, held) if cond is not None else {"code": "always", "held": True}
    return {"rule": name, "outcome": outcome, "reason": why}
