"""Orders: the YAML demo service, the HTTP service against a loopback API, dotted loading."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from kefu_common.errors import ConfigError, ConfigErrors
from router.bot.orders import (
    FileOrderService,
    OrderService,
    OrderState,
    load_order_service,
)
from router.bot.orders_http import HttpOrderService

ROOT = Path(__file__).resolve().parents[3]
DEMO = ROOT / "config" / "orders-demo.yaml"
TOKEN = "s3cret"


async def test_file_service_over_the_demo_file() -> None:
    async with FileOrderService(DEMO) as svc:
        mine = await svc.list_orders("demo")
        assert len(mine) == 4
        assert [o.created_at for o in mine] == sorted((o.created_at for o in mine), reverse=True)
        o = await svc.get_order("2024111100012302")
        assert o is not None and o.state is OrderState.PAID and o.customer_id == "demo"
        assert o.total == Decimal("307.00") and len(o.items) == 2
        trk = await svc.tracking("2024111100012301")
        assert [e.status for e in trk][-1] == "已到达北京转运中心"
        assert await svc.get_order("nope") is None and await svc.tracking("nope") == []
        assert await svc.list_orders("nobody") == []
    states = {o.state for c in ("demo", "demo-vip", "demo-new") for o in await svc.list_orders(c)}
    assert states == set(OrderState)


async def test_owner_fields_of_the_demo_file() -> None:
    async with FileOrderService(DEMO) as svc:
        o = await svc.get_order("2024111100012301")
    assert o is not None and o.phone_tail() == "1234" and o.identities == ("webchat:web:demo",)
    assert o.owned_by("demo", frozenset()) and o.owned_by("cu_x", frozenset({"webchat:web:demo"}))
    assert not o.owned_by("cu_x", frozenset({"webchat:web:v1"})) and not o.owned_by(None, frozenset())


def test_bad_owner_fields_are_load_errors(tmp_path: Path) -> None:
    p = tmp_path / "o.yaml"
    head = "  - {id: '%d', customer_id: c, state: paid, created_at: 2024-11-11T00:00:00+08:00, "
    p.write_text("orders:\n" + (head % 1) + "buyer_phone: '12'}\n" + (head % 2) + "identities: [wechat-o6]}\n",
                 encoding="utf-8")
    with pytest.raises(ConfigErrors) as ei:
        FileOrderService(p)
    msgs = [str(e) for e in ei.value.errors]
    assert any("buyer_phone needs at least 4 digits" in m for m in msgs), msgs
    assert any("an identity is 'channel:account:user'" in m for m in msgs), msgs


def test_bad_orders_file_reports_positions(tmp_path: Path) -> None:
    p = tmp_path / "o.yaml"
    p.write_text(
        "orders:\n"
        "  - {id: '1', customer_id: c, state: sent, created_at: 2024-11-11T00:00:00+08:00}\n"
        "  - id: '2'\n"
        "    customer_id: c\n"
        "    state: paid\n"
        "    created_at: 2024-11-11T00:00:00\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigErrors) as ei:
        FileOrderService(p)
    msgs = [str(e) for e in ei.value.errors]
    assert any(m.startswith(f"{p}:2:38: state must be one of unpaid") for m in msgs), msgs
    assert any(m.startswith(f"{p}:6:17: created_at needs a UTC offset") for m in msgs), msgs


ORDER = {
    "id": "A1001",
    "customer_id": "wx:o6_bmjrPTlm6",
    "state": "shipped",
    "created_at": "2024-11-11T00:01:00+08:00",
    "items": [{"title": "羊毛大衣", "quantity": 1, "price": "599.00"}],
    "total": "599.00",
    "courier": "顺丰速运",
    "tracking_no": "SF100",
}
EVENTS = [
    {"at": "2024-11-12T10:00:00+08:00", "status": "已揽收", "location": "杭州"},
    {"at": "2024-11-11T20:00:00+08:00", "status": "已下单"},
]


def _shop_api() -> web.Application:
    async def auth(request: web.Request) -> None:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            raise web.HTTPUnauthorized()

    async def order(request: web.Request) -> web.Response:
        await auth(request)
        oid = request.match_info["oid"]
        if oid == "broken":
            return web.json_response({"id": "broken"})
        if oid != "A1001":
            raise web.HTTPNotFound()
        return web.json_response(ORDER)

    async def tracking(request: web.Request) -> web.Response:
        await auth(request)
        return web.json_response({"events": EVENTS})

    async def orders(request: web.Request) -> web.Response:
        await auth(request)
        found: list[dict[str, Any]] = [ORDER] if request.match_info["cid"] == ORDER["customer_id"] else []
        return web.json_response({"orders": found})

    app = web.Application()
    app.router.add_get("/api/orders/{oid}", order)
    app.router.add_get("/api/orders/{oid}/tracking", tracking)
    app.router.add_get("/api/customers/{cid}/orders", orders)
    return app


@pytest.fixture
async def shop_url() -> AsyncIterator[str]:
    runner = web.AppRunner(_shop_api())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/api/"
    finally:
        await runner.cleanup()


async def test_http_service_follows_the_contract(shop_url: str) -> None:
    async with HttpOrderService(shop_url, TOKEN) as svc:
        o = await svc.get_order("A1001")
        assert o is not None and o.state is OrderState.SHIPPED and o.total == Decimal("599.00")
        assert o.items[0].title == "羊毛大衣" and o.tracking_no == "SF100"
        assert await svc.get_order("A9999") is None
        trk = await svc.tracking("A1001")
        assert [e.status for e in trk] == ["已下单", "已揽收"] and trk[0].location is None
        assert [x.id for x in await svc.list_orders("wx:o6_bmjrPTlm6")] == ["A1001"]
        assert await svc.list_orders("someone-else") == []
        with pytest.raises(ValueError, match="payload: state"):
            await svc.get_order("broken")


async def test_http_service_bad_token_raises(shop_url: str) -> None:
    async with HttpOrderService(shop_url, "wrong") as svc:
        with pytest.raises(aiohttp.ClientResponseError) as ei:
            await svc.get_order("A1001")
        assert ei.value.status == 401


async def test_http_service_uses_a_given_session(shop_url: str) -> None:
    async with aiohttp.ClientSession() as session:
        svc = HttpOrderService(shop_url, TOKEN, session=session)
        assert await svc.get_order("A1001") is not None
        await svc.aclose()
        assert not session.closed  # not ours to close


def test_load_order_service_by_dotted_path() -> None:
    svc = load_order_service("router.bot.orders:FileOrderService", DEMO)
    assert isinstance(svc, FileOrderService)
    assert isinstance(load_order_service("router.bot.orders.FileOrderService", DEMO), OrderService)
    with pytest.raises(ConfigError, match="cannot be imported"):
        load_order_service("router.bot.nope:X")
    with pytest.raises(ConfigError, match="not a subclass of OrderService"):
        load_order_service("router.bot.orders:Order")
    with pytest.raises(ConfigError, match=r"expected 'package\.module:ClassName'"):
        load_order_service("nodots")
