"""Every string a person sees goes through the i18n tables (issue 19, item 8): the console's table
(router/web/static/console/i18n.js) and the widget's (router/web/static/i18n.json) have the same
keys in both languages, and every key the pages and scripts name literally is in both. A string
used but missing from a table fails here, not on a page."""

from __future__ import annotations

import json
import re
from pathlib import Path

STATIC = Path(__file__).resolve().parents[2] / "router" / "web" / "static"
KEY = re.compile(r"(?:^|[\s,{])([a-z][a-z0-9_]*):\s*\"", re.M)


def console_tables() -> dict[str, set[str]]:
    """The main table, plus what each module adds with addStrings({en: {...}, zh: {...}})."""
    src = (STATIC / "console" / "i18n.js").read_text()
    body = src[src.index("const STRINGS = {"):src.index("\n};\n")]
    blocks = [body]
    for js in sorted((STATIC / "console").glob("*.js")):
        text = js.read_text()
        for m in re.finditer(r"addStrings\(\{", text):
            blocks.append(text[m.start():text.index("\n});", m.start())])
    out: dict[str, set[str]] = {"en": set(), "zh": set()}
    for block in blocks:
        en, zh = re.search(r"\ben:\s*\{", block), re.search(r"\bzh:\s*\{", block)
        assert en and zh, block[:80]
        out["en"] |= set(KEY.findall(block[en.end():zh.start()] if en.start() < zh.start() else block[en.end():]))
        out["zh"] |= set(KEY.findall(block[zh.end():] if en.start() < zh.start() else block[zh.end():en.start()]))
    return out


def used_by_console() -> dict[str, set[str]]:
    """Keys named literally: t("x"), tf("x", ...), and data-i18n / -label / -ph attributes."""
    used: dict[str, set[str]] = {}
    for js in sorted((STATIC / "console").glob("*.js")):
        for key in re.findall(r"\btf?\(\s*\"([a-z][a-z0-9_]*)\"", js.read_text()):
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
