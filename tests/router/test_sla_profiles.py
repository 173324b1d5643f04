"""SLA profiles load loud: every problem at FILE:LINE:COL; the shipped files agree."""

from __future__ import annotations

from pathlib import Path

import pytest

from router.errors import ConfigErrors
from router.settings import parse_settings
from router.sla import check_rules, profiles_path
from router.sla_profiles import load_profiles, parse_profiles
from routing_rules import load_rules

CONFIG = Path(__file__).resolve().parents[2] / "config"


def test_the_shipped_profiles_follow_the_domain_defaults() -> None:
    p = load_profiles(CONFIG / "sla.yaml")
    assert p["return_exchange"].first_response_s == 300
    assert p["logistics"].first_response_s == 300 and p["logistics"].resolution_s == 48 * 3600
    complaint = p["complaint"]
    assert complaint.escalate is not None and complaint.escalate.after_s == 3600
    assert complaint.escalate.pool == "supervisors" and complaint.resolution_s == 24 * 3600
    assert [(f.after_s, f.task) for f in complaint.follow_up] == [(72 * 3600, "satisfaction_call")]
    assert p["needs_checking"].resolution_s == 24 * 3600
    assert complaint.to_json()["escalate"] == {"pool": "supervisors", "on_breach": ["resolution"], "after": 3600.0}


@pytest.mark.parametrize("rules", ["routing.yaml", "examples/routing-full.yaml"])
def test_every_profile_the_shipped_rules_name_exists(rules: str) -> None:
    ruleset = load_rules(CONFIG / rules)
    assert check_rules(ruleset, load_profiles(CONFIG / "sla.yaml")) == []


def test_the_packaged_file_is_the_default() -> None:
    path = profiles_path(parse_settings("{}", "<t>"))
    assert path is not None and path.name == "sla.yaml"


def test_errors_name_file_line_and_column() -> None:
    text = """\
warn_at: 1.5
profiles:
  complaint:
    first_respons: 5m
    resolution: soon
    escalate: {pool: supervisors}
    follow_up:
      - {task: call}
  fine:
    next_response: 0s
"""
    with pytest.raises(ConfigErrors) as info:
        parse_profiles(text, "sla.yaml")
    lines = str(info.value).splitlines()
    assert lines[0].startswith("sla.yaml:1:10: warn_at: expected a fraction")
    assert "sla.yaml:4:5: unknown key 'first_respons'; did you mean 'first_response'?" in lines
    assert any(x.startswith("sla.yaml:5:17: resolution: expected a duration") for x in lines)
    assert "sla.yaml:6:15: escalate: give `after` (a duration), `on_breach` (targets), or both" in lines
    assert "sla.yaml:8:9: follow_up step: `after` (a duration) is required" in lines
    assert "sla.yaml:10:20: next_response: must be more than 0" in lines


def test_rules_naming_an_unknown_profile_are_reported_at_the_rule(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("default: {pool: presale}\nrules:\n  - name: x\n    when: {contains: a}\n    then: {sla: nope}\n")
    errors = check_rules(load_rules(rules), parse_profiles("profiles: {quick: {first_response: 1m}}"))
    assert [str(e) for e in errors] == [
        f"{rules}:3:1: rule 'x' names SLA profile 'nope', which is not defined; profiles are: quick"]
