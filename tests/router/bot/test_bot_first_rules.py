"""The shipped rules put the bot first for routine questions, in business hours and out, and send
complaints, anger, requests for a person, refunds and returns straight to people."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from router.bot.brain import decide
from router.bot.brain_types import BotContext, BotState
from routing_rules import load_rules
from routing_rules.intents import builtin_table, normalize
from routing_rules.model import RuleInput

TABLE = builtin_table()
CONFIG = Path(__file__).resolve().parents[3] / "config"
SHIPPED = ["routing.yaml", "examples/routing-full.yaml"]
# 10:00 and 23:30 in Shanghai (UTC+8): inside and outside both files' day calendars.
TIMES = {"in_hours": datetime(2026, 11, 11, 2, 0, tzinfo=UTC), "off_hours": datetime(2026, 11, 11, 15, 30, tzinfo=UTC)}

ROUTINE = [
    "包邮吗", "发票怎么开", "可以开专票吗", "我165穿什么码", "这件是正品吗", "支持花呗分期吗",
    "发什么快递", "可以发顺丰吗", "我的快递到哪了", "2024111100012301 发货了吗", "衣服起球怎么办",
    "需要交关税吗", "优惠券怎么用", "在吗", "这件有黑色吗", "面料是纯棉的吗", "晚上好", "怎么付款",
]
MUST_HANDOFF = [
    "我要投诉你们", "什么垃圾东西！！！", "转人工", "我要找真人客服", "我要退款", "申请退货",
    "尺码不合适想换货", "收到的衣服破损了", "给你们差评", "退钱", "扣了两次款", "账号被盗了",
    "快递丢件了谁负责",
]


@pytest.mark.parametrize("rules", SHIPPED)
@pytest.mark.parametrize("when", sorted(TIMES))
def test_routine_questions_meet_the_bot_first(rules: str, when: str) -> None:
    ruleset = load_rules(CONFIG / rules)
    missed = [t for t in ROUTINE
              if not ruleset.decide(RuleInput(text=t, channel="webchat", account="web", now=TIMES[when])).bot_first]
    assert missed == []


@pytest.mark.parametrize("rules", SHIPPED)
@pytest.mark.parametrize("when", sorted(TIMES))
def test_exceptions_go_to_people_at_once(rules: str, when: str) -> None:
    """Straight to people by the rules, or (the full example's night desk is bot-first for
    everything) handed off by the bot's first turn without an answer."""
    ruleset = load_rules(CONFIG / rules)
    kept = []
    for t in MUST_HANDOFF:
        d = ruleset.decide(RuleInput(text=t, channel="webchat", account="web", now=TIMES[when]))
        if not d.bot_first:
            continue
        intents, angry = TABLE.scan(normalize(t))
        ctx = BotContext(intents=frozenset(d.intents) | intents, angry=angry, within_hours=when == "in_hours")
        if decide(BotState(), t, ctx).handoff is None:
            kept.append(t)
    assert kept == []
    if rules == "routing.yaml":  # the demo's own rules: people at once, in hours and out
        assert not any(ruleset.decide(RuleInput(text=t, channel="webchat", account="web",
                                                now=TIMES[when])).bot_first for t in MUST_HANDOFF)
