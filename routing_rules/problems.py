"""Every kind of problem a rules file can have, by a stable code, with its English template.

A problem keeps its English `message` (the CLI and `kefu check` print it as before) and gains a
`code` and `params` (the values the message names: a rule, a pool, a key, the kind of value that
was written, a did-you-mean). The console words a problem from its code in the agent's language
(console/rules_problems.js); a test checks that every code here has an English and a Chinese
entry there. `Ctx.err` refuses a code that is not listed, so none escapes the tables.

The templates say which params a code carries; `{got}` is a kind of YAML value (see `KINDS`).
"""

from __future__ import annotations

from typing import Any

from kefu_common.errors import ConfigError, ValueProblem

PROBLEMS: dict[str, str] = {
    # YAML itself (kefu_common/yamlpos.py, routing_rules/builder.py)
    "yaml_syntax": "YAML syntax: {problem}",
    "yaml_error": "YAML: {problem}",
    "yaml_too_deep": "YAML nested too deeply",
    "yaml_merge_key": "YAML merge keys (<<) are not supported",
    "yaml_complex_key": "mapping keys must be plain scalars",
    "duplicate_key": "duplicate key {key!r}",
    # What a YAML syntax error is (kefu_common/yaml_syntax.py), the `reason` of yaml_syntax; each
    # also carries line, col and what stands there: found, found_char (tab, space) or end
    "yaml_mapping_values": "mapping values are not allowed here",
    "yaml_bad_indent": "expected <block end>, but found ...",
    "yaml_bad_character": "found character '\\t' that cannot start any token",
    "yaml_unclosed_list": "expected ',' or ']'",
    "yaml_unclosed_mapping": "expected ',' or '}'",
    "yaml_unexpected_end": "found unexpected end of stream",
    "yaml_bad_escape": "found unknown escape character",
    "yaml_undefined_alias": "found undefined alias",
    "yaml_expected_colon": "could not find expected ':'",
    "yaml_expected_key": "did not find expected key",
    "yaml_expected_dash": "did not find expected '-' indicator",
    "yaml_dash_not_allowed": "sequence entries are not allowed here",
    "yaml_key_not_allowed": "mapping keys are not allowed here",
    "yaml_block_indicator": "expected chomping or indentation indicators, but found {found!r}",
    "yaml_block_header": "expected a comment or a line break, but found {found!r}",
    "yaml_bad_hex_escape": "expected escape sequence of hexadecimal numbers, but found {found!r}",
    "yaml_quoted_separator": "found unexpected document separator",
    "yaml_expected_document_start": "expected '<document start>', but found {found!r}",
    "yaml_bad_directive": "a %YAML or %TAG directive that cannot be read, at {found!r}",
    "yaml_bad_tag": "a tag that cannot be read, at {found!r}",
    "yaml_bad_anchor_name": "expected alphabetic or numeric character, but found {found!r}",
    "yaml_expected_value": "expected the node content, but found {found!r}",
    "yaml_multiple_documents": "expected a single document in the stream, but found another document",
    "yaml_duplicate_anchor": "found duplicate anchor",
    "yaml_recursive_alias": "found unconstructable recursive node",
    "yaml_tag_mismatch": "expected a scalar, sequence or mapping node as the tag says",
    "yaml_bad_binary": "failed to decode base64 data",
    "yaml_bad_pairs": "an ordered map or pairs must be a list of one-key mappings",
    "yaml_unknown_tag": "could not determine a constructor for the tag at {found!r}",
    "yaml_special_character": "special characters are not allowed: {found}",
    "yaml_bad_tagged_value": "the value {found!r} cannot be read as {tag}",
    "yaml_unreadable": "YAML cannot read line {line}, column {col}: found {found!r}",
    "unknown_key": "unknown key {key!r}; did you mean {suggestion!r}? (or: expected one of {expected})",
    # Typed readers (routing_rules/ctx.py); {what} is the field, {yes_no} marks an unquoted yes/no
    "expected_mapping": "{what}: expected a mapping, got {got}",
    "expected_string": "{what}: expected a string, got {got}",
    "expected_strings": "{what}: expected a string or a list of strings, got {got}",
    "expected_boolean": "{what}: expected true or false, got {got}",
    "expected_integer": "{what}: expected an integer, got {got}",
    "unknown_name": "unknown {what} {name!r}; did you mean {suggestion!r}? (or: known: {known})",
    # The file's sections (routing_rules/parse.py)
    "unknown_timezone": "unknown timezone {name!r}; expected an IANA name such as Asia/Shanghai",
    "bad_days": "days: {detail}",
    "bad_hours": "hours: {detail}",
    "bad_time": "time: {detail}",
    "closed_not_list": "closed: expected a list of dates (YYYY-MM-DD), got {got}",
    "closed_bad_date": "closed: expected a date as YYYY-MM-DD, got {value!r}",
    "bad_pattern": "{detail}",
    "intent_never_detected": "no keywords or patterns left: the intent could never be detected",
    "bad_intent_name": "intent name {name!r}: use lower case letters, digits and _",
    "missing_default": "missing 'default': the decision when no rule matches",
    "default_missing_pool": "default: missing 'pool'",
    "bot_and_human": "give either bot: true or human: true, not both",
    "bad_priority": "priority: expected an integer or one of {names}, got {got} {value!r}",
    "min_level_range": "min_level: expected 1 to 5, got {level}",
    "fallback_not_list": "fallback: expected a list of steps like {{after: 60s, pool: general}}, got {got}",
    "bad_fallback_after": "fallback after: {detail}",
    "fallback_step_target": "fallback step: give either pool: NAME or any_agent: true",
    "fallback_order": "fallback steps must be in increasing order of 'after'",
    "rules_not_list": "rules: expected a list of rules, got {got}",
    "duplicate_rule": "duplicate rule name {name!r} (first at line {line})",
    "missing_then": "rule {rule!r}: missing 'then'",
    "continue_rule_key": "{field!r} in a continue rule: a continue rule only adds tags and boost",
    # Conditions (routing_rules/parse_when.py)
    "not_mapping": "not: expected a mapping of conditions, got {got}",
    "combinator_list": "{field}: expected a non-empty list of conditions, got {got}",
    "empty_condition": "{field}: an empty condition is not allowed here",
    "message_count_bounds": "message_count: give min, max or both",
    "bad_message_count": "message_count: expected an integer, a comparison or {{min: N, max: M}}, "
                         "got {got} {value!r}",
    # Why a day, time window or duration was refused (routing_rules/times.py), given as the
    # `reason` of bad_days, bad_hours, bad_time and bad_fallback_after, its params beside it
    "time_format": "expected a time as HH:MM, got {value!r}",
    "time_range": "time {value!r} is out of range 00:00-24:00",
    "window_format": "expected a window as HH:MM-HH:MM, got {value!r}",
    "window_empty": "window {value!r} is empty; use 00:00-24:00 for the whole day",
    "unknown_day": "unknown day {value!r}; expected one of {expected}",
    "duration_format": "expected a duration like 60s, 5m or 1h, got {got} {value!r}",
    "duration_negative": "a duration cannot be negative",
    # What re2 refused in a regex (routing_rules/regex.py), the `reason` of bad_pattern
    "regex_backreference": "regex {pattern!r} refused by re2: backreferences are not supported ({raw})",
    "regex_named_group": "regex {pattern!r} refused by re2: use (?P<name>...) for named groups ({raw})",
    "regex_lookahead": "regex {pattern!r} refused by re2: lookahead (?=...) is not supported ({raw})",
    "regex_negative_lookahead": "regex {pattern!r} refused by re2: negative lookahead is not supported",
    "regex_lookbehind": "regex {pattern!r} refused by re2: lookbehind is not supported ({raw})",
    "regex_atomic_group": "regex {pattern!r} refused by re2: atomic groups are not supported ({raw})",
    "regex_nested_repetition": "regex {pattern!r} refused by re2: nested repetition is not supported",
    "regex_repetition_size": "regex {pattern!r} refused by re2: repetition counts are at most 1000, "
                             "the smaller number first ({raw})",
    # Plain mistakes re2 names; {found} is the part of the pattern it stopped at
    "regex_bad_group": "invalid regex {pattern!r}: a (?...) group re2 does not know ({raw})",
    "regex_repeat_argument": "invalid regex {pattern!r}: a repetition with nothing to repeat ({raw})",
    "regex_missing_paren": "invalid regex {pattern!r}: a ( is not closed ({raw})",
    "regex_missing_bracket": "invalid regex {pattern!r}: a [ is not closed ({raw})",
    "regex_unexpected_paren": "invalid regex {pattern!r}: a ) without its ( ({raw})",
    "regex_trailing_backslash": "invalid regex {pattern!r}: a lone \\ at the end ({raw})",
    "regex_bad_escape": "invalid regex {pattern!r}: an unknown escape ({raw})",
    "regex_bad_class_range": "invalid regex {pattern!r}: a character range or class that is not valid ({raw})",
    "regex_bad_class": "invalid regex {pattern!r}: a character class that is not valid ({raw})",
    "regex_bad_utf8": "invalid regex {pattern!r}: not valid UTF-8 text ({raw})",
    "regex_too_large": "invalid regex {pattern!r}: too large once compiled ({raw})",
    "regex_invalid": "invalid regex {pattern!r}: {raw} (checked with re2)",
    # Warnings
    "keyword_not_in_list": "keyword {keyword!r} is not in the list",
    "channel_near_miss": "channel {channel!r} is not a known channel; did you mean {suggestion!r}?",
    "shadowed_rule": "rule {rule!r} can never match: earlier rule {earlier!r} (line {line}) "
                     "has no conditions / matches every message this rule matches ({always})",
    # The form (routing_rules/builder.py, builder_write.py)
    "rules_file_not_mapping": "the rules file must be a mapping (timezone, default, rules ...)",
    "form_rules_not_list": "rules: expected a list of rules",
    "form_shape": "the form edits rules written one per '- name:' item",
    "form_rows_not_list": '"rules" must be the list of the form\'s rows',
    # A row of the form (routing_rules/builder.py FormError), at its rule and field
    "form_not_texts": "{key}: expected a list of texts",
    "form_one_line": "{key}: one line each",
    "form_row_not_object": "each rule is an object",
    "form_unknown_field": "unknown field {key!r}",
    "form_bad_ref": "ref: no rule #{ref} in the YAML the form was read from",
    "form_ref_twice": "rule #{ref} appears twice in the form",
    "form_needs_name": "name: a rule needs a name",
    "form_expected_name": "{key}: expected a name",
    "form_bad_bot": "bot: expected true, false or null",
    "form_bad_priority": "priority: expected a whole number or one of {names}, got {value!r}",
}

KINDS = ("null", "boolean", "number", "string", "list", "mapping", "empty_string", "empty_list",
         "other")
"""The values of a `got` param: how the YAML value written was read."""


def kind_code(value: Any) -> str:
    """The `got` param for `value`, matching ctx.kind_of's English words."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    return "other"


def shown(value: Any) -> Any:
    """A value as a JSON answer can carry it: YAML also reads dates and times, which it cannot."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def reason_of(exc: Exception) -> dict[str, Any]:
    """The params naming why a value was refused: {"reason": code, ...} when it says."""
    if isinstance(exc, ValueProblem | ConfigError) and exc.code:
        return {"reason": exc.code, **exc.params}
    return {}


def as_json(e: ConfigError, severity: str) -> dict[str, Any]:
    """One problem as the rules API answers it: where, the English message, and code + params."""
    return {"line": e.line, "col": e.col, "message": e.message, "severity": severity,
            "code": e.code, "params": e.params}
