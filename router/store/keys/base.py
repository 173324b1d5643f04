"""What every group of keys builds on: the namespace, the stream partition and the tags they share.

Each module of this package is one group of keys (a mixin of `KeysBase`); `router.store.keys.Keys`
puts them together, so the catalogue is still one class and every key is named once.
"""

from __future__ import annotations


class KeysBase:
    """The fields of `Keys` (a frozen dataclass) and the prefixes several groups use."""

    __slots__ = ()

    ns: str
    part: int

    @property
    def _in(self) -> str:
        return f"{{in:{self.ns}}}" if self.part == 0 else f"{{in:{self.ns}:{self.part}}}"

    @property
    def _out(self) -> str:
        return f"{{out:{self.ns}}}" if self.part == 0 else f"{{out:{self.ns}:{self.part}}}"

    @property
    def rt(self) -> str:
        """Prefix of routing keys (the Lua scripts get whole key names: router/store/lua_keys.py)."""
        return f"{{rt:{self.ns}}}:"
