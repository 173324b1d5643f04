"""The web chat's welcome card settings: checked with FILE:LINE:COL, and text on the shop's colour
always readable (WCAG AA)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kefu_common.errors import ConfigError
from router.config.settings import load_settings
from router.config.widget import contrast, text_colour

W = "channels:\n  webchat:\n    welcome:\n"
CASES = [
    (W + '      colour: "#12345"\n', 4, 15, "welcome.colour: '#12345' is not a colour like #0a66c2"),
    (W + "      colour: red\n", 4, 15, "is not a colour"),
    (W + "      greeting: {fr: Bonjour}\n", 4, 22, "'fr' is not a widget language"),
    (W + "      logo: nowhere.png\n", 4, 13, "welcome.logo: file not found"),
    (W + "      logo: logo.svg\n", 4, 13, "logo.svg is not a PNG, JPEG, WebP or GIF"),
    (W + "      logo: http://shop.example.com/logo.png\n", 4, 13, "an https:// URL"),
    (W + "      name: " + "店" * 61 + "\n", 4, 13, "welcome.name: at most 60 characters"),
    (W + "      colours: '#000000'\n", 4, 7, "unknown key 'colours'"),
]


@pytest.mark.parametrize(("text", "line", "col", "message"), CASES)
def test_bad_welcome_settings_are_positioned(tmp_path: Path, text: str, line: int, col: int, message: str) -> None:
    (tmp_path / "logo.svg").write_text("<svg/>")
    path = tmp_path / "kefu.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as exc:
        load_settings(path)
    first = str(exc.value).splitlines()[0]
    assert first.startswith(f"{path}:{line}:{col}: "), first
    assert message in first


def test_good_welcome_settings_load(tmp_path: Path) -> None:
    (tmp_path / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    path = tmp_path / "kefu.yaml"
    path.write_text(W + '      name: 云裳\n      logo: logo.png\n      colour: "#7C3AED"\n'
                        "      greeting: {zh: 您好, en: Hello}\n")
    w = load_settings(path).channels.webchat.welcome
    assert (w.name, w.logo, w.colour, w.greeting) == ("云裳", "logo.png", "#7C3AED", {"zh": "您好", "en": "Hello"})


@pytest.mark.parametrize(("colour", "text"), [("#fde047", "#000000"), ("#4c1d95", "#ffffff"), ("#0a66c2", "#ffffff"),
                                              ("#ffffff", "#000000"), ("#000000", "#ffffff"), ("#767676", "#000000"), ("#595959", "#ffffff")])
def test_text_colour_is_the_readable_one(colour: str, text: str) -> None:
    assert text_colour(colour) == text


def test_every_colour_gets_text_that_passes_aa() -> None:
    # Every 17th step of each channel, 4,096 colours: the better of black and white is >= 4.5:1.
    steps = range(0, 256, 17)
    worst = min(contrast(c, text_colour(c)) for c in (f"#{r:02x}{g:02x}{b:02x}" for r in steps for g in steps for b in steps))
    assert worst >= 4.5
