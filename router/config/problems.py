"""Every kind of problem a set-up document can have, by a stable code, with its English template.

The set-up documents are the live ones admins edit in the console (pools, business hours,
shifts, quick replies, the FAQ: router/live/kinds.py) and the config sections they replace. As in
routing_rules/problems.py, a problem keeps its English `message` (`kefu check` prints it as
before) and gains a `code` and `params`; the console words it from the code in the agent's
language (console/setup_problems.js), and a test checks every code here has zh and en there.

Problems a rules file can have too (YAML syntax, an unknown key, a bad day or time window, an
unknown timezone, a value of the wrong kind) keep their rules code, listed in `SHARED`, so the
console has one wording for each; `PROBLEMS` holds only the codes of these documents.
"""

from __future__ import annotations

import re
from typing import Any

PROBLEMS: dict[str, str] = {
    # msgspec's refusals of a section's types (router/config/settings.py validation_error)
    "expected_number": "{what}: expected a number, got {got}",
    "expected_list": "{what}: expected a list, got {got}",
    "expected_type": "{what}: expected {kinds}, got {got}",
    "missing_field": "{what}: missing required field {field!r}",
    "bad_choice": "{what}: {value!r} is not one of the allowed values",
    "invalid_value": "{what}: {detail}",
    "document_not_mapping": "expected a mapping",
    # Pools (router/live/kinds.py, router/config/settings.py)
    "bad_pool_id": "pool id {value!r} must be 1-64 of A-Z a-z 0-9 _ . -",
    "duplicate_pool_id": "duplicate pool id {value!r}",
    "pool_name_too_long": "pools.name: at most {limit} characters",
    "bad_skill_id": "skill {value!r} must be 1-64 of A-Z a-z 0-9 _ . -",
    "no_pools": "pools: at least one pool is needed",
    # Shifts and the ops section (router/config/ops.py)
    "bad_shift_name": "shift name {value!r} must be 1-64 of A-Z a-z 0-9 _ . -",
    "duplicate_shift_name": "duplicate shift name {value!r}",
    "bad_shift_time": "shifts.{edge}: expected a time 'HH:MM' (00:00 to 23:59)",
    "unknown_agent": "unknown agent {name!r}; agents are: {known}",
    "agent_listed_twice": "agent {name!r} is listed twice",
    "below_zero": "{what}: expected >= 0",
    "not_positive": "{what}: expected > 0",
    "bad_away_reason_id": "away reason id {value!r} must be 1-32 of a-z 0-9 _ -, starting with a letter",
    "away_reason_builtin": "away reason {value!r} is built in",
    "away_reason_twice": "away reason {value!r} is listed twice",
    "away_reason_label": "ops.away_reasons.{lang}: expected a label of 1-40 characters",
    # Lists of records (kefu_common/yamlpos.py item and texts, router/bot/faq_kb.py)
    "item_not_mapping": "each {noun} is a mapping with {required}",
    "required_text": "{key!r} must be a non-empty string",
    "expected_string_list": "expected a list of strings",
    "expected_nonempty_string": "expected a non-empty string",
    # The FAQ (router/bot/faq_kb.py)
    "faq_not_mapping": "a FAQ file is a mapping with an 'entries' list",
    "faq_threshold": "threshold must be a number in [0, 1]",
    "faq_entries_empty": "'entries' must be a non-empty list",
    "faq_duplicate_id": "duplicate id {id!r} (first at entry {first})",
    "synonyms_not_mapping": "synonyms map a canonical word to a list of words",
    "synonym_twice": "{word!r} is already a synonym of {canonical!r}",
    # Quick replies (router/bot/quick_replies.py)
    "replies_not_mapping": "a quick-reply file is a mapping with 'stages' and 'replies'",
    "stages_not_mapping": "'stages' must map a stage id to its title",
    "replies_not_list": "'replies' must be a list",
    "reply_duplicate_id": "duplicate id {id!r}",
    "unknown_stage": "unknown stage {name!r}; did you mean {suggestion!r}? (or: stages are {known})",
    "keywords_not_strings": "keywords must be a list of strings",
    "placeholder_syntax": "bad placeholder syntax: {detail} (write {{{{ for a brace)",
    "unknown_placeholder": "unknown placeholder {{{name}}}; did you mean {{{suggestion}}}? (or: use {known})",
}

SHARED = frozenset({
    "yaml_syntax", "yaml_error", "yaml_too_deep", "yaml_merge_key", "yaml_complex_key", "duplicate_key",
    "unknown_key", "expected_mapping", "expected_string", "expected_boolean", "expected_integer",
    "unknown_timezone", "unknown_day", "bad_hours", "closed_bad_date",
})
"""Codes of routing_rules/problems.py these documents have too, worded by the rules table
(a test checks they are there, and that no code of `PROBLEMS` is)."""

# msgspec names the types it expected and got; as a `got` param these are the rules' KINDS.
_KIND = {"str": "string", "int": "number", "float": "number", "bool": "boolean", "null": "null",
         "array": "list", "object": "mapping"}
_SIMPLE = {"int": "expected_integer", "str": "expected_string", "bool": "expected_boolean",
           "object": "expected_mapping", "float": "expected_number", "array": "expected_list"}
_EXPECTED = re.compile(r"^Expected `([^`]+)`, got `([^`]+)`$")
_MISSING = re.compile(r"^Object missing required field `([^`]+)`$")
_UNKNOWN = re.compile(r"^Object contains unknown field `([^`]+)`$")
_CHOICE = re.compile(r"^Invalid enum value (.+)$")


def msgspec_problem(text: str, what: str) -> tuple[str, dict[str, Any]]:
    """The code and params of msgspec's words for a refused value (its `$.path` removed)."""
    if m := _EXPECTED.match(text):
        expected, got = m.group(1), _KIND.get(m.group(2), "other")
        if expected in _SIMPLE:
            return _SIMPLE[expected], {"what": what, "got": got}
        kinds = list(dict.fromkeys(_KIND.get(t.strip(), "other") for t in expected.split("|")))
        return "expected_type", {"what": what, "kinds": kinds, "got": got}
    if m := _MISSING.match(text):
        return "missing_field", {"what": what, "field": m.group(1)}
    if m := _UNKNOWN.match(text):
        return "unknown_key", {"key": m.group(1)}
    if m := _CHOICE.match(text):
        return "bad_choice", {"what": what, "value": m.group(1).strip("'\"")}
    # A constraint msgspec words itself ("Expected `str` of length <= 5"): its words, as given.
    return "invalid_value", {"what": what, "detail": text}
