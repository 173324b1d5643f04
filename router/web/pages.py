"""The static pages and the Content-Security-Policy they are served with (a leaf of router/web:
the app and the widget both serve pages)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib import resources

from aiohttp import web

# img-src allows https: images for customers' avatars (WeChat headimgurl) and the product
# card's picture from the shop's own CDN; scripts, styles and connections stay 'self' only.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob: https:; media-src 'self'; "
       "connect-src 'self'; frame-ancestors 'self'; base-uri 'none'; form-action 'self'")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def static_dir() -> str:
    return str(resources.files("router").joinpath("web/static"))


def page(name: str) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.FileResponse(f"{static_dir()}/{name}", headers={"Cache-Control": "no-cache"})

    return handler
