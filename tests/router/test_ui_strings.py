"""Every string a person sees goes through the i18n tables (issue 19, item 8): the console's table
(router/web/static/console/i18n.js) and the widget's (router/web/static/i18n.json) have the same
keys in both languages, and every key the pages and scripts name literally is in both. A string
used but missing from a table fails here, not on a page."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from helpers.js_tables import console_table_sources, duplicates, object_tables

STATIC = Path(__file__).resolve().parents[2] / "router" / "web" / "static"


def console_sources() -> dict[str, str]:
    return {js.name: js.read_text() for js in sorted((STATIC / "console").glob("*.js"))}


def console_tables() -> dict[str, set[str]]:
    """The main table, plus what each module adds with addStrings({en: {...}, zh: {...}})."""
    out: dict[str, set[str]] = {"en": set(), "zh": set()}
    for _where, table in console_table_sources(console_sources()):
        assert set(table) == {"en", "zh"}, _where
        for lang, keys in table.items():
            out[lang] |= set(keys)
    return out


def used_by_console() -> dict[str, set[str]]:
    """Keys named literally: t("x"), tf("x", ...), and data-i18n / -label / -ph attributes."""
    used: dict[str, set[str]] = {}
    for js in sorted((STATIC / "console").glob("*.js")):
        # ... and the help overlay's rows (actions.js SHORTCUTS), each `say: "key"`.
        for key in re.findall(r"\b(?:tf?\(|say:)\s*\"([a-z][a-z0-9_]*)\"", js.read_text()):
            used.setdefault(key, set()).add(js.name)
    html = (STATIC / "console.html").read_text()
    for key in re.findall(r'data-i18n(?:-label|-ph)?="([a-z][a-z0-9_]*)"', html):
        used.setdefault(key, set()).add("console.html")
    return used


def test_the_console_table_has_the_same_keys_in_both_languages() -> None:
    tables = console_tables()
    assert len(tables["en"]) > 200
    assert sorted(tables["en"] - tables["zh"]) == [], "in English only"
    assert sorted(tables["zh"] - tables["en"]) == [], "in Chinese only"


def test_every_key_the_console_names_is_in_its_table() -> None:
    tables = console_tables()
    missing = {k: sorted(where) for k, where in used_by_console().items() if k not in tables["en"] | tables["zh"]}
    assert missing == {}


def test_every_key_the_widget_names_is_in_both_languages() -> None:
    table = json.loads((STATIC / "i18n.json").read_text())
    assert set(table["en"]) == set(table["zh"])
    used: set[str] = set()
    for js in ("chat.js", "chat-panels.js", "chat-media.js"):
        used |= set(re.findall(r"\bT\.([a-z][a-z0-9_]*)", (STATIC / js).read_text()))
    used |= set(re.findall(r'data-i18n(?:-label|-placeholder)?="([a-z][a-z0-9_]*)"', (STATIC / "chat.html").read_text()))
    assert sorted(used - set(table["en"])) == []


def test_a_missing_key_is_caught() -> None:
    """The check itself can fail: a key only one script names is reported."""
    tables = console_tables()
    assert "no_such_string_anywhere" not in tables["en"]
    used = used_by_console()
    used["no_such_string_anywhere"] = {"probe.js"}
    assert [k for k in used if k not in tables["en"]] == ["no_such_string_anywhere"]


def test_no_console_string_is_defined_twice() -> None:
    """A key written twice in one language is one string silently replacing another: within
    i18n.js's table, or across it and a module's addStrings (which wins depends on import order)."""
    assert duplicates(console_table_sources(console_sources())) == {}


def test_a_duplicate_key_is_caught_and_a_colon_in_a_value_is_not_a_key() -> None:
    src = """const STRINGS = {
      en: { photo: "Photo", handed: "The bot handed over this photo:", 'quoted': "x", // sending: "no"
            /* sending: "no" */ sending: `a, b: "c"`, photo: "Picture" },
      zh: { photo: "图片", handed: "机器人转交的图片：", quoted: "x", sending: "发送中" },
    };"""
    tables = object_tables(src, src.index("{"))
    assert tables == {"en": ["photo", "handed", "quoted", "sending", "photo"],
                      "zh": ["photo", "handed", "quoted", "sending"]}
    other = "addStrings({\n  en: { sending: \"sending\" },\n  zh: { sending: \"发送中\" },\n});"
    found = console_table_sources({"i18n.js": src, "m.js": other})
    assert duplicates(found) == {
        "en": {"photo": ["i18n.js STRINGS", "i18n.js STRINGS"], "sending": ["i18n.js STRINGS", "m.js addStrings@1"]},
        "zh": {"sending": ["i18n.js STRINGS", "m.js addStrings@1"]},
    }


def _no_twice(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    assert twice == [], f"defined twice: {twice}"
    return dict(pairs)


def test_no_widget_string_is_defined_twice() -> None:
    """json.loads keeps the last of two equal keys without a word; this hook refuses them."""
    json.loads((STATIC / "i18n.json").read_text(), object_pairs_hook=_no_twice)
    try:
        json.loads('{"en": {"send": "Send", "send": "Post"}}', object_pairs_hook=_no_twice)
    except AssertionError as exc:
        assert "send" in str(exc)
    else:
        raise AssertionError("a duplicate widget key went unnoticed")
