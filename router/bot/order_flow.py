"""The order flow of the brain: status and tracking, cancellation by order state, and the owner
check (an order's details go only to its buyer, or to whoever gives the buyer's phone digits)."""

from __future__ import annotations

import hmac
import re
from dataclasses import replace

from router.bot.brain_types import (
    BotAction,
    BotConfig,
    BotContext,
    BotState,
    HandoffReason,
    OrderLookup,
    Pending,
)
from router.bot.handoff import handoff
from router.bot.orders import STATE_LABELS, Order, OrderState

# The last four digits of a phone, alone among other characters (an order number is longer).
CODE = re.compile(r"(?<!\d)\d{4}(?!\d)")


def extract_order_id(text: str, config: BotConfig) -> str | None:
    """The first order number in `text` by the shop's pattern, or None."""
    m = config.order_id_pattern.search(text)
    return m.group(0) if m else None


def order_flow(
    st: BotState, text: str, ctx: BotContext, config: BotConfig, opening: tuple[str, ...],
    kind: Pending, lookup: OrderLookup | None,
) -> BotAction:  # fmt: skip
    t = config.texts
    oid = extract_order_id(text, config) or st.order_id or ctx.linked_order_id
    if oid is None:
        if st.asked_order_id:
            reason = HandoffReason.ORDER_ID_MISSING
            return handoff(st, ctx, config, opening, reason, t.no_order_id, text, kind)
        st = replace(st, asked_order_id=True, pending=kind)
        return BotAction(st, (*opening, t.ask_order_id))
    lookup = _checked(lookup, oid)
    st = replace(st, order_id=oid, pending=None)
    if lookup.failed:
        reason = HandoffReason.ORDER_LOOKUP_FAILED
        return handoff(st, ctx, config, opening, reason, t.lookup_failed, text, kind)
    order = lookup.order
    if order is None or not (oid in st.verified or order.owned_by(ctx.customer_id, ctx.identities)):
        # Someone else's order, or none: the same question either way, so that a guessed number
        # tells nothing, not even whether the order exists.
        st = replace(st, verify_order=oid, verify_kind=kind)
        return BotAction(st, (*opening, t.verify_ask.format(order_id=oid)))
    return _answer(st, ctx, config, opening, kind, order, lookup, text)


def verify(
    st: BotState, text: str, ctx: BotContext, config: BotConfig, opening: tuple[str, ...],
    lookup: OrderLookup | None,
) -> BotAction:  # fmt: skip
    """The customer answered the ownership question: unlock the order, or count a wrong answer."""
    t = config.texts
    oid, kind = st.verify_order or "", st.verify_kind or Pending.ORDER_STATUS
    lookup = _checked(lookup, oid)
    if lookup.failed:
        reason = HandoffReason.ORDER_LOOKUP_FAILED
        return handoff(st, ctx, config, opening, reason, t.lookup_failed, text, kind)
    order, code = lookup.order, CODE.search(text)
    tail = order.phone_tail() if order is not None else None
    if order is not None and code and tail and hmac.compare_digest(code.group(0), tail):
        st = replace(st, order_id=oid, pending=None, verify_order=None, verify_kind=None,
                     verified=(*st.verified, oid))
        return _answer(st, ctx, config, opening, kind, order, lookup, text)
    # Attempts count per conversation, not per order: naming another order does not reset them.
    st = replace(st, verify_attempts=st.verify_attempts + 1)
    left = config.max_verify_attempts - st.verify_attempts
    if left <= 0:
        return handoff(st, ctx, config, opening, HandoffReason.ORDER_UNVERIFIED, t.verify_failed, text, kind)
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
    return handoff(st, ctx, config, opening, reason, msg.format(**fmt), text, kind)
