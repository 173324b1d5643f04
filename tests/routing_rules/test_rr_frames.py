"""Issue 18, fourth round: the frames `grievance` and `policy_question`, derived from how a line
is put, and what the shipped rules do with them."""

from __future__ import annotations

from pathlib import Path

import pytest

from routing_rules.check import load_rules
from routing_rules.frames import GRIEVANCE, POLICY_QUESTION, frames, grievance, policy_question, reproach
from routing_rules.intents import builtin_table, normalize
from tests.routing_rules.rr_helpers import inp

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("text", [
    "买的鞋子穿了两天就开胶了，怎么处理",       # a fault told as something that happened
    "包裹里只有一双袜子，我买的外套呢",         # missing goods
    "订单拆成两个包裹，只到了一个，另一个查不到",
    "你们发的是二手的吧，上面有别人的头发",     # the shop did it
    "价保申请被驳回了，明明降了20块",           # money refused
    "衣服上有污渍，要求换新的",                 # put as a demand
    "有人冒充你们客服打电话让我办退款",         # fraud, however put
    "请删除我的个人信息，帮我注销账号",         # privacy
])  # fmt: skip
def test_grievance_is_the_customers_own_case_gone_wrong(text: str) -> None:
    assert grievance(normalize(text))
    assert GRIEVANCE in frames(normalize(text))


@pytest.mark.parametrize("text", [
    "如果收到有质量问题的怎么处理",   # a supposition
    "要是发错货了你们怎么处理",
    "牛仔裤掉色吗",                   # a question about the product, no fault told
    "洗完会不会变小",
    "刚下单发现地址写错了",           # the customer's own slip, not the shop's fault
    "我的快递还没到",                 # a delay alone is an order look-up
])  # fmt: skip
def test_no_grievance_without_a_fault_that_happened(text: str) -> None:
    assert not grievance(normalize(text))


@pytest.mark.parametrize(("text", "policy"), [
    ("退款一般几天能到账", True),
    ("价保怎么申请", True),
    ("在哪里提交退货申请", True),
    ("买回来不合适的话能退吗", True),          # own words, but put as a supposition
    ("退货地址是哪里", False),                 # a bare wh-question: often mid-return
    ("钱什么时候能退回来", False),             # the refunded money itself
    ("退款怎么还没到账", False),               # still not: a case under way
    ("我想退货怎么操作", False),               # the customer's own return
    ("你们退款审核怎么这么慢", False),         # blame put as a question
    ("仓库都签收我的退货了，退款还是没下来", False),
])  # fmt: skip
def test_policy_question_is_general_and_has_no_case_in_it(text: str, policy: bool) -> None:
    assert policy_question(normalize(text)) is policy
    assert (POLICY_QUESTION in frames(normalize(text))) is policy


@pytest.mark.parametrize(("text", "word"), [
    ("我已经等了三天了，到底有没有人管", "到底"),
    ("说好的48小时发货，一个礼拜了还没动静", "说好的"),
    ("你们就是这么对待老顾客的吗", "就是这么"),
    ("老顾客有优惠吗", None),
    ("退货流程是怎样的", None),
])  # fmt: skip
def test_reproach(text: str, word: str | None) -> None:
    assert reproach(normalize(text)) == word


def test_frames_are_intents_rules_can_name() -> None:
    table = builtin_table()
    assert GRIEVANCE in table.names and POLICY_QUESTION in table.names
    assert table.detect(normalize("退款一般几天能到账")) == ("refund", POLICY_QUESTION)


@pytest.mark.parametrize(("text", "pool", "bot", "rule"), [
    ("退款一般几天能到账", "presale", True, None),               # the bot answers the policy
    ("你们家支持七天无理由吗", "presale", True, None),
    ("钱什么时候能退回来", "aftersale", False, "return-refund"),  # a case: people
    ("我要退货退款", "aftersale", False, "return-refund"),
    ("包裹里只有一双袜子，我买的外套呢", "aftersale", False, "grievance"),
    ("快递显示签收了但我根本没收到", "aftersale", False, "grievance"),
    ("我的快递到哪了", "aftersale", True, "logistics"),          # still the order flow
])  # fmt: skip
def test_shipped_rules_send_cases_to_people_and_policy_to_the_bot(text: str, pool: str, bot: bool,
                                                                  rule: str | None) -> None:
    rules = load_rules(ROOT / "config" / "routing.yaml")
    d = rules.decide(inp(text))
    assert (d.pool, d.bot_first, d.rule) == (pool, bot, rule), d.explanation


@pytest.mark.parametrize(("text", "intent", "present"), [
    ("帮我叫一下你们的售后", "human_request", True),     # calling a person in, however named
    ("这个问题你解决不了，换个人来", "human_request", True),
    ("麻烦安排个客服跟进一下", "human_request", True),
    ("可以换个颜色吗", "human_request", False),          # 换个 + a colour is an exchange question
    ("售后服务怎么样", "human_request", False),
    ("东西收到了不太喜欢，怎么把它退了", "return_exchange", True),
    ("把这件退掉", "return_exchange", True),
])  # fmt: skip
def test_constructions_for_a_person_and_a_return(text: str, intent: str, present: bool) -> None:
    assert (intent in builtin_table().detect(normalize(text))) is present
