"""Built-in intents (Chinese and English), overrides in the rules file, language and anger."""

from __future__ import annotations

import pytest
from rr_helpers import inp

from routing_rules import builtin_default, compile_rules
from routing_rules.frames import FRAME_INTENTS
from routing_rules.intents import builtin_table, detect_language, normalize

DETECT = [
    ("这件衣服有M码吗", {"presale"}),
    ("这款是正品吗？多少钱", {"presale"}),
    ("Is this jacket in stock in size L?", {"presale"}),
    ("我的订单怎么还没发货", {"order_status"}),
    ("订单 3456789012345678901 什么时候发", {"order_status"}),
    ("Can I change the address of my order?", {"order_status"}),
    ("快递三天了还没到", {"logistics"}),
    ("Where is my parcel? tracking says delayed", {"logistics"}),
    ("衣服尺码不合适，想换货", {"presale", "return_exchange"}),  # rule order settles it
    ("the item arrived DAMAGED", {"return_exchange"}),
    ("退款什么时候到账", {"refund"}),
    ("I want my money back", {"refund"}),
    ("再不处理我就投诉你们，给差评", {"complaint"}),
    ("This is a scam", {"complaint"}),
    ("能开增值税专票吗", {"invoice"}),
    ("Can you send me an invoice?", {"invoice"}),
    ("清关要几天，关税谁付", {"cross_border"}),
    ("how long does customs clearance take", {"cross_border"}),
    ("转人工", {"human_request"}),
    ("人工客服在吗", {"human_request"}),
    ("I want to talk to a HUMAN", {"human_request"}),
    ("你好", set()),
    ("退货退款", {"return_exchange", "refund"}),
]


@pytest.mark.parametrize(("text", "intents"), DETECT)
def test_builtin_intents(text: str, intents: set[str]) -> None:
    # The frames (grievance, policy_question) have their own tests: test_rr_frames.py.
    assert set(builtin_default("p").decide(inp(text)).intents) - set(FRAME_INTENTS) == intents


def test_intents_are_reported_in_canonical_order() -> None:
    d = builtin_default("p").decide(inp("投诉！退款！转人工"))
    assert d.intents == ("refund", "complaint", "human_request")


@pytest.mark.parametrize(
    ("text", "lang"),
    [("你好，请问有货吗", "zh"), ("hello, is it in stock", "en"), ("iPhone 15 的壳有吗", "zh"),
     ("12345 !!!", "und"), ("OK", "en")],
)
def test_language(text: str, lang: str) -> None:
    assert detect_language(normalize(text)) == lang


def test_normalize_folds_width_and_case() -> None:
    assert normalize("ＲＥＦＵＮＤ！？") == "refund!?"


OVERRIDES = """
intents:
  refund:
    add_keywords: [退保证金]
  presale:
    keywords: [多少钱]
  invoice:
    remove_keywords: [receipt]
  wholesale:
    keywords: [批发]
    patterns: ['\\d+\\s*(件|箱)起']
angry:
  keywords: [气死了]
  patterns: []
default: {pool: p}
rules:
  - {name: w, when: {intent: wholesale}, then: {pool: b2b}}
"""


@pytest.mark.parametrize(
    ("text", "intents", "pool"),
    [
        ("我要退保证金", ("refund",), "p"),  # added keyword
        ("这个尺码偏大吗", (), "p"),  # presale keywords replaced: 尺码 no longer counts
        ("多少钱", ("presale",), "p"),
        ("please send a receipt", (), "p"),  # removed keyword
        ("能批发吗", ("wholesale",), "b2b"),  # a new intent, usable in rules
        ("100件起卖吗", ("wholesale",), "b2b"),
    ],
)
def test_intent_overrides(text: str, intents: tuple[str, ...], pool: str) -> None:
    d = compile_rules(OVERRIDES).decide(inp(text))
    keyword_intents = tuple(i for i in d.intents if i not in FRAME_INTENTS)  # frames come last
    assert (keyword_intents, d.pool) == (intents, pool)


def test_angry_override_replaces_builtin_list() -> None:
    rules = compile_rules(OVERRIDES.replace("rules:", "rules:\n  - {name: a, when: {angry: true}, "
                                            "then: {pool: calm}}"))
    assert rules.decide(inp("气死了")).pool == "calm"
    assert rules.decide(inp("垃圾！！！")).pool == "p"  # built-ins were replaced


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        # A refund verb about the customer's own money, without the word 退款 (issue 18).
        ("钱什么时候退给我", "refund"),
        ("快点把钱退给我", "refund"),
        ("退的钱多久到账", "refund"),
        ("我已经退回去了钱呢", "refund"),
        ("钱还没退回来", "refund"),
        # Sending back one's own purchase.
        ("我要退这件衣服", "return_exchange"),
        ("帮我退掉吧", "return_exchange"),
        # Disputes, anger and the person in charge.
        ("运费凭什么要我出", "complaint"),
        ("你们就是骗人的", "complaint"),
        ("叫你们店长出来", "human_request"),
    ],
)
def test_own_money_and_disputes_are_detected(text: str, intent: str) -> None:
    assert intent in builtin_table().detect(normalize(text))


@pytest.mark.parametrize("text", ["我很生气", "太过分了吧", "你们就是骗人的"])
def test_anger_words(text: str) -> None:
    assert builtin_table().scan(normalize(text))[1]


@pytest.mark.parametrize(
    "text",
    # A policy question about a deposit, and questions without a refund verb about one's own
    # money or order, are not refunds or returns.
    ["预售付的定金能退吗", "这款适合送人吗", "包邮吗", "这件有黑色吗", "积分能抵钱吗", "多少钱"],
)
def test_own_money_rule_leaves_other_questions_alone(text: str) -> None:
    found = builtin_table().detect(normalize(text))
    assert "return_exchange" not in found and "refund" not in found


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        # Payment or account trouble (issue 18, third round).
        ("扣了两次款是怎么回事", "payment_issue"),
        ("付款成功了订单却显示未支付", "payment_issue"),
        ("微信支付扣款了订单没生成", "payment_issue"),
        ("账号被盗了有人用我的号下单", "payment_issue"),
        ("会员账号登不上去了", "payment_issue"),
        ("I was charged twice", "payment_issue"),
        # An after-sale request by its name, neglect, a loss held against the shop, the law.
        ("我要申请售后", "return_exchange"),
        ("申请售后三天了没人理", "complaint"),
        ("客服一直不回消息", "complaint"),
        ("包裹被你们弄丢了", "complaint"),
        ("快递丢件了谁负责", "complaint"),
        ("我要找律师起诉你们", "complaint"),
        ("我要打电话给消费者协会", "complaint"),
        ("你们这是虚假宣传", "complaint"),
        ("对这次购物非常不满意", "complaint"),
    ],
)
def test_payment_trouble_and_disputes_are_detected(text: str, intent: str) -> None:
    assert intent in builtin_table().detect(normalize(text))


@pytest.mark.parametrize(
    "text",
    # How to pay, when a balance or an instalment is taken, points as money, a lost invoice: FAQ
    # questions, not trouble with a payment or a dispute.
    ["怎么付款", "尾款什么时候扣", "分期每个月几号扣款", "积分能抵钱吗", "支持花呗分期吗", "发票丢了能补开吗",
     "可以用银行卡付款吗", "付款后多久发货"],
)
def test_payment_rule_leaves_payment_questions_alone(text: str) -> None:
    found = builtin_table().detect(normalize(text))
    assert "payment_issue" not in found and "complaint" not in found, found
