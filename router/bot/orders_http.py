"""An OrderService that calls the shop's own HTTP API (contract in docs/bot.md)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import aiohttp

from router.bot.orders import Order, OrderService, TrackingEvent, parse_event, parse_order


def _fail(path: tuple[str | int, ...], msg: str) -> Exception:
    where = ".".join(str(p) for p in path)
    return ValueError(f"order API payload: {where}: {msg}" if where else f"order API payload: {msg}")


class HttpOrderService(OrderService):
    """GET {base}/orders/{id}, {base}/orders/{id}/tracking, {base}/customers/{id}/orders.

    Sends `Authorization: Bearer <token>`. A 404 on an order means "no such order" (None or
    an empty list); any other non-2xx raises aiohttp.ClientResponseError; a payload that
    does not follow the contract raises ValueError naming the field.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 5.0,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session = session
        self._own_session = session is None

    async def get_order(self, order_id: str) -> Order | None:
        data = await self._get(f"/orders/{quote(order_id, safe='')}")
        return None if data is None else parse_order(data, _fail)

    async def list_orders(self, customer_id: str) -> list[Order]:
        data = await self._get(f"/customers/{quote(customer_id, safe='')}/orders")
        raw = _list(data, "orders")
        orders = [parse_order(o, _fail) for o in raw]
        return sorted(orders, key=lambda o: o.created_at, reverse=True)

    async def tracking(self, order_id: str) -> list[TrackingEvent]:
        data = await self._get(f"/orders/{quote(order_id, safe='')}/tracking")
        events = [parse_event(e, _fail) for e in _list(data, "events")]
        return sorted(events, key=lambda e: e.at)

    async def aclose(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def _get(self, path: str) -> Any:
        """The JSON body, or None on 404."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        async with self._session.get(self._base + path, headers=self._headers, timeout=self._timeout) as resp:
            if resp.status == 404:
                return None
            resp.raise_for_status()
            return await resp.json(content_type=None)


def _list(data: Any, key: str) -> list[Any]:
    if data is None:
        return []
    if not isinstance(data, dict) or not isinstance(data.get(key), list):
        raise _fail((key,), f"expected an object with a {key!r} list")
    items: list[Any] = data[key]
    return items
