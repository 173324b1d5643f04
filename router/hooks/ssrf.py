"""SSRF: a URL the router is asked to POST to (a webhook, an API channel's reply URL) or fetch from
(an API channel's media) must not reach the router's own network, unless an admin said so.

Refused by default: loopback, link-local (169.254/16 holds the cloud metadata service), private
(10/8, 172.16/12, 192.168/16, fc00::/7), shared, multicast, reserved and unspecified addresses.
Checked when a URL is saved (by name and by what it resolves to now) and again on every request,
by the resolver the sessions use (`GuardedResolver`), so a name that later resolves to 127.0.0.1
(DNS rebinding) is refused at the moment it matters.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedAddress(OSError):
    """The host resolves to an address the policy refuses (an OSError, so aiohttp reports it as a
    connection error with this text)."""


def refused_reason(ip: IPAddress) -> str | None:
    """Why the address is internal, or None when it is public."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for test, what in ((ip.is_loopback, "loopback"), (ip.is_link_local, "link-local"),
                       (ip.is_unspecified, "unspecified"), (ip.is_multicast, "multicast"),
                       (ip.is_private, "private"), (ip.is_reserved, "reserved"),
                       (not ip.is_global, "not public")):
        if test:
            return what
    return None


def check_url(url: str, allow_private: bool) -> str | None:
    """What is wrong with `url` without resolving it (scheme, host, an internal IP literal or
    `localhost`), or None."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return f"{url!r} is not a URL"
    del port
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{url!r}: expected an http:// or https:// URL with a host"
    if parts.username or parts.password:
        return f"{url!r}: credentials in the URL are refused; the body is signed instead"
    if allow_private:
        return None
    host = parts.hostname.rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return f"{url!r} points at this machine (loopback); refused unless webhook_delivery.allow_private_networks"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return None
    why = refused_reason(ip)
    if why:
        return (f"{url!r} points at a {why} address; refused unless "
                "webhook_delivery.allow_private_networks is true")
    return None


async def check_resolved(url: str, allow_private: bool) -> str | None:
    """`check_url`, then every address the host resolves to now."""
    problem = check_url(url, allow_private)
    if problem or allow_private:
        return problem
    host = urlsplit(url).hostname or ""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError as exc:
        return f"{url!r}: the host does not resolve ({exc.strerror or exc})"
    for info in infos:
        why = refused_reason(ipaddress.ip_address(info[4][0]))
        if why:
            return (f"{url!r} resolves to a {why} address ({info[4][0]}); refused unless "
                    "webhook_delivery.allow_private_networks is true")
    return None


class GuardedResolver(AbstractResolver):
    """aiohttp's resolver, refusing internal addresses unless allowed; the connector only ever
    connects to what this returns."""

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private
        self._inner = DefaultResolver()

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
                      ) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        if self.allow_private:
            return found
        for r in found:
            why = refused_reason(ipaddress.ip_address(r["host"]))
            if why:
                raise RefusedAddress(f"{host} resolves to a {why} address ({r['host']}); refused "
                                     "(webhook_delivery.allow_private_networks)")
        return found

    async def close(self) -> None:
        await self._inner.close()


def connector_args(allow_private: bool) -> dict[str, Any]:
    """Keyword arguments for an aiohttp.TCPConnector that keeps to the policy."""
    return {"resolver": GuardedResolver(allow_private)}
