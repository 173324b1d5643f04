"""What the browser used, seen through a TLS proxy: only proxies named in `web.trusted_proxies`
are believed about the scheme, since anyone can send an X-Forwarded-Proto header."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from aiohttp import web

from router.config.settings import WebSettings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class Proxies:
    def __init__(self, settings: WebSettings) -> None:
        self.settings = settings
        self.trusted: tuple[Network, ...] = tuple(_networks(settings.trusted_proxies))

    def is_trusted(self, remote: str | None) -> bool:
        if not remote or not self.trusted:
            return False
        try:
            addr = ipaddress.ip_address(remote)
        except ValueError:  # a Unix socket peer has no address
            return False
        return any(addr in net for net in self.trusted)

    def is_https(self, request: web.Request) -> bool:
        """The request's own scheme, or the one the trusted proxy in front says the browser used
        (the last value: the one that proxy wrote)."""
        if request.secure:
            return True
        given = request.headers.get("X-Forwarded-Proto")
        if given and self.is_trusted(request.remote):
            return given.split(",")[-1].strip().lower() == "https"
        return False

    def client_address(self, request: web.Request) -> str:
        """Who is asking, for per-address rate limits: behind a trusted proxy, the address that
        proxy appended to X-Forwarded-For (earlier entries are the client's own claims)."""
        given = request.headers.get("X-Forwarded-For")
        if given and self.is_trusted(request.remote):
            return given.split(",")[-1].strip()
        return request.remote or "-"

    def cookie_secure(self, request: web.Request) -> bool:
        forced = self.settings.cookie_secure
        return self.is_https(request) if forced is None else forced


def _networks(items: Iterable[str]) -> Iterable[Network]:
    for item in items:
        yield ipaddress.ip_network(item, strict=False)


PROXIES: web.AppKey[Proxies] = web.AppKey("proxies")


def client(request: web.Request) -> str:
    """Where a request came from, as the audit log records it: the peer, or behind a trusted proxy
    the address it forwarded (anyone else's X-Forwarded-For is the client's own claim)."""
    return request.app[PROXIES].client_address(request)
