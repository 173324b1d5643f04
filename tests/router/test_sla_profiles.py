"""SLA profiles load loud: every problem at FILE:LINE:COL; the shipped files agree."""

from __future__ import annotations

from pathlib import Path

import pytest

from kefu_common.errors import ConfigErrors
from router.config.settings import parse_settings
from router.ops.sla import check_rules, profiles_path
from router.ops.sla_profiles import load_profiles, parse_profiles
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
    promise = p["needs_checking"].promise
    assert promise is not None and promise.within_s == 24 * 3600 and "24 小时" in promise.text("zh")
    assert "within 24 hours" in promise.text("en") and p["needs_checking"].to_json()["promise"] is True
    assert all(p[n].promise is None for n in p if n != "needs_checking")
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


def test_a_promise_is_worded_from_its_target_in_the_customers_language() -> None:
    p = parse_profiles("""\
profiles:
  a: {first_response: 90m, resolution: 2h, promise: {within: first_response, zh: "{time}内", en: "in {time}"}}
  b: {resolution: 1m, promise: {zh: "{time}内回复"}}
  c: {resolution: 45s, promise: {en: "within {time}"}}
""")
    said = {(name, lang): prof.promise.text(lang) for name, prof in p.items() if prof.promise for lang in ("zh", "en")}
    assert (said["a", "zh"], said["a", "en"]) == ("90 分钟内", "in 90 minutes")
    assert said["b", "en"] == "1 分钟内回复"  # only Chinese was written
    assert said["c", "zh"] == "within 45 seconds"


def test_a_bad_promise_is_reported_at_its_line() -> None:
    text = """\
profiles:
  a:
    first_response: 5m
    promise: {zh: "稍候"}
  b:
    resolution: 24h
    promise: {within: next_response, en: "in {when}", fr: "bientôt"}
  c:
    resolution: 24h
    promise: {}
"""
    with pytest.raises(ConfigErrors) as info:
        parse_profiles(text, "sla.yaml")
    lines = str(info.value).splitlines()
    assert lines == [
        "sla.yaml:4:14: promise: `within` must name a target this profile sets (first_response), got 'resolution'",
        "sla.yaml:7:55: unknown key 'fr'; expected one of within, zh, en",
        "sla.yaml:7:23: promise: `within` must name a target this profile sets (resolution), got 'next_response'",
        "sla.yaml:7:42: promise.en: expected text, with {time} where the time goes",
        "sla.yaml:10:14: promise: give the text in zh, en or both",
    ]
