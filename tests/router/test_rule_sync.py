"""How a process follows the active rule version: Redis over the file, a lost notice healed by the
periodic re-check, and a version this process cannot compile left alone."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import pytest
from helpers.rulesets import CONFIG, RULES_A, RULES_B, write_config

from router.config.settings import load_settings, parse_settings
from router.rules.versions import RuleVersions, StaleVersion
from router.runtime import Runtime


async def _until(pred: object, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not pred():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


async def test_the_file_is_the_source_until_an_admin_activates_rules(redis_url: str, tmp_path: Path) -> None:
    cfg, rules_file = write_config(tmp_path)
    async with Runtime(load_settings(cfg), redis_url=redis_url, data_dir=tmp_path) as rt:
        assert rt.rules.current.version == "v1"
    # Nobody used the API yet: the file edited on disk is taken at restart, as a new version.
    rules_file.write_text(RULES_A + "# edited on disk\n", encoding="utf-8")
    async with Runtime(load_settings(cfg), redis_url=redis_url, data_dir=tmp_path) as rt:
        assert rt.rules.current.version == "v2"
        stored = await rt.rule_sync.versions.get("v2")
        assert stored is not None and stored["author"] == f"file:{rules_file}"
        assert "+# edited on disk" in stored["diff"]
        await rt.rule_sync.versions.activate(RULES_B, "ada", "v2")
        await _until(lambda: rt.rules.current.version == "v3")
    # An admin activated v3: from now on Redis wins over the file, at every restart.
    rules_file.write_text(RULES_A + "# edited again\n", encoding="utf-8")
    async with Runtime(load_settings(cfg), redis_url=redis_url, data_dir=tmp_path) as rt:
        assert rt.rules.current.version == "v3"
        assert rt.rules.current.default.pool == "aftersale"
        assert [v["version"] for v in await rt.rule_sync.versions.history()] == ["v3", "v2", "v1"]


async def test_first_start_without_a_rules_file_seeds_the_builtin(redis_url: str, tmp_path: Path) -> None:
    settings = parse_settings(CONFIG.replace("routing:\n  rules: {rules}\n", ""), "<test>")
    async with Runtime(settings, redis_url=redis_url, data_dir=tmp_path) as rt:
        stored = await rt.rule_sync.versions.get("v1")
        assert stored is not None and stored["author"] == "startup"
        assert rt.rules.current.version == "v1" and rt.rules.current.default.pool == "presale"


async def test_a_lost_notice_is_healed_by_the_periodic_check(redis_url: str, tmp_path: Path) -> None:
    cfg, _ = write_config(tmp_path)
    rt = Runtime(load_settings(cfg), redis_url=redis_url, data_dir=tmp_path)
    rt.rule_sync.poll_s = 0.3
    async with rt:
        keys = rt.store.keys
        # Activate the way the script does, but announce it on a channel nobody listens to.
        res = await rt.store.scripts.call(
            rt.store.client, "rules_activate", [keys.rules_active, keys.rules_seq, keys.rules_log],
            ["v1", RULES_B, "test", time.time(), "", "", "h", keys.rules_prefix, "kefu:events:nowhere"])
        assert list(res) == ["ok", "v2"]
        await _until(lambda: rt.rules.current.version == "v2", timeout=5)


async def test_a_version_this_process_cannot_compile_is_left_alone(
    redis_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cfg, _ = write_config(tmp_path)
    rt = Runtime(load_settings(cfg), redis_url=redis_url, data_dir=tmp_path)
    rt.rule_sync.poll_s = 0.2
    async with rt:
        # Another process's config has a pool 'vip' that this one does not know.
        other = RuleVersions(rt.store, None, None)
        with caplog.at_level(logging.ERROR, logger="kefu.rules"):
            await other.activate(RULES_A.replace("pool: aftersale", "pool: vip"), "ada", "v1")
            await _until(lambda: "rules v2 cannot be used by this process" in caplog.text)
        assert rt.rules.current.version == "v1"
        with pytest.raises(StaleVersion):
            await rt.rule_sync.versions.activate(RULES_B, "ada", "v1")
        # A version it can compile is taken again.
        await rt.rule_sync.versions.activate(RULES_B, "ada", "v2")
        await _until(lambda: rt.rules.current.version == "v3")
