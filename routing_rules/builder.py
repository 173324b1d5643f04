"""The rule builder's model: a rules file's common rules as form rows (issue 19).

A shop owner edits the everyday rules -- keywords, intent or channel to a pool, with a priority,
bot first or not, an SLA profile and tags -- in a form beside the YAML editor. Both edit the same
text: `read_form` turns the YAML into rows, `routing_rules.builder_write.write_form` turns rows
back into YAML, rewriting only what the form changed. A rule the form cannot show (a continue
rule, `any`/`all`/`not`, skills, a fallback ladder ...) becomes a read-only row that says why,
and its text is kept byte for byte.

Rows are plain JSON-able dicts, because the console sends them and the API answers them:

    {"ref": 3, "editable": true, "name": "logistics", "line": 12, "keywords": ["物流"],
     "intents": ["logistics"], "channels": [], "pool": "aftersale", "priority": null,
     "bot": true, "sla": "logistics", "tags": []}
    {"ref": 0, "editable": false, "name": "vip-boost", "line": 5, "reason": "continue",
     "key": "continue", "text": "  - name: vip-boost\\n ..."}

`ref` is the rule's index in the YAML the rows were read from; a row without one is a new rule.
`bot` is true (bot first), false (straight to a person) or null (as `default` says); null
`pool`, `priority` and `sla` mean "as default".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from kefu_common.errors import ConfigError, ConfigErrors
from kefu_common.yaml_syntax import syntax_error
from kefu_common.yamlpos import load_yaml
from routing_rules.problems import shown
from routing_rules.ruleset import PRIORITY_NAMES

FORM_RULE_KEYS = ("name", "description", "when", "then", "enabled")
FORM_WHEN = {"contains": "keywords", "intent": "intents", "channel": "channels"}
FORM_THEN = ("pool", "priority", "bot", "human", "sla", "tags")
LIST_FIELDS = ("keywords", "intents", "channels", "tags")
ROW_FIELDS = ("ref", "name", *LIST_FIELDS, "pool", "priority", "bot", "sla")
# What the read answer adds to a row; the console may send them back, they are ignored.
ECHO_FIELDS = ("editable", "line", "reason", "key", "text", "enabled", "description")


class FormError(ConfigError):
    """A row the builder cannot write, at a field of the form (and at the rule's line when the
    row came from the YAML)."""

    def __init__(self, message: str, rule: int, field: str, file: str = "<rules>", line: int = 1,
                 col: int = 1, *, code: str, **params: Any) -> None:
        super().__init__(message, file, line, col, code=code, params=params)
        self.rule = rule
        self.field = field


@dataclass(slots=True)
class Layout:
    """Where the rules sit in the text: the nodes PyYAML composed, for the writer's spans."""

    text: str
    root: yaml.MappingNode | None
    rules_key: yaml.Node | None
    rules: yaml.Node | None
    items: list[Any]


_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: a 200-rule file in ~0.1 s


def compose(text: str, file: str = "<rules>") -> tuple[Any, Layout]:
    """The plain data and the node layout, from one parse; a syntax error raises ConfigError at
    its position, as kefu_common.yamlpos does."""
    try:
        root = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader) if root is not None else None  # the safe loader, with libyaml
    except (yaml.MarkedYAMLError, yaml.reader.ReaderError) as exc:
        raise syntax_error(exc, text, file) from None
    except (ValueError, TypeError, AttributeError, KeyError):
        # A tag its value does not fit (`!!int abc`): libyaml gives no place; the pure loader does.
        load_yaml(text, file)
        raise
    except (yaml.YAMLError, RecursionError) as exc:
        raise ConfigError(f"YAML: {exc}", file, code="yaml_error", params={"problem": str(exc)}) from None
    layout = Layout(text, None, None, None, [])
    if isinstance(root, yaml.MappingNode):
        layout.root = root
        for knode, vnode in root.value:
            if isinstance(knode, yaml.ScalarNode) and knode.value == "rules":
                layout.rules_key, layout.rules = knode, vnode
                if isinstance(vnode, yaml.SequenceNode):
                    layout.items = list(vnode.value)
    if data is not None and not isinstance(data, dict):
        raise ConfigError("the rules file must be a mapping (timezone, default, rules ...)", file,
                          code="rules_file_not_mapping")
    return data or {}, layout


def _texts(value: Any) -> list[str] | None:
    """A string or a list of strings as a list; None when it is anything else."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def _readonly(ref: int, name: str, line: int, reason: str, key: str = "") -> dict[str, Any]:
    return {"ref": ref, "editable": False, "name": name, "line": line, "reason": reason, "key": key}


def rule_row(ref: int, body: Any, line: int) -> dict[str, Any]:
    """One rule as a row: editable when every part of it has a field in the form."""
    if not isinstance(body, dict):
        return _readonly(ref, "", line, "shape")
    name = body.get("name")
    name = name if isinstance(name, str) else ""
    if body.get("continue"):
        return _readonly(ref, name, line, "continue", "continue")
    for key in body:
        if key not in FORM_RULE_KEYS:
            return _readonly(ref, name, line, "key", key)
    if not name or not isinstance(body.get("enabled", True), bool):
        return _readonly(ref, name, line, "shape")
    row: dict[str, Any] = {"ref": ref, "editable": True, "name": name, "line": line,
                           "enabled": body.get("enabled", True) is not False}
    when = body.get("when")
    if when is None:
        when = {}
    if not isinstance(when, dict):
        return _readonly(ref, name, line, "shape", "when")
    for key in when:
        if key not in FORM_WHEN:
            return _readonly(ref, name, line, "when", key)
    for key, field in FORM_WHEN.items():
        got = _texts(when.get(key, []))
        if got is None:
            return _readonly(ref, name, line, "shape", key)
        row[field] = got
    then = body.get("then")
    if not isinstance(then, dict):
        return _readonly(ref, name, line, "shape", "then")
    for key in then:
        if key not in FORM_THEN:
            return _readonly(ref, name, line, "then", key)
    row.update(_then_row(then))
    if row.get("bad"):
        return _readonly(ref, name, line, "shape", str(row["bad"]))
    return row


def _then_row(then: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("pool", "sla"):
        value = then.get(key)
        if value is not None and not isinstance(value, str):
            return {"bad": key}
        out[key] = value
    priority = then.get("priority")
    if priority is not None and not (isinstance(priority, str) and priority in PRIORITY_NAMES) and (
            not isinstance(priority, int) or isinstance(priority, bool)):
        return {"bad": "priority"}
    out["priority"] = priority
    bot, human = then.get("bot"), then.get("human")
    if (bot is not None and not isinstance(bot, bool)) or (human is not None and not isinstance(human, bool)):
        return {"bad": "bot"}
    if bot is not None and human is not None:
        return {"bad": "human"}  # both given: the checker's business, shown as YAML
    out["bot"] = bot if bot is not None else (not human if human is not None else None)
    tags = _texts(then.get("tags", []))
    if tags is None:
        return {"bad": "tags"}
    out["tags"] = tags
    return out


def read_form(text: str, file: str = "<rules>") -> list[dict[str, Any]]:
    """Every rule of `text` as a row, in order. Raises ConfigError when the YAML does not parse,
    or when its rules are not a block list the writer could splice into."""
    data, layout = compose(text, file)
    rules = data.get("rules")
    if rules is None:
        return []
    if not isinstance(rules, list):
        raise ConfigError("rules: expected a list of rules", file, *_pos(layout.rules),
                          code="form_rules_not_list")
    if rules and isinstance(layout.rules, yaml.SequenceNode) and layout.rules.flow_style:
        raise ConfigError("the form edits rules written one per '- name:' item; these are in a "
                          "[...] list: edit them in YAML", file, *_pos(layout.rules), code="form_shape")
    rows = []
    for i, (body, node) in enumerate(zip(rules, layout.items, strict=True)):
        row = rule_row(i, body, node.start_mark.line + 1)
        if not row["editable"]:
            row["text"] = rule_text(layout, i)
        rows.append(row)
    return rows


def rule_text(layout: Layout, i: int) -> str:
    """The lines of rule `i` as written, for a read-only row."""
    node = layout.items[i]
    lines = layout.text.splitlines()
    end = max(last_line(node), node.start_mark.line)
    return "\n".join(lines[node.start_mark.line:end + 1])


def last_line(node: yaml.Node) -> int:
    """0-based line of the node's last character (block collections' own end marks run on to
    the next token, past comments, so the leaves decide)."""
    if isinstance(node, yaml.ScalarNode) or getattr(node, "flow_style", False):
        end = node.end_mark
        return int(end.line if end.column > 0 else end.line - 1)
    children: list[yaml.Node] = []
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            children += [k, v]
    elif isinstance(node, yaml.SequenceNode):
        children = list(node.value)
    return max((last_line(c) for c in children), default=int(node.start_mark.line))


def _pos(node: yaml.Node | None) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1) if node is not None else (1, 1)


def _strings(errors: list[FormError], i: int, field: str, value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors.append(FormError(f"{field}: expected a list of texts", i, field, code="form_not_texts",
                                key=field))
        return []
    out = [v.strip() for v in value if v.strip()]
    if any("\n" in v for v in out):
        errors.append(FormError(f"{field}: one line each", i, field, code="form_one_line", key=field))
    return out


def clean_row(i: int, row: Any, n_rules: int, errors: list[FormError]) -> dict[str, Any] | None:
    """The form's row `i` checked and normalised; problems go to `errors` with their field."""
    if not isinstance(row, dict):
        errors.append(FormError("each rule is an object", i, "", code="form_row_not_object"))
        return None
    for key in row:
        if key not in ROW_FIELDS and key not in ECHO_FIELDS:
            errors.append(FormError(f"unknown field {key!r}", i, str(key), code="form_unknown_field",
                                    key=str(key)))
    ref = row.get("ref")
    if ref is not None and (not isinstance(ref, int) or isinstance(ref, bool) or not 0 <= ref < n_rules):
        errors.append(FormError(f"ref: no rule #{ref} in the YAML the form was read from", i, "ref",
                                code="form_bad_ref", ref=shown(ref)))
        return None
    out: dict[str, Any] = {"ref": ref}
    name = row.get("name")
    if name is not None and (not isinstance(name, str) or "\n" in name):
        errors.append(FormError("name: a rule needs a name (one line)", i, "name", code="form_needs_name"))
    out["name"] = name.strip() if isinstance(name, str) else ""
    for field in LIST_FIELDS:
        out[field] = _strings(errors, i, field, row.get(field))
    for field in ("pool", "sla"):
        value = row.get(field)
        if value is not None and (not isinstance(value, str) or "\n" in value):
            errors.append(FormError(f"{field}: expected a name", i, field, code="form_expected_name",
                                    key=field))
        out[field] = value.strip() or None if isinstance(value, str) else None
    out["priority"] = _priority(errors, i, row.get("priority"))
    bot = row.get("bot")
    if bot is not None and not isinstance(bot, bool):
        errors.append(FormError("bot: expected true, false or null", i, "bot", code="form_bad_bot"))
    out["bot"] = bot if isinstance(bot, bool) else None
    return out


def _priority(errors: list[FormError], i: int, value: Any) -> int | str | None:
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip() in PRIORITY_NAMES:
        return value.strip()
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    names = ", ".join(PRIORITY_NAMES)
    errors.append(FormError(f"priority: expected a whole number or one of {names}, got {value!r}", i,
                            "priority", code="form_bad_priority", names=list(PRIORITY_NAMES),
                            value=shown(value)))
    return None


def raise_form_errors(errors: list[FormError]) -> None:
    if errors:
        raise ConfigErrors(errors)
