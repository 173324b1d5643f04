"""Decision traces: JSON Lines, one recorded routing decision per line, for `kefu rules replay`.

    {"ts": "2026-11-11T00:00:05+08:00", "conversation": "c-42",
     "input": {"text": "我要退款", "channel": "wechat", "account": "shop",
               "now": "2026-11-11T00:00:05+08:00", "kind": "text", "customer_tags": ["vip"],
               "segment": "vip", "language": null, "message_count": 1, "reopened": false,
               "previous_pool": null},
     "decision": {"pool": "aftersale", "priority": 30, "bot_first": false,
                  "rule": "return-refund", "version": "3f2a9c0d1e4b"}}

`ts` and `input.text`, `input.channel` are required; `input.now` defaults to `ts`, the other
input fields to RuleInput's defaults. Blank lines and lines starting with # are skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kefu_common.errors import ConfigError
from routing_rules.model import Decision, RuleInput


@dataclass(frozen=True, slots=True)
class RecordedDecision:
    """The part of a Decision that a replay compares."""

    pool: str
    priority: int = 0
    bot_first: bool = False
    rule: str | None = None
    version: str = ""

    @classmethod
    def of(cls, d: Decision) -> RecordedDecision:
        return cls(d.pool, d.priority, d.bot_first, d.rule, d.version)


@dataclass(frozen=True, slots=True)
class TraceRecord:
    ts: datetime
    input: RuleInput
    decision: RecordedDecision
    conversation: str | None = None


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def encode_record(rec: TraceRecord) -> str:
    """One JSON line (without the newline)."""
    i, d = rec.input, rec.decision
    obj: dict[str, Any] = {"ts": _aware(rec.ts).isoformat()}
    if rec.conversation is not None:
        obj["conversation"] = rec.conversation
    obj["input"] = {
        "text": i.text,
        "channel": i.channel,
        "account": i.account,
        "now": _aware(i.now).isoformat(),
        "kind": i.kind,
        "customer_tags": sorted(i.customer_tags),
        "segment": i.segment,
        "language": i.language,
        "message_count": i.message_count,
        "reopened": i.reopened,
        "previous_pool": i.previous_pool,
    }
    if i.product_id is not None:
        obj["input"]["product_id"] = i.product_id
        obj["input"]["product_title"] = i.product_title
    obj["decision"] = {
        "pool": d.pool,
        "priority": d.priority,
        "bot_first": d.bot_first,
        "rule": d.rule,
        "version": d.version,
    }
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def record_of(
    inp: RuleInput, decision: Decision, ts: datetime | None = None, conversation: str | None = None
) -> TraceRecord:
    """A trace record for a decision the router made (ts defaults to the input's time)."""
    return TraceRecord(ts or inp.now, inp, RecordedDecision.of(decision), conversation)


def _get(obj: dict[str, Any], key: str, kind: type | tuple[type, ...], default: Any) -> Any:
    if key not in obj:
        return default
    value = obj[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ValueError(f"{key!r} has the wrong type ({type(value).__name__})")
    return value


def _time(value: Any, key: str) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"{key!r}: expected an ISO 8601 time string")
    return _aware(datetime.fromisoformat(value))


def decode_record(line: str, file: str = "<trace>", lineno: int = 1) -> TraceRecord:
    """Parse one trace line; any problem is a ConfigError at FILE:LINE:1."""
    try:
        obj = json.loads(line)
        if not isinstance(obj, dict):
            raise ValueError("expected a JSON object")
        ts = _time(obj.get("ts"), "ts")
        raw_in, raw_d = obj.get("input"), obj.get("decision")
        if not isinstance(raw_in, dict) or not isinstance(raw_d, dict):
            raise ValueError("expected 'input' and 'decision' objects")
        for key in ("text", "channel"):
            if not isinstance(raw_in.get(key), str):
                raise ValueError(f"input.{key!r}: expected a string")
        tags = _get(raw_in, "customer_tags", list, [])
        inp = RuleInput(
            text=raw_in["text"],
            channel=raw_in["channel"],
            account=_get(raw_in, "account", str, ""),
            now=_time(raw_in["now"], "input.now") if "now" in raw_in else ts,
            kind=_get(raw_in, "kind", str, "text"),
            customer_tags=frozenset(str(t) for t in tags),
            segment=_get(raw_in, "segment", str, "new"),
            language=_get(raw_in, "language", (str, type(None)), None),
            message_count=_get(raw_in, "message_count", int, 1),
            reopened=_get(raw_in, "reopened", bool, False),
            previous_pool=_get(raw_in, "previous_pool", (str, type(None)), None),
            product_id=_get(raw_in, "product_id", (str, type(None)), None),
            product_title=_get(raw_in, "product_title", str, ""),
        )
        if not isinstance(raw_d.get("pool"), str):
            raise ValueError("decision.'pool': expected a string")
        dec = RecordedDecision(
            pool=raw_d["pool"],
            priority=_get(raw_d, "priority", int, 0),
            bot_first=_get(raw_d, "bot_first", bool, False),
            rule=_get(raw_d, "rule", (str, type(None)), None),
            version=_get(raw_d, "version", str, ""),
        )
        conv = _get(obj, "conversation", (str, type(None)), None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"bad trace record: {exc}", file, lineno, 1) from None
    return TraceRecord(ts, inp, dec, conv)


def read_trace(path: str | Path) -> Iterator[tuple[int, TraceRecord]]:
    """(bytes read so far, record) for each record, so a caller can show bounded progress."""
    p = Path(path)
    try:
        fh = p.open("rb")
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror or exc}", str(p)) from None
    with fh:
        done = 0
        for lineno, raw in enumerate(fh, 1):
            done += len(raw)
            line = raw.decode("utf-8", errors="replace").strip()
            if not line or line.startswith("#"):
                continue
            yield done, decode_record(line, str(p), lineno)
