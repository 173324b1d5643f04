"""Loading YAML keeps nothing of the parse: no node and no mark outlives `load_yaml`. One
constructor shared by every load used to remember each node it built, so a long-running server
held every config, rules and FAQ text it had ever loaded (over a million objects in a test run,
and full garbage collections of 0.6 s)."""

from __future__ import annotations

import gc

import yaml

from kefu_common.yamlpos import load_yaml


def _parse_objects() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, yaml.Node | yaml.Mark))


def test_a_load_keeps_no_yaml_nodes_or_marks() -> None:
    text = "pools:\n" + "".join(f"  - id: pool{n}\n    skills: [a, b, {n}]\n" for n in range(200))
    before = _parse_objects()
    docs = [load_yaml(text, f"shop{n}.yaml") for n in range(5)]
    assert _parse_objects() == before
    assert docs[4].data["pools"][199] == {"id": "pool199", "skills": ["a", "b", 199]}
    assert docs[4].where(("pools", 199, "skills", 2)) == (401, 20)  # "    skills: [a, b, 199]": the 199
