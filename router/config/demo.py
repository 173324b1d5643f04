"""The built-in demo: web chat, pools `presale` and `aftersale`, agents alice and bob, an admin
who signs in with a password, and the bot taking the first turn (FAQ, and orders from config/orders-demo.yaml).

Tokens are random per data dir and kept there, so a browser stays signed in across restarts.
The demo routes with the default rule set that ships in config/ (packaged as `kefu_config`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from router.accounts.passwords import hash_password, new_password
from router.bot.config import BotSettings, HoursSettings
from router.config.files import config_file
from router.config.settings import (
    AgentSettings,
    PoolSettings,
    RoutingSettings,
    Settings,
    ShopSettings,
)
from router.models import Role

DEMO_NAMES = ("alice", "bob", "admin")


def demo_tokens(data_dir: Path) -> dict[str, str]:
    """The demo agents' tokens, and the admin's password ('admin_password'), made once per data dir."""
    path = data_dir / "demo-tokens.json"
    tokens: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    if {*DEMO_NAMES, "admin_password"} <= tokens.keys():
        return tokens
    for name in DEMO_NAMES:
        tokens.setdefault(name, f"{name}-{os.urandom(12).hex()}")
    tokens.setdefault("admin_password", new_password())
    data_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(tokens))
    path.chmod(0o600)
    return tokens


def demo_settings(data_dir: Path) -> Settings:
    tokens = demo_tokens(data_dir)
    rules = config_file("routing.yaml")
    return Settings(
        shop=ShopSettings(name="kefu-router demo shop"),
        pools=(PoolSettings(id="presale", name="Pre-sale"), PoolSettings(id="aftersale", name="After-sale")),
        agents=(
            AgentSettings(id="alice", name="Alice", token=tokens["alice"], role=Role.SUPERVISOR,
                          pools=("presale", "aftersale"), skills={"presale": 4, "english": 3}, max_chats=5),
            AgentSettings(id="bob", name="Bob", token=tokens["bob"], role=Role.AGENT,
                          pools=("aftersale",), skills={"aftersale": 3}, max_chats=5),
            # Signs in with a password and builds the team in the console (Team page).
            AgentSettings(id="admin", name="Admin", token=tokens["admin"], role=Role.ADMIN, pools=(), max_chats=0,
                          password_hash=hash_password(tokens["admin_password"])),
        ),
        routing=RoutingSettings(rules=str(rules) if rules else None, default_pool="presale"),
        # The rules let the bot take the first turn of every conversation except complaints,
        # requests for a person, refunds and returns; its hours match the rules' `business` calendar.
        bot=BotSettings(orders=str(orders) if (orders := config_file("orders-demo.yaml")) else None,
                        products=str(stock) if (stock := config_file("products-demo.yaml")) else None,
                        hours=HoursSettings(timezone="Asia/Shanghai", days="mon-sun", hours="09:00-22:00")),
        source="<demo>",
    )
