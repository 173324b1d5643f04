"""Every `when` leaf and combinator, table-driven; a row fails if the leaf tests the wrong thing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from rr_helpers import inp, one_rule

CAL = """calendars:
  office: {days: mon-fri, hours: "09:00-18:00"}
  night: {days: mon-fri, hours: "22:00-08:00"}
  closed_today: {days: all, hours: "00:00-24:00", closed: [2026-11-11]}
"""


def at(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


CASES: list[tuple[str, str, dict[str, Any], bool]] = [
    # (when, text, other input fields, should match)
    ("{channel: wechat}", "hi", {"channel": "wechat"}, True),
    ("{channel: wechat}", "hi", {"channel": "webchat"}, False),
    ("{channel: [wechat, telegram]}", "hi", {"channel": "telegram"}, True),
    ("{account: shop2}", "hi", {"account": "shop2"}, True),
    ("{account: shop2}", "hi", {}, False),
    ("{contains: 退款}", "请问我要退款怎么弄", {}, True),
    ("{contains: 退款}", "请问我要退货", {}, False),
    ("{contains: [退款, refund]}", "I want a REFUND now", {}, True),
    ("{contains: ＲＥＦＵＮＤ}", "refund please", {}, True),  # full-width folds
    ("{contains_all: [尺码, 偏大]}", "这个尺码偏大吗", {}, True),
    ("{contains_all: [尺码, 偏大]}", "这个尺码偏小吗", {}, False),
    ("{matches: '订单\\s*\\d{6,}'}", "订单 12345678 到哪了", {}, True),
    ("{matches: '订单\\s*\\d{6,}'}", "订单 123 到哪了", {}, False),
    ("{matches: 'ORDER #\\d+'}", "order #42", {}, True),  # case-insensitive
    ("{intent: refund}", "我想退款", {}, True),
    ("{intent: refund}", "我想买东西", {}, False),
    ("{intent: [logistics, refund]}", "我的快递到哪了", {}, True),
    ("{tag: vip}", "hi", {"customer_tags": {"vip", "old"}}, True),
    ("{tag: [gold, vip]}", "hi", {"customer_tags": {"silver"}}, False),
    ("{tags_all: [vip, wholesale]}", "hi", {"customer_tags": {"vip"}}, False),
    ("{tags_all: [vip, wholesale]}", "hi", {"customer_tags": {"vip", "wholesale"}}, True),
    ("{segment: vip}", "hi", {"segment": "vip"}, True),
    ("{product: sku-1001}", "hi", {"product_id": "sku-1001", "product_title": "羽绒服"}, True),
    ("{product: [sku-1, sku-2]}", "hi", {"product_id": "sku-3"}, False),
    ("{product: sku-1001}", "hi", {}, False),  # no product on the page
    ("{product_title: [羽绒服, down]}", "hi", {"product_id": "p1", "product_title": "Down Jacket 黑色"}, True),
    ("{product_title: 羽绒服}", "hi", {"product_id": "p1", "product_title": "连衣裙"}, False),
    ("{product_title: 羽绒服}", "hi", {}, False),
    ("{segment: [new, returning]}", "hi", {"segment": "vip"}, False),
    ("{language: en}", "where is my parcel", {}, True),
    ("{language: en}", "我的包裹在哪里", {}, False),
    ("{language: zh}", "我的package在哪里呢", {}, True),
    ("{language: ja}", "hi", {"language": "ja"}, True),  # given language wins over detection
    ("{kind: image}", "", {"kind": "image"}, True),
    ("{angry: true}", "你们是骗子吧", {}, True),
    ("{angry: true}", "发货了吗？？？", {}, True),
    ("{angry: true}", "This is RIDICULOUS!!!", {}, True),
    ("{angry: true}", "谢谢！", {}, False),
    ("{angry: false}", "谢谢", {}, True),
    ("{reopened: true}", "hi", {"reopened": True}, True),
    ("{reopened: true}", "hi", {}, False),
    ("{previous_pool: aftersale}", "hi", {"previous_pool": "aftersale"}, True),
    ("{previous_pool: aftersale}", "hi", {}, False),
    ("{message_count: 3}", "hi", {"message_count": 3}, True),
    ("{message_count: '>= 3'}", "hi", {"message_count": 5}, True),
    ("{message_count: '>= 3'}", "hi", {"message_count": 2}, False),
    ("{message_count: '< 2'}", "hi", {"message_count": 1}, True),
    ("{message_count: '!= 1'}", "hi", {"message_count": 1}, False),
    ("{message_count: {min: 2, max: 4}}", "hi", {"message_count": 4}, True),
    ("{message_count: {min: 2, max: 4}}", "hi", {"message_count": 5}, False),
    # 23:30 UTC is 07:30 the next day in Shanghai.
    ("{time: '07:00-08:00'}", "hi", {"now": at(2026, 11, 10, 23, 30)}, True),
    ("{time: '23:00-24:00'}", "hi", {"now": at(2026, 11, 10, 23, 30)}, False),
    # Windows across midnight: 22:00-06:00 local.
    ("{time: '22:00-06:00'}", "hi", {"now": at(2026, 11, 10, 15, 30)}, True),  # 23:30
    ("{time: '22:00-06:00'}", "hi", {"now": at(2026, 11, 10, 21, 59)}, True),  # 05:59
    ("{time: '22:00-06:00'}", "hi", {"now": at(2026, 11, 10, 22, 0)}, False),  # 06:00
    ("{time: '22:00-06:00'}", "hi", {"now": at(2026, 11, 10, 13, 59)}, False),  # 21:59
    ("{time: ['08:00-09:00', '12:00-13:00']}", "hi", {"now": at(2026, 11, 11, 4, 30)}, True),
    # Tuesday 23:30 UTC is Wednesday in Shanghai.
    ("{days: wed}", "hi", {"now": at(2026, 11, 10, 23, 30)}, True),
    ("{days: tue}", "hi", {"now": at(2026, 11, 10, 23, 30)}, False),
    ("{days: weekends}", "hi", {"now": at(2026, 11, 14, 2)}, True),
    ("{days: mon-fri}", "hi", {"now": at(2026, 11, 14, 2)}, False),
    ("{days: fri-mon}", "hi", {"now": at(2026, 11, 16, 2)}, True),  # wraps to Monday
    ("{in_calendar: office}", "hi", {"now": at(2026, 11, 11, 2)}, True),  # Wed 10:00
    ("{in_calendar: office}", "hi", {"now": at(2026, 11, 11, 11)}, False),  # Wed 19:00
    ("{outside_calendar: office}", "hi", {"now": at(2026, 11, 14, 2)}, True),  # Sat 10:00
    # A night window belongs to the day it starts: Sat 03:00 is Friday's night shift...
    ("{in_calendar: night}", "hi", {"now": at(2026, 11, 13, 19)}, True),
    # ...and Monday 03:00 belongs to Sunday night, which is not a shift.
    ("{in_calendar: night}", "hi", {"now": at(2026, 11, 15, 19)}, False),
    ("{in_calendar: closed_today}", "hi", {}, False),
    # Combinators.
    ("{all: [{channel: wechat}, {intent: refund}]}", "退款", {"channel": "wechat"}, True),
    ("{all: [{channel: wechat}, {intent: refund}]}", "退款", {}, False),
    ("{channel: wechat, intent: refund}", "退款", {}, False),  # several keys mean all
    ("{any: [{channel: wechat}, {intent: refund}]}", "退款", {}, True),
    ("{any: [{channel: wechat}, {intent: refund}]}", "你好", {}, False),
    ("{not: {segment: vip}}", "hi", {"segment": "vip"}, False),
    ("{not: {segment: vip}}", "hi", {}, True),
    ("{not: {any: [{tag: a}, {tag: b}]}}", "hi", {"customer_tags": {"c"}}, True),
    ("{}", "anything", {}, True),
]


@pytest.mark.parametrize(("when", "text", "fields", "expected"), CASES)
def test_condition(when: str, text: str, fields: dict[str, Any], expected: bool) -> None:
    rules = one_rule(when, head=CAL)
    d = rules.decide(inp(text, **fields))
    assert (d.pool == "hit") is expected, rules.explain(inp(text, **fields)).explanation


def test_timezone_setting_moves_windows() -> None:
    rules = one_rule("{time: '23:00-24:00'}", head="timezone: UTC\n")
    assert rules.decide(inp(now=at(2026, 11, 10, 23, 30))).pool == "hit"
    assert rules.timezone == "UTC"


def test_naive_time_is_taken_as_utc() -> None:
    rules = one_rule("{time: '07:00-08:00'}")
    assert rules.decide(inp(now=datetime(2026, 11, 10, 23, 30))).pool == "hit"
