"""The config's shape, before its meaning: keys no section has (with did-you-mean), and each
`X_env: NAME` replaced by the variable's value. What settings.py runs on the YAML tree before
msgspec converts it; the checks of meaning come after, on the structs.
"""

from __future__ import annotations

import os
from typing import Any

import msgspec

from kefu_common.errors import ConfigError
from kefu_common.yamlpos import YamlDoc

ENV_SUFFIX = "_env"
"""`X_env: NAME` stands for `X` read from environment variable NAME."""


def key_at(doc: YamlDoc, path: tuple[str | int, ...]) -> tuple[str | int, ...]:
    """`path`, or its `X_env` twin when the value came from the environment."""
    if path and isinstance(path[-1], str) and path not in doc.values:
        twin = (*path[:-1], path[-1] + ENV_SUFFIX)
        if twin in doc.values:
            return twin
    return path


def placeholder(item: dict[str, Any], path: tuple[str | int, ...]) -> bool:
    """The offending value is `kefu check`'s stand-in for an unset variable: already a warning."""
    value: Any = item
    for part in path:
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
            value = value[part]
        else:
            return False
    return isinstance(value, str) and value.startswith("<unset ")


def _struct_fields(tp: Any) -> dict[str, Any]:
    info = msgspec.inspect.type_info(tp)
    assert isinstance(info, msgspec.inspect.StructType)
    return {f.name: f.type for f in info.fields}


def check_keys(doc: YamlDoc, path: tuple[str | int, ...], tp: Any, errors: list[ConfigError]) -> None:
    """Unknown keys anywhere in the tree, with did-you-mean; walks struct and list types."""
    node = doc.get(path)
    if isinstance(tp, msgspec.inspect.StructType):
        fields = {f.name: f.type for f in tp.fields}
    elif isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        fields = _struct_fields(tp)
    else:
        return
    if not isinstance(node, dict):
        return
    allowed = [f for f in fields if f not in ("source", "base_dir")]
    allowed_env = allowed + [f + ENV_SUFFIX for f in allowed]
    for err in doc.unknown_keys(path, allowed_env):
        errors.append(err)
    for key, ftype in fields.items():
        if key not in node or (not path and key == "channels"):  # each channel checks its own
            continue
        sub = (*path, key)
        inner = _unwrap(ftype)
        if isinstance(inner, msgspec.inspect.StructType):
            check_keys(doc, sub, inner, errors)
        elif isinstance(inner, msgspec.inspect.ListType | msgspec.inspect.VarTupleType):
            item = _unwrap(inner.item_type)
            if isinstance(item, msgspec.inspect.StructType) and isinstance(node[key], list):
                for i in range(len(node[key])):
                    check_keys(doc, (*sub, i), item, errors)


def _unwrap(t: Any) -> Any:
    if isinstance(t, msgspec.inspect.UnionType):
        non_none = [x for x in t.types if not isinstance(x, msgspec.inspect.NoneType)]
        return non_none[0] if len(non_none) == 1 else t
    return t


def resolve_env(doc: YamlDoc, node: Any, path: tuple[str | int, ...], errors: list[ConfigError],
                 unset: list[ConfigError] | None) -> Any:
    """Replace every `X_env: NAME` with `X: os.environ[NAME]`."""
    if isinstance(node, list):
        return [resolve_env(doc, v, (*path, i), errors, unset) for i, v in enumerate(node)]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key.endswith(ENV_SUFFIX) and isinstance(value, str):
            base = key[: -len(ENV_SUFFIX)]
            if base in node:
                errors.append(doc.error((*path, key), f"give either {base!r} or {key!r}, not both", key=True))
                continue
            if value in os.environ:
                out[base] = os.environ[value]
            elif unset is None:
                errors.append(doc.error((*path, key), f"environment variable {value} is not set"))
            else:
                unset.append(doc.error((*path, key), f"warning: environment variable {value} is not set"))
                # One per variable, and long enough for a token: the checks after this still
                # see two agents that name one variable as sharing a token.
                out[base] = f"<unset {value}>"
        else:
            out[key] = resolve_env(doc, value, (*path, key), errors, unset)
    return out
