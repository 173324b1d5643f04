"""Broken inputs the rule editor must word in the console's language (issue 19, item 8), shared
by the unit tests that check their codes and the Chromium test that checks the Chinese words."""

from __future__ import annotations

# (a broken document, the reason it must get). At least one per problem text PyYAML has.
YAML_CORPUS: list[tuple[str, str]] = [
    ("a:\n\t- b\n", "yaml_bad_character"),
    ("a: 1\nb\n", "yaml_expected_colon"),
    ("a: - b\n", "yaml_dash_not_allowed"),
    ("a: ? b\n", "yaml_key_not_allowed"),
    ("a: b: c\n", "yaml_mapping_values"),
    ("%YA!ML 1.1\n---\n", "yaml_bad_directive"),  # expected alphabetic or numeric character
    ("%YAML 1x1\n---\n", "yaml_bad_directive"),  # expected a digit or '.'
    ("%YAML 1.1x\n---\n", "yaml_bad_directive"),  # expected a digit or ' '
    ("%YAML x.1\n---\n", "yaml_bad_directive"),  # expected a digit
    ("%TAG !x!y tag:x\n---\n", "yaml_bad_directive"),  # expected ' '
    ("%YAML 1.1 x\n---\n", "yaml_bad_directive"),  # expected a comment or a line break
    ("%TAG !x tag:x\n---\na\n", "yaml_bad_directive"),  # expected '!'
    ("%TAG !x! \n---\na\n", "yaml_bad_directive"),  # expected URI
    ("%TAG !x! %ZZ\n---\na\n", "yaml_bad_directive"),  # expected URI escape sequence
    ("%YAML 1.1\n%YAML 1.1\n---\na\n", "yaml_bad_directive"),
    ("%YAML 2.0\n---\na\n", "yaml_bad_directive"),
    ("%TAG !x! tag:a\n%TAG !x! tag:b\n---\na\n", "yaml_bad_directive"),
    ("a: &? b\n", "yaml_bad_anchor_name"),
    ("a: *? b\n", "yaml_bad_anchor_name"),
    ("a: &\n", "yaml_bad_anchor_name"),
    ("a: !<tag:x b\n", "yaml_bad_tag"),  # expected '>'
    ("a: !<tag:x>y b\n", "yaml_bad_tag"),  # expected ' '
    ("a: !<> b\n", "yaml_bad_tag"),  # expected URI
    ("a: !<%ZZ> b\n", "yaml_bad_tag"),  # expected URI escape sequence
    ("a: !<%FF> b\n", "yaml_bad_tag"),  # not UTF-8
    ("a: !y!b c\n", "yaml_bad_tag"),  # undefined tag handle
    ("a: |0\n  x\n", "yaml_block_indicator"),
    ("a: |-0\n  x\n", "yaml_block_indicator"),
    ("a: |x\n  x\n", "yaml_block_indicator"),
    ("a: |1 x\n  x\n", "yaml_block_header"),
    ('a: "\\xZZ"\n', "yaml_bad_hex_escape"),
    ('a: "\\q"\n', "yaml_bad_escape"),
    ('a: "b\n', "yaml_unexpected_end"),
    ('a: "b\n---\n"\n', "yaml_quoted_separator"),
    ("%YAML 1.1\na: 1\n", "yaml_expected_document_start"),
    ("- ? a\n  ? b: c\n- ] x", "yaml_expected_value"),
    ("a:\n  b: 1\n c: 2\n", "yaml_bad_indent"),
    ("- !!str ]\n", "yaml_bad_indent"),
    ("a: [b, c\nd: e\n", "yaml_unclosed_list"),
    ("a: {b: c\nd: e\n", "yaml_unclosed_mapping"),
    ("a: 1\n---\nb: 2\n", "yaml_multiple_documents"),
    ("a: *nope\n", "yaml_undefined_alias"),
    ("a: &x 1\nb: &x 2\n", "yaml_duplicate_anchor"),
    ("? &a [*a]\n: 1\n", "yaml_recursive_alias"),
    ("? !!str [a]\n: 1\n", "yaml_tag_mismatch"),
    ("? !!seq {a: 1}\n: 1\n", "yaml_tag_mismatch"),
    ("? !!map [a]\n: 1\n", "yaml_tag_mismatch"),
    ("? {[a]: 1}\n: x\n", "yaml_complex_key"),
    ("? {<<: [1]}\n: x\n", "yaml_merge_key"),
    ("? {<<: 1}\n: x\n", "yaml_merge_key"),
    ("a: !!binary é\n", "yaml_bad_binary"),
    ("a: !!binary x\n", "yaml_bad_binary"),
    ("? !!omap {a: 1}\n: x\n", "yaml_bad_pairs"),
    ("? !!omap [a]\n: x\n", "yaml_bad_pairs"),
    ("? !!omap [{a: 1, b: 2}]\n: x\n", "yaml_bad_pairs"),
    ("? !!pairs {a: 1}\n: x\n", "yaml_bad_pairs"),
    ("? !!pairs [a]\n: x\n", "yaml_bad_pairs"),
    ("? !!pairs [{a: 1, b: 2}]\n: x\n", "yaml_bad_pairs"),
    ("a: !foo x\n", "yaml_unknown_tag"),
    ("a: \x07\n", "yaml_special_character"),
    ("%\x01\n---\na", "yaml_special_character"),
    ("a: !!int abc\n", "yaml_bad_tagged_value"),
    ("a: !!float x\n", "yaml_bad_tagged_value"),
    ("a: !!bool x\n", "yaml_bad_tagged_value"),
    ("a: !!timestamp x\n", "yaml_bad_tagged_value"),
]


# (pattern, code, what re2 stopped at): every RE2::ErrorCode a pattern can cause.
RE2_KINDS: list[tuple[str, str, str | None]] = [
    ("(a", "regex_missing_paren", "(a"),
    ("a)", "regex_unexpected_paren", "a)"),
    ("[a", "regex_missing_bracket", "[a"),
    ("a\\", "regex_trailing_backslash", None),
    ("\\q", "regex_bad_escape", "\\q"),
    ("(a)\\1", "regex_backreference", "\\1"),
    ("a**", "regex_nested_repetition", "**"),
    ("a{1000}{1000}", "regex_nested_repetition", "{1000}{1000}"),
    ("*a", "regex_repeat_argument", "*"),
    ("x{2,1}", "regex_repetition_size", "{2,1}"),
    ("a{1001}", "regex_repetition_size", "{1001}"),
    ("[z-a]", "regex_bad_class_range", "z-a"),
    ("[[:foo:]]", "regex_bad_class_range", "[:foo:]"),
    ("\\p{Foo}", "regex_bad_class_range", "\\p{Foo}"),
    ("(?P<a-b>x)", "regex_named_group", "(?P<a-b>"),
    ("(?z)", "regex_bad_group", "(?z"),
    ("(?P=n)", "regex_bad_group", "(?P"),
    ("x(?=y)", "regex_lookahead", "(?="),
    ("x(?!y)", "regex_negative_lookahead", "(?!"),
    ("(?<=x)y", "regex_lookbehind", "(?<="),
    ("(?>a+)", "regex_atomic_group", "(?>"),
    ("\\pL{1000}", "regex_too_large", None),
    ("a\ud800", "regex_bad_utf8", None),
]
