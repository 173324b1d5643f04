"""The bot brain: a pure decision per customer turn, plus an async helper that fetches orders.

`decide(state, text, ctx, ...)` is pure: the same inputs give the same BotAction, so the router
can replay and test it. Order data comes in as an `OrderLookup`; `needs_order` says which order
to look up first, and `respond` does both steps against an `OrderService`.

Rules, first match wins (docs/bot.md has the full table):
silent once a human replied or after a handoff; explicit request, anger, complaint, 转人工
hand off at once; a phone-digits answer to the bot's ownership question; cancellation is
answered by order state; refunds and returns go to
after-sale; "where is my order" answers with status and latest tracking, asking for the
number once (details of an order only to its owner, or after the last four digits of the
buyer's phone); then the FAQ; two unanswered turns in a row hand off. Off hours, anything that
needs a person gets the "we are back at ..." reply and is queued for the next shift.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import replace
from datetime import datetime, timedelta
from enum import StrEnum

from router.bot.brain_types import (
    BotAction,
    BotConfig,
    BotContext,
    BotState,
    Handoff,
    HandoffReason,
    OrderLookup,
    Pending,
)
from router.bot.faq_match import FaqIndex
from router.bot.orders import STATE_LABELS, Order, OrderService, OrderState
from router.bot.text import group_key, normalise

_HUMAN = re.compile(r"人工|真人|活人|real person|\bhuman\b|\bagent\b", re.I)
_CANCEL = re.compile(
    r"取消(?:一下|这个|这|我的)?(?:订单|单子|订单号)|订单(?:怎么)?取消|撤单|不想要了|不要了"
    r"|cancel\s+(?:my\s+|the\s+|this\s+)?order",
    re.I,
)
# The rule engine detects order_status; these catch the plainest phrasings if it did not.
_WHERE = re.compile(
    r"到哪了|到哪里了|查(?:一下|下)?(?:物流|快递|订单)|物流(?:信息|到哪)|怎么还没(?:到|发|收到)"
    r"|where\s+is\s+my\s+(?:order|parcel|package)|track(?:ing)?\s+(?:my\s+)?order",
    re.I,
)
# The last four digits of a phone, alone among other characters (an order number is longer).
_CODE = re.compile(r"(?<!\d)\d{4}(?!\d)")
_GREETING = re.compile(r"(?:亲|你好|您好|在吗|在不在|有人吗|有人在吗|hi|hello|嗨|哈喽|客服)+")
_ORDER_INTENTS = frozenset({"order_status", "logistics"})
DEFAULT_CONFIG = BotConfig()


class _Topic(StrEnum):
    """What this turn is about, as far as the rules are concerned."""

    ASKED = "asked"
    ANGRY = "angry"
    COMPLAINT = "complaint"
    HUMAN = "human"
    VERIFY = "verify"
    CANCEL = "cancel"
    REFUND = "refund"
    RETURN = "return_exchange"
    ORDER = "order_status"
    GREETING = "greeting"
    OTHER = "other"


def extract_order_id(text: str, config: BotConfig = DEFAULT_CONFIG) -> str | None:
    """The first order number in `text` by the shop's pattern, or None."""
    m = config.order_id_pattern.search(text)
    return m.group(0) if m else None


def needs_order(state: BotState, text: str, ctx: BotContext, config: BotConfig = DEFAULT_CONFIG) -> str | None:
    """The order id `decide` will want an OrderLookup for on this turn, if any."""
    if state.human_replied or state.handed_off:
        return None
    topic = _topic(state, text, ctx, config)
    if topic is _Topic.VERIFY:
        return state.verify_order
    if topic not in (_Topic.CANCEL, _Topic.ORDER):
        return None
    return extract_order_id(text, config) or state.order_id or ctx.linked_order_id


def decide(
    state: BotState,
    text: str,
    ctx: BotContext,
    *,
    faq: FaqIndex | None = None,
    lookup: OrderLookup | None = None,
    config: BotConfig = DEFAULT_CONFIG,
) -> BotAction:
    """The bot's action for one (debounced) customer turn. Pure."""
    if state.human_replied or state.handed_off:
        return BotAction(state)
    t = config.texts
    topic = _topic(state, text, ctx, config)
    st = replace(state, order_id=extract_order_id(text, config) or state.order_id)
    opening: tuple[str, ...] = ()
    if not st.greeted:
        st = replace(st, greeted=True)
        if ctx.within_hours:
            opening = (t.greeting.format(shop=config.shop),)

    if topic is _Topic.ASKED:
        return _handoff(st, ctx, config, opening, HandoffReason.CUSTOMER_ASKED, t.handoff, text)
    if topic is _Topic.ANGRY:
        return _handoff(st, ctx, config, (), HandoffReason.ANGRY, t.handoff_sorry, text)
    if topic is _Topic.COMPLAINT:
        return _handoff(st, ctx, config, (), HandoffReason.COMPLAINT, t.handoff_sorry, text)
    if topic is _Topic.HUMAN:
        return _handoff(st, ctx, config, opening, HandoffReason.HUMAN_REQUEST, t.handoff, text)
    if topic is _Topic.VERIFY:
        return _verify(st, text, ctx, config, opening, lookup)
    if topic in (_Topic.CANCEL, _Topic.ORDER):
        return _order_flow(st, text, ctx, config, opening, topic, lookup)
    if topic is _Topic.REFUND:
        return _handoff(st, ctx, config, opening, HandoffReason.REFUND, t.handoff_aftersale, text)
    if topic is _Topic.RETURN:
        reason = HandoffReason.RETURN_EXCHANGE
        return _handoff(st, ctx, config, opening, reason, t.handoff_aftersale, text)
    if topic is _Topic.GREETING:
        if not ctx.within_hours:
            return _off_hours(st, ctx, config, (), None)
        return BotAction(st, opening or (t.greeting.format(shop=config.shop),))

    hit = faq.match(text) if faq is not None else None
    if hit is not None:
        st = replace(st, unanswered=0)
        return BotAction(st, (*opening, hit.entry.answer), faq_id=hit.entry.id, faq_score=hit.score)
    st = replace(st, unanswered=st.unanswered + 1)
    key = group_key(text)
    if st.unanswered >= config.max_unanswered:
        action = _handoff(st, ctx, config, opening, HandoffReason.UNANSWERED, t.unanswered_handoff, text)
        return replace(action, unanswered_key=key)
    return BotAction(st, (*opening, t.unanswered), unanswered_key=key)


async def respond(
    state: BotState,
    text: str,
    ctx: BotContext,
    orders: OrderService | None,
    *,
    faq: FaqIndex | None = None,
    config: BotConfig = DEFAULT_CONFIG,
) -> BotAction:
    """`decide` after fetching the order it needs; a failing service means a handoff."""
    if (
        orders is not None
        and ctx.linked_order_id is None
        and ctx.customer_id
        and _topic(state, text, ctx, config) in (_Topic.CANCEL, _Topic.ORDER)
        and not extract_order_id(text, config)
        and state.order_id is None
    ):
        # No number given: the customer's newest open order is almost always the one meant.
        try:
            mine = await orders.list_orders(ctx.customer_id)
        except Exception:  # the contract lets services raise anything transport-related
            mine = []
        open_ = [o for o in mine if o.state is not OrderState.CLOSED]
        if open_:
            ctx = replace(ctx, linked_order_id=open_[0].id)
    oid = needs_order(state, text, ctx, config)
    lookup = None
    if oid is not None:
        lookup = await fetch_lookup(orders, oid)
    return decide(state, text, ctx, faq=faq, lookup=lookup, config=config)


async def fetch_lookup(orders: OrderService | None, order_id: str) -> OrderLookup:
    """Ask the service about one order; any failure becomes OrderLookup(failed=True)."""
    if orders is None:
        return OrderLookup(order_id, None, failed=True)
    try:
        order = await orders.get_order(order_id)
        events = await orders.tracking(order_id) if order is not None else []
    except Exception:  # see OrderService: transport errors vary by implementation
        return OrderLookup(order_id, None, failed=True)
    return OrderLookup(order_id, order, tuple(events))


def _topic(state: BotState, text: str, ctx: BotContext, config: BotConfig) -> _Topic:
    intents = ctx.intents
    has_id = extract_order_id(text, config) is not None
    if ctx.handoff_requested:
        return _Topic.ASKED
    if ctx.angry:
        return _Topic.ANGRY
    if "complaint" in intents:
        return _Topic.COMPLAINT
    if "human_request" in intents or _HUMAN.search(text):
        return _Topic.HUMAN
    if state.verify_order and not has_id and _CODE.search(text):
        return _Topic.VERIFY
    if _CANCEL.search(text) or (state.pending is Pending.CANCEL and has_id):
        return _Topic.CANCEL
    if "refund" in intents:
        return _Topic.REFUND
    if "return_exchange" in intents:
        return _Topic.RETURN
    if intents & _ORDER_INTENTS or _WHERE.search(text):
        return _Topic.ORDER
    if state.pending is Pending.ORDER_STATUS and has_id:
        return _Topic.ORDER
    bare = _GREETING.sub("", normalise(text).replace(" ", ""))
    if not bare or bare in {"吗", "呢", "啊", "呀"}:
        return _Topic.GREETING
    return _Topic.OTHER


def _order_flow(
    st: BotState, text: str, ctx: BotContext, config: BotConfig, opening: tuple[str, ...],
    topic: _Topic, lookup: OrderLookup | None,
) -> BotAction:  # fmt: skip
    t = config.texts
    kind = Pending.CANCEL if topic is _Topic.CANCEL else Pending.ORDER_STATUS
    oid = extract_order_id(text, config) or st.order_id or ctx.linked_order_id
    if oid is None:
        if st.asked_order_id:
            reason = HandoffReason.ORDER_ID_MISSING
            return _handoff(st, ctx, config, opening, reason, t.no_order_id, text, kind)
        st = replace(st, asked_order_id=True, pending=kind)
        return BotAction(st, (*opening, t.ask_order_id))
    lookup = _checked(lookup, oid)
    st = replace(st, order_id=oid, pending=None)
    if lookup.failed:
        reason = HandoffReason.ORDER_LOOKUP_FAILED
        return _handoff(st, ctx, config, opening, reason, t.lookup_failed, text, kind)
    order = lookup.order
    if order is None or not (oid in st.verified or order.owned_by(ctx.customer_id, ctx.identities)):
        # Someone else's order, or none: the same question either way, so that a guessed number
        # tells nothing, not even whether the order exists.
        st = replace(st, verify_order=oid, verify_kind=kind)
        return BotAction(st, (*opening, t.verify_ask.format(order_id=oid)))
    return _answer(st, ctx, config, opening, kind, order, lookup, text)


def _verify(
    st: BotState, text: str, ctx: BotContext, config: BotConfig, opening: tuple[str, ...],
    lookup: OrderLookup | None,
) -> BotAction:  # fmt: skip
    """The customer answered the ownership question: unlock the order, or count a wrong answer."""
    t = config.texts
    oid, kind = st.verify_order or "", st.verify_kind or Pending.ORDER_STATUS
    lookup = _checked(lookup, oid)
    if lookup.failed:
        reason = HandoffReason.ORDER_LOOKUP_FAILED
        return _handoff(st, ctx, config, opening, reason, t.lookup_failed, text, kind)
    order, code = lookup.order, _CODE.search(text)
    tail = order.phone_tail() if order is not None else None
    if order is not None and code and tail and hmac.compare_digest(code.group(0), tail):
        st = replace(st, order_id=oid, pending=None, verify_order=None, verify_kind=None,
                     verified=(*st.verified, oid))
        return _answer(st, ctx, config, opening, kind, order, lookup, text)
    # Attempts count per conversation, not per order: naming another order does not reset them.
    st = replace(st, verify_attempts=st.verify_attempts + 1)
    left = config.max_verify_attempts - st.verify_attempts
    if left <= 0:
        return _handoff(st, ctx, config, opening, HandoffReason.ORDER_UNVERIFIED, t.verify_failed, text, kind)
    return BotAction(st, (*opening, t.verify_wrong.format(left=left)))


def _checked(lookup: OrderLookup | None, oid: str) -> OrderLookup:
    if lookup is None or lookup.order_id != oid:
        raise ValueError(f"decide() needs the OrderLookup for order {oid!r}: see needs_order()")
    return lookup


def _answer(
    st: BotState, ctx: BotContext, config: BotConfig, opening: tuple[str, ...], kind: Pending,
    order: Order, lookup: OrderLookup, text: str,
) -> BotAction:  # fmt: skip
    """Status and tracking, or the cancellation answer, for an order the customer may see."""
    t, oid = config.texts, lookup.order_id
    if kind is Pending.ORDER_STATUS:
        lines = [t.order_status.format(order_id=oid, state=STATE_LABELS[order.state])]
        if lookup.events:
            ev = lookup.events[-1]
            lines.append(
                t.order_tracking.format(
                    courier=" ".join(x for x in (order.courier, order.tracking_no) if x) or "快递",
                    when=ev.at.strftime("%m-%d %H:%M"),
                    where=f"{ev.location} " if ev.location else "",
                    status=ev.status,
                )
            )
        elif order.state is OrderState.PAID:
            lines.append(t.order_no_tracking)
        return BotAction(replace(st, unanswered=0), (*opening, "".join(lines)))
    fmt = {"order_id": oid}
    if order.state is OrderState.UNPAID:
        return BotAction(replace(st, unanswered=0), (*opening, t.cancel_unpaid.format(**fmt)))
    if order.state is OrderState.CLOSED:
        return BotAction(replace(st, unanswered=0), (*opening, t.cancel_closed.format(**fmt)))
    if order.state is OrderState.REFUNDING:
        return BotAction(replace(st, unanswered=0), (*opening, t.cancel_refunding.format(**fmt)))
    if order.state is OrderState.PAID:
        reason, msg = HandoffReason.CANCEL_NOT_SHIPPED, t.cancel_not_shipped
    elif order.state is OrderState.SHIPPED:
        reason, msg = HandoffReason.CANCEL_SHIPPED, t.cancel_shipped
    else:
        reason, msg = HandoffReason.CANCEL_SHIPPED, t.cancel_delivered
    return _handoff(st, ctx, config, opening, reason, msg.format(**fmt), text, kind)


_AFTERSALE = frozenset({
    HandoffReason.REFUND, HandoffReason.RETURN_EXCHANGE, HandoffReason.CANCEL_NOT_SHIPPED,
    HandoffReason.CANCEL_SHIPPED,
})  # fmt: skip


def _handoff(
    st: BotState, ctx: BotContext, config: BotConfig, opening: tuple[str, ...],
    reason: HandoffReason, message: str, text: str, kind: Pending | None = None,
) -> BotAction:  # fmt: skip
    intent = (
        {
            HandoffReason.REFUND: "refund",
            HandoffReason.RETURN_EXCHANGE: "return_exchange",
            HandoffReason.COMPLAINT: "complaint",
            HandoffReason.HUMAN_REQUEST: "human_request",
        }.get(reason)
        or (kind.value if kind else None)
        or min(ctx.intents, default=None)
    )
    handoff = Handoff(
        reason=reason,
        team="aftersale" if reason in _AFTERSALE or kind is Pending.CANCEL else "general",
        order_id=st.order_id or ctx.linked_order_id,
        intent=intent,
        note=f"{reason.value}: {text.strip()[:80]}",
    )
    st = replace(st, handed_off=True, pending=None)
    if not ctx.within_hours:
        return _off_hours(st, ctx, config, (), handoff)
    return BotAction(st, (*opening, message), handoff)


def _off_hours(
    st: BotState, ctx: BotContext, config: BotConfig, opening: tuple[str, ...],
    handoff: Handoff | None,
) -> BotAction:  # fmt: skip
    """Nobody is there to take it: say when agents are back and park it for the next shift."""
    msg = off_hours_notice(config, ctx.next_open, ctx.now)
    if st.off_hours_notified:
        msg = config.texts.queued
    st = replace(st, off_hours_notified=True)
    return BotAction(st, (*opening, msg), handoff, queue_for_next_shift=True)


def off_hours_notice(config: BotConfig, next_open: datetime | None, now: datetime | None) -> str:
    """ "人工客服将于明天 09:00 上线...": what a customer hears when nobody is in to take it."""
    return config.texts.off_hours.format(back=when_back(next_open, now), shop=config.shop)


def when_back(next_open: datetime | None, now: datetime | None) -> str:
    """ "今天 09:00", "明天 09:00" or "11月25日 09:00" (in next_open's time zone)."""
    if next_open is None:
        return "工作时间"
    hm = next_open.strftime("%H:%M")
    if now is not None:
        local_now = now.astimezone(next_open.tzinfo) if next_open.tzinfo else now
        if next_open.date() == local_now.date():
            return f"今天 {hm}"
        if next_open.date() == local_now.date() + timedelta(days=1):
            return f"明天 {hm}"
    return f"{next_open.month}月{next_open.day}日 {hm}"
