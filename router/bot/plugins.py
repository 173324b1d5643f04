"""Shop-supplied classes named by dotted path in the config ("pkg.module:Class")."""

from __future__ import annotations

import importlib
from typing import Any

from kefu_common.errors import ConfigError


def import_subclass(spec: str, base: type[object], what: str) -> type[Any]:
    """The subclass of `base` that `spec` ("pkg.module:Class" or "pkg.module.Class") names,
    imported but not built; ConfigError naming `what` when it cannot be."""
    module_name, _, cls_name = spec.partition(":") if ":" in spec else spec.rpartition(".")
    if not module_name or not cls_name:
        raise ConfigError(f"{what} {spec!r}: expected 'package.module:ClassName'")
    try:
        cls = getattr(importlib.import_module(module_name), cls_name)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"{what} {spec!r} cannot be imported: {exc}") from None
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise ConfigError(f"{what} {spec!r} is not a subclass of {base.__name__}")
    return cls
