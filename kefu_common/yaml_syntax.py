"""What a YAML syntax error is, as a code a console words in its own language.

PyYAML (and libyaml, which the rule form's parser uses) explain a syntax error in English: a
`context` ("while scanning a directive") and a `problem` ("expected a digit, but found 'x'").
Those sentences must not reach a Chinese console, so every one of them is mapped to a `reason`
code (tests/kefu_common/test_yaml_syntax.py reads PyYAML's sources and fails on a text that is
not mapped). Every problem also says what stands at the place it points to: `found` (the text
there, or `found_char` for a tab or a space) or `end` ("line" or "file") when nothing does.
A text no entry knows still gets the worded fallback `yaml_unreadable` with the same params.

The English `problem` stays in the params and the message for the CLI and `kefu check`.
"""

from __future__ import annotations

from typing import Any

import yaml

from kefu_common.errors import ConfigError

# (words in PyYAML's or libyaml's context + problem, the reason code). The first match wins, so
# the problem texts come before the contexts that several problems share.
_SYNTAX: tuple[tuple[str, str], ...] = (
    # Scanner
    ("that cannot start any token", "yaml_bad_character"),
    ("could not find expected ':'", "yaml_expected_colon"),
    ("sequence entries are not allowed", "yaml_dash_not_allowed"),
    ("mapping keys are not allowed", "yaml_key_not_allowed"),
    ("mapping values are not allowed", "yaml_mapping_values"),
    ("indentation indicator", "yaml_block_indicator"),
    ("expected escape sequence of", "yaml_bad_hex_escape"),
    ("unknown escape character", "yaml_bad_escape"),
    ("Unicode character escape code", "yaml_bad_hex_escape"),
    ("hexdecimal number", "yaml_bad_hex_escape"),  # libyaml's spelling
    ("unexpected end of stream", "yaml_unexpected_end"),
    ("unexpected document separator", "yaml_quoted_separator"),
    ("unexpected document indicator", "yaml_quoted_separator"),
    # Parser
    ("<document start>", "yaml_expected_document_start"),
    ("duplicate YAML directive", "yaml_bad_directive"),
    ("duplicate %YAML directive", "yaml_bad_directive"),
    ("incompatible YAML document", "yaml_bad_directive"),
    ("duplicate tag handle", "yaml_bad_directive"),
    ("duplicate %TAG directive", "yaml_bad_directive"),
    ("undefined tag handle", "yaml_bad_tag"),
    ("expected the node content", "yaml_expected_value"),
    ("expected node content", "yaml_expected_value"),
    ("expected <block end>", "yaml_bad_indent"),
    ("',' or ']'", "yaml_unclosed_list"),
    ("',' or '}'", "yaml_unclosed_mapping"),
    ("did not find expected key", "yaml_expected_key"),
    ("did not find expected '-' indicator", "yaml_expected_dash"),
    # Composer
    ("expected a single document", "yaml_multiple_documents"),
    ("undefined alias", "yaml_undefined_alias"),
    ("duplicate anchor", "yaml_duplicate_anchor"),
    # Constructor (the safe one: the others are never used here)
    ("unconstructable recursive node", "yaml_recursive_alias"),
    ("expected a scalar node", "yaml_tag_mismatch"),
    ("expected a sequence node", "yaml_tag_mismatch"),
    ("expected a mapping node", "yaml_tag_mismatch"),
    ("unhashable key", "yaml_complex_key"),
    ("for merging", "yaml_merge_key"),
    ("base64", "yaml_bad_binary"),
    ("while constructing an ordered map", "yaml_bad_pairs"),
    ("while constructing pairs", "yaml_bad_pairs"),
    ("could not determine a constructor", "yaml_unknown_tag"),
    # Reader
    ("special characters are not allowed", "yaml_special_character"),
    ("control characters are not allowed", "yaml_special_character"),
    # Contexts that several problems share ("expected a digit, but found 'x'" in a directive)
    ("directive", "yaml_bad_directive"),  # PyYAML's "a directive", libyaml's "a %YAML directive"
    ("an anchor", "yaml_bad_anchor_name"),
    ("an alias", "yaml_bad_anchor_name"),
    (" a tag", "yaml_bad_tag"),
    ("a block scalar", "yaml_block_header"),
)
FALLBACK = "yaml_unreadable"
BAD_TAGGED_VALUE = "yaml_bad_tagged_value"
YAML_SYNTAX_CODES = frozenset({FALLBACK, BAD_TAGGED_VALUE, *(code for _, code in _SYNTAX)})
"""Every `reason` a yaml_syntax problem can have (routing_rules/problems.py lists them)."""

_SNIPPET = 24  # characters of the text at the error's place shown as `found`


def reason_for(context: str | None, problem: str | None) -> str | None:
    """The reason code PyYAML's (or libyaml's) words map to, or None when no entry knows them."""
    said = f"{context or ''}\n{problem or ''}"
    return next((code for needle, code in _SYNTAX if needle in said), None)


def found_at(text: str, line: int, col: int) -> dict[str, Any]:
    """What stands at 0-based `line`, `col` of `text`, as the params `found`, `found_char` or
    `end`: the reader sees where YAML stopped without reading PyYAML's sentence."""
    lines = text.split("\n")
    if line >= len(lines):
        return {"end": "file"}
    rest = lines[line][col:].rstrip("\r")
    if not rest:
        return {"end": "line" if "".join(lines[line + 1:]).strip() else "file"}
    ch = rest[0]
    if ch in "\t ":
        return {"found_char": "tab" if ch == "\t" else "space"}
    if not ch.isprintable():
        return {"found": f"U+{ord(ch):04X}"}
    rest = rest.rstrip()
    return {"found": rest if len(rest) <= _SNIPPET else rest[:_SNIPPET] + "…"}


def syntax_params(problem: str, context: str | None = None, *, text: str | None = None,
                  line: int = 0, col: int = 0) -> dict[str, Any]:
    """The params of a `yaml_syntax` problem at 0-based `line`, `col`: PyYAML's words, the
    reason code, the 1-based place and what stands there."""
    params: dict[str, Any] = {"problem": problem, "reason": reason_for(context, problem) or FALLBACK,
                              "line": line + 1, "col": col + 1}
    if text is not None:
        params.update(found_at(text, line, col))
    return params


def syntax_error(exc: yaml.YAMLError, text: str, file: str) -> ConfigError:
    """PyYAML's error as a ConfigError at the place it points to, with a reason code."""
    if isinstance(exc, yaml.reader.ReaderError):
        # No mark: the reader counts characters from the start of the text.
        pos = min(exc.position, len(text))
        line = text.count("\n", 0, pos)
        col = pos - (text.rfind("\n", 0, pos) + 1)
        problem = f"unacceptable character #x{exc.character:04x}: {exc.reason}" \
            if isinstance(exc.character, int) else str(exc.reason)
    elif isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line, mark.column) if mark else (0, 0)
        problem = exc.problem or exc.context or "invalid YAML"
    else:
        line, col, problem = 0, 0, str(exc)
    context = exc.context if isinstance(exc, yaml.MarkedYAMLError) else None
    return ConfigError(f"YAML syntax: {problem}", file, line + 1, col + 1, code="yaml_syntax",
                       params=syntax_params(problem, context, text=text, line=line, col=col))


def short_tag(tag: str) -> str:
    """`tag:yaml.org,2002:int` as a person writes it: `!!int`."""
    prefix = "tag:yaml.org,2002:"
    return "!!" + tag[len(prefix):] if tag.startswith(prefix) else tag


def bad_tagged_value(node: yaml.ScalarNode, file: str) -> ConfigError:
    """A scalar its explicit tag cannot read (`!!int abc`): PyYAML raises ValueError and kin."""
    line, col = node.start_mark.line, node.start_mark.column
    tag = short_tag(node.tag)
    value = str(node.value)
    problem = f"the value {value!r} cannot be read as {tag}"
    params = {"problem": problem, "reason": BAD_TAGGED_VALUE, "line": line + 1, "col": col + 1,
              "tag": tag, **({"found": value if len(value) <= _SNIPPET else value[:_SNIPPET] + "…"}
                             if value else {"end": "line"})}
    return ConfigError(f"YAML syntax: {problem}", file, line + 1, col + 1, code="yaml_syntax",
                       params=params)
