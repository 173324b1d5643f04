"""The channels this router knows, by name: each is one adapter class, found here.

A channel class (an `adapters.base.Adapter` subclass) declares its name, its settings type,
whether the config lists several accounts of it, its capabilities, and how it is built
(`from_settings(settings, deps)`). The config's `channels.<name>` is parsed with that settings
type, the runtime builds one adapter per account, and the web layer and the router ask the
capabilities instead of testing channel names.

Finding them works as errbot finds backends: every module of the `adapters` package is imported
once, the first time the registry is asked, and a channel module registers its class with
`@register` as it is imported. A channel kept elsewhere (a plugin, a test) calls `register(cls)`
before the config is read. This module imports nothing of ours, so the settings layer can ask it.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, TypeVar

Problem = tuple[tuple[str | int, ...], str]
"""A problem with one account's settings: the path of the offending key inside the account's
mapping, and the message."""


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a channel can do, for the parts of the router that differ by channel."""

    live_frames: bool = False
    """Customers hold a socket to us: they see typing, queue place and agent frames live. A
    channel without it gets the queue position as a text message instead."""
    media: bool = False
    """Customers send pictures, voice or files the console can fetch through the channel."""
    quota: bool = False
    """The channel limits how many replies a customer may get (WeChat's 48-hour window). Its
    console routes then serve GET /api/v1/{channel}/{account}/quota/{chat}, which the console
    shows beside the reply box."""
    split_replies: bool = True
    """A reply longer than the channel's text limit goes out as several messages, in order."""
    media_messages: bool = False
    """A reply's file goes as a message of its own, after its text (`Adapter.send_media`), as on
    WeChat and Telegram; without it, `send_part` carries the whole reply, file and all (a web chat
    frame)."""
    page_cards: bool = False
    """An agent may send a mini program page card (`Adapter.send_card`), after the reply's text;
    the agent socket refuses a card for any other channel before anything is stored."""


class ChannelType(Protocol):
    """What the registry and the settings layer read of a channel class."""

    channel: ClassVar[str]
    settings_type: ClassVar[type[Any]]
    many: ClassVar[bool]
    capabilities: ClassVar[Capabilities]

    @classmethod
    def default_settings(cls) -> Any:
        """The settings of the one account used when the config names none, or None."""
        ...

    @classmethod
    def account_of(cls, settings: Any) -> str: ...

    @classmethod
    def validate(cls, settings: Any) -> list[Problem]: ...

    @classmethod
    def secrets(cls, settings: Any) -> list[str]:
        """The secrets in the settings, which the logs never show."""
        ...


T = TypeVar("T", bound=type)

_CHANNELS: dict[str, Any] = {}
_discovered = False
_SKIP = frozenset({"base", "registry"})


def register(cls: T) -> T:
    """Make `cls` (a ChannelType) the channel named `cls.channel`; a second class under one name
    is refused."""
    missing = [a for a in ("channel", "settings_type", "many", "capabilities", "default_settings",
                           "account_of", "validate", "secrets") if not hasattr(cls, a)]
    if missing:
        raise TypeError(f"{cls.__qualname__} is not a channel class: it lacks {', '.join(missing)}")
    name: str = cls.channel  # type: ignore[attr-defined]
    current = _CHANNELS.get(name)
    if current is not None and current is not cls:
        raise ValueError(f"channel {name!r} is already registered by {current.__module__}.{current.__qualname__}")
    _CHANNELS[name] = cls
    return cls


def unregister(name: str) -> None:
    """Forget a channel registered by hand (tests that add a throwaway channel)."""
    _CHANNELS.pop(name, None)


def _discover() -> None:
    global _discovered
    if _discovered:
        return
    _discovered = True
    import adapters

    for info in pkgutil.iter_modules(adapters.__path__):
        if info.name not in _SKIP and not info.name.startswith("_"):
            importlib.import_module(f"adapters.{info.name}")


def names() -> Sequence[str]:
    """Every channel's name, in the order they were registered."""
    _discover()
    return tuple(_CHANNELS)


def get(name: str) -> ChannelType | None:
    _discover()
    found: ChannelType | None = _CHANNELS.get(name)
    return found


def capabilities(name: str) -> Capabilities:
    """A channel's capabilities; a name no longer registered (an old conversation's) has none."""
    cls = get(name)
    return cls.capabilities if cls is not None else Capabilities()
