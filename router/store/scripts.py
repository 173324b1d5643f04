"""The Lua scripts, rendered for one namespace and called by SHA.

Each routing script is its own body after the part of the shared prelude it uses. Redis runs a
script's whole text on every call, so each prelude function is a closure built per call, and
every loaded script's compiled text lives in the Lua heap that the collector walks. A script that
carried the whole prelude paid for both on every call; carrying only what it reaches cut the
loaded scripts' heap from 1.6 MB to 0.45 MB and choose's fixed cost by about two thirds
(docs/assignment.md, "Cost").

Scripts are loaded once at start. Pipelines call EVALSHA directly: redis-py's `Script` objects in
a pipeline would ask SCRIPT EXISTS on every execute, a round trip per batch we do not want. If the
server lost its script cache (restart, failover), `run` loads them again and retries the calls
that failed once; that is safe because a script that failed with NOSCRIPT ran no command.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from redis.exceptions import NoScriptError

from router.store import lua_keys
from router.store.keys import Keys
from router.store.lifecycle import lua_table

# Scripts that work in the {rt} slot get the shared prelude; the others stand alone.
ROUTING = ("resolve", "route", "close", "status", "transfer", "reply", "agent_sync", "set_cap", "emit",
           "approval", "timer_claim", "timer_ack", "sla_fire", "queue_text",
           "queue_announce",
           "choose", "bot_take", "bot_done", "bot_handoff", "bot_close", "purge", "archived",
           "customer_link", "hook_emit", "wait", "ingest_direct", "ingest_open", "widget_view",
           "customer_typing")
# The routing prelude: shared helpers (with policy.lua at lib's __POLICY__ line), then SLA clocks
# and timers that build on them, then a customer's line to a conversation someone holds.
PRELUDE = ("lib", "sla_lib", "line_lib")
STANDALONE = ("ingest", "outbox_enqueue", "append_once", "rules_activate", "csat_record", "quota_take",
              "quota_refund", "lock_release", "nonce_first", "window_open", "hook_enqueue",
              "live_activate", "totp_step", "compare_set", "read_mark", "feed_since")


def _read(name: str) -> str:
    return resources.files("router.store").joinpath(f"lua/{name}.lua").read_text(encoding="utf-8")


# A comment, a quoted string, or a name: only names (group 1) count as uses, so a word inside a
# string or comment never pulls in a function.
_TOKEN = re.compile(r"--[^\n]*|'(?:\\.|[^'\\\n])*'|\"(?:\\.|[^\"\\\n])*\"|([A-Za-z_][A-Za-z0-9_]*)")
_DEFINES = re.compile(r"local\s+(?:function\s+)?([A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*)")


@dataclass(frozen=True)
class _Unit:
    """One top-level `local` of the prelude, with the comment lines just above it."""

    text: str
    names: frozenset[str]
    uses: frozenset[str]


def _names_used(code: str) -> frozenset[str]:
    return frozenset(m.group(1) for m in _TOKEN.finditer(code) if m.group(1))


def _split(prelude: str) -> list[_Unit]:
    """The prelude's top-level definitions in order. Every top-level statement of lib.lua,
    policy.lua and sla_lib.lua is a `local` at the start of a line, and everything indented or
    closing below it (to the next one) belongs to it."""
    lines = prelude.splitlines(keepends=True)
    starts: list[int] = []
    for i, line in enumerate(lines):
        if line.startswith("local "):
            while i > 0 and lines[i - 1].startswith("--") and (not starts or i - 1 > starts[-1]):
                i -= 1
            starts.append(i)
    units = []
    for start, end in zip(starts, [*starts[1:], len(lines)], strict=True):
        text = "".join(lines[start:end])
        code = "".join(line for line in lines[start:end] if not line.startswith("--"))
        m = _DEFINES.match(code)
        if m is None:
            raise RuntimeError(f"prelude unit without a local definition: {code[:60]!r}")
        names = frozenset(n.strip() for n in m.group(1).split(","))
        units.append(_Unit(text, names, _names_used(code) - names))
    return units


@cache
def _prelude_units(keys: Keys) -> tuple[_Unit, ...]:
    """The key names (rendered from Keys), then lib.lua with policy.lua, then sla_lib.lua."""
    prelude = (
        "\n".join(_read(part) for part in PRELUDE)
        .replace("__POLICY__", _read("policy"))
        .replace("__TRANSITIONS__", lua_table())
    )
    return tuple(_split(lua_keys.render(keys) + prelude))


@cache
def _key_units(keys: Keys) -> tuple[_Unit, ...]:
    return tuple(_split(lua_keys.render(keys)))


def _reachable(units: tuple[_Unit, ...], body: str) -> str:
    """The units the body reaches, directly or through other units, in prelude order (a Lua
    local is visible only below its definition, and the prelude's order already satisfies that)."""
    defining: dict[str, list[int]] = {}
    for i, unit in enumerate(units):
        for n in unit.names:
            defining.setdefault(n, []).append(i)
    keep: set[int] = set()
    todo = list(_names_used(body))
    while todo:
        for i in defining.get(todo.pop(), []):
            if i not in keep:
                keep.add(i)
                todo.extend(units[i].uses)
    return "".join(unit.text for i, unit in enumerate(units) if i in keep)


def assemble(body: str, keys: Keys) -> str:
    """A routing-domain script: `body` after the part of the prelude it uses."""
    return _reachable(_prelude_units(keys), body) + "\n" + body


def render(name: str, keys: Keys) -> str:
    """A script as loaded: a routing script after the prelude it uses; a standalone one after the
    key names it uses, if any."""
    body = _read(name)
    if name in ROUTING:
        return assemble(body, keys)
    head = _reachable(_key_units(keys), body)
    return head + "\n" + body if head else body


class Scripts:
    """Rendered scripts by name, with their SHA1s."""

    def __init__(self, keys: Keys) -> None:
        self.keys = keys
        self.source = {name: render(name, keys) for name in ROUTING + STANDALONE}
        self.sha = {name: hashlib.sha1(src.encode()).hexdigest() for name, src in self.source.items()}

    async def load(self, client: Any) -> None:
        """On a Cluster, SCRIPT LOAD reaches every master; a replica promoted later has an empty
        cache, which the NOSCRIPT retry in `call` and `run` fills."""
        for name, src in self.source.items():
            sha = await client.script_load(src)
            if sha != self.sha[name]:
                raise RuntimeError(f"script {name}: server SHA {sha} != local {self.sha[name]}")

    def queue(self, pipe: Any, name: str, keys: list[str], args: list[Any]) -> None:
        """Add a script call to a pipeline. The raw command, because the cluster pipeline refuses
        its `evalsha` method yet routes EVALSHA by its first key like any command."""
        pipe.execute_command("EVALSHA", self.sha[name], len(keys), *keys, *args)

    async def call(self, client: Any, name: str, keys: list[str], args: list[Any]) -> Any:
        try:
            return await client.evalsha(self.sha[name], len(keys), *keys, *args)
        except NoScriptError:
            await self.load(client)
            return await client.evalsha(self.sha[name], len(keys), *keys, *args)

    async def run(self, client: Any, build: Any) -> list[Any]:
        """Execute the pipeline that `build(pipe)` fills; results in order, errors as values.

        Only the calls that met NOSCRIPT run again: on a Cluster one master may have lost its
        cache (a promoted replica) while the others ran their share of the batch."""
        recorder = _Recorder()
        build(recorder)
        results = await _replay(client, recorder.calls)
        missed = [i for i, r in enumerate(results) if isinstance(r, NoScriptError)]
        if missed:
            await self.load(client)
            again = await _replay(client, [recorder.calls[i] for i in missed])
            for i, r in zip(missed, again, strict=True):
                results[i] = r
        return results


class _Recorder:
    """Stands in for a pipeline while a batch is built, so part of it can be sent again."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        def record(*args: Any, **kwargs: Any) -> _Recorder:
            self.calls.append((name, args, kwargs))
            return self
        return record


async def _replay(client: Any, calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]]) -> list[Any]:
    pipe = client.pipeline(transaction=False)
    for name, args, kwargs in calls:
        getattr(pipe, name)(*args, **kwargs)
    results: list[Any] = await pipe.execute(raise_on_error=False)
    return results
