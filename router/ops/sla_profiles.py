"""SLA profiles: the time limits a routing rule's `sla:` names, loaded from YAML.

The file (default: the packaged config/sla.yaml; `sla.profiles` in the config points elsewhere):

    warn_at: 0.8                    # at-risk warning at this fraction of a target (default)
    profiles:
      complaint:
        first_response: 5m          # first human answer after the conversation is queued
        next_response: 10m          # every later answer, from the oldest unanswered message
        resolution: 24h             # closed within
        warn_at: 0.75               # this profile's own warning fraction
        reassign: true              # missed first response: hand to a free eligible agent
        escalate: {after: 1h, on_breach: [resolution], pool: supervisors}
        follow_up:
          - {after: 72h, task: satisfaction_call, note: 回访满意度}
      needs_checking:
        resolution: 24h
        promise:                    # told to the customer once, through their own channel
          within: resolution        # the target whose time fills {time} (default: resolution)
          zh: 您的问题需要核实，我们会在 {time}内答复您。
          en: Your question needs checking; we will answer within {time}.

Every problem is a ConfigError at FILE:LINE:COL. The profiles are synced to Redis as JSON (seconds)
so the Lua scripts read targets without a round trip.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kefu_common.errors import ConfigError, ConfigErrors
from kefu_common.yamlpos import Path_, YamlDoc, load_yaml, load_yaml_file
from routing_rules.times import parse_duration

TARGETS = ("first_response", "next_response", "resolution")
_PROFILE_KEYS = (*TARGETS, "warn_at", "reassign", "escalate", "follow_up", "promise")
LANGUAGES = ("zh", "en")


@dataclass(frozen=True, slots=True)
class FollowUp:
    after_s: float
    task: str = "follow_up"
    note: str = ""


@dataclass(frozen=True, slots=True)
class Escalation:
    after_s: float | None = None
    on_breach: tuple[str, ...] = ()
    pool: str = "supervisors"


@dataclass(frozen=True, slots=True)
class Promise:
    """What the customer is told to expect: a text per language, `{time}` filled from a target."""

    within_s: float
    zh: str = ""
    en: str = ""

    def text(self, language: str) -> str:
        """In the customer's language, or the other one when that one was not written."""
        own, other = (self.en, self.zh) if language == "en" else (self.zh, self.en)
        lang = language if own else ("zh" if language == "en" else "en")
        return (own or other).format(time=span(self.within_s, lang))


def span(seconds: float, language: str) -> str:
    """A target as a customer reads it: whole hours, else whole minutes, else seconds."""
    s = round(seconds)
    n, unit_en, unit_zh = ((s // 3600, "hour", "小时") if s >= 3600 and s % 3600 == 0 else
                           (s // 60, "minute", "分钟") if s >= 60 and s % 60 == 0 else (s, "second", "秒"))
    return f"{n} {unit_en}{'' if n == 1 else 's'}" if language == "en" else f"{n} {unit_zh}"


@dataclass(frozen=True, slots=True)
class SlaProfile:
    name: str
    first_response_s: float | None = None
    next_response_s: float | None = None
    resolution_s: float | None = None
    warn_at: float | None = 0.8
    reassign: bool = True
    escalate: Escalation | None = None
    follow_up: tuple[FollowUp, ...] = ()
    promise: Promise | None = None

    def to_json(self) -> dict[str, Any]:
        """What the Lua scripts read; absent keys mean "no such target". Of a promise they need
        only that there is one (router/ops/promises.py words it)."""
        out: dict[str, Any] = {"reassign": self.reassign}
        if self.promise is not None:
            out["promise"] = True
        for key, value in (("first_response", self.first_response_s), ("next_response", self.next_response_s),
                           ("resolution", self.resolution_s), ("warn_at", self.warn_at)):
            if value is not None:
                out[key] = value
        if self.escalate is not None:
            esc: dict[str, Any] = {"pool": self.escalate.pool, "on_breach": list(self.escalate.on_breach)}
            if self.escalate.after_s is not None:
                esc["after"] = self.escalate.after_s
            out["escalate"] = esc
        if self.follow_up:
            out["follow_up"] = [{"after": f.after_s, "task": f.task, "note": f.note} for f in self.follow_up]
        return out


def load_profiles(path: str | Path) -> dict[str, SlaProfile]:
    return _from_doc(load_yaml_file(path))


def parse_profiles(text: str, file: str = "<sla>") -> dict[str, SlaProfile]:
    return _from_doc(load_yaml(text, file))


class _Reader:
    """Collects every problem of one file instead of stopping at the first."""

    def __init__(self, doc: YamlDoc) -> None:
        self.doc = doc
        self.errors: list[ConfigError] = []

    def err(self, path: Path_, message: str, key: bool = False) -> None:
        self.errors.append(self.doc.error(path, message, key=key))

    def mapping(self, path: Path_, value: Any, what: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.err(path, f"{what}: expected a mapping")
            return {}
        return value

    def duration(self, path: Path_, value: Any) -> float | None:
        try:
            secs = parse_duration(value)
        except ValueError as exc:
            self.err(path, f"{path[-1]}: {exc}")
            return None
        if secs <= 0:
            self.err(path, f"{path[-1]}: must be more than 0")
            return None
        return secs

    def fraction(self, path: Path_, value: Any) -> float | None:
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
            self.err(path, f"warn_at: expected a fraction between 0 and 1 (like 0.8), got {value!r}")
            return None
        return float(value)


def _from_doc(doc: YamlDoc) -> dict[str, SlaProfile]:
    r = _Reader(doc)
    top = r.mapping((), doc.data, "SLA file")
    r.errors.extend(doc.unknown_keys((), ("warn_at", "profiles")))
    warn = r.fraction(("warn_at",), top["warn_at"]) if "warn_at" in top else 0.8
    profiles: dict[str, SlaProfile] = {}
    for name, body in r.mapping(("profiles",), top.get("profiles", {}), "profiles").items():
        profile = _profile(r, ("profiles", name), name, body, warn)
        if profile is not None:
            profiles[name] = profile
    if r.errors:
        raise ConfigErrors(r.errors)
    return profiles


def _profile(r: _Reader, path: Path_, name: str, value: Any, warn: float | None) -> SlaProfile | None:
    body = r.mapping(path, value, f"profile {name!r}")
    r.errors.extend(r.doc.unknown_keys(path, _PROFILE_KEYS))
    targets = {t: r.duration((*path, t), body[t]) if t in body else None for t in TARGETS}
    if "warn_at" in body:
        warn = r.fraction((*path, "warn_at"), body["warn_at"])
    reassign = body.get("reassign", True)
    if not isinstance(reassign, bool):
        r.err((*path, "reassign"), "reassign: expected true or false")
    escalate = _escalation(r, (*path, "escalate"), body["escalate"]) if "escalate" in body else None
    follow = body.get("follow_up", [])
    if not isinstance(follow, list):
        r.err((*path, "follow_up"), "follow_up: expected a list like [{after: 72h, task: satisfaction_call}]")
        follow = []
    steps = tuple(s for i, item in enumerate(follow) if (s := _follow_up(r, (*path, "follow_up", i), item)))
    promise = _promise(r, (*path, "promise"), body["promise"], targets) if "promise" in body else None
    return SlaProfile(name, targets["first_response"], targets["next_response"], targets["resolution"],
                      warn, bool(reassign), escalate, steps, promise)


def _escalation(r: _Reader, path: Path_, value: Any) -> Escalation | None:
    body = r.mapping(path, value, "escalate")
    r.errors.extend(r.doc.unknown_keys(path, ("after", "on_breach", "pool")))
    after = r.duration((*path, "after"), body["after"]) if "after" in body else None
    on_breach = body.get("on_breach", [])
    if isinstance(on_breach, str):
        on_breach = [on_breach]
    if not isinstance(on_breach, list):
        r.err((*path, "on_breach"), "on_breach: expected a list of targets")
        on_breach = []
    for i, t in enumerate(on_breach):
        if t not in TARGETS:
            r.err((*path, "on_breach", i), f"on_breach: unknown target {t!r}; targets are {', '.join(TARGETS)}")
    pool = body.get("pool", "supervisors")
    if not isinstance(pool, str) or not pool:
        r.err((*path, "pool"), "pool: expected a pool id")
    if after is None and not on_breach:
        r.err(path, "escalate: give `after` (a duration), `on_breach` (targets), or both")
    return Escalation(after, tuple(str(t) for t in on_breach), str(pool))


def _follow_up(r: _Reader, path: Path_, value: Any) -> FollowUp | None:
    body = r.mapping(path, value, "follow_up step")
    r.errors.extend(r.doc.unknown_keys(path, ("after", "task", "note")))
    if "after" not in body:
        r.err(path, "follow_up step: `after` (a duration) is required")
        return None
    after = r.duration((*path, "after"), body["after"])
    task, note = body.get("task", "follow_up"), body.get("note", "")
    if not isinstance(task, str) or not isinstance(note, str):
        r.err(path, "follow_up step: task and note must be text")
        return None
    return FollowUp(after, task, note) if after is not None else None


def _promise(r: _Reader, path: Path_, value: Any, targets: dict[str, float | None]) -> Promise | None:
    body = r.mapping(path, value, "promise")
    r.errors.extend(r.doc.unknown_keys(path, ("within", *LANGUAGES)))
    within = body.get("within", "resolution")
    seconds = targets.get(within) if isinstance(within, str) else None
    if seconds is None:
        given = ", ".join(t for t in TARGETS if targets.get(t)) or "none"
        r.err((*path, "within") if "within" in body else path,
              f"promise: `within` must name a target this profile sets ({given}), got {within!r}")
    texts: dict[str, str] = {}
    for lang in LANGUAGES:
        text = body.get(lang, "")
        fields = _fields(text) if isinstance(text, str) else None
        if fields is None or fields - {"time"}:
            r.err((*path, lang), f"promise.{lang}: expected text, with {{time}} where the time goes")
        else:
            texts[lang] = text
    if not any(lang in body for lang in LANGUAGES):
        r.err(path, "promise: give the text in zh, en or both")
    if seconds is None or not any(texts.values()):
        return None
    return Promise(seconds, texts.get("zh", ""), texts.get("en", ""))


def _fields(text: str) -> set[str] | None:
    """The {placeholders} of a text, or None when its braces do not parse."""
    try:
        return {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
    except ValueError:
        return None
