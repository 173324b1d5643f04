"""Settings for bot tests: the basic pools and agents, every conversation bot-first, demo orders."""

from __future__ import annotations

from pathlib import Path

from helpers.app import BASIC
from router.config.settings import Settings, parse_settings
from router.runtime import Runtime

REPO = Path(__file__).resolve().parents[2]

RULES = """
default: {pool: presale, bot: true}
rules:
  - name: returns
    when: {intent: [return_exchange, refund]}
    then: {pool: aftersale, bot: true}
"""


def bot_config(tmp: Path, extra: str = "", cap: int = 5, debounce_s: float = 0.3, rules_text: str = RULES) -> str:
    """Basic config text with a rules file (by default: everything to the bot first); `extra`
    lines are added to the `bot:` section."""
    rules = tmp / "rules.yaml"
    rules.write_text(rules_text)
    return BASIC.format(cap=cap) + f"""
routing:
  rules: {rules}
bot:
  orders: {REPO / "config" / "orders-demo.yaml"}
  debounce_s: {debounce_s}
""" + extra


def bot_settings(tmp: Path, extra: str = "", cap: int = 5, debounce_s: float = 0.3,
                 rules_text: str = RULES) -> Settings:
    return parse_settings(bot_config(tmp, extra, cap, debounce_s, rules_text), "<bot-test>", base_dir=str(tmp))


def owner_token(rt: Runtime, visitor: str = "demo") -> str:
    """A web chat session for a visitor the demo order file lists as its orders' owner
    (`webchat:web:demo`): what a shop's site does for a signed-in buyer."""
    return rt.signer.issue(visitor)[0]
