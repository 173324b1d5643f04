"""Which settings a command runs with: the file named, else ./config/kefu.yaml, else the demo."""

from __future__ import annotations

from pathlib import Path

from router.config.demo import demo_settings
from router.config.settings import Settings, load_settings


def resolve_settings(config: str | None, data_dir: Path) -> Settings:
    if config:
        return load_settings(config)
    default = Path("config/kefu.yaml")
    if default.exists():
        return load_settings(default)
    return demo_settings(data_dir)
