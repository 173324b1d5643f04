"""YAML that remembers where each value came from, so errors can say FILE:LINE:COL.

Config, rules, FAQ and quick-reply files all load through `load_yaml`. Lines and columns are
1-based, as editors show them. Duplicate keys are refused: YAML would silently keep the last.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kefu_common.errors import ConfigError
from kefu_common.yaml_syntax import YAML_SYNTAX_CODES, bad_tagged_value, syntax_error, syntax_params

__all__ = ["YAML_SYNTAX_CODES", "YamlDoc", "load_yaml", "load_yaml_file", "read_text", "syntax_params"]

Path_ = tuple[str | int, ...]

@dataclass(slots=True)
class YamlDoc:
    """Plain Python data plus the position of every value and mapping key in it."""

    data: Any
    file: str
    values: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path_, tuple[int, int]] = field(default_factory=dict)

    def where(self, path: Path_, *, key: bool = False) -> tuple[int, int]:
        """Position of `path`, or of its nearest ancestor that has one."""
        table = self.keys if key else self.values
        p = tuple(path)
        while p:
            if p in table:
                return table[p]
            if p in self.values:
                return self.values[p]
            p = p[:-1]
        return self.values.get((), (1, 1))

    def error(self, path: Path_, message: str, *, key: bool = False, code: str = "",
              params: Mapping[str, Any] | None = None) -> ConfigError:
        line, col = self.where(path, key=key)
        return ConfigError(message, self.file, line, col, code=code, params=params)

    def unknown_keys(self, path: Path_, allowed: Iterable[str]) -> list[ConfigError]:
        """One error per key of the mapping at `path` that is not in `allowed`, with a hint."""
        node = self.get(path)
        if not isinstance(node, dict):
            return []
        allowed = list(allowed)
        out = []
        for k in node:
            if k not in allowed:
                hint = difflib.get_close_matches(str(k), allowed, n=1)
                msg = f"unknown key {k!r}"
                msg += f"; did you mean {hint[0]!r}?" if hint else f"; expected one of {', '.join(allowed)}"
                params = {"key": str(k), "suggestion": hint[0]} if hint else {"key": str(k), "expected": allowed}
                out.append(self.error((*path, k), msg, key=True, code="unknown_key", params=params))
        return out

    def item(self, path: Path_, allowed: Iterable[str], required: Sequence[str], noun: str,
             errors: list[ConfigError]) -> dict[str, str] | None:
        """One item of a list of records (a FAQ entry, a quick reply): None when it is not a
        mapping, else its `required` texts as `texts` gives them; unknown keys add errors too."""
        if not isinstance(self.get(path), dict):
            errors.append(self.error(path, f"each {noun} is a mapping with {', '.join(required)}",
                                     code="item_not_mapping", params={"noun": noun, "required": list(required)}))
            return None
        errors += self.unknown_keys(path, allowed)
        return self.texts(path, required, errors)

    def texts(self, path: Path_, keys: Iterable[str], errors: list[ConfigError]) -> dict[str, str]:
        """The mapping at `path`'s `keys` as stripped, non-empty strings. Each one missing or not
        text adds an error to `errors`, at the key when it is there, else at the mapping."""
        node = self.get(path)
        out: dict[str, str] = {}
        for key in keys:
            value = node.get(key)
            if isinstance(value, str) and value.strip():
                out[key] = value.strip()
            else:
                errors.append(self.error((*path, key) if key in node else path,
                                         f"{key!r} must be a non-empty string", code="required_text",
                                         params={"key": key}))
        return out

    def get(self, path: Path_) -> Any:
        node = self.data
        for part in path:
            node = node[part]
        return node


def load_yaml(text: str, file: str = "<string>") -> YamlDoc:
    """Parse `text`; a syntax error becomes a ConfigError at the place YAML points to."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except (yaml.MarkedYAMLError, yaml.reader.ReaderError) as exc:
        raise syntax_error(exc, text, file) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"YAML: {exc}", file, code="yaml_error", params={"problem": str(exc)}) from None
    except RecursionError:  # PyYAML composes nested collections recursively
        raise ConfigError("YAML nested too deeply", file, code="yaml_too_deep") from None
    doc = YamlDoc(data=None, file=file)
    if root is None:
        doc.data = {}
        return doc
    try:
        doc.data = _build(root, (), doc, _constructor())
    except yaml.MarkedYAMLError as exc:  # a key the constructor refuses (`? !!omap {a: 1}`)
        raise syntax_error(exc, text, file) from None
    except RecursionError:
        raise ConfigError("YAML nested too deeply", file, code="yaml_too_deep") from None
    return doc


def load_yaml_file(path: str | Path) -> YamlDoc:
    return load_yaml(read_text(path), str(path))


def read_text(path: str | Path) -> str:
    """A UTF-8 file's text; one we cannot read, or not UTF-8, is a ConfigError naming the file."""
    p = Path(path)
    try:
        return p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror or exc}", str(p)) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text: {exc.reason}", str(p)) from None


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _constructor() -> yaml.constructor.SafeConstructor:
    """A constructor for one document. It remembers every node it built (PyYAML's own loader
    drops them when the document is done); one kept for the process held every config, rules
    and FAQ text ever loaded, with their marks, for good (over a million objects in a test run)."""
    made = yaml.SafeLoader.__new__(yaml.SafeLoader)
    yaml.constructor.SafeConstructor.__init__(made)
    return made


def _build(node: yaml.Node, path: Path_, doc: YamlDoc, make: yaml.constructor.SafeConstructor) -> Any:
    doc.values[path] = _mark(node)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for knode, vnode in node.value:
            if knode.tag == "tag:yaml.org,2002:merge":
                raise ConfigError("YAML merge keys (<<) are not supported", doc.file, *_mark(knode),
                              code="yaml_merge_key")
            key = _construct(knode, doc, make)
            if not isinstance(key, str | int | float | bool):
                raise ConfigError("mapping keys must be plain scalars", doc.file, *_mark(knode),
                              code="yaml_complex_key")
            skey = str(key)
            if skey in out:
                raise ConfigError(f"duplicate key {skey!r}", doc.file, *_mark(knode),
                              code="duplicate_key", params={"key": skey})
            doc.keys[(*path, skey)] = _mark(knode)
            out[skey] = _build(vnode, (*path, skey), doc, make)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*path, i), doc, make) for i, item in enumerate(node.value)]
    return _construct(node, doc, make)


def _construct(node: yaml.Node, doc: YamlDoc, make: yaml.constructor.SafeConstructor) -> Any:
    try:
        return make.construct_object(node, deep=True)
    except (ValueError, TypeError, AttributeError, KeyError):
        # An explicit tag its value does not fit (`!!int abc`, `!!timestamp soon`): PyYAML's
        # constructors raise these rather than a YAMLError.
        if isinstance(node, yaml.ScalarNode):
            raise bad_tagged_value(node, doc.file) from None
        raise
