"""Which loops a process runs by its role (`kefu serve --role`): a web process routes, sends and
fires nothing, but still reloads the bot's files it checks agents' replies against; a worker
runs every loop that moves work; `all` runs both. Real Redis, the runtime started for real."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.app import basic_settings

from kefu_common.errors import StartupError
from router.runtime import Runtime

MOVERS = {"route worker", "sender", "timers", "bot", "roster", "archive worker", "retention"}


async def services(redis_url: str, tmp_path: Path, role: str) -> set[str]:
    async with Runtime(basic_settings(cap=5), redis_url=redis_url, data_dir=tmp_path / role,
                       role=role) as rt:  # type: ignore[arg-type]
        assert rt.ready == (True, "ok")
        return set(rt.supervisor.states)


async def test_each_role_runs_its_own_loops(redis_url: str, tmp_path: Path) -> None:
    web = await services(redis_url, tmp_path, "web")
    worker = await services(redis_url, tmp_path, "worker")
    both = await services(redis_url, tmp_path, "all")
    assert {"fan-out", "rule sync", "bot library"} <= web
    assert not web & MOVERS, web & MOVERS
    assert MOVERS <= worker and "bot library" not in worker
    assert worker - {"bot library"} <= both and MOVERS <= both


def test_a_role_must_be_known_and_split_roles_need_a_shared_redis(tmp_path: Path) -> None:
    with pytest.raises(StartupError, match="unknown role"):
        Runtime(basic_settings(cap=5), redis_url="redis://127.0.0.1:1/0", role="front")  # type: ignore[arg-type]
    with pytest.raises(StartupError, match="needs a Redis the other processes share"):
        Runtime(basic_settings(cap=5), data_dir=tmp_path, role="web")
