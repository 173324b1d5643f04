"""Builds the bot stage from the config: its files, order service and business hours."""

from __future__ import annotations

from typing import TYPE_CHECKING

from router.bot.config import resolve
from router.bot.hours import BusinessHours
from router.bot.library import Library
from router.bot.llm import LlmClient
from router.bot.orders import FileOrderService, OrderService, load_order_service
from router.bot.products import FileProductService, ProductService, load_product_service
from router.bot.stage import BotStage

if TYPE_CHECKING:
    from router.config.settings import Settings
    from router.pipeline.outbox import Outbox
    from router.pipeline.transcript import Transcript
    from router.pipeline.worker import DecisionSource
    from router.store import Store


def build_bot(settings: Settings, store: Store, transcript: Transcript, outbox: Outbox,
              rules: DecisionSource) -> BotStage:  # fmt: skip
    """The stage, not started; a broken orders file raises ConfigError naming FILE:LINE:COL."""
    s = settings.bot
    orders: OrderService | None = None
    if s.order_service:
        orders = load_order_service(s.order_service, **s.order_service_args)
    elif (path := resolve(settings.base_dir, s.orders)) is not None:
        orders = FileOrderService(path)
    products: ProductService | None = None
    if s.product_service:
        products = load_product_service(s.product_service, **s.product_service_args)
    elif (path := resolve(settings.base_dir, s.products)) is not None:
        products = FileProductService(path)
    hours = BusinessHours.from_settings(s.hours) if s.hours is not None else None
    library = Library(s, settings.base_dir)
    return BotStage(store, transcript, outbox, rules, s, library, orders, hours, settings.shop.name,
                    settings.pool_ids(), products=products, llm=LlmClient(s.llm) if s.llm else None)
