"""`kefu check` on the example shop config, on broken copies of it, and `kefu serve` running it."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from helpers.procs import Serve

ROOT = Path(__file__).resolve().parents[2]
SHOP = ROOT / "config/examples/shop.yaml"


def shop_env() -> dict[str, str]:
    """A value for every `X_env` the example names: tokens of 8+ characters, a 43-character AES key."""
    names = re.findall(r"_env: ([A-Z0-9_]+)", SHOP.read_text(encoding="utf-8"))
    env = {name: f"secret-{name.lower()}" for name in names}
    env["KEFU_WECHAT_FASHION_AES_KEY"] = "k" * 43
    return env


def kefu_check(config: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("KEFU_TOKEN_", "KEFU_WECHAT_"))}
    return subprocess.run([sys.executable, "-m", "router", "check", "--config", str(config)],
                          capture_output=True, text=True, timeout=120, cwd=config.parent,
                          env={**clean, **env})


def shop_copy(tmp_path: Path) -> tuple[Path, Path]:
    """The example and its rules in examples/, with the orders file it names at ../ as in config/."""
    (tmp_path / "examples").mkdir()
    shutil.copy(ROOT / "config/orders-demo.yaml", tmp_path)
    config = tmp_path / "examples/shop.yaml"
    rules = tmp_path / "examples/routing-full.yaml"
    shutil.copy(SHOP, config)
    shutil.copy(ROOT / "config/examples/routing-full.yaml", rules)
    return config, rules


def break_line(path: Path, old: str, new: str, at: str) -> tuple[int, int]:
    """Replace the one `old` in `path` by `new`; the line and column of `at` within `new`."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")
    before = text[: text.index(old)]
    line = before.count("\n") + 1
    col = len(before) - (before.rfind("\n") + 1) + new.index(at) + 1
    return line, col


def test_example_passes(tmp_path: Path) -> None:
    proc = kefu_check(SHOP, shop_env())
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert out.startswith(f"{SHOP}: ok")
    assert "pools: 9 (presale, aftersale, complaints, supervisors, general, night, clothing, 3c, mother_baby)" in out
    assert "agents: 16 (admin 1, agent 13, supervisor 2)" in out
    assert "shifts: day 09:00-22:00 (11); night 22:00-11:00 (3)" in out
    assert "rules: 20 from " in out and "routing-full.yaml" in out
    assert "SLA profiles: 5 (complaint, logistics, needs_checking, presale, return_exchange)" in out
    assert proc.stderr == ""


def test_unset_secrets_are_warnings(tmp_path: Path) -> None:
    env = shop_env()
    del env["KEFU_TOKEN_XU"], env["KEFU_WEBCHAT_SECRET"]
    proc = kefu_check(SHOP, env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    warnings = proc.stderr.splitlines()
    assert len(warnings) == 2, warnings
    assert re.fullmatch(rf"{SHOP}:\d+:16: warning: environment variable KEFU_TOKEN_XU is not set", warnings[0])
    assert "KEFU_WEBCHAT_SECRET is not set" in warnings[1]


def test_broken_copy_names_every_problem(tmp_path: Path) -> None:
    config, rules = shop_copy(tmp_path)
    expected = [
        (config, *break_line(config, "pools: [aftersale, 3c]", "pools: [aftersale, 3C]", "3C"),
         "unknown pool '3C'"),
        (config, *break_line(config, "skills: {sizing: 5}", "skills: {sizing: 6}", "6"),
         "skill level for 'sizing' must be 1 to 5"),
        (config, *break_line(config, "agents: [lin, yang, wu]", "agents: [lin, yang, wu, zhang]", "zhang"),
         "unknown agent 'zhang'"),
        (rules, *break_line(rules, "      pool: 3c\n", "      pool: digital\n", "digital"),
         "unknown pool 'digital'"),
    ]
    proc = kefu_check(config, shop_env())
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    for file, line, col, message in expected:
        prefix = f"{file}:{line}:{col}: "
        assert any(ln.startswith(prefix) and message in ln for ln in lines), (prefix, message, lines)
    assert len(lines) == len(expected), lines
    assert proc.stderr.strip().endswith("4 errors")


def test_bad_channel_settings_are_refused_at_their_key(tmp_path: Path) -> None:
    """What `kefu serve` refused at start-up as `FILE:1:1` (or not until the adapter was built),
    `kefu check` refuses at the key: the channel's own checks run in the settings layer."""
    config, _rules = shop_copy(tmp_path)
    wx_line, wx_col = break_line(config, "encoding_aes_key_env: KEFU_WECHAT_FASHION_AES_KEY",
                                 "encoding_aes_key: too-short", "too-short")
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("\nrouting:\n", "\n  telegram:\n    - bot: shopbot\n      token: 123:abc\n"
                                   "      mode: webhook\n\nrouting:\n", 1), encoding="utf-8")
    tg_line = config.read_text(encoding="utf-8").splitlines().index("      mode: webhook") + 1
    proc = kefu_check(config, shop_env())
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout.splitlines() == [
        f"{config}:{wx_line}:{wx_col}: channels.wechat: encoding_aes_key must be 43 characters, got 9",
        f"{config}:{tg_line}:13: channels.telegram: webhook mode needs secret_token (or secret_token_env), "
        "so nobody else can post updates",
    ]
    serve = subprocess.run([sys.executable, "-m", "router", "serve", "--config", str(config), "--port", "0",
                            "--data-dir", str(tmp_path / "data")], capture_output=True, text=True, timeout=120,
                           cwd=config.parent, env={**os.environ, **shop_env()})
    assert serve.returncode == 2
    assert serve.stderr.splitlines()[:2] == proc.stdout.splitlines()  # serve refuses exactly these


def test_unknown_sla_profile_is_refused_at_the_rule(tmp_path: Path) -> None:
    config, rules = shop_copy(tmp_path)
    line, _ = break_line(rules, "      sla: logistics\n", "      sla: logistic\n", "logistic")
    # Compiled rules keep each rule's line, not its keys': the `- name: logistics` above.
    rule_line = rules.read_text(encoding="utf-8").splitlines()[:line].index("  - name: logistics") + 1
    proc = kefu_check(config, shop_env())
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout.splitlines() == [
        f"{rules}:{rule_line}:1: rule 'logistics' names SLA profile 'logistic', which is not defined; "
        "profiles are: complaint, logistics, needs_checking, presale, return_exchange"]


def test_bad_settings_shape_stops_before_the_rules(tmp_path: Path) -> None:
    config, rules = shop_copy(tmp_path)
    line, col = break_line(config, "max_chats: 4                   # escalations",
                           "max_chats: four                # escalations", "four")
    break_line(rules, "      pool: 3c\n", "      pool: digital\n", "digital")
    proc = kefu_check(config, shop_env())
    assert proc.returncode == 2
    # Without settings there are no pools to check the rules against: one problem, not two.
    assert proc.stdout.splitlines() == [f"{config}:{line}:{col}: agents.1.max_chats: Expected `int`, got `str`"]


def test_serve_runs_the_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = shop_env()
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    proc = Serve(SHOP, None, tmp_path, data_dir=tmp_path / "data")
    try:
        proc.wait_ready(60)
        with urllib.request.urlopen(f"{proc.base}/console", timeout=5) as r:
            assert r.status == 200
            assert b"<html" in r.read().lower()
        req = urllib.request.Request(f"{proc.base}/api/v1/agents",
                                     headers={"Authorization": f"Bearer {env['KEFU_TOKEN_ADMIN']}"})
        with urllib.request.urlopen(req, timeout=5) as r:
            agents = {a["id"]: a for a in json.loads(r.read())["agents"]}
        assert len(agents) == 16
        assert f"serving {SHOP}" in proc.output()
    finally:
        code = proc.stop()
    log = proc.log.read_text(errors="replace")
    assert code == 0, log
    assert "shutting down" in log
