"""Form rows back into the rules YAML, changing only the text of what the form changed.

The text is cut, not re-dumped: everything outside the `rules:` list, every rule the form did not
change (read-only ones included) and every comment stays as written. Each rule owns its lines
plus the comment and blank lines above it, so a moved rule takes its comments along. In a changed
rule only the keys the form owns and whose value changed (`name`, `when`, `then`) are rewritten;
`description`, `enabled` and the rest keep their lines, and a comment inside a rewritten key is
kept as a comment line above it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from kefu_common.errors import ConfigError
from routing_rules.builder import (
    FORM_WHEN,
    FormError,
    Layout,
    clean_row,
    compose,
    last_line,
    raise_form_errors,
    rule_row,
)


@dataclass(slots=True)
class Written:
    """The new YAML and, per row, the 1-based first and last line of its rule in it."""

    text: str
    spans: list[tuple[int, int]]

    def rule_at(self, line: int) -> int | None:
        for i, (first, last) in enumerate(self.spans):
            if first <= line <= last:
                return i
        return None


def _flow(value: Any) -> str:
    """`value` as one line of flow YAML, quoted where YAML needs it."""
    out = yaml.safe_dump([value], default_flow_style=True, allow_unicode=True, width=1 << 30,
                         sort_keys=False).strip()
    return out[1:-1]


def _one_or_list(values: list[str]) -> Any:
    return values[0] if len(values) == 1 else values


def when_text(row: dict[str, Any]) -> str | None:
    when = {key: _one_or_list(row[field]) for key, field in FORM_WHEN.items() if row[field]}
    return _flow(when) if when else None


def then_lines(row: dict[str, Any], indent: str) -> list[str]:
    body: list[tuple[str, Any]] = [(k, row[k]) for k in ("pool", "priority") if row[k] is not None]
    if row["bot"] is not None:
        body.append(("bot", True) if row["bot"] else ("human", True))
    if row["sla"] is not None:
        body.append(("sla", row["sla"]))
    if row["tags"]:
        body.append(("tags", row["tags"]))
    if not body:
        return ["then: {}"]
    return ["then:"] + [f"{indent}{k}: {_flow(v)}" for k, v in body]


def _is_filler(line: str) -> bool:
    s = line.strip()
    return not s or s.startswith("#")


def _nodes(node: yaml.Node) -> list[yaml.Node]:
    out = [node]
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            out += _nodes(k) + _nodes(v)
    elif isinstance(node, yaml.SequenceNode):
        for v in node.value:
            out += _nodes(v)
    return out


def _comments(lines: list[str], first: int, nodes: list[yaml.Node]) -> list[str]:
    """The comments in `lines` (starting at 0-based line `first`): whole comment lines, and what
    follows '#' after the last node on a line."""
    ends: dict[int, int] = {}
    for n in nodes:
        ends[n.end_mark.line] = max(ends.get(n.end_mark.line, 0), n.end_mark.column)
    out = []
    for k, line in enumerate(lines):
        s = line.strip()
        if s.startswith("#"):
            out.append(s)
            continue
        rest = line[ends.get(first + k, len(line)):].lstrip().lstrip(":").lstrip()
        if rest.startswith("#"):
            out.append(rest.rstrip())
    return out


class _Splicer:
    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.lines = layout.text.splitlines(keepends=True)
        if self.lines and not self.lines[-1].endswith("\n"):
            self.lines[-1] += "\n"
        items = layout.items
        self.dash = [self._dash_line(n) for n in items]
        self.content_end = [max(last_line(n), d) for n, d in zip(items, self.dash, strict=True)]
        self.dash_prefix = "  - "
        self.gap = False
        if items:
            first = items[0]
            self.dash_prefix = self.lines[first.start_mark.line][:first.start_mark.column]
            if len(items) > 1:  # a blank line between rules, as the file does
                self.gap = not self.lines[self.content_end[0] + 1].strip()
        self.col = " " * len(self.dash_prefix)

    def _dash_line(self, node: yaml.Node) -> int:
        line = int(node.start_mark.line)
        while line > 0 and not self.lines[line][:node.start_mark.column].strip().endswith("-"):
            line -= 1
        return line

    def chunks(self) -> tuple[int, list[tuple[int, int]], int]:
        """(start of the first rule's lines, [(first, end) per rule], start of the tail): each rule
        owns the filler lines above it; filler after the last rule stays where it is."""
        n = len(self.dash)
        assert self.layout.rules_key is not None
        start = self.layout.rules_key.start_mark.line + 1
        out = []
        begin = start
        for i in range(n):
            end = self.content_end[i] + 1
            out.append((begin, end))
            begin = end
        # Filler after each rule's content up to the next dash belongs to the next rule.
        return start, out, begin

    def rewrite(self, i: int, old: dict[str, Any], new: dict[str, Any]) -> list[str]:
        """Rule `i`'s lines with the changed form keys rewritten."""
        node = self.layout.items[i]
        original = self.lines[self.dash[i]:self.content_end[i] + 1]
        changed = [k for k in ("name", "when", "then") if self._changed(k, old, new)]
        if not changed:
            return original
        if node.flow_style:  # {name: x, ...} on one line: the whole rule is written again
            keep = _comments(original, self.dash[i], _nodes(node))
            return [f"{self.col}{c}\n" for c in keep] + self.fresh(new)
        key_col = node.start_mark.column
        indent = " " * key_col
        prefix = self.lines[self.dash[i]][:key_col]
        pairs = list(node.value)
        starts = [int(k.start_mark.line) for k, _ in pairs] + [self.content_end[i] + 1]
        segs: list[tuple[str, list[str]]] = []
        for j, (k, v) in enumerate(pairs):
            key, seg = str(k.value), self.lines[starts[j]:starts[j + 1]]
            if key in changed:
                notes = [f"{indent}{c}\n" for c in _comments(seg, starts[j], _nodes(k) + _nodes(v))]
                fresh = self._key_lines(key, new, indent)
                # Comments stay, as lines: above the key, or below the rule's first line, which
                # carries the dash.
                seg = (fresh[:1] + notes + fresh[1:]) if j == 0 else (notes + fresh)
            segs.append((key, seg))
        if "when" in changed and not any(k == "when" for k, _ in segs):
            at = max((j + 1 for j, (k, _) in enumerate(segs) if k in ("name", "description")), default=0)
            segs.insert(at, ("when", self._key_lines("when", new, indent)))
        out = [line for _, seg in segs for line in seg]
        if out and not out[0].startswith(prefix):  # the first key was rewritten: give it the dash
            out[0] = prefix + out[0][key_col:]
        return out

    def _changed(self, key: str, old: dict[str, Any], new: dict[str, Any]) -> bool:
        if key == "name":
            return bool(old["name"] != new["name"])
        fields = list(FORM_WHEN.values()) if key == "when" else ["pool", "priority", "bot", "sla", "tags"]
        return any(old[f] != new[f] for f in fields)

    def _key_lines(self, key: str, row: dict[str, Any], indent: str) -> list[str]:
        """The key's new lines at `indent` (its block at two more spaces)."""
        if key == "name":
            return [f"{indent}name: {_flow(row['name'])}\n"]
        if key == "when":
            text = when_text(row)
            return [f"{indent}when: {text}\n"] if text else []
        return [indent + ln + "\n" for ln in then_lines(row, "  ")]

    def fresh(self, row: dict[str, Any]) -> list[str]:
        """A new rule's lines."""
        out = self._key_lines("name", row, self.col) + self._key_lines("when", row, self.col)
        out += self._key_lines("then", row, self.col)
        out[0] = self.dash_prefix + out[0][len(self.col):]
        return out


def write_form(text: str, rows: Any, file: str = "<rules>") -> Written:
    """`rows` (the form, in its order) written into `text`. A row with `ref` keeps that rule's text
    except for what the form changed; one without is a new rule. Raises ConfigErrors of FormError
    (at the row and field) when a row is not something the form could have sent."""
    data, layout = compose(text, file)
    old_rules = data.get("rules") or []
    if not isinstance(old_rules, list) or (old_rules and getattr(layout.rules, "flow_style", False)):
        line, col = (layout.rules.start_mark.line + 1, layout.rules.start_mark.column + 1) if layout.rules else (1, 1)
        raise ConfigError("the form edits rules written one per '- name:' item: edit these in YAML",
                          file, line, col, code="form_shape")
    if not isinstance(rows, list):
        raise ConfigError('"rules" must be the list of the form\'s rows', file, code="form_rows_not_list")
    errors: list[FormError] = []
    clean = [clean_row(i, r, len(old_rules), errors) for i, r in enumerate(rows)]
    seen: set[int] = set()
    for i, row in enumerate(clean):
        if row is not None and row["ref"] is not None:
            if row["ref"] in seen:
                errors.append(FormError(f"rule #{row['ref']} appears twice in the form", i, "ref",
                                        code="form_ref_twice", ref=row["ref"]))
            seen.add(row["ref"])
    olds = [rule_row(j, body, node.start_mark.line + 1) for j, (body, node)
            in enumerate(zip(old_rules, layout.items, strict=True))]
    for i, row in enumerate(clean):
        if row is not None and (row["ref"] is None or olds[row["ref"]]["editable"]) and not row["name"]:
            errors.append(FormError("name: a rule needs a name", i, "name", code="form_needs_name"))
    _place(errors, clean, layout, file)
    raise_form_errors(errors)
    if not rows and layout.rules_key is None:
        return Written(text, [])
    return _assemble(_Splicer(layout), layout, olds, [r for r in clean if r is not None])


def _place(errors: list[FormError], clean: list[dict[str, Any] | None], layout: Layout, file: str) -> None:
    """A refused row that came from the YAML also points at its rule's line there."""
    for e in errors:
        row = clean[e.rule] if 0 <= e.rule < len(clean) else None
        e.file = file
        if row is not None and row["ref"] is not None:
            node = layout.items[row["ref"]]
            e.line, e.col = node.start_mark.line + 1, node.start_mark.column + 1


def _assemble(sp: _Splicer, layout: Layout, olds: list[dict[str, Any]], rows: list[dict[str, Any]]) -> Written:
    lines = sp.lines
    parts: list[list[str]] = []
    if layout.rules_key is None:  # no rules yet: a new section at the end
        head, tail = [*lines, "\n", "rules:\n"], []
        sp.dash_prefix, sp.col, sp.gap = "  - ", "    ", True
    elif not layout.items:  # `rules:` or `rules: []`
        line = layout.rules_key.start_mark.line
        head = [*lines[:line], lines[line][:layout.rules_key.start_mark.column] + "rules:\n"]
        tail = lines[line + 1:]
        sp.dash_prefix = " " * (layout.rules_key.start_mark.column + 2) + "- "
        sp.col, sp.gap = " " * len(sp.dash_prefix), True
    else:
        start, chunks, tail_at = sp.chunks()
        head, tail = lines[:start], lines[tail_at:]
        parts = [lines[a:b] for a, b in chunks]
    out: list[list[str]] = []
    for row in rows:
        ref = row["ref"]
        if ref is None:
            out.append((["\n"] if sp.gap and out else []) + sp.fresh(row))
            continue
        body = parts[ref]
        if olds[ref]["editable"]:
            keep = len(body) - (sp.content_end[ref] + 1 - sp.dash[ref])
            body = body[:keep] + sp.rewrite(ref, olds[ref], row)
        if not out and ref != 0:  # moved to the top: no blank line under `rules:`
            body = body[next((k for k, ln in enumerate(body) if ln.strip()), 0):]
        elif out and sp.gap and body and body[0].strip():  # moved down from the top
            body = ["\n", *body]
        out.append(body)
    text_lines = list(head)
    spans = []
    for body in out:
        lead = next((k for k, ln in enumerate(body) if not _is_filler(ln)), 0)
        spans.append((len(text_lines) + 1 + lead, len(text_lines) + len(body)))
        text_lines += body
    text_lines += tail
    return Written("".join(text_lines), spans)
