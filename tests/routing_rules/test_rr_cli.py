"""`kefu rules check | explain | replay` as functions: exit codes and output."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest
from test_rr_replay import NEW, OLD, write_trace

from routing_rules.cli import add_rules_parsers, main

ROOT = Path(__file__).parents[2]
BROKEN = Path(__file__).parent / "broken"


def test_parsers_attach_to_a_caller_subparsers() -> None:
    parser = argparse.ArgumentParser(prog="kefu")
    rules = parser.add_subparsers(dest="cmd").add_parser("rules")
    add_rules_parsers(rules.add_subparsers(dest="rules_cmd", required=True))
    args = parser.parse_args(["rules", "check", "x.yaml", "--pools", "a,b"])
    assert args.func.__name__ == "cmd_check" and args.pools == "a,b"


def test_check_valid_file(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", str(ROOT / "config/routing.yaml"), "--pools", "presale,aftersale",
                 "--skills", "english"])
    out = capsys.readouterr().out
    assert code == 0
    assert "ok, 12 rules, version " in out


def test_check_invalid_file_prints_positions(capsys: pytest.CaptureFixture[str]) -> None:
    path = BROKEN / "unknown_pool.yaml"
    code = main(["check", str(path), "--pools", "presale,aftersale"])
    captured = capsys.readouterr()
    assert code == 1
    assert captured.out == (
        f"{path}:8:18: unknown pool 'aftersales'; did you mean 'aftersale'?\n"
    )
    assert "1 error" in captured.err


def test_check_with_warnings_only_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    path = BROKEN / "shadowed.yaml"
    assert main(["check", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{path}:13:5: warning: rule 'vip-refund' can never match")
    assert out[-1].endswith("2 warning(s)")


def test_check_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["check", str(tmp_path / "nope.yaml")]) == 1
    assert "nope.yaml:1:1: cannot read" in capsys.readouterr().out


def test_explain_prints_decision_and_every_miss(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["explain", str(ROOT / "config/routing.yaml"), "--text", "快递三天了还没到",
                 "--channel", "wechat", "--tag", "vip", "--at", "2026-11-11T10:00"])
    out = capsys.readouterr().out
    assert code == 0
    assert "message at 2026-11-11T10:00:00+08:00 (Asia/Shanghai)" in out
    assert "pool: aftersale\n" in out and "first: bot\n" in out and "rule: logistics\n" in out
    why = out.split("why:\n", 1)[1].splitlines()
    assert why[0] == "  rule 'vip-boost' did not match: segment is 'new', not 'vip'"
    assert why[-1] == "  rule 'logistics' decided: intent 'logistics' detected"
    assert len(why) == 9  # the seven earlier rules, one line each, then the decider


def test_explain_sees_the_product_on_the_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules = tmp_path / "r.yaml"
    rules.write_text("default: {pool: presale}\nrules:\n  - name: down\n    when: {product_title: 羽绒服}\n"
                     "    then: {pool: aftersale}\n", encoding="utf-8")
    assert main(["explain", str(rules), "--text", "有货吗", "--product", "sku-1", "--product-title", "加厚羽绒服"]) == 0
    out = capsys.readouterr().out
    assert "rule: down\n" in out and "product title contains '羽绒服'" in out
    assert main(["explain", str(rules), "--text", "有货吗"]) == 0
    assert "no product on the customer's page" in capsys.readouterr().out


def test_explain_invalid_rules(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", str(BROKEN / "bad_regex.yaml"), "--text", "x"]) == 1
    assert "invalid regex" in capsys.readouterr().out


def test_replay_prints_summary_and_progress(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    trace = tmp_path / "t.jsonl"
    write_trace(trace)
    (tmp_path / "old.yaml").write_text(OLD, encoding="utf-8")
    (tmp_path / "new.yaml").write_text(NEW, encoding="utf-8")
    code = main(["replay", "--rules", str(tmp_path / "new.yaml"), "--trace", str(trace),
                 "--old", str(tmp_path / "old.yaml")])
    captured = capsys.readouterr()
    assert code == 0
    assert "replayed 17 decisions" in captured.out
    assert "changed pool:        7 (41.2%)" in captured.out
    assert "replay: 100%" in captured.err and len(captured.err.splitlines()) <= 11


def test_replay_bad_trace_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    trace = tmp_path / "t.jsonl"
    trace.write_text('{"ts": "2026-11-11"}\n', encoding="utf-8")
    (tmp_path / "new.yaml").write_text(NEW, encoding="utf-8")
    assert main(["replay", "--rules", str(tmp_path / "new.yaml"), "--trace", str(trace)]) == 1
    assert f"{trace}:1:1: bad trace record" in capsys.readouterr().out


def test_module_entry_point_runs() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "routing_rules.cli", "check", str(BROKEN / "yaml_error.yaml")],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )
    assert proc.returncode == 1
    assert proc.stdout.startswith(f"{BROKEN / 'yaml_error.yaml'}:7:9: YAML syntax:")
