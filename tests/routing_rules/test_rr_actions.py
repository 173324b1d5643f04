"""`then` actions, defaults, continue rules, explanations and the built-in default."""

from __future__ import annotations

from typing import Any

import pytest
from rr_helpers import inp

from routing_rules import FallbackStep, builtin_default, compile_rules

BASE = """
default:
  pool: general
  priority: low
  bot: true
  sla: standard
  tags: [unrouted]
  fallback: [{after: 10m, any_agent: true}]
rules:
  - name: r
    when: {contains: go}
    then: %s
"""

ACTIONS: list[tuple[str, dict[str, Any]]] = [
    ("{pool: aftersale}", {"pool": "aftersale", "priority": 0, "bot_first": True, "rule": "r"}),
    ("{priority: urgent}", {"pool": "general", "priority": 30}),
    ("{priority: high}", {"priority": 20}),
    ("{priority: normal}", {"priority": 10}),
    ("{priority: 7}", {"priority": 7}),
    ("{priority: 7, boost: 3}", {"priority": 10}),
    ("{skills: [english, returns], min_level: 3}", {"skills": ("english", "returns"),
                                                     "min_level": 3}),
    ("{skills: english}", {"skills": ("english",), "min_level": 1}),
    ("{tags: [a, b]}", {"tags": ("a", "b")}),  # default tags only when no rule decides
    ("{human: true}", {"bot_first": False}),
    ("{bot: false}", {"bot_first": False}),
    ("{bot: true}", {"bot_first": True}),
    ("{sla: complaint}", {"sla_profile": "complaint"}),
    ("{}", {"sla_profile": "standard", "fallback": (FallbackStep(600.0, None),)}),
    (
        "{fallback: [{after: 60s, pool: general}, {after: 5m, any_agent: true, min_level: 2}]}",
        {"fallback": (FallbackStep(60.0, "general"), FallbackStep(300.0, None, 2))},
    ),
    ("{fallback: []}", {"fallback": ()}),
]


@pytest.mark.parametrize(("then", "expected"), ACTIONS)
def test_action(then: str, expected: dict[str, Any]) -> None:
    d = compile_rules(BASE % then).decide(inp("go"))
    for field, value in expected.items():
        assert getattr(d, field) == value, field


def test_default_applies_with_its_tags_when_nothing_matches() -> None:
    d = compile_rules(BASE % "{pool: x}").decide(inp("stop"))
    assert (d.pool, d.rule, d.tags, d.priority, d.bot_first) == (
        "general", None, ("unrouted",), 0, True)
    assert d.explanation == ("no rule decided: default applies (pool 'general')",)


CONTINUE = """
default: {pool: presale}
rules:
  - name: vip
    when: {segment: vip}
    then: {boost: 10, tags: [vip]}
    continue: true
  - name: night-tag
    when: {contains: 晚上}
    then: {tags: [night]}
    continue: true
  - name: refund
    when: {intent: refund}
    then: {pool: aftersale, priority: high, tags: [refund]}
  - name: late-boost
    when: {segment: vip}
    then: {boost: 100}
    continue: true
"""


def test_continue_rules_add_tags_and_boost_then_the_first_deciding_rule_wins() -> None:
    rules = compile_rules(CONTINUE)
    d = rules.decide(inp("晚上好，我要退款", segment="vip"))
    assert d.pool == "aftersale"
    assert d.priority == 30  # high (20) + vip boost 10; late-boost is never reached
    assert d.tags == ("vip", "night", "refund")
    assert d.rule == "refund"
    assert d.intents == ("refund",)
    assert d.explanation == (
        "rule 'vip' matched (continue; boost +10, tags vip): segment is 'vip'",
        "rule 'night-tag' matched (continue; no boost, tags night): text contains '晚上'",
        "rule 'refund' decided: intent 'refund' detected",
    )


def test_continue_rules_apply_to_the_default_too() -> None:
    d = compile_rules(CONTINUE).decide(inp("hello", segment="vip"))
    assert (d.pool, d.rule, d.priority, d.tags) == ("presale", None, 120, ("vip",))


def test_explain_says_why_each_earlier_rule_missed() -> None:
    rules = compile_rules(CONTINUE)
    d = rules.explain(inp("我要退款"))
    assert d.explanation == (
        "rule 'vip' did not match: segment is 'new', not 'vip'",
        "rule 'night-tag' did not match: text contains none of '晚上'",
        "rule 'refund' decided: intent 'refund' detected",
    )
    plain = rules.decide(inp("我要退款"))
    assert _fields(plain, explanation=False) == _fields(d, explanation=False)


def _fields(d: Any, explanation: bool = True) -> dict[str, Any]:
    out = {k: getattr(d, k) for k in d.__slots__}
    if not explanation:
        out.pop("explanation")
        out.pop("steps")  # the explanation as codes (routing_rules/reasons.py)
    return out


def test_version_is_a_stable_content_hash() -> None:
    a, b = compile_rules(CONTINUE), compile_rules(CONTINUE)
    c = compile_rules(CONTINUE + "\n# a comment changes the version\n")
    assert a.version == b.version and len(a.version) == 12
    assert c.version != a.version
    assert a.decide(inp("x")).version == a.version


def test_pools_lists_every_pool_a_decision_can_name() -> None:
    rules = compile_rules(BASE % "{pool: aftersale, fallback: [{after: 1m, pool: night}]}")
    assert rules.pools == {"general", "aftersale", "night"}


def test_builtin_default_sends_everything_to_one_pool() -> None:
    rules = builtin_default("presale")
    d = rules.decide(inp("我要投诉！！！"))
    assert (d.pool, d.rule, d.version, d.intents) == ("presale", None, "builtin", ("complaint",))
    assert rules.pools == {"presale"}


def test_disabled_rule_is_checked_but_never_fires() -> None:
    rules = compile_rules(
        "default: {pool: a}\nrules:\n  - name: 'off'\n    enabled: false\n    then: {pool: b}\n"
    )
    assert rules.decide(inp("x")).pool == "a"
    assert rules.rule_names() == ()


def test_explanation_keeps_the_written_order_of_conditions() -> None:
    rules = compile_rules(
        "default: {pool: a}\nrules:\n  - name: r\n"
        "    when: {matches: 'x+', channel: wechat, contains: 退}\n    then: {pool: b}\n"
    )
    d = rules.decide(inp("退xx", channel="wechat"))
    assert d.explanation == (
        "rule 'r' decided: text matches /x+/ and channel is 'wechat' and text contains '退'",
    )
    miss = rules.explain(inp("退", channel="wechat"))
    assert miss.explanation[0] == "rule 'r' did not match: text does not match /x+/"
