"""`kefu loadgen` against a real `kefu serve`: a report with counts and percentiles, and clear
refusals for arguments it cannot use."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.procs import Serve

from router.cli.main import main
from router.loadgen.run import Plan, schedule
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

        # Customers joining over a second: each opens its chat when it joins, none is lost.
        out = subprocess.run(
            [sys.executable, "-m", "router", "loadgen", proc.base, *tokens, "--customers", "20", "--rate", "40",
             "--duration", "2", "--ramp", "1", "--script", str(script), "--drain", "300", "--json", "--quiet"],
            capture_output=True, text=True, timeout=600, check=False)
        assert out.returncode == 0, out.stderr[-2000:]
        report = json.loads(out.stdout)
        lines = schedule(Plan(bases=("x",), agent_tokens=("t",), customers=20, rate=40, duration_s=2, ramp_s=1))
        assert report["sent"] == report["delivered_to_agent"] == len(lines) and report["lost_to_agent"] == 0
        # Every customer opened a chat; one that wrote a fourth line opened another (closed after three).
        assert {i for _, i, seq in lines if seq == 0} == set(range(20))
        assert report["first_line_to_agent_ms"]["n"] == sum(1 for _, _, seq in lines if seq % 3 == 0)
    finally:
        proc.stop()


def test_ramp_spreads_the_first_lines_and_keeps_each_customers_pace() -> None:
    plan = Plan(bases=("x",), agent_tokens=("t",), customers=200, rate=1000, duration_s=10, ramp_s=2)
    lines = schedule(plan)
    assert [at for at, _, _ in lines] == sorted(at for at, _, _ in lines)
    firsts = {i: at for at, i, seq in lines if seq == 0}
    assert len(firsts) == 200 and firsts[0] == 0
    # Each joins at i * 10 ms and opens its chat within a few ms of that: 100 new chats a second.
    assert all(i * 0.01 - 1e-9 <= firsts[i] < i * 0.01 + 0.02 for i in range(200))
    # Never two lines in the same instant: once all joined, one every 1 / rate, as without a ramp.
    times = [round(at, 6) for at, _, _ in lines]
    assert len(set(times)) == len(times)
    for i in (0, 57, 199):  # each customer writes every customers / rate = 0.2 s once it joined
        own = [at for at, c, _ in lines if c == i]
        assert all(b - a == pytest.approx(0.2) for a, b in itertools.pairwise(own))
    late = [at for at, _, _ in lines if at >= 2]
    assert len(late) == pytest.approx(8000, abs=2)  # the full rate once all have joined
    # Without a ramp: the lines go round the customers at the rate, every first line first.
    flat = schedule(Plan(bases=("x",), agent_tokens=("t",), customers=200, rate=1000, duration_s=10))
    assert len(flat) == 10_000 and flat[:200] == [(n / 1000, n, 0) for n in range(200)]
    assert flat[200] == (0.2, 0, 1)


@pytest.mark.parametrize(("args", "says"), [
    (["ws://x"], "is not an http(s) base URL"),
    (["http://127.0.0.1:1"], "give at least one agent"),
    (["http://127.0.0.1:1", "--agent-token", "t", "--customers", "0"], "--customers must be at least 1"),
    (["http://127.0.0.1:1", "--agent-token", "t", "--rate", "-1"], "--rate must be >= 0"),
    (["http://127.0.0.1:1", "--agent-tokens-file", "/nonexistent/tokens"], "cannot read /nonexistent/tokens"),
    (["http://127.0.0.1:1", "--agent-token", "t", "--ramp", "-1"], "--ramp must be >= 0"),
    (["http://127.0.0.1:1", "--agent-token", "t", "--duration", "5", "--ramp", "5"], "shorter than --duration"),
    (["http://127.0.0.1:1", "--agent-token", "t", "--rate", "0", "--ramp", "1"], "--ramp needs a --rate"),
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
