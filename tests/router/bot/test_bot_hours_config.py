"""Business hours (next opening across weekends, holidays and overnight windows) and the checks
of the `bot:` config section."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from kefu_common.errors import ConfigErrors
from router.bot.config import HoursSettings
from router.bot.hours import BusinessHours
from router.config.settings import parse_settings

SH = ZoneInfo("Asia/Shanghai")


def ts(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=SH).timestamp()


def test_next_open_skips_weekend_and_closed_dates() -> None:
    hours = BusinessHours.from_settings(HoursSettings(days="mon-fri", hours=["09:00-12:00", "13:30-18:00"],
                                                      closed=["2024-11-25"]))
    assert hours.is_open(ts("2024-11-22T10:00:00"))
    assert not hours.is_open(ts("2024-11-22T12:30:00"))  # lunch
    assert hours.next_open(ts("2024-11-22T12:30:00")) == datetime(2024, 11, 22, 13, 30, tzinfo=SH)
    # Friday evening -> Monday is a holiday -> Tuesday 09:00.
    assert hours.next_open(ts("2024-11-22T19:00:00")) == datetime(2024, 11, 26, 9, 0, tzinfo=SH)


def test_overnight_window_belongs_to_the_day_it_starts() -> None:
    hours = BusinessHours.from_settings(HoursSettings(days="mon-fri", hours="22:00-06:00"))
    assert hours.is_open(ts("2024-11-23T03:00:00"))  # Friday's night shift, on Saturday
    assert not hours.is_open(ts("2024-11-24T03:00:00"))  # Sunday: no Saturday shift
    assert hours.next_open(ts("2024-11-23T07:00:00")) == datetime(2024, 11, 25, 22, 0, tzinfo=SH)


def test_never_open_has_no_next_opening() -> None:
    hours = BusinessHours.from_settings(HoursSettings(days="mon", hours="09:00-10:00",
                                                      closed=[f"2024-{m:02d}-{d:02d}" for m in (11, 12)
                                                              for d in range(1, 31)]))
    assert hours.next_open(ts("2024-11-01T00:00:00")) is None


@pytest.mark.parametrize(("section", "message"), [
    ("  order_id_pattern: '([0-9'\n", "bot.order_id_pattern"),
    ("  hours: {days: someday}\n", "bot.hours: unknown day"),
    ("  hours: {timezone: Mars/Olympus}\n", "unknown time zone"),
    ("  debounce_s: -1\n", "bot.debounce_s"),
    ("  faq: nowhere.yaml\n", "bot.faq: file not found"),
    ("  debounse_s: 1\n", "debounce_s"),
    ("  products: nowhere.yaml\n", "bot.products: file not found"),
    ("  llm: {base_url: 'ftp://x', model: m}\n", "bot.llm.base_url"),
    ("  llm: {base_url: 'http://x', model: m, timeout_s: 600}\n", "bot.llm.timeout_s"),
    ("  llm: {base_url: 'http://x'}\n", "model"),
])
def test_bot_section_errors_name_the_line(section: str, message: str) -> None:
    text = "pools: [{id: presale}]\nbot:\n" + section
    with pytest.raises(ConfigErrors) as err:
        parse_settings(text, "kefu.yaml")
    shown = str(err.value)
    assert message in shown and "kefu.yaml:3:" in shown, shown
