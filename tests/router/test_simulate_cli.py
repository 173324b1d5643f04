"""`kefu simulate` as a user runs it: JSON with the figures, a plot, the shop's skills, a trace,
staffing per hour, and clear refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from router.cli.main import main

SHOP = Path(__file__).parents[2] / "config" / "examples" / "shop.yaml"
FIGURES = {"offered", "served", "abandoned", "service_level_30s", "asa_s", "occupancy", "erlang_a_service_level_30s"}


def run(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, object]:
    assert main(["simulate", *args, "--json"]) == 0
    out: dict[str, object] = json.loads(capsys.readouterr().out)
    return out


def test_a_short_day_with_a_plot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    png = tmp_path / "day.png"
    report = run(capsys, "--agents", "3", "--arrivals", "60", "--hours", "1", "--handle-dist", "lognormal",
                 "--plot", str(png))
    assert FIGURES <= set(report)
    assert report["offered"] == report["served"] + report["abandoned"]  # type: ignore[operator]
    assert 0 <= report["service_level_30s"] <= 1 and 0 < report["occupancy"] <= 1  # type: ignore[operator]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_shop_with_skills_and_a_trace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    trace = tmp_path / "trace.txt"
    trace.write_text("# two hours\n40\n80\n")
    report = run(capsys, "--skills", str(SHOP), "--trace", str(trace), "--hours", "2", "--policy", "round_robin")
    assert report["policy"] == "round_robin" and report["agents"] == 15  # the admin takes no chats
    assert 0 <= report["best_skilled_share"] <= 1  # type: ignore[operator]
    assert [h["offered"] > 0 for h in report["hours"]] == [True, True]  # type: ignore[attr-defined]


def test_find_agents_per_hour(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    trace = tmp_path / "trace.txt"
    trace.write_text("20\n0\n")
    table = run(capsys, "--trace", str(trace), "--handle-s", "120", "--find-agents", "--target-sl", "0.8")
    first, quiet = table["hours"]  # type: ignore[misc]
    assert first["agents_erlang_a"] >= 1 and first["agents"] >= 1 and first["service_level_30s"] >= 0.8
    assert quiet["agents"] == 0


@pytest.mark.parametrize(("args", "says"), [
    (["--agents", "0"], "--agents and --chats-per-agent must be at least 1"),
    (["--hours", "0"], "--handle-s, --hours and --handle-cv must be > 0"),
    (["--target-sl", "80"], "--target-sl is a fraction"),
])
def test_refusals(args: list[str], says: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["simulate", *args])
    assert stop.value.code == 2 and says in capsys.readouterr().err


def test_a_bad_trace_names_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    trace = tmp_path / "trace.txt"
    trace.write_text("10\n\nlots\n")
    with pytest.raises(SystemExit):
        main(["simulate", "--trace", str(trace)])
    assert f"{trace}:3:1: expected arrivals in an hour (a number), got 'lots'" in capsys.readouterr().err
