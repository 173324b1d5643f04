"""The one-line summary each rule version keeps, worked out from the diff and the rule names."""

from __future__ import annotations

import difflib

from helpers.rulesets import RULES_A

from router.rules.versions import summarize, version_number

EXTRA = """\
  - name: night
    when: {time: '22:00-08:00'}
    then: {pool: presale, bot: true}
"""


def _summary(old: str, new: str) -> str:
    diff = "".join(difflib.unified_diff(old.splitlines(True), new.splitlines(True)))
    return summarize(old, new, diff)


def test_summaries_name_what_changed() -> None:
    assert _summary("", RULES_A) == "first version, 1 rule"
    assert _summary(RULES_A, RULES_A) == "same source as before"
    assert _summary(RULES_A, RULES_A + EXTRA) == "rules added: night; +3 -0 lines"
    assert _summary(RULES_A + EXTRA, RULES_A) == "removed: night; +0 -3 lines"
    swapped = RULES_A.replace("  - name: refund", EXTRA + "  - name: refund", 1)
    assert _summary(RULES_A + EXTRA, swapped) == "rules reordered; +3 -3 lines"
    assert _summary(RULES_A, RULES_A.replace("presale", "aftersale", 1)) == "+1 -1 lines"
    # A source that does not parse still gets a line count, never an exception.
    assert _summary("rules: [", RULES_A).endswith("lines")


def test_version_numbers_order_versions_and_ignore_content_hashes() -> None:
    assert version_number("v12") > version_number("v9") > version_number("3f2a9c0d1e4b") == 0
    assert version_number("builtin") == 0
