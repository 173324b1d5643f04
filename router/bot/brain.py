"""The bot brain: a pure decision per customer turn, plus an async helper that fetches orders.

`decide(state, text, ctx, ...)` is pure: the same inputs give the same BotAction, so the router
can replay and test it. Order data comes in as an `OrderLookup`; `needs_order` says which order
to look up first, and `respond` does both steps against an `OrderService`.

Rules, first match wins (docs/bot.md has the full table):
silent once a human replied or after a handoff; explicit request, anger, complaint, 转人工
hand off at once; a phone-digits answer to the bot's ownership question; cancellation is
answered by order state; refunds, returns and payment or account trouble go to
after-sale; "where is my order" answers with status and latest tracking, asking for the
number once (details of an order only to its owner, or after the last four digits of the
buyer's phone) when the line is about *this* order rather than the shop's policy (arbiter.py);
one product's stock, colour or size goes to the product look-up or a person; then the FAQ; a
question it cannot answer is handed on at once with what the bot learned (`max_unanswered` 1;
a shop may raise it to ask for a rephrasing first). Off hours, anything that needs a person gets the "we are back
at ..." reply and is queued for the next shift. A turn holding several questions is split into
parts (parts.py) and each is decided on its own.
"""

from __future__ import annotations

import re
from dataclasses import replace
from enum import StrEnum
from typing import Any

from router.bot.arbiter import (
    Arbitration,
    answerable,
    arbitrate,
    bar_record,
    is_product_question,
    named_attributes,
    policy_answer,
)
from router.bot.brain_types import (
    BotAction,
    BotConfig,
    BotContext,
    BotState,
    HandoffReason,
    OrderLookup,
    Pending,
)
from router.bot.faq_match import FaqIndex
from router.bot.handoff import handoff, off_hours, off_hours_notice, when_back
from router.bot.order_flow import CODE, extract_order_id, order_flow, verify
from router.bot.orders import OrderService, OrderState
from router.bot.parts import split_parts
from router.bot.products import ProductAnswer, ProductQuery, ProductService
from router.bot.text import group_key, normalise
from routing_rules.frames import GRIEVANCE, POLICY_QUESTION, frames
from routing_rules.intents import normalize

__all__ = ["decide", "extract_order_id", "fetch_lookup", "needs_order", "off_hours_notice", "respond", "when_back"]

_HUMAN = re.compile(r"人工|真人|活人|real person|\bhuman\b|\bagent\b", re.I)
_CANCEL = re.compile(
    r"取消(?:一下|这个|这|我的)?(?:订单|单子|订单号)|订单(?:怎么)?取消|撤单|不想要了|不要了"
    r"|cancel\s+(?:my\s+|the\s+|this\s+)?order",
    re.I,
)
# The rule engine detects order_status; these catch the plainest phrasings if it did not.
_WHERE = re.compile(
    r"到哪了|到哪里了|查(?:一下|下)?(?:我的)?(?:物流|快递|订单|单子|单号)|物流(?:信息|到哪)|怎么还没(?:到|发|收到)"
    r"|(?:货|快递|包裹|订单|衣服)(?:发|寄)(?:出)?了(?:吗|没|么)"
    r"|where\s+is\s+my\s+(?:order|parcel|package)|track(?:ing)?\s+(?:my\s+)?order",
    re.I,
)
_GREETING = re.compile(r"(?:亲|你好|您好|在吗|在不在|有人吗|有人在吗|hi|hello|嗨|哈喽|客服"
                       r"|(?:早上|上午|中午|下午|晚上)好|早安|晚安|good ?(?:morning|afternoon|evening))+")
# "I have another question": no question yet, and no FAQ entry should answer it.
_MORE = re.compile(
    r"^(?:我)?(?:还|另外|再)?(?:有|想|要)?(?:问|咨询)?(?:一|几|两)?个?(?:小)?(?:问题|事情?)(?:想|要)?(?:问|咨询)?(?:一下|下)?$"
    r"|^(?:我)?(?:想|再|还想)?(?:问|咨询)(?:一下|下)?$|^one more (?:question|thing)$"
)
# Thanks and acknowledgements: nothing to look up.
_ACK = re.compile(r"^(?:好的?|好滴|好嘞|嗯+|哦+|ok|okay|谢谢|多谢|感谢|知道了|明白了?|收到|了解|行|可以|没问题|辛苦了)+"
                  r"(?:亲|啦|了|哈|呀|啊|你|您)*$")
# A damaged or faulty item is an after-sale case (return or exchange), whatever words it takes.
_DAMAGED = re.compile(r"是破的|破了|有(?:个|一个)?洞|开线|脱线|掉扣子?|坏了|质量(?:有)?问题|瑕疵|有污渍|脏了")
# Asking the customer for a picture: left out where the channel cannot send one.
_PHOTO_ASK = re.compile(
    r"[^。；！]*(?:拍(?:照|下|张|个照)|照片|图片)[^。；！]*(?:发给|联系|上传|提供)[^。；！]*[。；！]?")
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
    PAYMENT = "payment_issue"
    GRIEVANCE = "grievance"
    POLICY = "policy"  # a question about the refund or returns policy the FAQ answers
    ORDER = "order_status"
    PRODUCT = "product"
    GREETING = "greeting"
    MORE = "more"
    OTHER = "other"


_EXCEPTIONS = frozenset({_Topic.ASKED, _Topic.ANGRY, _Topic.COMPLAINT, _Topic.HUMAN, _Topic.VERIFY,
                         _Topic.CANCEL, _Topic.REFUND, _Topic.RETURN, _Topic.PAYMENT,
                         _Topic.GRIEVANCE})  # fmt: skip


def needs_order(state: BotState, text: str, ctx: BotContext, config: BotConfig = DEFAULT_CONFIG,
                faq: FaqIndex | None = None) -> str | None:  # fmt: skip
    """The order id `decide` will want an OrderLookup for on this turn, if any."""
    if state.human_replied or state.handed_off:
        return None
    topic, _ = _topic(state, text, ctx, config, faq)
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
    product: ProductAnswer | None = None,
    config: BotConfig = DEFAULT_CONFIG,
) -> BotAction:
    """The bot's action for one (debounced) customer turn, or one part of it. Pure."""
    if state.human_replied or state.handed_off:
        return BotAction(state)
    t = config.texts
    topic, arb = _topic(state, text, ctx, config, faq)
    trace: dict[str, Any] = {"topic": topic.value}
    if arb is not None:
        trace["arbitration"] = arb.record()
    if topic in (_Topic.OTHER, _Topic.POLICY):
        raised = bar_record(faq, text)
        if raised is not None:
            trace["faq_bar"] = raised  # why a near entry did not answer, or had to clear more
    action = _decide(state, text, ctx, faq, lookup, product, config, topic)
    if action.faq_id:
        trace["faq_id"], trace["faq_score"] = action.faq_id, action.faq_score
    if not ctx.can_send_photos:
        action = replace(action, replies=tuple(_no_photo(r, t.describe_instead) for r in action.replies))
    return replace(action, trace=trace)


def _decide(state: BotState, text: str, ctx: BotContext, faq: FaqIndex | None, lookup: OrderLookup | None,
            product: ProductAnswer | None, config: BotConfig, topic: _Topic) -> BotAction:  # fmt: skip
    t = config.texts
    st = replace(state, order_id=extract_order_id(text, config) or state.order_id)
    opening: tuple[str, ...] = ()
    if not st.greeted:
        st = replace(st, greeted=True)
        if ctx.within_hours:
            opening = (t.greeting.format(shop=config.shop),)

    if topic is _Topic.ASKED:
        return handoff(st, ctx, config, opening, HandoffReason.CUSTOMER_ASKED, t.handoff, text)
    if topic is _Topic.ANGRY:
        return handoff(st, ctx, config, (), HandoffReason.ANGRY, t.handoff_sorry, text)
    if topic is _Topic.COMPLAINT:
        return handoff(st, ctx, config, (), HandoffReason.COMPLAINT, t.handoff_sorry, text)
    if topic is _Topic.HUMAN:
        return handoff(st, ctx, config, opening, HandoffReason.HUMAN_REQUEST, t.handoff, text)
    if topic is _Topic.VERIFY:
        return verify(st, text, ctx, config, opening, lookup)
    if topic in (_Topic.CANCEL, _Topic.ORDER):
        kind = Pending.CANCEL if topic is _Topic.CANCEL else Pending.ORDER_STATUS
        return order_flow(st, text, ctx, config, opening, kind, lookup)
    if topic is _Topic.REFUND:
        return handoff(st, ctx, config, opening, HandoffReason.REFUND, t.handoff_aftersale, text)
    if topic is _Topic.RETURN:
        reason = HandoffReason.RETURN_EXCHANGE
        return handoff(st, ctx, config, opening, reason, t.handoff_aftersale, text)
    if topic is _Topic.PAYMENT:
        return handoff(st, ctx, config, opening, HandoffReason.PAYMENT_ISSUE, t.handoff_aftersale, text)
    if topic is _Topic.GRIEVANCE:
        return handoff(st, ctx, config, opening, HandoffReason.GRIEVANCE, t.handoff_sorry, text)
    if topic is _Topic.PRODUCT:
        if product is not None:
            return BotAction(replace(st, unanswered=0), (*opening, product.text))
        return handoff(st, ctx, config, opening, HandoffReason.PRODUCT_QUESTION, t.product_handoff, text)
    if topic is _Topic.GREETING:
        if not ctx.within_hours:
            return off_hours(st, ctx, config, (), None)
        return BotAction(st, opening or (t.greeting.format(shop=config.shop),))
    if topic is _Topic.MORE:
        return BotAction(st, opening or (t.go_on,))

    hit = policy_answer(faq, text) if topic is _Topic.POLICY else answerable(faq, text)
    if hit is not None:
        st = replace(st, unanswered=0)
        return BotAction(st, (*opening, hit.entry.answer), faq_id=hit.entry.id, faq_score=hit.score)
    st = replace(st, unanswered=st.unanswered + 1)
    key = group_key(text)
    if st.unanswered >= config.max_unanswered:
        action = handoff(st, ctx, config, opening, HandoffReason.UNANSWERED, t.unanswered_handoff, text)
        assert action.handoff is not None
        learned = replace(action.handoff, note=learned_note(text, ctx, faq))
        return replace(action, handoff=learned, unanswered_key=key)
    return BotAction(st, (*opening, t.unanswered), unanswered_key=key)


async def respond(
    state: BotState,
    text: str,
    ctx: BotContext,
    orders: OrderService | None,
    *,
    faq: FaqIndex | None = None,
    config: BotConfig = DEFAULT_CONFIG,
    products: ProductService | None = None,
) -> BotAction:
    """`decide` after fetching what it needs (the order, the product answer); a failing service
    means a handoff. A turn holding several questions is answered part by part: each part gets
    its answer, and what the bot cannot answer is handed on, never dropped."""
    topic, _ = _topic(state, text, ctx, config, faq)
    parts = [] if topic in _EXCEPTIONS or state.handed_off or state.human_replied else split_parts(text, faq, config)
    if len(parts) < 2:
        return await _respond_one(state, text, ctx, orders, faq, config, products)
    replies: list[str] = []
    done: list[BotAction] = []
    st = state
    for part in parts:
        sub = await _respond_one(st, part.text, replace(ctx, intents=part.intents), orders, faq, config, products)
        done.append(sub)
        replies.extend(r for r in sub.replies if r not in replies)
        # Each part is decided as if it came alone; a handoff waits for the end of the turn.
        st = replace(sub.state, handed_off=False)
    handed = [(p, a.handoff) for p, a in zip(parts, done, strict=True) if a.handoff is not None]
    trace = {"topic": "parts", "parts": [{"text": p.text[:80], **a.trace} for p, a in zip(parts, done, strict=True)]}
    answered = next((a for a in done if a.faq_id), None)
    missed = next((a.unanswered_key for a in done if a.unanswered_key), None)  # counted for the FAQ's to-do
    if not handed:
        return BotAction(st, tuple(replies), faq_id=answered.faq_id if answered else None,
                         faq_score=answered.faq_score if answered else None, unanswered_key=missed, trace=trace)
    first = handed[0][1]
    assert first is not None
    others = "；".join(p.text.strip()[:40] for p, a in zip(parts, done, strict=True) if a.handoff is None)
    note = f"{first.note}（机器人已答复：{others}）" if others else first.note
    # Answers first, then the word that a person takes over, which ends the bot's part.
    closing = [r for a in done if a.handoff is not None for r in a.replies[-1:]]
    replies = [r for r in replies if r not in closing] + list(dict.fromkeys(closing))
    return BotAction(replace(st, handed_off=True, pending=None), tuple(replies), replace(first, note=note),
                     queue_for_next_shift=any(a.queue_for_next_shift for a in done),
                     faq_id=answered.faq_id if answered else None,
                     faq_score=answered.faq_score if answered else None, unanswered_key=missed, trace=trace)


async def _respond_one(state: BotState, text: str, ctx: BotContext, orders: OrderService | None,
                       faq: FaqIndex | None, config: BotConfig,
                       products: ProductService | None) -> BotAction:  # fmt: skip
    topic, _ = _topic(state, text, ctx, config, faq)
    if (
        orders is not None
        and ctx.linked_order_id is None
        and ctx.customer_id
        and topic in (_Topic.CANCEL, _Topic.ORDER)
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
    oid = needs_order(state, text, ctx, config, faq)
    lookup = await fetch_lookup(orders, oid) if oid is not None else None
    product = None
    if topic is _Topic.PRODUCT and products is not None:
        query = ProductQuery(text, named_attributes(text), ctx.customer_id, state.order_id or ctx.linked_order_id)
        try:
            product = await products.answer(query)
        except Exception:  # like orders: any transport failure means a person answers
            product = None
    return decide(state, text, ctx, faq=faq, lookup=lookup, product=product, config=config)


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


def _topic(state: BotState, text: str, ctx: BotContext, config: BotConfig,
           faq: FaqIndex | None) -> tuple[_Topic, Arbitration | None]:  # fmt: skip
    # The frames (grievance, policy question) are derived from the text; the router passes them
    # in ctx.intents, a caller that builds the context by hand may not.
    intents = ctx.intents | frames(normalize(text))
    has_id = extract_order_id(text, config) is not None
    if ctx.handoff_requested:
        return _Topic.ASKED, None
    if ctx.angry:
        return _Topic.ANGRY, None
    if "complaint" in intents:
        return _Topic.COMPLAINT, None
    if "human_request" in intents or _HUMAN.search(text):
        return _Topic.HUMAN, None
    if state.verify_order and not has_id and CODE.search(text):
        return _Topic.VERIFY, None
    if _CANCEL.search(text) or (state.pending is Pending.CANCEL and has_id):
        return _Topic.CANCEL, None
    if GRIEVANCE in intents:
        # The customer's own case gone wrong is a person's job, even when an FAQ entry is near
        # ("包裹里只有一双袜子，我买的外套呢" is not an order look-up, nor the wrong-item entry).
        return _Topic.GRIEVANCE, None
    after_sale = _Topic.REFUND if "refund" in intents else (
        _Topic.RETURN if "return_exchange" in intents or _DAMAGED.search(text) else None)
    if after_sale is not None:
        # How refunds or returns work here ("退款一般几天到账") is the FAQ's, when it is sure;
        # anything else about them goes to after-sale as before.
        if POLICY_QUESTION in intents and policy_answer(faq, text) is not None:
            return _Topic.POLICY, None
        return after_sale, None
    if "payment_issue" in intents:
        return _Topic.PAYMENT, None
    where = frozenset({"order_status"}) if _WHERE.search(text) else frozenset()
    arb = arbitrate(text, intents | where, has_id, state.pending is Pending.ORDER_STATUS, faq)
    if arb is not None and arb.choice == "order" and (has_id or not is_product_question(text)):
        return _Topic.ORDER, arb
    if is_product_question(text):
        return _Topic.PRODUCT, arb
    bare = _GREETING.sub("", normalise(text).replace(" ", ""))
    if not bare or bare in {"吗", "呢", "啊", "呀"}:
        return _Topic.GREETING, arb
    if _MORE.match(bare) or _ACK.match(bare):
        return _Topic.MORE, arb
    return _Topic.OTHER, arb


def learned_note(text: str, ctx: BotContext, faq: FaqIndex | None, top: int = 3) -> str:
    """What an agent taking an unanswered question is told: the question, the intents the rules
    saw, and the FAQ entries that came closest with their confidence (none was sure enough)."""
    near = faq.search(text, top) if faq is not None else []
    cands = "，".join(f"{m.entry.id} {m.score:.2f}" for m in near) or "无"
    intents = "、".join(sorted(ctx.intents)) or "无"
    return f"{HandoffReason.UNANSWERED.value}: {text.strip()[:80]}；意图: {intents}；FAQ候选: {cands}"


def _no_photo(reply: str, instead: str) -> str:
    """The reply without its request for a photo (the channel cannot send one), and what to do instead."""
    cut = _PHOTO_ASK.sub("", reply)
    return reply if cut == reply else f"{cut}{instead}"
