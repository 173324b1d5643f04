"""Properties: decide is deterministic and pure, and a rule check() warns about never fires."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routing_rules import RuleInput, check_rules, compile_rules
from routing_rules.model import Decision

WORDS = ["退款", "退款进度", "快递", "投诉", "尺码", "refund", "human", "转人工", "！！！", "hello"]
CHANNELS = ["webchat", "wechat", "telegram"]
TAGS = ["a", "b", "c"]

inputs = st.builds(
    RuleInput,
    text=st.lists(st.sampled_from(WORDS) | st.text(max_size=4), max_size=3).map(" ".join),
    channel=st.sampled_from(CHANNELS),
    account=st.sampled_from(["shop", "jp_store"]),
    now=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 1), timezones=st.just(UTC)
    ),
    customer_tags=st.frozensets(st.sampled_from(TAGS)),
    segment=st.sampled_from(["new", "returning", "vip"]),
    language=st.sampled_from([None, "zh", "en"]),
    message_count=st.integers(1, 8),
    reopened=st.booleans(),
    previous_pool=st.sampled_from([None, "presale", "aftersale"]),
)

# Leaf conditions in YAML flow style, grouped so that leaves within a group imply one another.
GROUPS = [
    ["{channel: wechat}", "{channel: [wechat, telegram]}"],
    ["{segment: vip}", "{segment: [vip, returning]}", "{not: {segment: new}}"],
    ["{intent: refund}", "{intent: [refund, logistics]}"],
    ["{tag: a}", "{tag: [a, b]}", "{tags_all: [a, b]}", "{any: [{tag: c}, {angry: true}]}"],
    ["{contains: 退款}", "{contains: 退款进度}", "{contains: [退款, 快递]}",
     "{contains_all: [退款, 快递]}"],
    ["{message_count: '>= 3'}", "{message_count: '>= 5'}", "{message_count: {min: 2, max: 4}}"],
    ["{days: mon-fri}", "{days: [mon]}", "{time: '22:00-08:00'}"],
    ["{angry: true}", "{reopened: true}", "{language: zh}"],
]
LEAVES = [leaf for group in GROUPS for leaf in group]


@st.composite
def rule_sets(draw: st.DrawFn) -> list[tuple[list[str], bool]]:
    """Rules drawn from one group plus a stray leaf, so that implications are common."""
    family = [*draw(st.sampled_from(GROUPS)), draw(st.sampled_from(LEAVES))]
    rule = st.tuples(
        st.lists(st.sampled_from(family), min_size=1, max_size=2, unique=True),
        st.booleans(),  # continue
    )
    rules = draw(st.lists(rule, min_size=2, max_size=4))
    if draw(st.booleans()):
        rules.insert(draw(st.integers(0, len(rules))), ([], False))  # an always-rule
    return rules


def to_yaml(rules: list[tuple[list[str], bool]]) -> str:
    out = ["default: {pool: dflt}", "rules:"]
    for i, (leaves, cont) in enumerate(rules):
        out.append(f"  - name: r{i}")
        if leaves:
            out.append(f"    when: {{all: [{', '.join(leaves)}]}}")
        then = f"{{boost: 1, tags: [t{i}]}}" if cont else f"{{pool: p{i}}}"
        out.append(f"    then: {then}")
        if cont:
            out.append("    continue: true")
    return "\n".join(out) + "\n"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rule_sets(), inputs)
def test_decide_is_deterministic_and_does_not_mutate_input(
    rules: list[tuple[list[str], bool]], inp: RuleInput
) -> None:
    text = to_yaml(rules)
    a, b = compile_rules(text), compile_rules(text)
    before = copy.deepcopy(inp)
    d1, d2, d3 = a.decide(inp), a.decide(inp), b.decide(inp)
    assert d1 == d2 == d3
    assert inp == before
    # explain adds lines but never changes the decision itself.
    e = a.explain(inp)
    assert _strip(e) == _strip(d1)
    assert set(d1.explanation) <= set(e.explanation)


def _strip(d: Decision) -> tuple[object, ...]:
    return tuple(getattr(d, k) for k in d.__slots__ if k not in ("explanation", "steps"))


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rule_sets(), st.lists(inputs, min_size=1, max_size=40))
def test_shadowed_rule_never_fires(
    rules: list[tuple[list[str], bool]], inps: list[RuleInput]
) -> None:
    text = to_yaml(rules)
    result = check_rules(text)
    assert result.ruleset is not None, result.lines()
    shadowed = {w.message.split("'")[1] for w in result.warnings}
    for inp in inps:
        d = result.ruleset.explain(inp)
        fired = {line.split("'")[1] for line in d.explanation if " matched" in line
                 or " decided" in line}
        assert not (fired & shadowed), (d.explanation, result.lines())


def test_shadow_property_is_not_vacuous() -> None:
    """The generator does produce warned rule sets, so the property above tests something."""
    text = to_yaml([(["{intent: [refund, logistics]}"], False), (["{intent: refund}"], False)])
    assert len(check_rules(text).warnings) == 1


@settings(deadline=None)  # compiles per example; a busy CI machine must not make it fail
@given(st.integers(0, 24 * 60 - 1))
def test_time_window_across_midnight_matches_complement(minute: int) -> None:
    rules = compile_rules(
        "timezone: UTC\ndefault: {pool: day}\nrules:\n"
        "  - {name: n, when: {time: '22:00-06:00'}, then: {pool: night}}\n"
    )
    now = datetime(2026, 11, 11, tzinfo=UTC) + timedelta(minutes=minute)
    d = rules.decide(RuleInput(text="x", channel="webchat", account="s", now=now))
    assert (d.pool == "night") is (minute >= 22 * 60 or minute < 6 * 60)
