"""Each kind of error re2 reports for a pattern has its own code, worded in Chinese and English by
the console, with the part of the pattern re2 stopped at (issue 19, item 8): re2's English
(`params.raw`) reaches only the CLI's message. One pattern per kind, through the whole check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.broken_texts import RE2_KINDS as KINDS
from helpers.js_tables import console_table_sources

from routing_rules import check_rules
from routing_rules.problems import PROBLEMS
from routing_rules.regex import REFUSAL_CODES, refusal

TABLE = Path(__file__).resolve().parents[2] / "router" / "web" / "static" / "console" / "rules_problems.js"



def rules_with(pattern: str) -> str:
    # A JSON string is a YAML double-quoted one: the backslashes and a lone surrogate survive.
    return f"default: {{pool: a}}\nrules:\n  - name: x\n    when: {{matches: {json.dumps(pattern)}}}\n" \
           f"    then: {{pool: a}}\n"


@pytest.mark.parametrize(("pattern", "code", "found"), KINDS, ids=[f"{c}-{i}" for i, (_, c, _) in enumerate(KINDS)])
def test_each_kind_of_re2_error_has_its_code(pattern: str, code: str, found: str | None) -> None:
    result = check_rules(rules_with(pattern), "r.yaml", pools={"a"})
    assert len(result.errors) == 1, [str(e) for e in result.errors]
    e = result.errors[0]
    assert (e.code, e.params["reason"]) == ("bad_pattern", code), e.params["raw"]
    assert e.params.get("found") == found
    assert e.line == 4
    json.dumps(e.params)  # the rules API sends them as they are
    assert e.message.startswith(("regex '", "invalid regex '"))


def test_the_kinds_cover_every_code_but_the_fallback() -> None:
    # re2 names "invalid character class" among its error codes, but its parser (this version)
    # reports every bad class as a bad range: that code is reached through refusal() below.
    assert {c for _, c, _ in KINDS} == REFUSAL_CODES - {"regex_invalid", "regex_bad_class"}
    assert refusal("[x", "invalid character class: [x").code == "regex_bad_class"


def test_an_error_re2_may_add_later_falls_back_and_names_the_pattern() -> None:
    e = refusal("a+", "some new complaint: a+")
    assert (e.code, e.params) == ("regex_invalid", {"pattern": "a+", "raw": "some new complaint: a+",
                                                    "found": "a+"})


def test_a_lone_surrogate_is_shown_escaped() -> None:
    e = refusal("a\ud800", "invalid UTF-8")
    assert e.params["pattern"] == "a\\ud800"


def test_every_code_is_listed_and_worded_in_both_languages() -> None:
    tables = console_table_sources({TABLE.name: TABLE.read_text(encoding="utf-8")})
    keys = {lang: set(k) for lang, k in tables[0][1].items()}
    assert REFUSAL_CODES <= set(PROBLEMS)
    for lang in ("en", "zh"):
        assert sorted(c for c in REFUSAL_CODES if f"rp_{c}" not in keys[lang]) == [], lang
