"""Values the bot brain reads and returns: state, context, order lookups, actions."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from router.bot.brain_texts import BotTexts
from router.bot.orders import Order, TrackingEvent


class HandoffReason(StrEnum):
    """Why the bot gave the conversation to a person; stable strings for stats and routing."""

    CUSTOMER_ASKED = "customer_asked"  # the channel/UI said so (a "talk to a person" button)
    HUMAN_REQUEST = "human_request"  # the customer wrote 转人工 / 人工 / human
    ANGRY = "angry"
    COMPLAINT = "complaint"
    REFUND = "refund"
    RETURN_EXCHANGE = "return_exchange"
    PAYMENT_ISSUE = "payment_issue"  # charged without an order, charged twice, an account lost
    GRIEVANCE = "grievance"  # the customer's own case gone wrong: damaged, wrong or missing goods, money, fraud
    CANCEL_NOT_SHIPPED = "cancel_not_shipped"
    CANCEL_SHIPPED = "cancel_shipped"  # shipped or delivered: refusal or return
    ORDER_ID_MISSING = "order_id_missing"  # asked once for the number, still none
    ORDER_UNVERIFIED = "order_unverified"  # not the customer's order (or none such), not verified
    ORDER_LOOKUP_FAILED = "order_lookup_failed"
    UNANSWERED = "unanswered"  # too many turns in a row the bot could not answer
    PRODUCT_QUESTION = "product_question"  # one product's stock, colour or size, and no look-up knew
    LLM_WITHHELD = "llm_withheld"  # the model's answer broke a guardrail and was not sent


class Pending(StrEnum):
    """What the bot asked the order number for, so that a bare number answers it."""

    ORDER_STATUS = "order_status"
    CANCEL = "cancel"


@dataclass(frozen=True, slots=True)
class BotState:
    """What the bot remembers about one conversation; the router stores it between turns."""

    greeted: bool = False
    off_hours_notified: bool = False
    asked_order_id: bool = False  # we asked once; the next miss hands off
    pending: Pending | None = None
    unanswered: int = 0  # consecutive turns without an answer
    order_id: str | None = None  # the last order the customer talked about
    verify_order: str | None = None  # an order not theirs as far as we know: phone digits asked
    verify_kind: Pending | None = None  # what to answer once `verify_order` is verified
    verify_attempts: int = 0  # wrong answers in this conversation, whatever the order
    verified: tuple[str, ...] = ()  # orders unlocked by the phone digits in this conversation
    handed_off: bool = False
    human_replied: bool = False  # set by the router when an agent writes; bot goes silent


@dataclass(frozen=True, slots=True)
class BotContext:
    """What the router knows about this turn besides its text."""

    intents: frozenset[str] = frozenset()  # from routing_rules (order_status, refund, ...)
    angry: bool = False
    within_hours: bool = True
    next_open: datetime | None = None  # when agents are back, for the off-hours reply
    now: datetime | None = None  # the clock, for "今天/明天 09:00"; injected for replay
    linked_order_id: str | None = None  # an order the router already tied to this chat
    customer_id: str | None = None
    identities: frozenset[str] = frozenset()  # the customer's channel identities ('channel:account:user')
    handoff_requested: bool = False  # an explicit request from the channel or UI
    can_send_photos: bool = True  # the channel lets customers send pictures (adapters' `media`)


@dataclass(frozen=True, slots=True)
class OrderLookup:
    """The result of asking the OrderService about one order, handed to the pure brain."""

    order_id: str
    order: Order | None
    events: tuple[TrackingEvent, ...] = ()
    failed: bool = False  # the service raised; we could not look


@dataclass(frozen=True, slots=True)
class Handoff:
    """Give the conversation to a person; `team` picks the queue, `note` is for the agent."""

    reason: HandoffReason
    team: str = "general"  # "general" or "aftersale"
    order_id: str | None = None
    intent: str | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class BotAction:
    """The brain's decision for one turn.

    `replies` go out in order. With `handoff` set the router queues the conversation for a
    person; with `queue_for_next_shift` it parks it until agents are back. `unanswered_key`
    is set when the bot could not answer, for counting questions the FAQ lacks.
    """

    state: BotState
    replies: tuple[str, ...] = ()
    handoff: Handoff | None = None
    queue_for_next_shift: bool = False
    faq_id: str | None = None
    faq_score: float | None = None
    unanswered_key: str | None = None
    trace: dict[str, Any] = field(default_factory=dict)
    """What decided the turn (topic, FAQ-vs-order arbitration, parts): the turn's record."""

    @property
    def silent(self) -> bool:
        return not self.replies and self.handoff is None


DEFAULT_ORDER_ID = re.compile(r"(?<![0-9A-Za-z])(?:\d{12,20}|[A-Z]{2}\d{10,18})(?![0-9A-Za-z])")


@dataclass(frozen=True, slots=True)
class BotConfig:
    """Shop-level settings of the brain."""

    shop: str = "本店"
    order_id_pattern: re.Pattern[str] = DEFAULT_ORDER_ID
    max_unanswered: int = 1  # a shop may let the bot ask for a rephrasing first
    max_verify_attempts: int = 3  # wrong phone digits before a person takes over
    texts: BotTexts = field(default_factory=BotTexts)
