"""The rule builder's routes (issue 19): the YAML as form rows, form rows written back and checked
against the shop's pools, bad rows and bad YAML refused at their place; nothing is stored."""

from __future__ import annotations

from pathlib import Path

import aiohttp
from helpers.app import running
from helpers.rulesets import ADMIN, AGENT, RULES_A, SUPERVISOR, write_config

from router.config.settings import load_settings


async def test_read_write_check_and_refusals(redis_url: str, tmp_path: Path) -> None:
    cfg, _ = write_config(tmp_path)
    async with running(load_settings(cfg), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        read, write = f"{base}/api/v1/rules/builder/read", f"{base}/api/v1/rules/builder"
        async with http.post(read, json={"source": RULES_A}, headers=AGENT) as resp:
            assert resp.status == 403
        async with http.post(read, json={"source": RULES_A}, headers=SUPERVISOR) as resp:
            assert resp.status == 200
            data = await resp.json()
        assert [(r["name"], r["editable"], r["intents"], r["pool"]) for r in data["rules"]] == [
            ("refund", True, ["refund"], "aftersale")]
        assert data["choices"]["pools"] == ["aftersale", "presale"]
        assert "webchat" in data["choices"]["channels"] and "refund" in data["choices"]["intents"]

        rows = [*data["rules"], {"name": "wholesale", "keywords": ["批发"], "pool": "aftersale", "bot": False}]
        async with http.post(write, json={"source": RULES_A, "rules": rows}, headers=ADMIN) as resp:
            assert resp.status == 200
            out = await resp.json()
        assert out["ok"] is True and out["problems"] == []
        assert out["source"] == RULES_A + "  - name: wholesale\n    when: {contains: 批发}\n    then:\n" \
            "      pool: aftersale\n      human: true\n"
        assert out["spans"] == [[4, 6], [7, 11]]

        # An unknown pool: written, but not ok, with the problem at its line and its row.
        rows[1]["pool"] = "aftersales"
        async with http.post(write, json={"source": RULES_A, "rules": rows}, headers=ADMIN) as resp:
            out = await resp.json()
        assert out["ok"] is False
        assert [(p["line"], p["rule"]) for p in out["problems"]] == [(10, 1)]
        assert "did you mean 'aftersale'" in out["problems"][0]["message"]

        # A row the form could not have sent: 422 at its row and field.
        rows[1]["priority"] = "asap"
        async with http.post(write, json={"source": RULES_A, "rules": rows}, headers=ADMIN) as resp:
            assert resp.status == 422
            body = await resp.json()
        assert body["error"] == "invalid_form"
        assert [(p["rule"], p["field"]) for p in body["problems"]] == [(1, "priority")]
        async with http.post(read, json={"source": "rules: [\n"}, headers=SUPERVISOR) as resp:
            assert resp.status == 422
            assert [(p["line"], p["col"]) for p in (await resp.json())["problems"]] == [(2, 1)]
        async with http.post(write, json={"rules": []}, headers=ADMIN) as resp:
            assert resp.status == 400
        assert await rt.rule_sync.versions.active_id() == "v1"  # nothing stored
