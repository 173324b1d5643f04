"""`kefu loadgen` against a real `kefu serve`: a report with counts and percentiles, and clear
refusals for arguments it cannot use."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.procs import Serve

from router.cli.main import main
from router.loadgen.tally import render

CONFIG = ("pools:\n  - id: presale\nagents:\n"
          + "".join(f"  - id: a{i}\n    token: a{i}-token-123456\n    pools: [presale]\n    max_chats: 10\n"
                    for i in range(4)))


def test_loadgen_reports_latency_and_no_loss(redis_url: str, tmp_path: Path) -> None:
    cfg = tmp_path / "kefu.yaml"
    cfg.write_text(CONFIG)
    script = tmp_path / "script.txt"
    script.write_text("在吗\n\n有货吗\n谢谢\n")
    proc = Serve(cfg, redis_url, tmp_path)
    try:
        proc.wait_ready(60)
        tokens = [a for i in range(4) for a in ("--agent-token", f"a{i}-token-123456")]
        out = subprocess.run(
            [sys.executable, "-m", "router", "loadgen", proc.base, *tokens, "--customers", "40", "--rate", "60",
             "--duration", "2", "--script", str(script), "--drain", "300", "--json"],
            capture_output=True, text=True, timeout=600, check=False)
        assert out.returncode == 0, out.stderr[-2000:]
        report = json.loads(out.stdout)
        assert report["sent"] == 120 and report["delivered_to_agent"] == 120 and report["lost_to_agent"] == 0
        assert report["answers_delivered"] == 120 and report["lost_to_customer"] == 0
        assert report["duplicates_at_agent"] == 0 and report["duplicates_at_customer"] == 0
        # 40 customers, three lines each, the chat closed after the third: 40 conversations
        assert report["conversations_assigned"] == 40
        c2a = report["customer_to_agent_ms"]
        assert 0 < c2a["p50"] <= c2a["p90"] <= c2a["p99"] <= c2a["max"]
        # A new chat's first line (decided, assigned) apart from the follow-ups (held already).
        assert (report["first_line_to_agent_ms"]["n"], report["follow_up_to_agent_ms"]["n"]) == (40, 80)
        assert "a new chat's first line: p50" in render(report)
        assert "lines" in out.stderr  # progress
    finally:
        proc.stop()


@pytest.mark.parametrize(("args", "says"), [
    (["ws://x"], "is not an http(s) base URL"),
    (["http://127.0.0.1:1"], "give at least one agent"),
    (["http://127.0.0.1:1", "--agent-token", "t", "--customers", "0"], "--customers must be at least 1"),
    (["http://127.0.0.1:1", "--agent-token", "t", "--rate", "-1"], "--rate must be >= 0"),
    (["http://127.0.0.1:1", "--agent-tokens-file", "/nonexistent/tokens"], "cannot read /nonexistent/tokens"),
])
def test_loadgen_refuses_bad_arguments(args: list[str], says: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["loadgen", *args])
    assert stop.value.code == 2
    assert says in capsys.readouterr().err


def test_loadgen_refuses_an_empty_script(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "script.txt"
    empty.write_text("\n\n")
    with pytest.raises(SystemExit):
        main(["loadgen", "http://127.0.0.1:1", "--agent-token", "t", "--script", str(empty)])
    assert f"{empty}:1:1: the script has no lines" in capsys.readouterr().err
