"""Admin regexes run on re2: hostile patterns cannot stall a decision; re2-only syntax is refused."""

from __future__ import annotations

import time

import pytest
from rr_helpers import inp, one_rule

from kefu_common.errors import ConfigErrors
from routing_rules import check_rules

HOSTILE = [
    ("(a+)+$", "a" * 50_000 + "!"),
    ("(a|aa)+$", "a" * 50_000 + "!"),
    ("(.*a){20}", "a" * 5_000),
    ("^(\\w+\\s?)*$", "word " * 10_000 + "!"),
]


@pytest.mark.parametrize(("pattern", "text"), HOSTILE)
def test_hostile_regex_cannot_stall_decide(pattern: str, text: str) -> None:
    rules = one_rule(f"{{matches: '{pattern}'}}")
    start = time.perf_counter()
    for _ in range(5):
        rules.decide(inp(text))
    # Backtracking `re` takes minutes on the first two; re2 is linear in the text.
    assert time.perf_counter() - start < 2.0


REFUSED = [
    ("(a)\\1", "backreferences"),
    ("(?=x)y", "lookahead"),
    ("(?!x)y", "negative lookahead"),
    ("(?<=x)y", "lookbehind"),
    ("(?>a+)", "atomic groups"),
    ("a{2000}", "repetition counts are at most 1000"),
]


@pytest.mark.parametrize(("pattern", "why"), REFUSED)
def test_re2_refusals_say_why(pattern: str, why: str) -> None:
    text = f"default: {{pool: a}}\nrules:\n  - {{name: x, when: {{matches: '{pattern}'}}, then: {{}}}}\n"
    result = check_rules(text, "r.yaml")
    assert len(result.errors) == 1
    msg = result.errors[0].message
    assert why in msg and "re2" in msg and "linear time" in msg
    with pytest.raises(ConfigErrors):
        one_rule(f"{{matches: '{pattern}'}}")


def test_regex_is_case_insensitive_and_sees_folded_text() -> None:
    rules = one_rule("{matches: 'ORDER\\s*#?\\d+'}")
    assert rules.decide(inp("my Order #１２３ is late")).pool == "hit"  # full-width digits fold
