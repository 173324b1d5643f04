"""The keys of the console's string tables, read from the JavaScript source as a parser would.

A regex over `key: "` also matches inside a value ("...this photo:", then the closing quote),
which once reported `photo` and `sending` twice in the English table when each was there once.
This scanner skips string literals and comments and counts only keys at the table level, in
source order, so a key written twice is seen twice and one written once is seen once.
"""

from __future__ import annotations

import re

_IDENT = re.compile(r"[A-Za-z_$][\w$]*")


def _skip_string(src: str, i: int) -> int:
    """The index after the string literal that opens at src[i]."""
    quote = src[i]
    i += 1
    while i < len(src) and src[i] != quote:
        i += 2 if src[i] == "\\" else 1
    return i + 1


def _skip_space(src: str, i: int) -> int:
    while i < len(src):
        if src[i].isspace():
            i += 1
        elif src.startswith("//", i):
            end = src.find("\n", i)
            i = len(src) if end < 0 else end
        elif src.startswith("/*", i):
            i = src.index("*/", i) + 2
        else:
            break
    return i


def object_tables(src: str, brace: int) -> dict[str, list[str]]:
    """For the object literal whose `{` is src[brace], shaped {lang: {key: value, ...}, ...}:
    each language's keys in source order, duplicates kept."""
    assert src[brace] == "{", src[brace:brace + 20]
    out: dict[str, list[str]] = {}
    lang = ""
    depth = 0
    expect_key = False
    i = brace
    while i < len(src):
        i = _skip_space(src, i)
        if i >= len(src):
            break
        c = src[i]
        if c == "{":
            depth += 1
            expect_key = depth <= 2
            i += 1
        elif c == "}":
            depth -= 1
            i += 1
            if depth == 0:
                return out
            expect_key = False
        elif c == ",":
            expect_key = depth <= 2
            i += 1
        elif c in "\"'`" or _IDENT.match(src, i):
            if c in "\"'`":
                end = _skip_string(src, i)
                name = src[i + 1:end - 1]
            else:
                m = _IDENT.match(src, i)
                assert m
                end, name = m.end(), m.group()
            after = _skip_space(src, end)
            if expect_key and after < len(src) and src[after] == ":":
                if depth == 1:
                    lang = name
                    out.setdefault(lang, [])
                elif depth == 2:
                    out[lang].append(name)
                expect_key = False
                i = after + 1
            else:
                i = end
        else:
            i += 1
    raise ValueError("unterminated object literal")


def console_table_sources(src_by_file: dict[str, str]) -> list[tuple[str, dict[str, list[str]]]]:
    """(where, tables) for i18n.js's STRINGS and every addStrings({...}) call of each module."""
    found: list[tuple[str, dict[str, list[str]]]] = []
    for name, src in sorted(src_by_file.items()):
        m = re.search(r"const STRINGS = \{", src)
        if m:
            found.append((f"{name} STRINGS", object_tables(src, m.end() - 1)))
        for m in re.finditer(r"addStrings\(\{", src):
            found.append((f"{name} addStrings@{src.count(chr(10), 0, m.start()) + 1}",
                          object_tables(src, m.end() - 1)))
    return found


def duplicates(tables: list[tuple[str, dict[str, list[str]]]]) -> dict[str, dict[str, list[str]]]:
    """{lang: {key: [where, where, ...]}} for every key defined more than once in a language,
    within one table or across the tables (a later addStrings silently replaces the earlier)."""
    seen: dict[str, dict[str, list[str]]] = {}
    for where, table in tables:
        for lang, keys in table.items():
            for key in keys:
                seen.setdefault(lang, {}).setdefault(key, []).append(where)
    return {lang: {k: w for k, w in keys.items() if len(w) > 1}
            for lang, keys in seen.items() if any(len(w) > 1 for w in keys.values())}
