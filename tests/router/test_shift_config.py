"""Bad shift rosters are refused with FILE:LINE:COL, every problem at once."""

from __future__ import annotations

import pytest

from kefu_common.errors import ConfigErrors
from router.config.settings import parse_settings
from router.ops.roster import Shift

BASE = """pools:
  - id: p
agents:
  - id: alice
    token: abcdefghij
    pools: [p]
  - id: bob
    token: klmnopqrst
    pools: [p]
"""

BAD = BASE + """shifts:
  - name: day
    start: "09:00"
    end: "25:00"
    agents: [alice, carol]
  - name: day
    start: 9
    end: 22:00
    days: [mon, funday]
    timezone: Mars/Olympus
    agents: [bob, bob]
ops:
  disconnect_grace_s: -1
"""


def test_every_problem_is_named_with_its_place() -> None:
    with pytest.raises(ConfigErrors) as exc:
        parse_settings(BAD, "kefu.yaml")
    lines = str(exc.value).splitlines()
    expected = [
        "kefu.yaml:22:23: ops.disconnect_grace_s: expected >= 0",
        "kefu.yaml:13:10: shifts.end: expected a time 'HH:MM' (00:00 to 23:59)",
        "kefu.yaml:14:21: unknown agent 'carol'; agents are: alice, bob",
        "kefu.yaml:15:11: duplicate shift name 'day'",
        "kefu.yaml:16:12: shifts.start: expected a time 'HH:MM' (00:00 to 23:59)",
        "kefu.yaml:18:17: unknown day 'funday'; days are: mon, tue, wed, thu, fri, sat, sun",
        "kefu.yaml:19:15: unknown timezone 'Mars/Olympus'",
        "kefu.yaml:20:19: agent 'bob' is listed twice",
    ]
    assert lines == expected


def test_unknown_key_in_a_shift_has_a_hint() -> None:
    with pytest.raises(ConfigErrors) as exc:
        parse_settings(BASE + "shifts:\n  - name: day\n    start: '09:00'\n    ends: '18:00'\n", "kefu.yaml")
    assert "kefu.yaml:13:5: unknown key 'ends'; did you mean 'end'?" in str(exc.value)


def test_unquoted_and_overnight_times_read_as_written() -> None:
    s = parse_settings(BASE + "shifts:\n  - name: night\n    start: 22:00\n    end: '09:30'\n"
                       "    timezone: Asia/Shanghai\n    days: [mon]\n    agents: [bob]\n", "kefu.yaml")
    night = Shift.from_settings(s.shifts[0])
    assert (night.start, night.end) == (22 * 60, 9 * 60 + 30)
    # Monday 2026-03-02 22:00 in Shanghai is 14:00 UTC; the shift ends Tuesday 09:30 there.
    monday_22 = 1772460000.0
    (_day, start, end), = [w for w in night.windows(monday_22 + 3600) if w[0] == "2026-03-02"]
    assert (start, end - start) == (monday_22, 11.5 * 3600)
    assert night.on_duty(monday_22) and night.on_duty(end - 1) and not night.on_duty(end)
    assert not night.on_duty(monday_22 + 7 * 24 * 3600 - 86400)  # Sunday night: not a shift day
