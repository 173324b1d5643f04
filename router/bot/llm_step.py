"""The model's place in a bot turn: asked only when the FAQ had no answer, and only for a turn
that reached the FAQ (complaints, anger, requests for a person and refunds were handed off
before). Its answer replaces "I cannot answer that"; a withheld answer hands off; a timeout or an
error leaves the FAQ's own reply in place, so the customer always hears something."""

from __future__ import annotations

from dataclasses import replace

from router.bot.brain_types import BotAction, BotConfig, BotContext, HandoffReason
from router.bot.compliance import CompliancePolicy
from router.bot.faq_match import FaqIndex
from router.bot.handoff import handoff
from router.bot.llm import LlmClient, LlmTurn, build_prompt
from router.bot.orders import STATE_LABELS, OrderService


async def order_facts(orders: OrderService | None, order_id: str | None, ctx: BotContext,
                      verified: tuple[str, ...]) -> str | None:  # fmt: skip
    """One order's facts for the prompt, for its verified owner only; None otherwise."""
    if orders is None or not order_id:
        return None
    try:
        order = await orders.get_order(order_id)
    except Exception:  # the contract lets services raise anything transport-related
        return None
    if order is None or not (order_id in verified or order.owned_by(ctx.customer_id, ctx.identities)):
        return None
    items = "、".join(f"{i.title}×{i.quantity}" for i in order.items)
    courier = " ".join(x for x in (order.courier, order.tracking_no) if x)
    return f"订单{order.id}，状态：{STATE_LABELS[order.state]}；商品：{items or '无'}；快递：{courier or '未发货'}"


async def with_model(client: LlmClient, action: BotAction, text: str, ctx: BotContext, config: BotConfig,
                     faq: FaqIndex | None, compliance: CompliancePolicy,
                     orders: OrderService | None) -> tuple[BotAction, LlmTurn]:  # fmt: skip
    """`action` (an FAQ miss) with the model's answer, a handoff, or unchanged."""
    st = action.state
    facts = await order_facts(orders, st.order_id or ctx.linked_order_id, ctx, st.verified)
    prompt = build_prompt(client.settings, config.shop, text, faq, facts)
    turn = await client.ask(prompt, compliance)
    trace = {**action.trace, "llm": {**turn.record(), "faq_ids": list(prompt.faq_ids)}}
    opening = action.replies[:-1]  # the greeting, if this turn has one; the last reply is the miss
    if turn.answered:
        st = replace(st, unanswered=0, handed_off=False)
        return BotAction(st, (*opening, turn.text), trace=trace), turn
    if turn.withheld:
        before = replace(st, handed_off=False, unanswered=max(st.unanswered - 1, 0))
        out = handoff(before, ctx, config, opening, HandoffReason.LLM_WITHHELD, config.texts.handoff, text)
        note = f"{HandoffReason.LLM_WITHHELD.value}（{turn.outcome}）: {text.strip()[:80]}"
        assert out.handoff is not None
        return replace(out, handoff=replace(out.handoff, note=note), trace=trace), turn
    return replace(action, trace=trace), turn
