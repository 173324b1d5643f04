"""Issue 18, third round: payment and account trouble, neglect, lost parcels and legal threats go
to people; time-of-day greetings are greetings, not the service-hours entry; and an FAQ answer
may come from the second-nearest entry when the nearest does not name the question's topic."""

from __future__ import annotations

from pathlib import Path

import pytest

from router.bot.arbiter import answerable, confident
from router.bot.brain import respond
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


async def ask(text: str, faq: FaqIndex, orders: FileOrderService, *, within_hours: bool = True,
              state: BotState | None = None) -> BotAction:  # fmt: skip
    intents, angry = TABLE.scan(normalize(text))
    ctx = BotContext(intents=intents, angry=angry, within_hours=within_hours)
    return await respond(state or BotState(greeted=True), text, ctx, orders, faq=faq)


@pytest.mark.parametrize(("text", "reason"), [
    # Charged without an order to show for it: the unpaid-order and payment entries match these.
    ("支付宝付款成功了但是订单还是待付款", HandoffReason.PAYMENT_ISSUE),
    ("钱扣了订单没生成怎么办", HandoffReason.PAYMENT_ISSUE),
    ("同一个订单扣了两次钱", HandoffReason.PAYMENT_ISSUE),
    ("账号登录不了了怎么付款", HandoffReason.PAYMENT_ISSUE),
    # An after-sale case nobody answers, a lost parcel, the law.
    ("帮我申请售后", HandoffReason.RETURN_EXCHANGE),
    ("售后申请提交了一直没人处理", HandoffReason.COMPLAINT),
    ("客服一直不回消息怎么回事", HandoffReason.COMPLAINT),
    ("快递丢件了谁负责", HandoffReason.COMPLAINT),
    ("再不解决我就起诉", HandoffReason.COMPLAINT),
])  # fmt: skip
async def test_payment_trouble_neglect_and_losses_go_to_people(text: str, reason: HandoffReason, faq: FaqIndex,
                                                               orders: FileOrderService) -> None:
    a = await ask(text, faq, orders)
    assert a.handoff is not None and a.handoff.reason is reason and a.faq_id is None, a


async def test_a_payment_issue_goes_to_after_sale_with_its_intent(faq: FaqIndex, orders: FileOrderService) -> None:
    a = await ask("微信付钱了订单显示未支付", faq, orders)
    assert a.handoff is not None
    assert (a.handoff.team, a.handoff.intent) == ("aftersale", "payment_issue")
    # Off hours it waits for the next shift like any other handoff.
    night = await ask("微信付钱了订单显示未支付", faq, orders, within_hours=False)
    assert night.handoff is not None and night.queue_for_next_shift


@pytest.mark.parametrize("text", ["晚上好", "早上好呀", "下午好", "亲，中午好", "晚安", "good evening"])
async def test_time_of_day_greetings_are_greetings(text: str, faq: FaqIndex, orders: FileOrderService) -> None:
    """晚上好 once got the service-hours entry (客服晚上几点下班 shares 晚上)."""
    a = await ask(text, faq, orders, state=BotState())
    assert a.faq_id is None and a.handoff is None and a.trace["topic"] == "greeting", a


async def test_a_greeting_before_a_question_does_not_hide_it(faq: FaqIndex, orders: FileOrderService) -> None:
    a = await ask("晚上好，包邮吗", faq, orders)
    assert a.faq_id == "free-shipping", a


def test_the_nearest_entry_that_names_the_topic_answers(faq: FaqIndex) -> None:
    """发票在哪里申请: the returns entry (申请售后) comes nearest but never says 发票."""
    text = "发票在哪里申请"
    top = faq.search(text, 1)[0]
    assert top.entry.id != "invoice" and not confident(faq, top, text)
    hit = answerable(faq, text)
    assert hit is not None and hit.entry.id == "invoice" and hit.score >= faq.threshold


def test_answerable_never_goes_below_the_threshold(faq: FaqIndex) -> None:
    for text in ("今天天气真好", "你叫什么名字", "哈哈哈"):
        hit = answerable(faq, text)
        assert hit is None or hit.score >= faq.threshold


@pytest.mark.parametrize(("text", "entry"), [
    ("发货走什么快递", "courier"),          # 走: the courier the shop ships with
    ("是哪家快递公司送", "courier"),
    ("有保价服务吗", "price-protection"),    # 保价 is 价保 turned round
    ("这件要怎么清洗", "washing"),
    ("忘了付款订单还在吗", "unpaid-order"),
])  # fmt: skip
async def test_faq_words_customers_use(text: str, entry: str, faq: FaqIndex, orders: FileOrderService) -> None:
    a = await ask(text, faq, orders)
    assert a.faq_id == entry, a
