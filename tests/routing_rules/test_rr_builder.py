"""The rule builder's conversion (issue 19): YAML to form rows and back, changing only what the
form changed: comments, read-only rules and untouched rules stay byte for byte."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import pytest
from rr_helpers import inp

from kefu_common.errors import ConfigError, ConfigErrors
from routing_rules import compile_rules
from routing_rules.builder import FormError, read_form
from routing_rules.builder_write import write_form

CONFIG = Path(__file__).resolve().parents[2] / "config"

SHOP = """\
# The shop's rules: keep this header.
timezone: Asia/Shanghai

default:
  pool: presale   # everything else
  bot: true

rules:
  # VIPs first (a continue rule: read-only in the form)
  - name: vip
    when: {segment: vip}
    then: {boost: 10, tags: [vip]}
    continue: true

  # Refunds: straight to a person
  - name: refund
    description: >-
      refunds are handled by after-sale
      within five minutes
    when: {intent: refund}   # the built-in list
    then:
      pool: aftersale      # the after-sale team
      human: true
      # SLA agreed with the owner in March
      sla: return_exchange

  - name: angry
    when:
      any: [{angry: true}, {intent: complaint}]
    then: {pool: aftersale, priority: high}

  - name: logistics
    when: {contains: [快递, 物流]}
    then: {pool: aftersale, bot: true}
# trailing note about the rules
"""


def changed_lines(old: str, new: str) -> list[str]:
    return [ln for ln in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0)
            if ln[:1] in "+-" and ln[:3] not in ("+++", "---")]


def row(rows: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(r for r in rows if r["name"] == name)


@pytest.mark.parametrize("path", ["routing.yaml", "examples/routing-full.yaml"])
def test_the_shipped_files_round_trip_unchanged(path: str) -> None:
    text = (CONFIG / path).read_text()
    rows = read_form(text)
    assert rows and any(r["editable"] for r in rows) and any(not r["editable"] for r in rows)
    assert write_form(text, rows).text == text


def test_rows_say_what_the_form_can_edit_and_why_not() -> None:
    rows = read_form(SHOP)
    assert [r["name"] for r in rows] == ["vip", "refund", "angry", "logistics"]
    assert [r["editable"] for r in rows] == [False, True, False, True]
    assert (rows[0]["reason"], rows[2]["reason"], rows[2]["key"]) == ("continue", "when", "any")
    assert rows[2]["text"].startswith("  - name: angry") and "any:" in rows[2]["text"]
    refund = rows[1]
    assert (refund["intents"], refund["pool"], refund["bot"], refund["sla"]) == (
        ["refund"], "aftersale", False, "return_exchange")
    assert refund["line"] == 16
    assert row(rows, "logistics")["keywords"] == ["快递", "物流"]


def test_changing_one_field_rewrites_only_that_key_and_keeps_its_comments() -> None:
    rows = read_form(SHOP)
    row(rows, "refund")["pool"] = "presale"
    new = write_form(SHOP, rows).text
    assert new.count("# ") == SHOP.count("# ")  # no comment lost
    for comment in ("# the after-sale team", "# SLA agreed with the owner in March", "# the built-in list",
                    "# The shop's rules: keep this header.", "# trailing note about the rules"):
        assert comment in new
    assert "refunds are handled by after-sale\n      within five minutes" in new  # the folded description
    # Only the `then` block is written again; its comments move above it, as comment lines.
    assert changed_lines(SHOP, new) == [
        "+    # the after-sale team", "+    # SLA agreed with the owner in March",
        "-      pool: aftersale      # the after-sale team", "+      pool: presale",
        "-      # SLA agreed with the owner in March"]
    rs = compile_rules(new)
    assert rs.decide(inp("我要退款")).pool == "presale"
    assert read_form(new)[1]["pool"] == "presale"


def test_a_keyword_rule_added_in_the_form_routes_and_the_rest_is_untouched() -> None:
    rows = read_form(SHOP)
    rows.insert(1, {"name": "wholesale", "keywords": ["批发", "bulk order"], "channels": ["webchat"],
                    "pool": "aftersale", "priority": "high", "bot": False, "sla": None, "tags": ["b2b"]})
    out = write_form(SHOP, rows)
    added = [ln for ln in changed_lines(SHOP, out.text) if ln.startswith("+")]
    assert not [ln for ln in changed_lines(SHOP, out.text) if ln.startswith("-")]
    assert added == ["+", "+  - name: wholesale", "+    when: {contains: [批发, bulk order], channel: webchat}",
                     "+    then:", "+      pool: aftersale", "+      priority: high", "+      human: true",
                     "+      tags: [b2b]"]
    lines = out.text.splitlines()
    first, last = out.spans[1]
    assert lines[first - 1] == "  - name: wholesale" and lines[last - 1] == "      tags: [b2b]"
    rs = compile_rules(out.text)
    d = rs.decide(inp("我想批发一百件", channel="webchat"))
    assert (d.rule, d.pool, d.priority, d.bot_first, d.tags) == ("wholesale", "aftersale", 20, False, ("b2b",))
    assert rs.decide(inp("我想批发一百件", channel="wechat")).rule != "wholesale"


def test_read_only_rules_are_kept_exactly_when_moved_and_others_deleted() -> None:
    rows = read_form(SHOP)
    angry_text = rows[2]["text"]
    # The form sends read-only rows back by reference only.
    new_rows = [{"ref": 2}, rows[3], {"ref": 0}]
    new = write_form(SHOP, new_rows).text
    assert angry_text in new and "  # VIPs first (a continue rule: read-only in the form)\n  - name: vip\n" in new
    assert "refund" not in new and "# Refunds" not in new  # a deleted rule takes its comments along
    assert [r["name"] for r in read_form(new)] == ["angry", "logistics", "vip"]
    assert new.startswith(SHOP[:SHOP.index("rules:")])
    assert new.endswith("# trailing note about the rules\n")
    compile_rules(new)


def test_editing_the_yaml_shows_in_the_form() -> None:
    edited = SHOP.replace("then: {pool: aftersale, bot: true}", "then: {pool: presale, priority: 15, sla: logistics}")
    r = row(read_form(edited), "logistics")
    assert (r["pool"], r["priority"], r["bot"], r["sla"]) == ("presale", 15, None, "logistics")
    edited = edited.replace("when: {contains: [快递, 物流]}", "when: {contains: 快递, matches: 'sf\\d+'}")
    r = row(read_form(edited), "logistics")
    assert (r["editable"], r["reason"], r["key"]) == (False, "when", "matches")


def test_renaming_clearing_the_match_and_a_flow_rule() -> None:
    rows = read_form(SHOP)
    lg = row(rows, "logistics")
    lg.update(name="parcels", keywords=[], intents=["logistics"], channels=[])
    new = write_form(SHOP, rows).text
    assert "  - name: parcels\n    when: {intent: logistics}\n    then: {pool: aftersale, bot: true}\n" in new
    lg.update(intents=[])
    assert "  - name: parcels\n    then: {pool: aftersale, bot: true}\n" in write_form(SHOP, rows).text
    flow = "default: {pool: p}\nrules:\n  - {name: a, when: {intent: refund}, then: {pool: p}}  # one line\n"
    rows = read_form(flow)
    rows[0]["keywords"] = ["退"]
    new = write_form(flow, rows).text
    assert "# one line" in new
    assert read_form(new)[0]["keywords"] == ["退"] and compile_rules(new).rule_names() == ("a",)


@pytest.mark.parametrize("text", ["default: {pool: p}\n", "default: {pool: p}\nrules: []\n",
                                  "default: {pool: p}\nrules:\ntimezone: UTC\n"])
def test_the_first_rule_of_a_file_without_rules(text: str) -> None:
    new = write_form(text, [{"name": "a", "keywords": ["hi"], "pool": "p"}]).text
    assert "  - name: a\n    when: {contains: hi}\n    then:\n      pool: p\n" in new
    assert compile_rules(new).decide(inp("hi there")).rule == "a"


def test_bad_rows_are_refused_at_their_field() -> None:
    rows: list[Any] = read_form(SHOP)
    rows[1] = {**rows[1], "priority": "very high"}
    rows[3] = {**rows[3], "name": "  "}
    rows.append({"ref": 9})
    with pytest.raises(ConfigErrors) as exc:
        write_form(SHOP, rows)
    got = [(e.rule, e.field) for e in exc.value.errors if isinstance(e, FormError)]
    assert got == [(1, "priority"), (4, "ref"), (3, "name")]  # every problem at once
    rows.pop()
    rows[1]["priority"] = "high"
    with pytest.raises(ConfigErrors) as exc:
        write_form(SHOP, rows)
    assert [(e.rule, e.field, e.message, e.line, e.col) for e in exc.value.errors if isinstance(e, FormError)] == [
        (3, "name", "name: a rule needs a name", 32, 5)]  # the row, and its rule's line in the YAML
    for bad in ([{"ref": 1}, {"ref": 1}], [{"name": "x", "keywords": "退款"}], [{"name": "x", "bot": "yes"}],
                [{"name": "x", "colour": "red"}], ["x"]):
        with pytest.raises(ConfigErrors):
            write_form(SHOP, bad)


def test_yaml_the_form_cannot_read_is_refused_with_its_position() -> None:
    with pytest.raises(ConfigError) as exc:
        read_form("default: {pool: p}\nrules:\n  - name: a\n    when: {intent: [refund}\n")
    assert (exc.value.line, exc.value.col) == (4, 27)
    with pytest.raises(ConfigError) as exc:
        read_form("default: {pool: p}\nrules: [{name: a, then: {pool: p}}]\n")
    assert (exc.value.line, exc.value.col) == (2, 8)
    with pytest.raises(ConfigError):
        write_form("default: {pool: p}\nrules: [{name: a, then: {pool: p}}]\n", [])


def test_three_hundred_rules_one_change_one_line() -> None:
    parts = ["default: {pool: p0}\nrules:\n"]
    for i in range(300):
        if i % 3 == 0:
            parts.append(f"  - name: r{i}  # rule {i}\n    when: {{contains: [kw{i}x]}}\n    then: {{pool: p{i % 7}}}\n\n")
        else:
            parts.append(f"  - name: r{i}\n    when: {{any: [{{intent: refund}}, {{contains: z{i}z}}]}}\n"
                         f"    then: {{pool: p{i % 7}}}\n\n")
    text = "".join(parts)
    rows = read_form(text)
    assert len(rows) == 300 and sum(r["editable"] for r in rows) == 100
    assert write_form(text, rows).text == text
    rows[150]["pool"] = "p6"
    rows.reverse()
    new = write_form(text, rows).text
    assert [r["name"] for r in read_form(new)] == [f"r{i}" for i in reversed(range(300))]
    assert sorted(new.splitlines()) == sorted(text.replace("then: {pool: p3}\n\n  - name: r151",
                                                           "then:\n      pool: p6\n\n  - name: r151")
                                              .splitlines())
    assert compile_rules(new, pools={f"p{i}" for i in range(7)}).decide(inp("kw150x")).pool == "p6"
