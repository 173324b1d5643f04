"""The web chat's welcome card: the shop's name, logo, colour and greeting, shown before the
customer's first message (docs/widget.md, "Welcome card"). WebchatSettings embeds the struct;
settings.py calls the check.

```yaml
channels:
  webchat:
    welcome:
      name: 云裳                       # default: channels.webchat.title, else shop.name
      logo: branding/logo.png          # PNG, JPEG, WebP or GIF next to the config, or https://...
      colour: "#7c3aed"                # header and send button; text on it is picked for contrast
      greeting: {zh: 您好，有什么可以帮您？, en: Hi! How can we help?}
```
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from kefu_common.errors import ConfigError

if TYPE_CHECKING:
    from kefu_common.yamlpos import YamlDoc

LOGO_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp",
              ".gif": "image/gif"}
"""What a logo file may be, by its name. SVG is left out: it can carry script."""
LOGO_MAX_BYTES = 512 * 1024
NAME_MAX = 60
GREETING_MAX = 500
LANGUAGES = ("zh", "en")

_HEX = re.compile(r"^#[0-9A-Fa-f]{6}$")


class WelcomeSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    name: str = ""
    """The name on the card; the web chat's `title`, else `shop.name`, when empty."""
    logo: str = ""
    """An image file (relative to the config file) the router serves, or an https:// URL."""
    colour: str = "#0a66c2"
    """#RRGGBB for the header, the card's band and the send button."""
    greeting: dict[str, str] = msgspec.field(default_factory=dict)
    """The card's text by language (zh, en); the widget's own greeting when a language is missing."""


def _channel(hex_pair: str) -> float:
    c = int(hex_pair, 16) / 255
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def luminance(colour: str) -> float:
    """WCAG relative luminance of #RRGGBB."""
    r, g, b = (_channel(colour[i:i + 2]) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_colour(background: str) -> str:
    """White or black, whichever reads better on `background`. The better of the two is always at
    least 4.58:1, so text on any configured colour passes WCAG AA."""
    return "#ffffff" if contrast(background, "#ffffff") >= contrast(background, "#000000") else "#000000"


def logo_file(w: WelcomeSettings, base_dir: str) -> Path | None:
    """The logo's file when it is one (not a URL)."""
    if not w.logo or w.logo.startswith("https://"):
        return None
    p = Path(w.logo)
    return p if p.is_absolute() else Path(base_dir) / p


def check_welcome(doc: YamlDoc, w: WelcomeSettings, base_dir: str) -> list[ConfigError]:
    where = ("channels", "webchat", "welcome")
    errors: list[ConfigError] = []
    if not _HEX.match(w.colour):
        errors.append(doc.error((*where, "colour"), f"welcome.colour: {w.colour!r} is not a colour like #0a66c2"))
    if len(w.name) > NAME_MAX:
        errors.append(doc.error((*where, "name"), f"welcome.name: at most {NAME_MAX} characters"))
    for lang, text in w.greeting.items():
        if lang not in LANGUAGES:
            errors.append(doc.error((*where, "greeting", lang),
                                    f"welcome.greeting: {lang!r} is not a widget language (zh, en)"))
        elif len(text) > GREETING_MAX:
            errors.append(doc.error((*where, "greeting", lang),
                                    f"welcome.greeting.{lang}: at most {GREETING_MAX} characters"))
    if w.logo.startswith(("http://", "data:", "javascript:")):
        errors.append(doc.error((*where, "logo"), "welcome.logo: a file next to the config or an https:// URL"))
        return errors
    path = logo_file(w, base_dir)
    if path is not None:
        if path.suffix.lower() not in LOGO_TYPES:
            errors.append(doc.error((*where, "logo"), f"welcome.logo: {path.name} is not a PNG, JPEG, WebP or GIF"))
        elif not path.is_file():
            errors.append(doc.error((*where, "logo"), f"welcome.logo: file not found: {path}"))
        elif path.stat().st_size > LOGO_MAX_BYTES:
            errors.append(doc.error((*where, "logo"), f"welcome.logo: larger than {LOGO_MAX_BYTES // 1024} KB"))
    return errors
