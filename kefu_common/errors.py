"""The one exception tree of kefu-router.

    KefuError
    ├── ConfigError (ValueError)         a config, rules or data file is wrong; carries FILE:LINE:COL
    │   └── ConfigErrors                 several of them at once, each still a ConfigError
    ├── StoreError                       Redis cannot be reached or answered unexpectedly
    │   ├── EmbeddedRedisError           the embedded redis-server would not start
    │   └── StoreUnavailable             Redis is down, stalled or busy: try again after `retry_after`
    ├── StartupError                     `kefu serve` cannot start: a busy port, an unwritable data dir
    ├── ArchiveError                     the archive database cannot be reached or refused a write
    ├── ProtocolError (ValueError)       a client sent a frame or request we refuse; carries a code
    │   ├── AuthError                    a token or signature is wrong
    │   │   └── SignInLocked             too many failed sign-ins: 429, try again after `retry_after`
    │   └── MediaRefused                 a file the media store will not take (stores nothing)
    │       ├── MediaTooLarge            over the size limit of its kind: 413
    │       ├── MediaTypeRefused         the bytes are not a type the channel allows: 415
    │       └── MediaInvalid             empty, truncated, undecodable or a decompression bomb: 422
    └── ChannelError                     a channel API refused or failed a send
        ├── RetryableChannelError        try again, after `retry_after` seconds when the API said so
        └── PermanentChannelError        trying again cannot help; `reason` is for a person to read

Callers catch the stdlib base where one is given, as aiohttp does, so a `ValueError` handler
still sees bad input.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class KefuError(Exception):
    """Base of every error kefu-router raises on purpose."""


class ConfigError(KefuError, ValueError):
    """A file we load is wrong at a known place."""

    def __init__(self, message: str, file: str = "<config>", line: int = 1, col: int = 1, *,
                 code: str = "", params: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.col = col
        # A stable name for the kind of problem and the values in `message`, so that a console
        # can word it in its own language; "" for problems that have no code yet.
        self.code = code
        self.params: dict[str, Any] = dict(params or {})

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.message}"


class ValueProblem(KefuError, ValueError):
    """A value read from a file is wrong, before its place is known: str() is the English words;
    `code` and `params` name the kind and the values, for a console to word in its language."""

    def __init__(self, message: str, *, code: str, **params: Any) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


class ConfigErrors(ConfigError):
    """Every problem found in one pass, so that a user fixes them all at once."""

    def __init__(self, errors: Sequence[ConfigError]) -> None:
        first = errors[0]
        super().__init__(first.message, first.file, first.line, first.col)
        self.errors = list(errors)

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)


class StoreError(KefuError):
    """Redis is unreachable or gave an answer we cannot use."""


class EmbeddedRedisError(StoreError):
    """The embedded redis-server did not start."""


class StartupError(KefuError):
    """The process cannot start as asked; the message is the one line the operator reads."""


class StoreUnavailable(StoreError):
    """Redis did not answer in time, or refused the connection; the same request may work later.

    Clients see 503 with `Retry-After`, or an error frame with `retry_after`: nothing was changed
    that a retry would duplicate, because every write behind it is idempotent.
    """

    def __init__(self, detail: str, retry_after: float = 1.0) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after = retry_after


class ArchiveError(KefuError):
    """The archive database (SQLite or PostgreSQL) is unreachable or refused a write."""


class ProtocolError(KefuError, ValueError):
    """A client's frame or request is refused; `code` is stable, `detail` is for people.

    `params` are the values in `detail` a person needs (a limit, a field's name): the JSON answer
    and the error frame carry them beside `error`/`code`, so a console words the refusal in its
    own language with them instead of showing the English `detail`.
    """

    def __init__(self, code: str, detail: str, status: int = 400,
                 params: Mapping[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.status = status
        self.params: dict[str, Any] = dict(params or {})

    @classmethod
    def refusal(cls, reason: object, doing: str, statuses: Mapping[str, int] | None = None,
                default: int = 409) -> ProtocolError:
        """A Lua script's `{'err', reason}` as the client sees it.

        The reason is the code (a sentence's spaces become underscores) and, in words, the end of
        `detail`: "cannot DOING: REASON". An `unknown_*` reason is 404, since the thing named is
        not there; any other is `statuses[code]`, else `default`.
        """
        said = str(reason)
        code = said.replace(" ", "_")
        words = said if " " in said else said.replace("_", " ")
        status = (statuses or {}).get(code) or (404 if code.startswith("unknown_") else default)
        return cls(code, f"cannot {doing}: {words}", status)


class AuthError(ProtocolError):
    """A token, session or signature did not verify."""

    def __init__(self, detail: str = "bad or missing token", status: int = 401) -> None:
        super().__init__("unauthorized", detail, status)


class SignInLocked(AuthError):
    """Sign-in refused without checking the password: the account or address failed too often
    (locked) or too recently (slowed). Clients see 429 with `Retry-After`."""

    def __init__(self, detail: str, retry_after: float, locked: bool) -> None:
        super().__init__(detail, status=429)
        self.code = "locked" if locked else "slow_down"
        self.retry_after = retry_after
        self.locked = locked


class MediaRefused(ProtocolError):
    """The media store refused a file before writing anything; `code` says why."""


class MediaTooLarge(MediaRefused):
    def __init__(self, detail: str, limit: int) -> None:
        super().__init__("too_large", detail, 413, {"limit": limit})
        self.limit = limit


class MediaTypeRefused(MediaRefused):
    def __init__(self, detail: str, mime: str | None = None) -> None:
        super().__init__("unsupported_media_type", detail, 415, {"mime": mime} if mime else None)
        self.mime = mime


class MediaInvalid(MediaRefused):
    def __init__(self, detail: str) -> None:
        super().__init__("invalid_media", detail, 422)


class ChannelError(KefuError):
    """A channel API did not take a send; `code` is the API's own error code when it gave one,
    for callers to match (never the words of `reason`, which are for people)."""

    def __init__(self, reason: str, *, code: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class RetryableChannelError(ChannelError):
    """A send that may succeed later; `retry_after` is the API's own hint in seconds."""

    def __init__(self, reason: str, retry_after: float | None = None, *, code: int | None = None) -> None:
        super().__init__(reason, code=code)
        self.retry_after = retry_after


class PermanentChannelError(ChannelError):
    """A send that will never succeed as it stands (blocked, window closed, chat gone)."""
