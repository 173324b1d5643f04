"""`check_rules` reports every problem at its FILE:LINE:COL; shipped files pass."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kefu_common.errors import ConfigError, ConfigErrors
from routing_rules import check_rules, compile_rules, load_rules

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
BROKEN = sorted((HERE / "broken").glob("*.yaml"))
DEMO_POOLS = {"presale", "aftersale"}
FULL_POOLS = {"presale", "aftersale", "complaints", "supervisors", "general", "night",
              "clothing", "3c", "mother_baby"}
FULL_SKILLS = {"english", "japanese", "sizing", "electronics", "infant_care", "complaints"}


def test_there_are_broken_files() -> None:
    assert len(BROKEN) >= 8


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.stem)
def test_broken_file_reports_exact_position(path: Path) -> None:
    """Each file's `# expect: LINE:COL: message` header lines are the diagnostics, in order."""
    text = path.read_text(encoding="utf-8")
    expected = [f"{path}:{m}" for m in re.findall(r"^# expect: (.*)$", text, re.M)]
    pools = re.search(r"^# pools: (.*)$", text, re.M)
    known = set(pools.group(1).split(",")) if pools else None
    result = check_rules(text, str(path), pools=known)
    got = result.lines()
    assert len(got) == len(expected), got
    for line, want in zip(got, expected, strict=True):
        assert line.startswith(want), (line, want)
    is_warning_only = all(": warning: " in e for e in expected)
    assert result.ok is is_warning_only


@pytest.mark.parametrize(
    ("path", "pools", "skills"),
    [
        ("config/routing.yaml", DEMO_POOLS, {"english"}),
        ("config/examples/routing-full.yaml", FULL_POOLS, FULL_SKILLS),
    ],
)
def test_shipped_rules_pass_check_without_warnings(
    path: str, pools: set[str], skills: set[str]
) -> None:
    result = check_rules((ROOT / path).read_text(encoding="utf-8"), path, pools=pools,
                         skills=skills)
    assert result.lines() == []
    assert result.ruleset is not None and result.ruleset.pools == pools


def test_demo_rules_know_only_the_demo_pools() -> None:
    with pytest.raises(ConfigErrors):
        load_rules(ROOT / "config/routing.yaml", pools={"presale"})


def test_compile_raises_every_error_at_once() -> None:
    text = """default: {pool: presale}
rules:
  - name: a
    when: {intent: refnd}
    then: {pool: x, min_level: 0}
  - name: a
    then: {priority: huge}
"""
    with pytest.raises(ConfigErrors) as info:
        compile_rules(text, "r.yaml", pools={"presale"})
    assert [str(e) for e in info.value.errors] == [
        "r.yaml:4:20: unknown intent 'refnd'; did you mean 'refund'?",
        "r.yaml:5:18: unknown pool 'x'; known: presale",
        "r.yaml:5:32: min_level: expected 1 to 5, got 0",
        "r.yaml:6:11: duplicate rule name 'a' (first at line 3)",
        "r.yaml:7:22: priority: expected an integer or one of low (0), normal (10), high (20), "
        "urgent (30), got a string 'huge'",
    ]
    assert isinstance(info.value, ConfigError) and isinstance(info.value, ValueError)


ERRORS = [
    # (rules text, expected message fragment, line, col)
    ("rules: []\n", "missing 'default'", 1, 1),
    ("default: {pol: a}\n", "unknown key 'pol'; did you mean 'pool'?", 1, 11),
    ("timezone: Mars/Base\ndefault: {pool: a}\n", "unknown timezone 'Mars/Base'", 1, 11),
    ("default: {pool: a}\nrules: {a: 1}\n", "rules: expected a list of rules, got a mapping", 2, 8),
    ("default: {pool: a}\nrules:\n  - name: x\n", "missing 'then'", 3, 5),
    ("default: {pool: a}\nrules:\n  - {name: x, when: {any: []}, then: {}}\n",
     "any: expected a non-empty list of conditions, got an empty list", 3, 27),
    ("default: {pool: a}\nrules:\n  - {name: x, when: {message_count: '>=x'}, then: {}}\n",
     "message_count: expected an integer, a quoted comparison", 3, 37),
    ("default: {pool: a}\nrules:\n  - {name: x, when: {time: '25:00-26:00'}, then: {}}\n",
     "time: time '25:00' is out of range", 3, 28),
    ("default: {pool: a}\nrules:\n  - {name: x, when: {days: funday}, then: {}}\n",
     "days: unknown day 'funday'", 3, 28),
    ("default: {pool: a}\nrules:\n  - {name: x, when: {product: []}, then: {}}\n",
     "product: expected a string or a list of strings, got an empty list", 3, 31),
    ("default: {pool: a}\nrules:\n  - {name: x, when: {product_title: {a: 1}}, then: {}}\n",
     "word of a product title: expected a string or a list of strings, got a mapping", 3, 37),
    ("default: {pool: a}\nrules:\n  - {name: x, when: {prodcut: a}, then: {}}\n",
     "did you mean 'product'?", 3, 22),
    ("default: {pool: a}\nrules:\n  - {name: x, when: {angry: maybe}, then: {}}\n",
     "angry: expected true or false, got a string", 3, 29),
    ("default: {pool: a}\nrules:\n  - {name: x, then: {bot: true, human: true}}\n",
     "give either bot: true or human: true, not both", 3, 40),
    ("default: {pool: a}\nrules:\n  - {name: x, continue: true, then: {pool: b}}\n",
     "'pool' in a continue rule", 3, 38),
    ("default: {pool: a}\nrules:\n  - {name: x, then: {fallback: [{after: 5m, pool: a}, "
     "{after: 60s, pool: a}]}}\n", "increasing order", 3, 63),
    ("default: {pool: a}\nrules:\n  - {name: x, then: {fallback: [{after: soon, pool: a}]}}\n",
     "fallback after: expected a duration like 60s", 3, 41),
    ("default: {pool: a}\nrules:\n  - {name: x, then: {fallback: [{after: 1m}]}}\n",
     "give either pool: NAME or any_agent: true", 3, 33),
    ("calendars:\n  c: {days: mon-fri, hours: '9-17'}\ndefault: {pool: a}\n",
     "hours: expected a time as HH:MM", 2, 29),
    ("intents:\n  Bad-Name: {keywords: [x]}\ndefault: {pool: a}\n", "intent name 'Bad-Name'", 2, 3),
    ("intents:\n  refund: {keywords: [x], patterns: ['(?<=a)b']}\ndefault: {pool: a}\n",
     "lookbehind", 2, 38),
    ("intents:\n  thing: {}\ndefault: {pool: a}\n", "no keywords or patterns left", 2, 10),
    ("default: {pool: a}\nrules:\n  - {name: off, then: {}}\n", "quotes", 3, 12),
]


@pytest.mark.parametrize(("text", "fragment", "line", "col"), ERRORS)
def test_error(text: str, fragment: str, line: int, col: int) -> None:
    result = check_rules(text, "f.yaml")
    assert result.errors, "expected an error"
    first = next((e for e in result.errors if fragment in e.message), None)
    assert first is not None, result.lines()
    assert (first.line, first.col) == (line, col), str(first)


WARNINGS = [
    ("default: {pool: a}\nrules:\n  - {name: x, when: {channel: wechta}, then: {}}\n",
     "channel 'wechta' is not a known channel; did you mean 'wechat'?"),
    ("intents:\n  refund: {remove_keywords: [nothing]}\ndefault: {pool: a}\n",
     "keyword 'nothing' is not in the list"),
]


@pytest.mark.parametrize(("text", "fragment"), WARNINGS)
def test_warning(text: str, fragment: str) -> None:
    result = check_rules(text, "f.yaml")
    assert result.ok and result.ruleset is not None
    assert len(result.warnings) == 1
    assert fragment in str(result.warnings[0])
    assert ": warning: " in str(result.warnings[0])


SHADOW = [
    # (earlier when, later when, warned)
    ("{}", "{intent: refund}", True),
    ("{intent: [refund, logistics]}", "{intent: refund, channel: wechat}", True),
    ("{channel: [wechat, telegram]}", "{channel: wechat}", True),
    ("{contains: 退款}", "{contains: 退款进度}", True),
    ("{contains: [退款, 退货]}", "{contains_all: [退货, 包装]}", True),
    ("{days: mon-fri}", "{days: [mon, tue]}", True),
    ("{message_count: '>= 3'}", "{message_count: {min: 5, max: 9}}", True),
    ("{tag: [a, b]}", "{tags_all: [b, c]}", True),
    ("{any: [{tag: a}, {angry: true}]}", "{any: [{angry: true}, {tag: a}], segment: vip}", True),
    ("{all: [{segment: vip}, {channel: wechat}]}", "{channel: wechat, segment: vip, tag: x}", True),
    # Not provable, so not warned:
    ("{intent: refund}", "{intent: [refund, logistics]}", False),
    ("{channel: wechat}", "{channel: [wechat, telegram]}", False),
    ("{contains: 退款进度}", "{contains: 退款}", False),
    ("{message_count: '>= 5'}", "{message_count: '>= 3'}", False),
    ("{time: '09:00-18:00'}", "{time: '10:00-11:00'}", False),
    ("{any: [{tag: a}, {tag: b}]}", "{tag: a}", False),
    ("{tags_all: [a, b]}", "{tag: a}", False),
]


@pytest.mark.parametrize(("earlier", "later", "warned"), SHADOW)
def test_shadow_warning(earlier: str, later: str, warned: bool) -> None:
    text = (
        "default: {pool: a}\nrules:\n"
        f"  - name: first\n    when: {earlier}\n    then: {{pool: b}}\n"
        f"  - name: second\n    when: {later}\n    then: {{pool: c}}\n"
    )
    result = check_rules(text, "s.yaml")
    assert result.ok, result.lines()
    assert bool(result.warnings) is warned, result.lines()
    if warned:
        assert str(result.warnings[0]).startswith(
            "s.yaml:6:5: warning: rule 'second' can never match: earlier rule 'first' (line 3)"
        )


def test_continue_rule_never_shadows() -> None:
    text = ("default: {pool: a}\nrules:\n  - {name: t, continue: true, then: {tags: [x]}}\n"
            "  - {name: d, then: {pool: b}}\n")
    assert check_rules(text).warnings == []


def test_check_never_crashes_on_mangled_files() -> None:
    """Deleting, duplicating and retyping lines of a real file yields diagnostics, not tracebacks."""
    import random

    src = (ROOT / "config/examples/routing-full.yaml").read_text(encoding="utf-8").splitlines()
    rng = random.Random(7)
    values = ["true", "[]", "{}", "5", "null", "'x'", "[a, 1]", "{a: 1}", "-1", "'(a)\\1'"]
    for _ in range(120):
        lines = list(src)
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(lines))
            op = rng.randrange(3)
            if op == 0:
                del lines[i]
            elif op == 1 and ":" in lines[i]:
                lines[i] = lines[i].partition(":")[0] + ": " + rng.choice(values)
            else:
                lines.insert(i, lines[rng.randrange(len(lines))])
        result = check_rules("\n".join(lines), "m.yaml")
        assert all(e.file == "m.yaml" and e.line >= 1 for e in result.errors + result.warnings)
        assert (result.ruleset is None) == bool(result.errors)
