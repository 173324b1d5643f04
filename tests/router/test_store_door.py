"""The store is the one door to Redis: no module outside router/store/ holds the client.

An AST walk over the product packages refuses, outside router/store/:
- importing `redis` or any of its modules but `redis.exceptions` (catching RedisError is fine;
  making a connection or a pipeline is not), or anything of router/store/client.py but
  `REDIS_ERRORS` (its `make_client` is a connection too);
- reaching into a Store for its client or its scripts (`store.client`, `rt.store.scripts`, ...),
  or calling a script by name with positional arguments (`store.call(...)`; `store.run(call)`
  takes a typed call from router/store/calls/);
- a Store under another name than `store` (a parameter, an annotated name, an assignment from
  a store), where the attribute check above would not see it.

Checked to fail on the code before the door was built (128 uses in 33 modules, seven web handlers
included). Nothing is exempt: the list of modules allowed to wait emptied as they moved.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("router", "adapters", "routing_rules", "kefu_common")
INSIDE = ROOT / "router" / "store"

# Store attributes that are Redis itself rather than a typed repository: the client, the script
# table, and the untyped script call kept for tests and benchmarks.
RAW = frozenset({"client", "scripts", "call"})
# What router/store/client.py may give the rest: the errors a failing Redis raises. Its
# `make_client` is a connection of one's own, past the door.
CLIENT_FREE = frozenset({"REDIS_ERRORS"})
# Names a Store goes by outside the package.
STORE_NAMES = frozenset({"store", "_store"})


def _is_store(node: ast.expr) -> bool:
    if isinstance(node, ast.Name):
        return node.id in STORE_NAMES
    return isinstance(node, ast.Attribute) and node.attr in STORE_NAMES


def _is_store_type(node: ast.expr | None) -> bool:
    """`Store`, `router.store.Store`, or either in a union (`Store | None`)."""
    if isinstance(node, ast.BinOp):
        return _is_store_type(node.left) or _is_store_type(node.right)
    return (isinstance(node, ast.Name) and node.id == "Store") or (
        isinstance(node, ast.Attribute) and node.attr == "Store")


def _name_of(target: ast.expr) -> str | None:
    if isinstance(target, ast.Name):
        return target.id
    return target.attr if isinstance(target, ast.Attribute) else None


def _aliases(node: ast.AST) -> list[tuple[int, str]]:
    """A Store under a name the walk does not know (`db: Store`, `self.db = rt.store`) would
    hide its client from the check below, so the name itself counts as a raw use."""
    if isinstance(node, ast.arg) and _is_store_type(node.annotation) and node.arg not in STORE_NAMES:
        return [(node.lineno, f"a Store named {node.arg}")]
    if isinstance(node, ast.AnnAssign) and _is_store_type(node.annotation):
        name = _name_of(node.target)
        return [(node.lineno, f"a Store named {name}")] if name not in STORE_NAMES else []
    if isinstance(node, ast.Assign) and _is_store(node.value):
        return [(node.lineno, f"a Store named {name}") for name in map(_name_of, node.targets)
                if name not in STORE_NAMES]
    return []


def raw_uses(tree: ast.AST) -> list[str]:
    """What in one module's tree talks to Redis past the store, as 'line: what'."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, f"import {a.name}") for a in node.names
                      if (a.name.split(".")[0] == "redis" and a.name != "redis.exceptions")
                      or a.name == "router.store.client"]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            top = node.module.split(".")[0]
            if top == "redis" and node.module != "redis.exceptions":
                found.append((node.lineno, f"from {node.module} import ..."))
            elif node.module == "router.store" and any(a.name == "client" for a in node.names):
                found.append((node.lineno, "from router.store import client"))
            elif node.module == "router.store.client":
                found += [(node.lineno, f"from router.store.client import {a.name}") for a in node.names
                          if a.name not in CLIENT_FREE]
        elif isinstance(node, ast.Attribute) and node.attr in RAW and _is_store(node.value):
            found.append((node.lineno, ast.unparse(node)))
        found += _aliases(node)
    return [f"{line}: {what}" for line, what in sorted(found)]


def scan() -> dict[str, list[str]]:
    out = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.is_relative_to(INSIDE):
                continue
            uses = raw_uses(ast.parse(path.read_text(encoding="utf-8"), str(path)))
            if uses:
                out[path.relative_to(ROOT).as_posix()] = uses
    return out


def test_nothing_outside_the_store_talks_to_redis() -> None:
    found = scan()
    assert not found, "raw Redis outside router/store/ (add a repository method instead):\n" + "\n".join(
        f"{m}:{line}" for m, uses in found.items() for line in uses)


def test_the_walk_sees_each_kind_of_raw_use() -> None:
    """The checker itself: each forbidden shape is caught, and the allowed ones are not."""
    code = "\n".join([
        "import redis.asyncio as aioredis",
        "from redis.asyncio.client import Pipeline",
        "from redis.exceptions import RedisError",
        "from router.store.client import REDIS_ERRORS, make_client",
        "import router.store.client",
        "from router.store import client, Store",
        "x = rt.store.client.hget('k', 'f')",
        "y = self.store.scripts.call(c, 'n', [], [])",
        "w = rt.store.call('close', [])",
        "z = store.client",
        "ok = rt.store.conversations.get('c1')",
        "fine = http.client",
        "def f(db: Store, store: Store) -> None: pass",
        "self.db = rt.store",
        "self.store = rt.store",
        "cache: Store | None = None",
        "other: router.store.Store = make()",
    ])
    assert [u.split(": ", 1)[1] for u in raw_uses(ast.parse(code))] == [
        "import redis.asyncio", "from redis.asyncio.client import ...",
        "from router.store.client import make_client", "import router.store.client",
        "from router.store import client", "rt.store.client",
        "self.store.scripts", "rt.store.call", "store.client", "a Store named db", "a Store named db",
        "a Store named cache", "a Store named other"]
