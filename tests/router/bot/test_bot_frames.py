"""Issue 18, fourth round: the customer's own case gone wrong is a person's job even when an FAQ
entry or the order flow is near; a question about the refund or returns policy is the FAQ's when
the entry names what the question names; rhetorical blame raises the FAQ's bar, and the turn's
record says why."""

from __future__ import annotations

from pathlib import Path

import pytest

from router.bot.arbiter import GRIEVANCE_BAR, bar, best, policy_answer
from router.bot.brain import decide, respond
from router.bot.brain_types import BotAction, BotContext, BotState, HandoffReason
from router.bot.faq_match import FaqIndex
from router.bot.orders import FileOrderService
from routing_rules.intents import builtin_table, normalize

ROOT = Path(__file__).resolve().parents[3]
TABLE = builtin_table()


@pytest.fixture(scope="module")
def faq() -> FaqIndex:
    return FaqIndex.from_file(ROOT / "config" / "faq.yaml")


@pytest.fixture(scope="module")
def orders() -> FileOrderService:
    return FileOrderService(ROOT / "config" / "orders-demo.yaml")


async def ask(text: str, faq: FaqIndex, orders: FileOrderService, *, within_hours: bool = True) -> BotAction:
    intents, angry = TABLE.scan(normalize(text))
    ctx = BotContext(intents=intents, angry=angry, within_hours=within_hours)
    return await respond(BotState(greeted=True), text, ctx, orders, faq=faq)


@pytest.mark.parametrize("text", [
    "包裹里只有一双袜子，我买的外套呢",          # the order flow took it before
    "订单拆成两个包裹，只到了一个，另一个查不到",
    "收到一个陌生包裹说是你们寄的，还让我扫码领红包",
    "衣服到手袖子是破的",                      # the quality entry is near
    "说是顺丰发货结果发的邮政，慢死了，差价退我",
])  # fmt: skip
async def test_a_grievance_goes_to_after_sale_people(text: str, faq: FaqIndex, orders: FileOrderService) -> None:
    a = await ask(text, faq, orders)
    assert a.handoff is not None and a.handoff.reason is HandoffReason.GRIEVANCE, a
    assert a.handoff.team == "aftersale" and a.handoff.intent == "grievance" and a.faq_id is None
    assert a.trace["topic"] == "grievance"


async def test_a_grievance_off_hours_waits_for_the_shift(faq: FaqIndex, orders: FileOrderService) -> None:
    a = await ask("快递显示签收了但我根本没收到", faq, orders, within_hours=False)
    assert a.handoff is not None and a.handoff.reason is HandoffReason.GRIEVANCE and a.queue_for_next_shift


def test_the_frame_is_seen_without_the_router(faq: FaqIndex) -> None:
    # A caller that builds the context by hand (no frames in ctx.intents) gets the same answer.
    a = decide(BotState(greeted=True), "包裹里只有一双袜子，我买的外套呢", BotContext(intents=frozenset({"logistics"})),
               faq=faq)
    assert a.handoff is not None and a.handoff.reason is HandoffReason.GRIEVANCE


@pytest.mark.parametrize(("text", "entry"), [
    ("退款一般几天能到账", "refund-time"),   # nearest is delivery-time (几天能到), which never says 退款
    ("价保怎么申请", "price-protection"),
    ("退货流程是怎样的", "return-how"),
    ("如果收到有质量问题的怎么处理", "quality-problem"),
])  # fmt: skip
async def test_a_policy_question_about_refunds_is_answered(text: str, entry: str, faq: FaqIndex,
                                                          orders: FileOrderService) -> None:
    a = await ask(text, faq, orders)
    assert a.handoff is None and a.faq_id == entry, a
    assert a.trace["topic"] == "policy"


@pytest.mark.parametrize(("text", "reason"), [
    ("仅退款可以吗", HandoffReason.REFUND),             # no entry says 仅退款: after-sale, as before
    ("钱什么时候能退回来", HandoffReason.REFUND),         # the customer's own money: not a policy question
    ("退款怎么还没到账", HandoffReason.REFUND),
    ("我想退货怎么操作", HandoffReason.RETURN_EXCHANGE),  # the customer's own return
])  # fmt: skip
async def test_refund_lines_that_are_not_policy_questions_still_go_to_people(
        text: str, reason: HandoffReason, faq: FaqIndex, orders: FileOrderService) -> None:  # fmt: skip
    a = await ask(text, faq, orders)
    assert a.handoff is not None and a.handoff.reason is reason and a.faq_id is None, a


def test_policy_answer_needs_every_after_sale_word(faq: FaqIndex) -> None:
    near = best(faq, "仅退款可以吗")
    assert near is not None and near.entry.id == "refund-time"  # near, and would clear the threshold
    assert policy_answer(faq, "仅退款可以吗") is None


async def test_reproach_raises_the_bar_and_the_record_says_why(faq: FaqIndex, orders: FileOrderService) -> None:
    text = "我已经等了三天了，到底有没有人管"
    near = best(faq, text)
    assert near is not None and near.score >= faq.threshold  # the FAQ alone would have answered
    level, why = bar(faq, near, text)
    assert level == pytest.approx(faq.threshold + GRIEVANCE_BAR) and why == ("reproach: 到底",)
    a = await ask(text, faq, orders)
    assert a.handoff is not None and a.handoff.reason is HandoffReason.UNANSWERED and a.faq_id is None
    assert a.trace["faq_bar"] == {"faq_id": near.entry.id, "faq_score": near.score, "bar": level,
                                  "raised_for": ["reproach: 到底"]}


async def test_a_plain_question_keeps_the_plain_bar(faq: FaqIndex, orders: FileOrderService) -> None:
    a = await ask("发货后多久能收到", faq, orders)
    assert a.faq_id == "delivery-time" and "faq_bar" not in a.trace
