"""How the bot gives a conversation to people: the Handoff it returns, and the off-hours notice
when nobody is in to take it."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from router.bot.brain_types import BotAction, BotConfig, BotContext, BotState, Handoff, HandoffReason, Pending

_AFTERSALE = frozenset({
    HandoffReason.REFUND, HandoffReason.RETURN_EXCHANGE, HandoffReason.CANCEL_NOT_SHIPPED,
    HandoffReason.CANCEL_SHIPPED, HandoffReason.PAYMENT_ISSUE, HandoffReason.GRIEVANCE,
})  # fmt: skip


def handoff(
    st: BotState, ctx: BotContext, config: BotConfig, opening: tuple[str, ...],
    reason: HandoffReason, message: str, text: str, kind: Pending | None = None,
) -> BotAction:  # fmt: skip
    intent = (
        {
            HandoffReason.REFUND: "refund",
            HandoffReason.RETURN_EXCHANGE: "return_exchange",
            HandoffReason.PAYMENT_ISSUE: "payment_issue",
            HandoffReason.GRIEVANCE: "grievance",
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
        return off_hours(st, ctx, config, (), handoff)
    return BotAction(st, (*opening, message), handoff)


def off_hours(
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
