"""The bot brain's rules, one per test, against the demo orders and the default FAQ."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from router.bot.brain import decide, needs_order, respond, when_back
from router.bot.brain_texts import BotTexts
from router.bot.brain_types import BotAction, BotConfig, BotContext, BotState, HandoffReason, OrderLookup
from router.bot.faq_match import FaqIndex
from router.bot.orders import FileOrderService, Order, OrderService, TrackingEvent

ROOT = Path(__file__).resolve().parents[3]
CST = timezone(timedelta(hours=8))
NOW = datetime(2024, 11, 18, 23, 30, tzinfo=CST)
OPEN = datetime(2024, 11, 19, 9, 0, tzinfo=CST)
UNPAID, PAID, SHIPPED = "2024111500045601", "2024111100012302", "2024111100012301"
GREETED = BotState(greeted=True)
IN_HOURS_TEXTS = BotTexts()
DEMO = frozenset({"webchat:web:demo"})  # the identity the demo file lists on customer demo's orders
IN_HOURS = BotContext(identities=DEMO)  # in hours, asked by the owner of the demo orders
STRANGER = BotContext(customer_id="cu_someone", identities=frozenset({"webchat:web:v123"}))


@pytest.fixture(scope="module")
def faq() -> FaqIndex:
    return FaqIndex.from_file(ROOT / "config" / "faq.yaml")


@pytest.fixture(scope="module")
def orders() -> FileOrderService:
    return FileOrderService(ROOT / "config" / "orders-demo.yaml")


async def turn(state: BotState, text: str, ctx: BotContext, orders: OrderService, faq: FaqIndex) -> BotAction:
    return await respond(state, text, ctx, orders, faq=faq)


async def test_greets_on_first_contact_only(faq: FaqIndex, orders: FileOrderService) -> None:
    a = await turn(BotState(), "你好，在吗？", IN_HOURS, orders, faq)
    assert a.state.greeted and len(a.replies) == 1 and "欢迎光临" in a.replies[0]
    assert a.handoff is None and a.unanswered_key is None
    b = await turn(a.state, "包邮吗", IN_HOURS, orders, faq)
    assert b.faq_id == "free-shipping" and not any("欢迎光临" in r for r in b.replies)


async def test_first_question_gets_greeting_and_answer(faq: FaqIndex, orders: FileOrderService) -> None:
    a = await turn(BotState(), "能开发票吗", IN_HOURS, orders, faq)
    assert len(a.replies) == 2 and "欢迎光临" in a.replies[0] and a.faq_id == "invoice"


@pytest.mark.parametrize(
    ("text", "ctx", "reason", "team"),
    [
        ("我要退款", BotContext(intents=frozenset({"refund"})), HandoffReason.REFUND, "aftersale"),
        ("想退货", BotContext(intents=frozenset({"return_exchange"})),
         HandoffReason.RETURN_EXCHANGE, "aftersale"),
        ("我要投诉你们", BotContext(intents=frozenset({"complaint"})), HandoffReason.COMPLAINT,
         "general"),
        ("你们什么破店！！", BotContext(angry=True), HandoffReason.ANGRY, "general"),
        ("转人工", IN_HOURS, HandoffReason.HUMAN_REQUEST, "general"),
        ("人工", IN_HOURS, HandoffReason.HUMAN_REQUEST, "general"),
        ("can I talk to a human", IN_HOURS, HandoffReason.HUMAN_REQUEST, "general"),
        ("在吗", BotContext(intents=frozenset({"human_request"})), HandoffReason.HUMAN_REQUEST,
         "general"),
        ("包邮吗", BotContext(handoff_requested=True), HandoffReason.CUSTOMER_ASKED, "general"),
    ],
)  # fmt: skip
async def test_handoff_triggers(
    faq: FaqIndex, orders: FileOrderService, text: str, ctx: BotContext,
    reason: HandoffReason, team: str,
) -> None:  # fmt: skip
    a = await turn(GREETED, text, ctx, orders, faq)
    assert a.handoff is not None and a.handoff.reason is reason and a.handoff.team == team
    assert a.state.handed_off and a.replies and not a.queue_for_next_shift


async def test_anger_beats_a_matching_faq(faq: FaqIndex, orders: FileOrderService) -> None:
    a = await turn(GREETED, "包邮吗？？说话啊", BotContext(angry=True), orders, faq)
    assert a.handoff is not None and a.handoff.reason is HandoffReason.ANGRY and a.faq_id is None


async def test_a_question_the_faq_cannot_answer_is_handed_on_at_once(faq: FaqIndex,
                                                                    orders: FileOrderService) -> None:
    """The shipped default: no "please rephrase"; the agent is told what the bot learned."""
    ctx = replace(IN_HOURS, intents=frozenset({"presale"}))
    a = await turn(GREETED, "你们老板是哪里人", ctx, orders, faq)
    assert a.handoff is not None and a.handoff.reason is HandoffReason.UNANSWERED
    assert a.replies == (IN_HOURS_TEXTS.unanswered_handoff,) and a.unanswered_key == "你们老板是哪里人"
    near = faq.search("你们老板是哪里人", 3)
    assert near, "the note should name candidates; pick a question with some overlap"
    note = a.handoff.note
    assert note.startswith("unanswered: 你们老板是哪里人") and "意图: presale" in note
    for m in near:
        assert f"{m.entry.id} {m.score:.2f}" in note


async def test_two_unanswered_turns_hand_off_when_the_shop_allows_a_rephrasing(
        faq: FaqIndex, orders: FileOrderService) -> None:
    two = BotConfig(max_unanswered=2)
    a = await respond(GREETED, "你们老板是哪里人", IN_HOURS, orders, faq=faq, config=two)
    assert a.handoff is None and a.state.unanswered == 1 and a.unanswered_key == "你们老板是哪里人"
    assert a.replies == (IN_HOURS_TEXTS.unanswered,)
    b = await respond(a.state, "模特穿的鞋子有链接吗", IN_HOURS, orders, faq=faq, config=two)
    assert b.handoff is not None and b.handoff.reason is HandoffReason.UNANSWERED
    assert b.unanswered_key is not None and "FAQ候选" in b.handoff.note


async def test_an_answer_resets_the_unanswered_count(faq: FaqIndex, orders: FileOrderService) -> None:
    two = BotConfig(max_unanswered=2)
    a = await respond(GREETED, "你们老板是哪里人", IN_HOURS, orders, faq=faq, config=two)
    b = await respond(a.state, "包邮吗", IN_HOURS, orders, faq=faq, config=two)
    c = await respond(b.state, "模特穿的鞋子有链接吗", IN_HOURS, orders, faq=faq, config=two)
    assert b.state.unanswered == 0 and c.handoff is None and c.state.unanswered == 1


async def test_order_status_with_number_in_text(faq: FaqIndex, orders: FileOrderService) -> None:
    ctx = BotContext(intents=frozenset({"order_status"}), identities=DEMO)
    a = await turn(GREETED, f"帮我看看订单{SHIPPED}到哪了", ctx, orders, faq)
    assert a.handoff is None and len(a.replies) == 1
    assert SHIPPED in a.replies[0] and "已发货" in a.replies[0]
    assert "已到达北京转运中心" in a.replies[0] and "75310012345678" in a.replies[0]
    assert a.state.order_id == SHIPPED


async def test_order_status_asks_for_the_number_once(faq: FaqIndex, orders: FileOrderService) -> None:
    a = await turn(GREETED, "我的快递到哪了", IN_HOURS, orders, faq)
    assert a.handoff is None and "订单号" in a.replies[0] and a.state.asked_order_id
    b = await turn(a.state, "怎么还没到啊 查一下物流", IN_HOURS, orders, faq)
    assert b.handoff is not None and b.handoff.reason is HandoffReason.ORDER_ID_MISSING


async def test_a_bare_number_answers_the_question(faq: FaqIndex, orders: FileOrderService) -> None:
    a = await turn(GREETED, "我的快递到哪了", IN_HOURS, orders, faq)
    b = await turn(a.state, PAID, IN_HOURS, orders, faq)
    assert b.handoff is None and "待发货" in b.replies[0] and b.state.pending is None


async def test_linked_order_needs_no_question(faq: FaqIndex, orders: FileOrderService) -> None:
    ctx = BotContext(intents=frozenset({"logistics"}), linked_order_id=SHIPPED, identities=DEMO)
    a = await turn(GREETED, "什么时候能到", ctx, orders, faq)
    assert "已发货" in a.replies[0] and not a.state.asked_order_id


async def test_customers_newest_open_order_is_used(faq: FaqIndex, orders: FileOrderService) -> None:
    ctx = BotContext(intents=frozenset({"order_status"}), customer_id="demo")
    a = await turn(GREETED, "我买的东西到哪了", ctx, orders, faq)
    assert "2024111500045601" in a.replies[0]  # demo's newest order that is not closed


@pytest.mark.parametrize("text", [f"查一下订单{SHIPPED}到哪了", f"取消订单 {PAID}", "查一下订单 999999999999"])
async def test_someone_elses_order_or_none_gets_one_and_the_same_question(
    faq: FaqIndex, orders: FileOrderService, text: str,
) -> None:
    a = await turn(GREETED, text, STRANGER, orders, faq)
    oid = a.state.verify_order
    assert oid is not None and a.handoff is None
    # Nothing about the order: the reply is the template with the number the customer typed.
    assert a.replies == (IN_HOURS_TEXTS.verify_ask.format(order_id=oid),)


@pytest.mark.parametrize(("first", "answer"), [
    (f"订单{SHIPPED}到哪了", "已到达北京转运中心"),
    (f"帮我取消订单{UNPAID}", "自行关闭"),
])
async def test_the_buyers_phone_digits_unlock_the_order(
    faq: FaqIndex, orders: FileOrderService, first: str, answer: str,
) -> None:
    a = await turn(GREETED, first, STRANGER, orders, faq)
    b = await turn(a.state, "尾号是1234", STRANGER, orders, faq)
    assert b.handoff is None and answer in b.replies[0] and b.state.verify_order is None
    c = await turn(b.state, "到哪了", STRANGER, orders, faq)  # unlocked for this conversation
    assert c.handoff is None and "后4位" not in c.replies[0] and "当前状态" in c.replies[0]


async def test_wrong_digits_are_bounded_then_a_person_takes_over(faq: FaqIndex, orders: FileOrderService) -> None:
    a = await turn(GREETED, f"订单{SHIPPED}到哪了", STRANGER, orders, faq)
    b = await turn(a.state, "0000", STRANGER, orders, faq)
    assert b.handoff is None and "还可尝试2次" in b.replies[0]
    # Naming another order does not reset the count.
    c = await turn(b.state, f"那订单{PAID}呢 到哪了", STRANGER, orders, faq)
    assert c.state.verify_order == PAID and c.state.verify_attempts == 1
    d = await turn(c.state, "1111", STRANGER, orders, faq)
    e = await turn(d.state, "5678", STRANGER, orders, faq)
    assert e.handoff is not None and e.handoff.reason is HandoffReason.ORDER_UNVERIFIED
    assert e.replies == (IN_HOURS_TEXTS.verify_failed,) and e.state.handed_off
    assert all(PAID not in r or "后4位" in r for x in (b, c, d, e) for r in x.replies)


async def test_an_unknown_order_never_verifies(faq: FaqIndex, orders: FileOrderService) -> None:
    st = (await turn(GREETED, "查一下订单 999999999999", STRANGER, orders, faq)).state
    for _ in range(3):
        a = await turn(st, "1234", STRANGER, orders, faq)
        st = a.state
    assert a.handoff is not None and a.handoff.reason is HandoffReason.ORDER_UNVERIFIED
    assert a.handoff.order_id == "999999999999"


async def test_the_owner_by_customer_id_needs_no_digits(faq: FaqIndex, orders: FileOrderService) -> None:
    a = await turn(GREETED, f"订单{SHIPPED}到哪了", BotContext(customer_id="demo"), orders, faq)
    assert "已发货" in a.replies[0] and a.state.verify_order is None


async def test_failing_order_service_hands_off(faq: FaqIndex) -> None:
    class Broken(OrderService):
        async def get_order(self, order_id: str) -> Order | None:
            raise OSError("connection refused")

        async def list_orders(self, customer_id: str) -> list[Order]:
            raise OSError("connection refused")

        async def tracking(self, order_id: str) -> list[TrackingEvent]:
            raise OSError("connection refused")

    a = await turn(GREETED, f"订单{SHIPPED}到哪了", BotContext(customer_id="demo"), Broken(), faq)
    assert a.handoff is not None and a.handoff.reason is HandoffReason.ORDER_LOOKUP_FAILED


async def test_cancel_unpaid_explains_self_service(faq: FaqIndex, orders: FileOrderService) -> None:
    a = await turn(GREETED, f"取消订单 {UNPAID}", IN_HOURS, orders, faq)
    assert a.handoff is None and "取消订单" in a.replies[0] and "自行关闭" in a.replies[0]


async def test_cancel_not_shipped_goes_to_aftersale(faq: FaqIndex, orders: FileOrderService) -> None:
    a = await turn(GREETED, f"帮我取消订单{PAID}", IN_HOURS, orders, faq)
    assert a.handoff is not None and a.handoff.reason is HandoffReason.CANCEL_NOT_SHIPPED
    assert a.handoff.team == "aftersale" and a.handoff.order_id == PAID


async def test_cancel_shipped_explains_refusal_and_return(faq: FaqIndex, orders: FileOrderService) -> None:
    a = await turn(GREETED, f"cancel my order {SHIPPED}", IN_HOURS, orders, faq)
    assert a.handoff is not None and a.handoff.reason is HandoffReason.CANCEL_SHIPPED
    assert "拒收" in a.replies[0] and "退货退款" in a.replies[0]


async def test_cancel_without_number_asks_then_uses_it(faq: FaqIndex, orders: FileOrderService) -> None:
    a = await turn(GREETED, "我想取消订单", IN_HOURS, orders, faq)
    assert "订单号" in a.replies[0] and a.handoff is None
    b = await turn(a.state, f"{PAID}", IN_HOURS, orders, faq)
    assert b.handoff is not None and b.handoff.reason is HandoffReason.CANCEL_NOT_SHIPPED


async def test_silent_once_a_human_replied(faq: FaqIndex, orders: FileOrderService) -> None:
    st = BotState(greeted=True, human_replied=True)
    for text, ctx in [("包邮吗", IN_HOURS), ("转人工", IN_HOURS), ("退款", BotContext(angry=True))]:
        a = await turn(st, text, ctx, orders, faq)
        assert a.silent and a.state == st


async def test_silent_after_handoff_until_closed(faq: FaqIndex, orders: FileOrderService) -> None:
    a = await turn(GREETED, "转人工", IN_HOURS, orders, faq)
    b = await turn(a.state, "包邮吗", IN_HOURS, orders, faq)
    assert b.silent
    c = await turn(BotState(), "包邮吗", IN_HOURS, orders, faq)  # a new conversation
    assert c.faq_id == "free-shipping"


OFF = BotContext(within_hours=False, next_open=OPEN, now=NOW)


async def test_off_hours_greeting_says_when_agents_are_back(faq: FaqIndex, orders: FileOrderService) -> None:
    a = await turn(BotState(), "在吗", OFF, orders, faq)
    assert a.queue_for_next_shift and len(a.replies) == 1
    assert "明天 09:00" in a.replies[0] and "欢迎光临" not in a.replies[0]
    assert a.state.off_hours_notified


async def test_off_hours_handoff_is_queued_not_promised(faq: FaqIndex, orders: FileOrderService) -> None:
    ctx = replace(OFF, intents=frozenset({"refund"}))
    a = await turn(BotState(), "我要退款", ctx, orders, faq)
    assert a.handoff is not None and a.handoff.reason is HandoffReason.REFUND
    assert a.queue_for_next_shift and "明天 09:00" in a.replies[0]
    assert not any("请稍候" in r for r in a.replies)


async def test_off_hours_faq_still_answered(faq: FaqIndex, orders: FileOrderService) -> None:
    a = await turn(BotState(), "包邮吗", OFF, orders, faq)
    assert a.faq_id == "free-shipping" and not a.queue_for_next_shift and a.handoff is None


def test_when_back_wording() -> None:
    assert when_back(OPEN, NOW) == "明天 09:00"
    assert when_back(OPEN, OPEN - timedelta(hours=2)) == "今天 09:00"
    assert when_back(OPEN, NOW - timedelta(days=3)) == "11月19日 09:00"
    assert when_back(None, NOW) == "工作时间"


def test_decide_is_pure_and_demands_its_lookup(faq: FaqIndex) -> None:
    ctx = BotContext(intents=frozenset({"order_status"}))
    text = f"订单{SHIPPED}呢"
    assert needs_order(GREETED, text, ctx) == SHIPPED
    with pytest.raises(ValueError, match="needs the OrderLookup"):
        decide(GREETED, text, ctx, faq=faq)
    lookup = OrderLookup(SHIPPED, None)
    assert decide(GREETED, text, ctx, faq=faq, lookup=lookup) == decide(GREETED, text, ctx, faq=faq, lookup=lookup)
    assert needs_order(GREETED, "包邮吗", IN_HOURS) is None


def test_a_pending_verification_survives_the_round_trip_through_redis() -> None:
    from router.bot.brain_types import Pending
    from router.bot.stage import dump_state, load_state

    st = BotState(greeted=True, order_id=PAID, verify_order=PAID, verify_kind=Pending.CANCEL,
                  verify_attempts=1, verified=(SHIPPED,))
    assert load_state(dump_state(st)) == st
