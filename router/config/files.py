"""Where the data files that ship in the repository's config/ are found (a leaf: the settings,
the bot and the demo all read from it)."""

from __future__ import annotations

import importlib.util
from pathlib import Path


def config_dirs() -> list[Path]:
    """Where config/ is: beside the packages in a checkout, or installed as `kefu_config`."""
    dirs = [Path(__file__).resolve().parents[2] / "config"]
    spec = importlib.util.find_spec("kefu_config")
    if spec is not None and spec.submodule_search_locations:
        dirs += [Path(p) for p in spec.submodule_search_locations]
    return [d for d in dirs if d.is_dir()]


def config_file(name: str) -> Path | None:
    """A data file from the repository's config/, wherever it was installed."""
    for d in config_dirs():
        if (d / name).exists():
            return d / name
    return None
