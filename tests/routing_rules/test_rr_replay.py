"""Trace records round-trip; replay counts what a rules change would move."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rr_helpers import inp

from kefu_common.errors import ConfigError
from routing_rules import compile_rules
from routing_rules.progress import Progress
from routing_rules.replay import replay
from routing_rules.trace import decode_record, encode_record, read_trace, record_of

OLD = """default: {pool: presale}
rules:
  - name: refund
    when: {intent: refund}
    then: {pool: aftersale}
  - name: logistics
    when: {intent: logistics}
    then: {pool: aftersale, bot: true}
"""
# The candidate sends logistics to presale (bot still first) and raises refunds' priority.
NEW = OLD.replace("then: {pool: aftersale, bot: true}", "then: {pool: presale, bot: true}")
NEW = NEW.replace("then: {pool: aftersale}", "then: {pool: aftersale, priority: high}")

TEXTS = ["我要退款"] * 3 + ["快递到哪了"] * 5 + ["有M码吗"] * 7 + ["where is my parcel"] * 2
T0 = datetime(2026, 11, 11, tzinfo=UTC)


def write_trace(path: Path) -> None:
    old = compile_rules(OLD)
    with path.open("w", encoding="utf-8") as fh:
        fh.write("# exported for the test\n\n")
        for i, text in enumerate(TEXTS):
            i_ = inp(text, now=T0 + timedelta(minutes=i), customer_tags={"x"})
            fh.write(encode_record(record_of(i_, old.decide(i_), conversation=f"c{i}")) + "\n")


def test_record_round_trip() -> None:
    i_ = inp("退款!!", segment="vip", customer_tags={"b", "a"}, message_count=3, reopened=True,
             previous_pool="presale", language="zh")
    rec = record_of(i_, compile_rules(OLD).decide(i_), conversation="c1")
    line = encode_record(rec)
    assert "\n" not in line and "退款" in line  # UTF-8 kept readable
    assert decode_record(line) == rec


@pytest.mark.parametrize(
    "line",
    ["not json", "[]", '{"ts": "2026-11-11T00:00:00+00:00"}',
     '{"ts": 5, "input": {"text": "x", "channel": "w"}, "decision": {"pool": "p"}}',
     '{"ts": "2026-11-11", "input": {"text": "x", "channel": "w", "message_count": "3"}, '
     '"decision": {"pool": "p"}}'],
)
def test_bad_record_is_a_config_error_with_line(line: str) -> None:
    with pytest.raises(ConfigError) as info:
        decode_record(line, "t.jsonl", 7)
    assert str(info.value).startswith("t.jsonl:7:1: bad trace record")


def test_minimal_record_defaults() -> None:
    rec = decode_record('{"ts": "2026-11-11T08:00:00+08:00", "input": {"text": "x", '
                        '"channel": "wechat"}, "decision": {"pool": "presale"}}')
    assert rec.input.now == rec.ts and rec.input.segment == "new"
    assert rec.decision.rule is None


def test_replay_reports_moved_count(tmp_path: Path) -> None:
    trace = tmp_path / "t.jsonl"
    write_trace(trace)
    report = replay(read_trace(trace), compile_rules(NEW))
    assert report.total == 17
    assert report.pool_changed == 7  # the 5 + 2 logistics messages
    assert report.moves == {("aftersale", "presale"): 7}
    assert report.priority_changed == 3  # refunds went normal -> high
    assert report.bot_changed == 0
    assert report.any_changed == 10
    assert report.old_fires == {"refund": 3, "logistics": 7, "(default)": 7}
    assert report.new_fires == report.old_fires
    text = "\n".join(report.lines())
    assert "changed pool:        7 (41.2%)" in text
    assert "aftersale -> presale: 7" in text


def test_replay_against_old_rules_and_time_range(tmp_path: Path) -> None:
    trace = tmp_path / "t.jsonl"
    write_trace(trace)
    report = replay(read_trace(trace), compile_rules(NEW), old=compile_rules(OLD),
                    since=T0 + timedelta(minutes=3), until=T0 + timedelta(minutes=8))
    assert (report.total, report.skipped) == (5, 12)  # minutes 3..7: the five logistics ones
    assert report.pool_changed == 5 and report.drift == 0


def test_progress_is_bounded_when_not_a_tty() -> None:
    out = io.StringIO()
    bar = Progress("replay", 1000, out)
    for i in range(1, 1001):
        bar.update(i, i)
    bar.close()
    lines = out.getvalue().splitlines()
    assert len(lines) == 11 and lines[-1] == "replay: 100% 1000 items"
    assert "\r" not in out.getvalue()
