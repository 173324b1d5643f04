"""Every rule-file problem has a stable code and params (issue 19, item 8), and every code the
engine can produce has an English and a Chinese entry in the console's table
(console/rules_problems.js), so the Chinese console never falls back to the English message."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import pytest
from helpers.js_tables import console_table_sources

from kefu_common.errors import ConfigError, ConfigErrors
from kefu_common.yamlpos import YAML_SYNTAX_CODES, load_yaml
from router.config.problems import PROBLEMS as SETUP_PROBLEMS
from routing_rules import check_rules
from routing_rules.builder_write import write_form
from routing_rules.ctx import Ctx
from routing_rules.problems import KINDS, PROBLEMS
from routing_rules.regex import REFUSAL_CODES

ROOT = Path(__file__).resolve().parents[2]
TABLE = ROOT / "router" / "web" / "static" / "console" / "rules_problems.js"
BROKEN = sorted((Path(__file__).parent / "broken").glob("*.yaml"))
SOURCES = [*sorted((ROOT / "routing_rules").glob("*.py")), ROOT / "kefu_common" / "yamlpos.py",
           ROOT / "kefu_common" / "yaml_syntax.py"]


def table_keys() -> dict[str, set[str]]:
    tables = console_table_sources({TABLE.name: TABLE.read_text(encoding="utf-8")})
    assert len(tables) == 1
    return {lang: set(keys) for lang, keys in tables[0][1].items()}


def codes_in_source() -> dict[str, str]:
    """Each code literal the engine passes, to Ctx.err/warn (third argument) or as `code=`."""
    found: dict[str, str] = {}
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            args: list[ast.expr] = [k.value for k in node.keywords if k.arg == "code"]
            if isinstance(node.func, ast.Attribute) and node.func.attr in ("err", "warn") and len(node.args) >= 3:
                args.append(node.args[2])
            for a in args:
                if isinstance(a, ast.Constant) and isinstance(a.value, str) and a.value:
                    found[a.value] = f"{path.name}:{node.lineno}"
    # re2's refusals are looked up in a table of (what re2 says, code, hint).
    found.update(dict.fromkeys(REFUSAL_CODES, "regex.py"))
    found.update(dict.fromkeys(YAML_SYNTAX_CODES, "yamlpos.py"))
    return found


def test_the_engine_names_many_codes_and_each_is_listed() -> None:
    # yamlpos also reads the set-up documents' lists of records (FAQ entries, quick replies),
    # whose problems are in that catalogue (router/config/problems.py), not this one.
    used = {c: where for c, where in codes_in_source().items() if c not in SETUP_PROBLEMS}
    assert len(used) >= 45, sorted(used)
    assert {c: where for c, where in used.items() if c not in PROBLEMS} == {}
    # A listed code nothing produces is a table entry nobody reads.
    assert sorted(set(PROBLEMS) - set(used)) == []


def test_every_code_has_an_english_and_a_chinese_entry() -> None:
    keys = table_keys()
    for lang in ("en", "zh"):
        missing = sorted(c for c in PROBLEMS if f"rp_{c}" not in keys[lang])
        assert missing == [], f"{lang}: no entry for {missing}"
        kinds = sorted(k for k in KINDS if f"rp_kind_{k}" not in keys[lang])
        assert kinds == [], f"{lang}: no word for {kinds}"


def phrases_in_source() -> set[str]:
    """The `what` labels the readers are given that are words, not a YAML key (a space in them)."""
    found = set()
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("mapping", "string", "strings", "boolean", "integer", "known")
                    and node.args and isinstance(node.args[-1], ast.Constant)
                    and isinstance(node.args[-1].value, str) and " " in node.args[-1].value):
                found.add(node.args[-1].value)
    return found


def test_every_field_named_in_words_has_an_entry() -> None:
    """The console looks a phrase up as rpw_ + its letters and digits joined by _ (a key such
    as `pool` shows as written)."""
    keys = table_keys()
    phrases = phrases_in_source()
    assert len(phrases) >= 8, phrases
    slugs = {p: "rpw_" + re.sub(r"[^a-z0-9]+", "_", p.lower()).strip("_") for p in phrases}
    for lang in ("en", "zh"):
        assert sorted(p for p, k in slugs.items() if k not in keys[lang]) == [], lang


def test_a_missing_entry_is_caught() -> None:
    keys = table_keys()
    keys["zh"].discard("rp_duplicate_rule")
    assert "rp_duplicate_rule" not in keys["zh"] and "duplicate_rule" in PROBLEMS


def test_an_unlisted_code_is_refused() -> None:
    ctx = Ctx(load_yaml("a: 1"))
    with pytest.raises(KeyError, match="no_such_problem"):
        ctx.err(("a",), "whatever", "no_such_problem")


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.stem)
def test_every_problem_of_the_broken_files_has_a_listed_code(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    pools = re.search(r"^# pools: (.*)$", text, re.M)
    result = check_rules(text, str(path), pools=set(pools.group(1).split(",")) if pools else None)
    problems = result.errors + result.warnings
    assert problems
    for e in problems:
        assert e.code in PROBLEMS, (str(e), e.code)
        json.dumps(e.params)  # the rules API sends them as they are


def test_params_carry_the_values_the_message_names() -> None:
    text = """\
default: {pool: presale}
rules:
  - name: vip
    when: {segment: vip}
    then: {pool: presle, priority: urgentt, min_level: 9}
  - name: vip
    then: {pool: aftersale}
    colour: red
"""
    result = check_rules(text, "r.yaml", pools={"presale", "aftersale"})
    got = {e.code: (e.line, e.col, e.params) for e in result.errors}
    assert got["unknown_name"] == (5, 18, {"what": "pool", "name": "presle", "suggestion": "presale"})
    assert got["bad_priority"][2] == {"names": ["low", "normal", "high", "urgent"], "got": "string",
                                      "value": "urgentt"}
    assert got["min_level_range"][2] == {"level": 9}
    assert got["duplicate_rule"][2] == {"name": "vip", "line": 3}
    assert got["unknown_key"][2] == {"key": "colour", "expected": [
        "name", "description", "when", "then", "continue", "enabled"]}
    # The English message is the one the CLI printed before codes existed.
    messages = [e.message for e in result.errors]
    assert "unknown pool 'presle'; did you mean 'presale'?" in messages
    assert "duplicate rule name 'vip' (first at line 3)" in messages


def test_why_a_day_or_window_was_refused_is_named_too() -> None:
    text = """\
default: {pool: presale}
calendars:
  shop: {days: mon-fry, hours: "09:00-18:00"}
rules:
  - name: late
    when: {time: "9-18"}
    then: {pool: presale, fallback: [{after: soon, pool: presale}]}
"""
    result = check_rules(text, "r.yaml", pools={"presale"})
    got = {e.code: e.params for e in result.errors}
    assert got["bad_days"] == {"detail": "unknown day 'fry'; expected one of mon, tue, wed, thu, fri, sat, sun",
                               "reason": "unknown_day", "value": "fry",
                               "expected": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}
    assert got["bad_time"]["reason"] == "time_format" and got["bad_time"]["value"] == "9"
    assert got["bad_fallback_after"]["reason"] == "duration_format"
    assert "time: expected a time as HH:MM, got '9'" in [e.message for e in result.errors]


def test_what_re2_refused_is_named() -> None:
    text = """\
default: {pool: presale}
rules:
  - name: echo
    when: {matches: '(a)\\1'}
    then: {pool: presale}
  - name: ahead
    when: {matches: ['x(?=y)', '[']}
    then: {pool: presale}
"""
    result = check_rules(text, "r.yaml", pools={"presale"})
    reasons = [(e.line, e.params["reason"], e.params["pattern"]) for e in result.errors]
    assert reasons == [(4, "regex_backreference", "(a)\\1"), (7, "regex_lookahead", "x(?=y)"),
                       (7, "regex_missing_bracket", "[")]
    assert all(e.message.startswith(("regex '", "invalid regex '")) for e in result.errors)


@pytest.mark.parametrize(("text", "reason"), [
    ("a: b: c", "yaml_mapping_values"), ("a:\n  - x\n b: 1", "yaml_bad_indent"),
    ("a:\n\t- x", "yaml_bad_character"), ("a: [1, 2\nb: 3", "yaml_unclosed_list"),
    ("a: {x: 1\nb: 2", "yaml_unclosed_mapping"), ("a: 'abc", "yaml_unexpected_end"),
    ('a: "x\\q"', "yaml_bad_escape"), ("a: *nope", "yaml_undefined_alias"),
    ("a: b\n:c", "yaml_expected_colon"),
])
def test_a_yaml_syntax_error_has_a_code_and_says_what_it_is(text: str, reason: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_yaml(text)
    assert caught.value.code == "yaml_syntax"
    assert caught.value.params["reason"] == reason
    assert caught.value.message == f"YAML syntax: {caught.value.params['problem']}"


@pytest.mark.parametrize("rows", [
    [{"ref": 0}, {"ref": 0}], [{"name": "x", "keywords": "退款"}], [{"name": "x", "keywords": ["a\nb"]}],
    [{"name": "x", "bot": "yes"}], [{"name": "x", "colour": "red"}], ["x"], [{"ref": 9}],
    [{"name": "x", "pool": 3}], [{"name": "x", "priority": "very high"}], [{"name": " "}],
    [{"name": "a\nb"}],
], ids=str)
def test_every_refused_row_of_the_form_has_a_listed_code(rows: list[Any]) -> None:
    with pytest.raises(ConfigErrors) as caught:
        write_form("default: {pool: presale}\nrules:\n  - name: a\n    then: {pool: presale}\n", rows)
    for e in caught.value.errors:
        assert e.code in PROBLEMS and e.code.startswith("form_"), (e.message, e.code)
        json.dumps(e.params)
