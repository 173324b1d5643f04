"""The refusal codes the server can send, read from its source as a reader would find them.

A code is the first argument of `ProtocolError("...")` (and of a subclass's
`super().__init__("...")`), of `frames.error("...")`, an `"error": "..."` in a JSON answer, a
`self.code = "..."` in an exception class, or a Lua script's `{'err', '...'}` reason (which
`ProtocolError.refusal` turns into a code: spaces become underscores; a reason built with `..`
gives a code that starts with the literal part, e.g. `already_assigned_to_`, kept as a prefix).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_LUA_ERR = re.compile(r"\{\s*'err',\s*'([^']+)'\s*(\.\.)?")


def _is_code_call(call: ast.Call) -> bool:
    f = call.func
    if isinstance(f, ast.Name):
        return f.id in ("ProtocolError", "MediaRefused")
    if isinstance(f, ast.Attribute):
        if f.attr == "error" and isinstance(f.value, ast.Name) and f.value.id == "frames":
            return True
        if f.attr == "__init__" and isinstance(f.value, ast.Call) and getattr(f.value.func, "id", "") == "super":
            return True
    return False


def python_codes(path: Path) -> dict[str, int]:
    """{code: first line} for one Python module."""
    found: dict[str, int] = {}
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        values: list[ast.expr] = []
        if isinstance(node, ast.Call) and _is_code_call(node) and node.args:
            values = [node.args[0]]
        elif isinstance(node, ast.Dict):
            values = [v for k, v in zip(node.keys, node.values, strict=True)
                      if isinstance(k, ast.Constant) and k.value == "error"]
        elif isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Attribute) and t.attr == "code" and getattr(t.value, "id", "") == "self"
                for t in node.targets):
            values = [node.value.body, node.value.orelse] if isinstance(node.value, ast.IfExp) else [node.value]
        for v in values:
            if isinstance(v, ast.Constant) and isinstance(v.value, str) and re.fullmatch(r"[a-z][a-z0-9_]*", v.value):
                found.setdefault(v.value, node.lineno)
    return found


def lua_codes(path: Path) -> tuple[set[str], set[str]]:
    """(codes, prefixes) of one Lua script's refusals."""
    codes: set[str] = set()
    prefixes: set[str] = set()
    for m in _LUA_ERR.finditer(path.read_text(encoding="utf-8")):
        code = m.group(1).replace(" ", "_")
        (prefixes if m.group(2) else codes).add(code)
    return codes, prefixes


def codes_under(*folders: str, only: tuple[str, ...] = ()) -> dict[str, str]:
    """{code: "file:line"} for every Python module under the folders (or the `only` files)."""
    out: dict[str, str] = {}
    paths = [ROOT / p for p in only] if only else sorted(p for f in folders for p in (ROOT / f).rglob("*.py"))
    for path in paths:
        for code, line in python_codes(path).items():
            out.setdefault(code, f"{path.relative_to(ROOT)}:{line}")
    return out


def lua_refusals() -> tuple[set[str], set[str]]:
    codes: set[str] = set()
    prefixes: set[str] = set()
    for path in sorted((ROOT / "router" / "store" / "lua").glob("*.lua")):
        c, p = lua_codes(path)
        codes |= c
        prefixes |= p
    return codes, prefixes
