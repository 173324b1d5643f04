"""Settings of the operations side: disconnect grace, discount authority, the shift roster.

Kept apart from router/config/settings.py so the roster's checks (times, days, timezones, agents) live
next to the types they check; settings.py embeds these structs and calls `check_ops`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from kefu_common.errors import ConfigError

if TYPE_CHECKING:
    from kefu_common.yamlpos import YamlDoc

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


BUILTIN_AWAY_REASONS = ("busy", "break", "training")
"""Why an agent is away, always offered; the console words them itself (zh and en)."""
_REASON_ID = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


class AwayReason(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A shop's own reason to be away (a meeting, the phones): shown in both languages."""

    id: str
    zh: str
    en: str


class OpsSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    disconnect_grace_s: float = 60.0
    """An agent whose sockets all closed is set offline after this, unless one reconnects."""
    discount_limit: float = 20.0
    """Yuan an agent may grant without a supervisor; an agent's own `discount_limit` wins."""
    shift_tick_s: float = 15.0
    """How often each process looks for shift starts and ends."""
    shift_catch_up_s: float = 300.0
    """A shift edge this recent that no process acted on (all were down) is still acted on."""
    away_reasons: tuple[AwayReason, ...] = ()
    """Reasons to be away beyond busy, break and training, each with its zh and en label."""
    agent_left_text: str = "您好，刚才为您服务的客服已离开，正在为您转接其他客服，请稍候。"
    """Sent to WeChat and Telegram customers whose agent went offline mid-conversation (web chat
    pages show the `agent_left` frame in their own language instead)."""


class ShiftSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    name: str
    start: str | int
    """'HH:MM' local time. YAML reads an unquoted 22:00 as the number 1320 (base 60); taken too."""
    end: str | int
    """'HH:MM'; at or before `start` means the shift ends the next day (22:00-11:00)."""
    days: tuple[str, ...] = DAYS
    """Days on which the shift starts."""
    timezone: str = "Asia/Shanghai"
    agents: tuple[str, ...] = ()


def minutes(value: str | int) -> int | None:
    """Minutes after midnight of an 'HH:MM' time, or None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        # Only YAML's base-60 reading of H:MM gets here as an int; a bare 9 is not a time.
        return value if 60 <= value < 24 * 60 else None
    m = _HHMM.match(value.strip())
    return int(m.group(1)) * 60 + int(m.group(2)) if m else None


class _Agent(Protocol):
    """What the checks read of an agent's settings (router.config.settings.AgentSettings)."""

    @property
    def id(self) -> str: ...
    @property
    def discount_limit(self) -> float | None: ...


def check_ops(doc: YamlDoc, ops: OpsSettings, shifts: Sequence[ShiftSettings],
              agent_list: Sequence[_Agent]) -> list[ConfigError]:
    errors: list[ConfigError] = []
    if ops.disconnect_grace_s < 0:
        errors.append(_below_zero(doc, ("ops", "disconnect_grace_s")))
    if ops.discount_limit < 0:
        errors.append(_below_zero(doc, ("ops", "discount_limit")))
    if ops.shift_tick_s <= 0:
        errors.append(doc.error(("ops", "shift_tick_s"), "ops.shift_tick_s: expected > 0", code="not_positive",
                                params={"what": "ops.shift_tick_s"}))
    errors.extend(_check_away_reasons(doc, ops.away_reasons))
    agents = {a.id for a in agent_list}
    names: set[str] = set()
    for i, shift in enumerate(shifts):
        where = ("shifts", i)
        if not re.match(r"^[A-Za-z0-9_.-]{1,64}$", shift.name):
            errors.append(doc.error((*where, "name"), f"shift name {shift.name!r} must be 1-64 of A-Z a-z 0-9 _ . -",
                                    code="bad_shift_name", params={"value": shift.name}))
        if shift.name in names:
            errors.append(doc.error((*where, "name"), f"duplicate shift name {shift.name!r}",
                                    code="duplicate_shift_name", params={"value": shift.name}))
        names.add(shift.name)
        for edge in ("start", "end"):
            if minutes(getattr(shift, edge)) is None:
                errors.append(doc.error((*where, edge), f"shifts.{edge}: expected a time 'HH:MM' (00:00 to 23:59)",
                                        code="bad_shift_time", params={"edge": edge}))
        for j, day in enumerate(shift.days):
            if day not in DAYS:
                errors.append(doc.error((*where, "days", j), f"unknown day {day!r}; days are: {', '.join(DAYS)}",
                                        code="unknown_day", params={"value": day, "expected": list(DAYS)}))
        try:
            ZoneInfo(shift.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            errors.append(doc.error((*where, "timezone"), f"unknown timezone {shift.timezone!r}",
                                    code="unknown_timezone", params={"name": shift.timezone}))
        seen: set[str] = set()
        for j, aid in enumerate(shift.agents):
            if aid not in agents:
                known = ", ".join(sorted(agents)) or "none"
                errors.append(doc.error((*where, "agents", j), f"unknown agent {aid!r}; agents are: {known}",
                                        code="unknown_agent", params={"name": aid, "known": sorted(agents)}))
            elif aid in seen:
                errors.append(doc.error((*where, "agents", j), f"agent {aid!r} is listed twice",
                                        code="agent_listed_twice", params={"name": aid}))
            seen.add(aid)
    for i, agent in enumerate(agent_list):
        if agent.discount_limit is not None and agent.discount_limit < 0:
            errors.append(_below_zero(doc, ("agents", i, "discount_limit"), "agents.discount_limit"))
    return errors


def _below_zero(doc: YamlDoc, path: tuple[str | int, ...], what: str = "") -> ConfigError:
    what = what or ".".join(str(p) for p in path)
    return doc.error(path, f"{what}: expected >= 0", code="below_zero", params={"what": what})


def _check_away_reasons(doc: YamlDoc, reasons: Sequence[AwayReason]) -> list[ConfigError]:
    errors: list[ConfigError] = []
    seen: set[str] = set(BUILTIN_AWAY_REASONS)
    for i, reason in enumerate(reasons):
        where = ("ops", "away_reasons", i)
        if not _REASON_ID.match(reason.id):
            errors.append(doc.error((*where, "id"), f"away reason id {reason.id!r} must be 1-32 of a-z 0-9 _ -, "
                                    "starting with a letter", code="bad_away_reason_id", params={"value": reason.id}))
        elif reason.id in BUILTIN_AWAY_REASONS:
            errors.append(doc.error((*where, "id"), f"away reason {reason.id!r} is built in",
                                    code="away_reason_builtin", params={"value": reason.id}))
        elif reason.id in seen:
            errors.append(doc.error((*where, "id"), f"away reason {reason.id!r} is listed twice",
                                    code="away_reason_twice", params={"value": reason.id}))
        seen.add(reason.id)
        for lang in ("zh", "en"):
            label = getattr(reason, lang)
            if not label.strip() or len(label) > 40:
                errors.append(doc.error((*where, lang), f"ops.away_reasons.{lang}: expected a label of 1-40 characters",
                                        code="away_reason_label", params={"lang": lang}))
    return errors
