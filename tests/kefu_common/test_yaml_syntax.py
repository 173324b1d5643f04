"""Every YAML syntax error PyYAML can raise has a reason code the console words in Chinese and
English (issue 19, item 8): nothing is left to PyYAML's English sentence.

The problem texts are read from the installed PyYAML's sources, so an upgrade that adds one fails
here; a corpus of broken documents (one or more per text) checks that each gets its code, its
place and what stands there, through the pure loader (Validate) and through libyaml (the form).
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest
import yaml
from helpers.broken_texts import YAML_CORPUS as CORPUS
from helpers.js_tables import console_table_sources

from kefu_common.errors import ConfigError
from kefu_common.yaml_syntax import FALLBACK, YAML_SYNTAX_CODES, found_at, reason_for, syntax_params
from kefu_common.yamlpos import load_yaml
from routing_rules.builder import compose
from routing_rules.problems import PROBLEMS

ROOT = Path(__file__).resolve().parents[2]
TABLE = ROOT / "router" / "web" / "static" / "console" / "rules_problems.js"
YAML_DIR = Path(inspect.getfile(yaml)).parent

# The names PyYAML puts into its "while scanning a %s" contexts, by the template.
CONTEXT_NAMES = {
    "while scanning an %s": ("anchor", "alias"),
    "while scanning a %s": ("tag", "directive"),
    "while parsing a %s": ("tag", "directive"),
    "while parsing a %s node": ("block", "flow"),
}
# Constructors never used here (they build Python objects): their texts cannot reach a rules file.
UNUSED_CONSTRUCTORS = {"FullConstructor", "UnsafeConstructor", "Constructor"}
UNREACHABLE = {
    ("constructor.py", "check_state_key"),  # only FullConstructor calls it
    ("reader.py", "update"),  # decoding bytes: the loaders here are given text
}



def _literal(node: ast.expr | None) -> str | None:
    """A string argument as written: a constant, or the template of a `%` format."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        return _literal(node.left)
    return None


def pyyaml_texts() -> list[tuple[str, str | None, str | None]]:
    """(where, context template, problem template) of every error PyYAML's scanner, parser,
    composer, safe constructor and reader raise."""
    out = []
    for name in ("scanner.py", "parser.py", "composer.py", "constructor.py", "reader.py"):
        tree = ast.parse((YAML_DIR / name).read_text(encoding="utf-8"))
        for cls in tree.body:
            if isinstance(cls, ast.ClassDef) and cls.name in UNUSED_CONSTRUCTORS:
                continue
            for fn in ast.walk(cls):
                if not isinstance(fn, ast.FunctionDef) or (name, fn.name) in UNREACHABLE:
                    continue
                out += _raised(name, fn)
    return out


def _raised(name: str, fn: ast.FunctionDef) -> list[tuple[str, str | None, str | None]]:
    out = []
    for node in ast.walk(fn):
        if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)
                and isinstance(node.exc.func, ast.Name) and node.exc.func.id.endswith("Error")):
            continue
        args = node.exc.args
        if node.exc.func.id == "ReaderError":
            out.append((f"{name}:{node.lineno}", None, _literal(args[4])))
        elif len(args) >= 3:
            out.append((f"{name}:{node.lineno}", _literal(args[0]), _literal(args[2])))
    return out


def test_every_problem_text_of_pyyaml_has_a_reason() -> None:
    texts = pyyaml_texts()
    assert len(texts) >= 60, len(texts)
    unmapped = []
    for where, context, problem in texts:
        if context and context.startswith("while") and "%" in context:
            assert context in CONTEXT_NAMES, (where, context)  # a new name: say which it takes
            contexts = [context.replace("%s", n) for n in CONTEXT_NAMES[context]]
        else:
            contexts = [re.sub(r"%[rsd]", "X", context or "")]
        for ctx in contexts:
            # A problem given as str(exc) (a URI that is not UTF-8) is known by its context.
            if reason_for(ctx, re.sub(r"%[rsd]", "X", problem or "")) is None:
                unmapped.append((where, ctx, problem))
    assert unmapped == []


@pytest.mark.parametrize(("text", "reason"), CORPUS, ids=[f"{r}-{i}" for i, (_, r) in enumerate(CORPUS)])
def test_each_broken_document_gets_its_reason_place_and_what_was_found(text: str, reason: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_yaml(text, "r.yaml")
    e = caught.value
    assert (e.code, e.params["reason"]) == ("yaml_syntax", reason), e.params["problem"]
    assert (e.params["line"], e.params["col"]) == (e.line, e.col)
    assert {"found", "found_char", "end"} & set(e.params), e.params
    assert e.message == f"YAML syntax: {e.params['problem']}"  # the CLI keeps PyYAML's words


def test_the_corpus_covers_every_reason_but_the_fallback() -> None:
    assert {r for _, r in CORPUS} == YAML_SYNTAX_CODES - {FALLBACK, "yaml_expected_key", "yaml_expected_dash"}


@pytest.mark.parametrize("text", [t for t, _ in CORPUS])
def test_libyaml_words_map_too(text: str) -> None:
    """The rule form parses with libyaml, whose sentences differ; none falls back either."""
    try:
        compose(text, "r.yaml")
    except ConfigError as e:
        if e.code == "yaml_syntax":
            assert e.params["reason"] != FALLBACK, e.params["problem"]
            assert e.params["reason"] in YAML_SYNTAX_CODES


@pytest.mark.parametrize(("text", "reason"), [("a:\n  - x\n b: 1\n", "yaml_expected_key"),
                                              ("- !!str ]\n", "yaml_expected_dash")])
def test_libyaml_only_words_have_reasons(text: str, reason: str) -> None:
    with pytest.raises(ConfigError) as caught:
        compose(text, "r.yaml")
    assert caught.value.params["reason"] == reason


def test_an_unknown_text_falls_back_to_words_with_the_place_and_what_is_there() -> None:
    params = syntax_params("some sentence a new PyYAML says", None, text="a: 1\nb: ~~~\n", line=1, col=3)
    assert params == {"problem": "some sentence a new PyYAML says", "reason": FALLBACK, "line": 2,
                      "col": 4, "found": "~~~"}


@pytest.mark.parametrize(("text", "line", "col", "want"), [
    ("a:\n\tb", 1, 0, {"found_char": "tab"}), ("a: b", 0, 2, {"found_char": "space"}),
    ("a: b", 0, 4, {"end": "file"}), ("a:\nb", 0, 2, {"end": "line"}), ("a:\n\n  \n", 0, 2, {"end": "file"}),
    ("a: \x07", 0, 3, {"found": "U+0007"}), ("x" * 40, 0, 0, {"found": "x" * 24 + "…"}),
    ("a", 5, 0, {"end": "file"}),
])
def test_what_stands_at_the_place(text: str, line: int, col: int, want: dict[str, str]) -> None:
    assert found_at(text, line, col) == want


def test_every_reason_and_word_has_an_english_and_a_chinese_entry() -> None:
    tables = console_table_sources({TABLE.name: TABLE.read_text(encoding="utf-8")})
    keys = {lang: set(k) for lang, k in tables[0][1].items()}
    want = {f"rp_{c}" for c in YAML_SYNTAX_CODES} | {
        "rp_yaml_end_line", "rp_yaml_end_file", "rp_yaml_char_tab", "rp_yaml_char_space"}
    for lang in ("en", "zh"):
        assert sorted(want - keys[lang]) == [], lang
    assert YAML_SYNTAX_CODES <= set(PROBLEMS)
