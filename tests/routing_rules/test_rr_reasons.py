"""Explain's steps: every kind of condition gives its reason as a code with parameters, held or
not, and the steps follow the English explanation line for line (issue 19, item 8)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from rr_helpers import inp, one_rule

from routing_rules import compile_rules

CAL = 'calendars:\n  office: {days: mon-fri, hours: "09:00-18:00"}\n'

# (when, input fields, held, the reason expected)
CASES: list[tuple[str, dict[str, Any], bool, dict[str, Any]]] = [
    ("{channel: wechat}", {}, False,
     {"code": "is", "field": "channel", "actual": "webchat", "values": ["wechat"]}),
    ("{segment: [vip, returning]}", {"segment": "vip"}, True,
     {"code": "is", "field": "segment", "actual": "vip", "values": ["vip", "returning"]}),
    ("{intent: refund}", {"text": "我要退款"}, True,
     {"code": "has", "field": "intent", "hits": ["refund"], "all": False}),
    ("{tags_all: [vip, bulk]}", {"customer_tags": ["vip"]}, False,
     {"code": "has", "field": "customer_tag", "all": True, "values": ["vip", "bulk"], "present": ["vip"]}),
    ("{contains: [发票, 退款]}", {"text": "我要退款"}, True, {"code": "contains", "found": ["退款"]}),
    ("{contains_all: [发票, 退款]}", {"text": "我要退款"}, False,
     {"code": "contains", "all": True, "missing": ["发票"]}),
    ("{product_title: [羽绒服]}", {}, False, {"code": "no_product", "words": ["羽绒服"]}),
    ("{product_title: [羽绒服]}", {"product_id": "p1", "product_title": "轻薄羽绒服"}, True,
     {"code": "product_title", "found": ["羽绒服"], "title": "轻薄羽绒服"}),
    ("{matches: 'order\\d+'}", {"text": "order 1"}, False, {"code": "matches", "pattern": "order\\d+"}),
    ("{angry: true}", {"text": "你好"}, False, {"code": "flag", "field": "angry", "actual": False, "want": True}),
    ("{message_count: '>= 3'}", {"message_count": 5}, True,
     {"code": "compare", "field": "message_count", "actual": 5, "op": ">=", "value": 3}),
    ("{time: '12:00-13:00'}", {}, False,
     {"code": "time", "local": "10:00", "timezone": "Asia/Shanghai", "windows": ["12:00-13:00"]}),
    ("{days: [sat, sun]}", {}, False, {"code": "days", "date": "2026-11-11", "weekday": 2, "days": [5, 6]}),
    ("{in_calendar: office}", {}, True,
     {"code": "calendar", "calendar": "office", "inside": True, "want": True, "local": "10:00", "weekday": 2}),
    ("{not: {channel: webchat}}", {}, False,
     {"code": "not", "item": {"code": "is", "field": "channel", "actual": "webchat", "values": ["webchat"],
                              "held": True}}),
]


@pytest.mark.parametrize(("when", "fields", "held", "expected"), CASES, ids=[c[0] for c in CASES])
def test_each_condition_gives_its_reason(when: str, fields: dict[str, Any], held: bool,
                                         expected: dict[str, Any]) -> None:
    rules = one_rule(when, head=CAL)
    d = rules.explain(inp(**fields))
    assert (d.rule == "r") is held, d.explanation
    first = d.steps[0]
    assert (first["rule"], first["outcome"]) == ("r", "decided" if held else "missed")
    reason = first["reason"]
    assert reason["held"] is held
    assert {k: reason[k] for k in expected} == expected
    json.dumps(d.steps)  # the API sends them as they are


def test_all_any_and_continue_rules_and_the_default() -> None:
    rules = compile_rules("""
default: {pool: general}
rules:
  - name: vip-boost
    when: {segment: vip}
    then: {boost: 5, tags: [vip]}
    continue: true
  - name: both
    when: {all: [{channel: wechat}, {contains: 退款}]}
    then: {pool: aftersale}
  - name: either
    when: {any: [{contains: 发票}, {contains: 开票}]}
    then: {pool: finance}
""")
    d = rules.explain(inp("我要退款", segment="vip"))
    assert [(s["rule"], s["outcome"]) for s in d.steps] == [
        ("vip-boost", "matched"), ("both", "missed"), ("either", "missed"), (None, "default")]
    assert len(d.steps) == len(d.explanation)
    assert d.steps[0]["boost"] == 5 and d.steps[0]["tags"] == ["vip"]
    assert d.steps[1]["reason"]["code"] == "is"  # the first condition of `all` that failed
    assert d.steps[2]["reason"]["code"] == "none_of" and len(d.steps[2]["reason"]["items"]) == 2
    assert d.steps[3]["pool"] == "general"
    hit = rules.explain(inp("我要退款", channel="wechat"))
    assert hit.steps[-1]["outcome"] == "decided" and hit.steps[-1]["reason"]["code"] == "all"
    assert [i["code"] for i in hit.steps[-1]["reason"]["items"]] == ["is", "contains"]


def test_decide_gives_the_steps_of_its_lines_and_steps_never_change_equality() -> None:
    rules = compile_rules("default: {pool: miss}\nrules:\n  - name: a\n    when: {contains: 发票}\n"
                          "    then: {pool: hit}\n  - name: b\n    when: {contains: 退款}\n    then: {pool: hit}\n")
    plain, explained = rules.decide(inp("我要退款")), rules.explain(inp("我要退款"))
    assert [s["rule"] for s in plain.steps] == ["b"] and len(plain.steps) == len(plain.explanation)
    assert [s["rule"] for s in explained.steps] == ["a", "b"]
    assert rules.decide(inp("你好")).steps == ({"rule": None, "outcome": "default", "pool": "miss"},)
    assert replace(explained, explanation=plain.explanation) == plain
    assert hash(explained) == hash(replace(explained, steps=()))
