"""The bot's default wording; shops override any field through BotTexts(...)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BotTexts:
    """Every sentence the bot says. Placeholders are filled with str.format."""

    greeting: str = "您好，欢迎光临{shop}！我是智能客服，请问有什么可以帮您？"
    off_hours: str = (
        "您好，现在是非工作时间，人工客服将于{back}上线。您的留言已记录，客服上线后会按顺序尽快回复您，感谢您的耐心。"
    )
    queued: str = "您的问题需要人工客服处理，已为您登记，客服上线后会优先联系您。"
    handoff: str = "好的，正在为您转接人工客服，请稍候。"
    handoff_sorry: str = "非常抱歉给您带来不好的体验，正在为您转接专人处理，请稍候。"
    handoff_aftersale: str = "已为您转接售后客服处理，请稍候。"
    ask_order_id: str = "请您提供一下订单号，我帮您查询。订单号可以在“我的订单”-订单详情中找到。"
    no_order_id: str = "没有获取到订单号，正在为您转接人工客服帮您查询，请稍候。"
    verify_ask: str = "为保护您的订单信息，请回复订单{order_id}下单手机号的后4位，核对后为您处理。"
    verify_wrong: str = "手机号后4位核对未通过，请再确认一下（还可尝试{left}次）。"
    verify_failed: str = "暂时无法核对订单信息，正在为您转接人工客服，请稍候。"
    lookup_failed: str = "订单系统暂时无法查询，正在为您转接人工客服，请稍候。"
    order_status: str = "您的订单{order_id}当前状态：{state}。"
    order_tracking: str = "最新物流（{courier}）：{when} {where}{status}。"
    order_no_tracking: str = "订单正在备货中，现货商品付款后48小时内发出，发货后可在订单详情查看物流。"
    cancel_unpaid: str = (
        "订单{order_id}还没有付款，您可以在“我的订单”中点击“取消订单”自行关闭；超时未付款的订单也会自动关闭，不会扣款。"
    )
    cancel_not_shipped: str = "订单{order_id}还没有发货，已为您转接售后客服办理取消，请稍候。"
    cancel_shipped: str = (
        "订单{order_id}已经发货，无法直接取消。您可以在快递派送时拒收，"
        "或签收后在订单页申请退货退款。已为您转接售后客服协助处理，请稍候。"
    )
    cancel_delivered: str = "订单{order_id}已经签收，如不需要可以在订单页申请退货退款，已为您转接售后客服协助处理。"
    cancel_closed: str = "订单{order_id}已经关闭，无需再取消。"
    cancel_refunding: str = "订单{order_id}的售后正在处理中，售后客服会尽快联系您。"
    unanswered: str = "抱歉，这个问题我暂时回答不了，您可以换个说法，或回复“人工”转接客服。"
    product_handoff: str = "这款商品的颜色、尺码和库存需要人工客服为您确认，已为您转接，请稍候。"
    go_on: str = "好的，请问还有什么可以帮您？"
    describe_instead: str = "请用文字描述一下具体情况，或回复“人工”由客服为您处理。"
    unanswered_handoff: str = "抱歉没能解答您的问题，正在为您转接人工客服，请稍候。"
