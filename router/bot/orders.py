"""Orders as the bot sees them: a service contract, value types, and a YAML-backed demo.

Every shop's order system differs, so the bot talks to an `OrderService`:

* `FileOrderService` reads `config/orders-demo.yaml` (demo and tests);
* `router.bot.orders_http.HttpOrderService` calls the shop's own HTTP endpoints;
* any class of yours, named by dotted path ("mypkg.orders:ErpOrders") in the config and
  loaded with `load_order_service`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from kefu_common.errors import ConfigError, ConfigErrors
from kefu_common.yamlpos import load_yaml_file
from router.bot.plugins import import_subclass


class OrderState(StrEnum):
    """Where an order is in its life; the bot's cancellation answer depends on it."""

    UNPAID = "unpaid"  # placed, not paid: the customer can close it themselves
    PAID = "paid"  # paid, not shipped yet
    SHIPPED = "shipped"  # handed to the courier
    DELIVERED = "delivered"  # signed for
    REFUNDING = "refunding"  # an after-sale request is open
    CLOSED = "closed"  # cancelled, refunded or finished


STATE_LABELS: Mapping[OrderState, str] = {
    OrderState.UNPAID: "待付款",
    OrderState.PAID: "待发货",
    OrderState.SHIPPED: "已发货",
    OrderState.DELIVERED: "已签收",
    OrderState.REFUNDING: "售后处理中",
    OrderState.CLOSED: "已关闭",
}


@dataclass(frozen=True, slots=True)
class OrderItem:
    title: str
    quantity: int
    price: Decimal


@dataclass(frozen=True, slots=True)
class TrackingEvent:
    """One courier scan; `location` is None when the courier gives none."""

    at: datetime
    status: str
    location: str | None = None


@dataclass(frozen=True, slots=True)
class Order:
    """One order. Who owns it: `customer_id` (the router's customer id) and `identities` (channel
    identities 'channel:account:user', e.g. 'wechat:gh_shop:o6_bm...'); `buyer_phone` is how a
    customer who is not recognised as the owner proves they are (its last four digits)."""

    id: str
    customer_id: str
    state: OrderState
    created_at: datetime
    items: tuple[OrderItem, ...] = ()
    total: Decimal = Decimal(0)
    courier: str | None = None
    tracking_no: str | None = None
    buyer_phone: str | None = None
    identities: tuple[str, ...] = ()

    def owned_by(self, customer_id: str | None, identities: frozenset[str]) -> bool:
        """Whether the customer asking is this order's buyer, by id or by a linked channel identity."""
        return (bool(customer_id) and customer_id == self.customer_id) or not identities.isdisjoint(self.identities)

    def phone_tail(self) -> str | None:
        """The last four digits of the buyer's phone, or None when there is none to check against."""
        digits = "".join(c for c in self.buyer_phone or "" if c.isdigit())
        return digits[-4:] if len(digits) >= 4 else None


class OrderService(ABC):
    """What the bot needs from a shop's order system.

    Contract: `get_order` returns None for an unknown id (never raises for that);
    `list_orders` returns a customer's orders newest first (empty when none);
    `tracking` returns courier events oldest first (empty before shipping).
    Transport failures raise (aiohttp.ClientError, OSError, ValueError for a bad payload);
    the caller treats any of them as "could not look it up" and hands the customer to a human.
    Use it as an async context manager so that clients are closed.
    """

    @abstractmethod
    async def get_order(self, order_id: str) -> Order | None: ...

    @abstractmethod
    async def list_orders(self, customer_id: str) -> list[Order]: ...

    @abstractmethod
    async def tracking(self, order_id: str) -> list[TrackingEvent]: ...

    async def aclose(self) -> None:
        """Release connections; nothing to do by default."""
        return None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


Fail = Callable[[tuple[str | int, ...], str], Exception]


def parse_order(d: Any, fail: Fail) -> Order:
    """An Order from the JSON/YAML shape documented in docs/bot.md; `fail` builds the error."""
    if not isinstance(d, dict):
        raise fail((), "an order is a mapping")
    items = []
    raw_items = d.get("items", [])
    if not isinstance(raw_items, list):
        raise fail(("items",), "items must be a list")
    for i, it in enumerate(raw_items):
        if not isinstance(it, dict):
            raise fail(("items", i), "an item is a mapping with title, quantity, price")
        qty = it.get("quantity", 1)
        if not isinstance(qty, int) or isinstance(qty, bool) or qty < 1:
            raise fail(("items", i, "quantity"), "quantity must be a positive integer")
        items.append(OrderItem(_text(it, "title", fail, ("items", i)), qty, _money(it, "price", fail, ("items", i))))
    state = _text(d, "state", fail)
    try:
        st = OrderState(state)
    except ValueError:
        raise fail(("state",), f"state must be one of {', '.join(OrderState)}, not {state!r}") from None
    return Order(
        id=_text(d, "id", fail),
        customer_id=_text(d, "customer_id", fail),
        state=st,
        created_at=_when(d, "created_at", fail),
        items=tuple(items),
        total=_money(d, "total", fail) if "total" in d else sum((i.price * i.quantity for i in items), Decimal(0)),
        courier=_opt_text(d, "courier", fail),
        tracking_no=_opt_text(d, "tracking_no", fail),
        buyer_phone=_phone(d, fail),
        identities=_identities(d, fail),
    )


def parse_event(d: Any, fail: Fail) -> TrackingEvent:
    if not isinstance(d, dict):
        raise fail((), "a tracking event is a mapping with at, status, location")
    return TrackingEvent(_when(d, "at", fail), _text(d, "status", fail), _opt_text(d, "location", fail))


def _text(d: Mapping[str, Any], key: str, fail: Fail, base: tuple[str | int, ...] = ()) -> str:
    v = d.get(key)
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)  # YAML reads an unquoted order number as an int
    if not isinstance(v, str) or not v.strip():
        raise fail((*base, key), f"{key} must be a non-empty string")
    return v.strip()


def _opt_text(d: Mapping[str, Any], key: str, fail: Fail) -> str | None:
    return None if d.get(key) in (None, "") else _text(d, key, fail)


def _phone(d: Mapping[str, Any], fail: Fail) -> str | None:
    phone = _opt_text(d, "buyer_phone", fail)
    if phone is not None and sum(c.isdigit() for c in phone) < 4:
        raise fail(("buyer_phone",), "buyer_phone needs at least 4 digits (customers verify with the last 4)")
    return phone


def _identities(d: Mapping[str, Any], fail: Fail) -> tuple[str, ...]:
    raw = d.get("identities") or []
    if not isinstance(raw, list):
        raise fail(("identities",), "identities must be a list of 'channel:account:user'")
    for i, v in enumerate(raw):
        # The router keys customers by exactly this shape (router/store/keys/customers.py, Keys.identity).
        if not isinstance(v, str) or v.count(":") < 2 or not all(v.split(":", 2)):
            raise fail(("identities", i), f"an identity is 'channel:account:user', not {v!r}")
    return tuple(raw)


def _money(d: Mapping[str, Any], key: str, fail: Fail, base: tuple[str | int, ...] = ()) -> Decimal:
    v = d.get(key)
    try:
        if isinstance(v, bool) or not isinstance(v, int | float | str):
            raise InvalidOperation
        # str() first: Decimal(0.1) would carry the binary float's error into money.
        return Decimal(str(v))
    except InvalidOperation:
        raise fail((*base, key), f"{key} must be an amount such as 99.00") from None


def _when(d: Mapping[str, Any], key: str, fail: Fail) -> datetime:
    v = d.get(key)
    if isinstance(v, datetime):
        when = v
    elif isinstance(v, str):
        try:
            when = datetime.fromisoformat(v)
        except ValueError:
            raise fail((key,), f"{key} must be an ISO 8601 time, not {v!r}") from None
    else:
        raise fail((key,), f"{key} must be an ISO 8601 time with a UTC offset")
    if when.tzinfo is None:
        raise fail((key,), f"{key} needs a UTC offset (+08:00), or times compare wrongly")
    return when


def _under(fail: Fail, base: tuple[str | int, ...]) -> Fail:
    """`fail` for a value nested at `base`."""
    return lambda path, msg: fail((*base, *path), msg)


class FileOrderService(OrderService):
    """Orders and tracking read once from a YAML file (see config/orders-demo.yaml)."""

    def __init__(self, path: str | Path) -> None:
        doc = load_yaml_file(path)
        errors: list[ConfigError] = []
        raw = doc.data.get("orders") if isinstance(doc.data, dict) else None
        if not isinstance(raw, list):
            raise doc.error((), "an orders file is a mapping with an 'orders' list")
        orders: dict[str, Order] = {}
        events: dict[str, list[TrackingEvent]] = {}
        for i, d in enumerate(raw):

            def fail(p: tuple[str | int, ...], msg: str, i: int = i) -> Exception:
                return doc.error(("orders", i, *p), msg)

            try:
                order = parse_order(d, fail)
                if order.id in orders:
                    raise fail(("id",), f"duplicate order id {order.id!r}")
                trk = d.get("tracking") or []
                if not isinstance(trk, list):
                    raise fail(("tracking",), "tracking must be a list of events")
                evs = [parse_event(e, _under(fail, ("tracking", j))) for j, e in enumerate(trk)]
            except ConfigError as exc:
                errors.append(exc)
                continue
            orders[order.id] = order
            events[order.id] = sorted(evs, key=lambda e: e.at)
        if errors:
            raise ConfigErrors(errors)
        self._orders = orders
        self._events = events

    async def get_order(self, order_id: str) -> Order | None:
        return self._orders.get(order_id.strip())

    async def list_orders(self, customer_id: str) -> list[Order]:
        mine = [o for o in self._orders.values() if o.customer_id == customer_id]
        return sorted(mine, key=lambda o: o.created_at, reverse=True)

    async def tracking(self, order_id: str) -> list[TrackingEvent]:
        return list(self._events.get(order_id.strip(), ()))


def load_order_service(spec: str, *args: Any, **kwargs: Any) -> OrderService:
    """Instantiate an OrderService subclass named "pkg.module:Class" (or "pkg.module.Class")."""
    service: OrderService = order_service_class(spec)(*args, **kwargs)
    return service


def order_service_class(spec: str) -> type[OrderService]:
    """The OrderService subclass `spec` names, imported but not built (`kefu check` stops here)."""
    cls: type[OrderService] = import_subclass(spec, OrderService, "order service")
    return cls
