"""Keeping credentials out of the log, at every level.

Three leaks are closed here:

- the access log: aiohttp's default line has the request target, and ours carry secrets in the
  query (`/ws/agent?token=`, `/ws/chat?session=`, WeChat's `signature`, `msg_signature` and
  `nonce`); `AccessLog` writes the path without the query;
- httpx logs every request python-telegram-bot makes at INFO, and the Bot API puts the bot token
  in the path (`/bot<TOKEN>/sendMessage`); those loggers are kept at WARNING;
- anything else (an exception that quotes a URL, a third-party debug line): `SecretFilter`
  replaces every configured secret and the shapes of the ones we issue.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

from adapters import registry
from router.config.settings import Settings

REDACTED = "[redacted]"

QUIET = ("httpx", "httpcore", "telegram", "telegram.ext", "hpack")
"""Libraries whose INFO and DEBUG lines quote request URLs, and with them the bot token."""

_SHAPES = re.compile(
    r"(?P<bot>/(?:file/)?bot)\d+:[A-Za-z0-9_-]+"                     # Bot API paths
    r"|(?P<param>(?:[?&;]|\b)(?:token|session|signature|msg_signature|nonce|echostr|access_token"
    r"|secret|appsecret)=)[^&\s\"']+"                                   # secrets in query strings
    r"|\bv1\.[A-Za-z0-9]+\.\d+\.[A-Za-z0-9_-]{20,}"                    # web chat session tokens
)


_DONE = "_kefu_redacted_by"
"""The record attribute naming the filter that already redacted it."""


def _shape(m: re.Match[str]) -> str:
    if m.group("bot"):
        return f"{m.group('bot')}{REDACTED}"
    if m.group("param"):
        return f"{m.group('param')}{REDACTED}"
    return REDACTED


class SecretFilter(logging.Filter):
    """Replaces configured secrets and issued-token shapes in each record; drops nothing."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets: set[str] = set()
        self._literal: re.Pattern[str] | None = None
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        # Short values would mask ordinary words; the config refuses agent tokens under 8.
        self.secrets |= {s for s in secrets if s and len(s) >= 8}
        if self.secrets:
            longest_first = sorted(self.secrets, key=len, reverse=True)
            self._literal = re.compile("|".join(re.escape(s) for s in longest_first))

    def redact(self, text: str) -> str:
        # Nearly every line (an access-log line per webhook) holds neither, and substring tests
        # in C say so before a regex walks the line: the two scans were a third of the cost of
        # logging a webhook's access line. Each `_SHAPES` branch needs "/bot", "=" or "v1.".
        if self._literal is not None and any(s in text for s in self.secrets):
            text = self._literal.sub(REDACTED, text)
        if "=" in text or "/bot" in text or "v1." in text:
            text = _SHAPES.sub(_shape, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        # install() puts this filter on kefu's loggers and on the root handlers, so that a handler
        # added later still gets kefu's records redacted; a record passing both is redacted once.
        if record.__dict__.get(_DONE) is self:
            return True
        record.__dict__[_DONE] = self
        message = record.getMessage()
        clean = self.redact(message)
        if clean != message:
            record.msg = clean
            record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


def configured_secrets(settings: Settings) -> list[str]:
    """Every secret the config holds (tokens, app secrets, signing and AES keys)."""
    out = [a.token for a in settings.agents]
    webchat = settings.channels.webchat
    if webchat.secret:
        out.append(webchat.secret)
    for name, account in settings.channels.all():
        channel = registry.get(name)
        if channel is not None:
            out += channel.secrets(account)
    out += [h.secret for h in settings.webhooks]
    return [s for s in out if s]


def install(settings: Settings) -> SecretFilter:
    """Redact on every root handler and every `kefu.*` logger; quiet the URL-quoting libraries.
    Installing again adds the new settings' secrets to the one filter."""
    found = [f for h in logging.getLogger().handlers for f in h.filters if isinstance(f, SecretFilter)]
    guard = found[0] if found else SecretFilter()
    guard.add(configured_secrets(settings))
    for handler in logging.getLogger().handlers:
        if guard not in handler.filters:
            handler.addFilter(guard)
    names = [n for n in logging.root.manager.loggerDict if n == "kefu" or n.startswith("kefu.")]
    for logger in [logging.getLogger(n) for n in names] + [logging.getLogger("kefu"),
                                                           logging.getLogger("aiohttp.access")]:
        if guard not in logger.filters:
            logger.addFilter(guard)
    for name in QUIET:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:  # one an operator set on purpose stays
            logger.setLevel(logging.WARNING)
    return guard


class AccessLog(AbstractAccessLogger):
    """`peer "METHOD /path HTTP/x.y" status bytes seconds`: the path without its query."""

    @property
    def enabled(self) -> bool:
        # As aiohttp's own access logger: below INFO no line is made at all (aiohttp asks once
        # per connection), rather than one made per answer for `info` to drop.
        return self.logger.isEnabledFor(logging.INFO)

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        v = request.version
        self.logger.info('%s "%s %s HTTP/%d.%d" %d %d %.3fs', request.remote or "-", request.method,
                         request.path, v.major, v.minor, response.status, response.body_length, time)
