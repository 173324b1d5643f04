"""Cross-site request forgery: a cookie rides along on requests other pages make.

SameSite=Strict keeps the cookie off requests from other *sites*, but a site is the registrable
domain: a page on another port of the same host, or on another subdomain, is same-site and its
requests carry the cookie. So a state change made with the session cookie must also show it
comes from our own pages: an `Origin` (or, without one, a `Referer`) naming this host and port,
or the session's CSRF token in `X-Kefu-CSRF` for clients that send neither. Bearer-token calls
need none of this: no browser adds an Authorization header on its own.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from aiohttp import web

from kefu_common.errors import AuthError

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
HEADER = "X-Kefu-CSRF"


def origin_host(value: str) -> str | None:
    """'host[:port]' of an Origin or Referer; None for 'null' and anything unparsable."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return parts.netloc.lower()


def same_origin(request: web.Request) -> bool | None:
    """True or False when the request says where it comes from, None when it says nothing.

    Host and port are compared, not the scheme: behind a TLS proxy the browser's `https://`
    reaches us as plain HTTP, and nobody else can serve pages on our own host and port.
    """
    for header in ("Origin", "Referer"):
        value = request.headers.get(header)
        if value:
            return origin_host(value) == request.host.lower()
    return None


def check(request: web.Request, token: str) -> None:
    """Refuse (403) a cookie-authenticated state change that our own pages did not make."""
    if request.method in SAFE_METHODS:
        return
    given = request.headers.get(HEADER)
    if given is not None:
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise AuthError(f"bad {HEADER} token", status=403)
        return
    seen = same_origin(request)
    if seen is None:
        raise AuthError(f"a state change with the session cookie needs Origin, Referer or {HEADER}",
                        status=403)
    if not seen:
        raise AuthError("cross-origin request with the session cookie", status=403)
