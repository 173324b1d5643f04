"""Every problem of a shop set-up document (pools, business hours, shifts, the FAQ, quick
replies) has a stable code and params (issue 19, item 8), every code has an English and a Chinese
entry in the console's tables, and each parser puts a bad document's problem at its line:col
with the right code, while its English message stays what `kefu check` prints."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from helpers.app import BASIC, running
from helpers.js_tables import console_table_sources

from kefu_common.errors import ConfigError, ConfigErrors
from router.config.problems import PROBLEMS, SHARED, msgspec_problem
from router.config.settings import parse_settings
from router.live.kinds import KINDS, Context
from routing_rules.problems import KINDS as VALUE_KINDS
from routing_rules.problems import PROBLEMS as RULES_PROBLEMS

ROOT = Path(__file__).resolve().parents[2]
CONSOLE = ROOT / "router" / "web" / "static" / "console"
SOURCES = [ROOT / p for p in ("router/live/kinds.py", "router/config/ops.py", "router/config/settings.py",
                              "router/bot/faq_kb.py", "router/bot/quick_replies.py", "router/bot/hours.py",
                              "kefu_common/yamlpos.py", "kefu_common/yaml_syntax.py")]
# What msgspec says of a refused value, one of each kind it words.
MSGSPEC = ["Expected `int`, got `str`", "Expected `str`, got `int`", "Expected `bool`, got `null`",
           "Expected `object`, got `array`", "Expected `float`, got `str`", "Expected `array`, got `object`",
           "Expected `str | int`, got `bool`", "Object missing required field `id`",
           "Object contains unknown field `size`", "Invalid enum value 'warm'",
           "Expected `str` of length <= 5"]


def tables(name: str) -> dict[str, set[str]]:
    found = console_table_sources({name: (CONSOLE / name).read_text(encoding="utf-8")})
    assert len(found) == 1
    return {lang: set(keys) for lang, keys in found[0][1].items()}


def codes_in_source() -> dict[str, str]:
    """Each code literal the parsers pass as `code=` (to doc.error, ConfigError, ValueProblem)."""
    found: dict[str, str] = {}
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                for k in node.keywords:
                    if k.arg == "code" and isinstance(k.value, ast.Constant) and k.value.value:
                        found[k.value.value] = f"{path.name}:{node.lineno}"
    for text in MSGSPEC:
        found[msgspec_problem(text, "x")[0]] = "problems.py"
    return found


def test_the_parsers_name_many_codes_and_each_is_listed() -> None:
    used = codes_in_source()
    assert len(used) >= 50, sorted(used)
    assert {c: w for c, w in used.items() if c not in PROBLEMS and c not in SHARED} == {}
    # A listed code nothing produces is a table entry nobody reads.
    assert sorted(set(PROBLEMS) - set(used)) == []
    assert sorted(SHARED - set(used)) == []
    # One wording per code: a shared code is the rules catalogue's, a code of ours is not in it.
    assert sorted(SHARED - set(RULES_PROBLEMS)) == []
    assert sorted(set(PROBLEMS) & set(RULES_PROBLEMS)) == []


def test_every_code_has_an_english_and_a_chinese_entry() -> None:
    ours, rules = tables("setup_problems.js"), tables("rules_problems.js")
    for lang in ("en", "zh"):
        assert sorted(c for c in PROBLEMS if f"lp_{c}" not in ours[lang]) == [], lang
        assert sorted(c for c in SHARED if f"rp_{c}" not in rules[lang]) == [], lang
        assert {"lpn_entry", "lpn_reply", "lp_sep"} <= ours[lang]
        assert {f"rp_kind_{k}" for k in VALUE_KINDS} | {"rp_or"} <= rules[lang]
        # Nothing of ours is worded in the rules table too (or the other way round).
        assert sorted(k for k in ours[lang] if k.startswith("rp_")) == []


def test_a_missing_entry_is_caught() -> None:
    ours = tables("setup_problems.js")
    ours["zh"].discard("lp_unknown_agent")
    assert "unknown_agent" in PROBLEMS
    assert [c for c in PROBLEMS if f"lp_{c}" not in ours["zh"]] == ["unknown_agent"]


@pytest.mark.parametrize(("text", "code", "params"), [
    ("Expected `int`, got `str`", "expected_integer", {"what": "w", "got": "string"}),
    ("Expected `str`, got `int`", "expected_string", {"what": "w", "got": "number"}),
    ("Expected `bool`, got `null`", "expected_boolean", {"what": "w", "got": "null"}),
    ("Expected `object`, got `array`", "expected_mapping", {"what": "w", "got": "list"}),
    ("Expected `float`, got `str`", "expected_number", {"what": "w", "got": "string"}),
    ("Expected `array`, got `object`", "expected_list", {"what": "w", "got": "mapping"}),
    ("Expected `str | int`, got `bool`", "expected_type", {"what": "w", "kinds": ["string", "number"],
                                                           "got": "boolean"}),
    ("Expected `array | null`, got `str`", "expected_type", {"what": "w", "kinds": ["list", "null"],
                                                             "got": "string"}),
    ("Object missing required field `id`", "missing_field", {"what": "w", "field": "id"}),
    ("Object contains unknown field `size`", "unknown_key", {"key": "size"}),
    ("Invalid enum value 'warm'", "bad_choice", {"what": "w", "value": "warm"}),
    ("Expected `str` of length <= 5", "invalid_value", {"what": "w", "detail": "Expected `str` of length <= 5"}),
])
def test_msgspec_words_become_a_code(text: str, code: str, params: dict[str, Any]) -> None:
    assert msgspec_problem(text, "w") == (code, params)


POOLS_OK = "pools:\n  - id: presale\n    name: 售前\n    skills: [vip]\n"
SHIFT = "shifts:\n  - name: day\n    start: '09:00'\n    end: '18:00'\n    agents: [ann]\n"
QUICK = "stages:\n  greeting: 问候\nreplies:\n  - id: hi\n    stage: greeting\n    title: 欢迎\n    text: 您好{customer_name}\n"
FAQ = "entries:\n  - id: a\n    question: 在吗\n    answer: 在的\n    category: 售前\n"

# (kind, document, code, line, col, params the problem must carry)
CASES: list[tuple[str, str, str, int, int, dict[str, Any]]] = [
    ("pools", "pools: 3\n", "expected_list", 1, 8, {"what": "pools", "got": "number"}),
    ("pools", "- id: a\n", "document_not_mapping", 1, 1, {}),
    ("pools", "pools:\n  - id: presale\n    size: 3\n", "unknown_key", 2, 5, {"key": "size"}),
    ("pools", "pools:\n  - name: x\n", "missing_field", 2, 5, {"what": "pools.0", "field": "id"}),
    ("pools", "pools:\n  - id: 5\n", "expected_string", 2, 9, {"what": "pools.0.id", "got": "number"}),
    ("pools", "pools:\n  - id: a\n    skills: vip\n", "expected_list", 3, 13, {"what": "pools.0.skills"}),
    ("pools", "pools:\n  - id: bad id\n", "bad_pool_id", 2, 9, {"value": "bad id"}),
    ("pools", "pools:\n  - id: a\n  - id: a\n", "duplicate_pool_id", 3, 9, {"value": "a"}),
    ("pools", f"pools:\n  - id: a\n    name: {'长' * 201}\n", "pool_name_too_long", 3, 11, {"limit": 200}),
    ("pools", "pools:\n  - id: a\n    skills: [ok, 'no way']\n", "bad_skill_id", 3, 18, {"value": "no way"}),
    ("pools", "pools: []\n", "no_pools", 1, 1, {}),
    ("pools", "pools:\n  - id: a\n   name: x\n", "yaml_syntax", 3, 4, {"reason": "yaml_bad_indent"}),
    ("pools", "pools:\n  - id: a\n    id: b\n", "duplicate_key", 3, 5, {"key": "id"}),
    ("hours", "hours:\n  days: mon-fry\n", "bad_hours", 2, 3, {"reason": "unknown_day", "value": "fry"}),
    ("hours", "hours:\n  hours: '9-18'\n", "bad_hours", 2, 3, {"reason": "time_format", "value": "9"}),
    ("hours", "hours:\n  hours: '9:00'\n", "bad_hours", 2, 3, {"reason": "window_format", "value": "9:00"}),
    ("hours", "hours:\n  hours: '10:00-10:00'\n", "bad_hours", 2, 3, {"reason": "window_empty"}),
    ("hours", "hours:\n  closed: ['2026-13-01']\n", "bad_hours", 2, 3,
     {"reason": "closed_bad_date", "value": "2026-13-01"}),
    ("hours", "hours:\n  timezone: Mars/Base\n", "bad_hours", 2, 3,
     {"reason": "unknown_timezone", "name": "Mars/Base"}),
    ("hours", "hours:\n  open: always\n", "unknown_key", 2, 3, {"key": "open"}),
    ("hours", "hours:\n  closed: 2026-10-01\n", "expected_list", 2, 11, {"what": "hours.closed"}),
    ("hours", "hours:\n  days: 5\n", "expected_type", 2, 9, {"kinds": ["string", "list"], "got": "number"}),
    ("shifts", SHIFT.replace("name: day", "name: 'day shift'"), "bad_shift_name", 2, 11, {"value": "day shift"}),
    ("shifts", SHIFT + SHIFT[8:], "duplicate_shift_name", 6, 11, {"value": "day"}),
    ("shifts", SHIFT.replace("'09:00'", "'9'"), "bad_shift_time", 3, 12, {"edge": "start"}),
    ("shifts", SHIFT.replace("'18:00'", "'25:00'"), "bad_shift_time", 4, 10, {"edge": "end"}),
    ("shifts", SHIFT + "    days: [mon, fry]\n", "unknown_day", 6, 17, {"value": "fry"}),
    ("shifts", SHIFT + "    timezone: Mars/Base\n", "unknown_timezone", 6, 15, {"name": "Mars/Base"}),
    ("shifts", SHIFT.replace("[ann]", "[ann, bob]"), "unknown_agent", 5, 19, {"name": "bob", "known": ["ann"]}),
    ("shifts", SHIFT.replace("[ann]", "[ann, ann]"), "agent_listed_twice", 5, 19, {"name": "ann"}),
    ("shifts", SHIFT.replace("start: '09:00'", "start: true"), "expected_type", 3, 12,
     {"what": "shifts.0.start", "kinds": ["number", "string"], "got": "boolean"}),
    ("quick_replies", "- a\n", "replies_not_mapping", 1, 1, {}),
    ("quick_replies", QUICK.replace("greeting: 问候", "greeting: 问候\n  extra: x").replace("stages:", "stage:", 1),
     "unknown_key", 1, 1, {"key": "stage", "suggestion": "stages"}),
    ("quick_replies", "stages: []\nreplies: []\n", "stages_not_mapping", 1, 9, {}),
    ("quick_replies", "stages: {a: b}\nreplies: {}\n", "replies_not_list", 2, 10, {}),
    ("quick_replies", QUICK + QUICK[QUICK.index("  - id"):], "reply_duplicate_id", 8, 9, {"id": "hi"}),
    ("quick_replies", QUICK.replace("stage: greeting", "stage: greetin"), "unknown_stage", 5, 12,
     {"name": "greetin", "suggestion": "greeting"}),
    ("quick_replies", QUICK.replace("stage: greeting", "stage: after"), "unknown_stage", 5, 12,
     {"name": "after", "known": ["greeting"]}),
    ("quick_replies", QUICK + "    keywords: hi\n", "keywords_not_strings", 8, 15, {}),
    ("quick_replies", QUICK.replace("{customer_name}", "{customer_name"), "placeholder_syntax", 7, 11, {}),
    ("quick_replies", QUICK.replace("{customer_name}", "{shoop}"), "unknown_placeholder", 7, 13,
     {"name": "shoop", "suggestion": "shop"}),
    ("quick_replies", QUICK.replace("{customer_name}", "{zzzz}"), "unknown_placeholder", 7, 13,
     {"name": "zzzz", "known": ["customer_name", "agent_name", "shop", "order_id"]}),
    ("quick_replies", QUICK.replace("title: 欢迎", "title: ''"), "required_text", 6, 12, {"key": "title"}),
    ("quick_replies", QUICK.replace("    title: 欢迎\n", ""), "required_text", 4, 5, {"key": "title"}),
    ("quick_replies", "stages: {a: b}\nreplies: [5]\n", "item_not_mapping", 2, 11,
     {"noun": "reply", "required": ["id", "stage", "title", "text"]}),
    ("faq", "- a\n", "faq_not_mapping", 1, 1, {}),
    ("faq", FAQ + "threshold: 2\n", "faq_threshold", 6, 12, {}),
    ("faq", FAQ + "thresold: 0.5\n", "unknown_key", 6, 1, {"key": "thresold", "suggestion": "threshold"}),
    ("faq", "entries: []\n", "faq_entries_empty", 1, 10, {}),
    ("faq", FAQ + FAQ[9:], "faq_duplicate_id", 6, 9, {"id": "a", "first": 0}),
    ("faq", FAQ + "synonyms: [x]\n", "synonyms_not_mapping", 6, 11, {}),
    ("faq", FAQ + "synonyms:\n  退货: [退掉]\n  退款: [退掉]\n", "synonym_twice", 8, 7,
     {"word": "退掉", "canonical": "退货"}),
    ("faq", FAQ + "words: 退货\n", "expected_string_list", 6, 8, {}),
    ("faq", FAQ + "    variants: ['', 在么]\n", "expected_nonempty_string", 6, 16, {}),
    ("faq", "entries:\n  - 5\n", "item_not_mapping", 2, 5,
     {"noun": "entry", "required": ["id", "question", "answer", "category"]}),
    ("faq", FAQ.replace("answer: 在的", "answer: ''"), "required_text", 4, 13, {"key": "answer"}),
    ("faq", "entries: [a\n", "yaml_syntax", 2, 1, {"reason": "yaml_unclosed_list"}),
]


def problems_of(kind: str, source: str) -> list[ConfigError]:
    """Every problem of `source`: a YAML syntax error or a document that is not a mapping stops
    the parser at once (one ConfigError), the rest come all together (ConfigErrors)."""
    with pytest.raises(ConfigError) as info:
        KINDS[kind].check(source, Context(agents={"ann"}))
    return info.value.errors if isinstance(info.value, ConfigErrors) else [info.value]


@pytest.mark.parametrize(("kind", "source", "code", "line", "col", "params"), CASES,
                         ids=[f"{c[0]}-{c[2]}-{i}" for i, c in enumerate(CASES)])
def test_a_bad_document_yields_its_code_at_its_place(kind: str, source: str, code: str, line: int, col: int,
                                                    params: dict[str, Any]) -> None:
    errors = problems_of(kind, source)
    found = [e for e in errors if e.code == code]
    assert found, [(str(e), e.code) for e in errors]
    e = found[0]
    assert (e.line, e.col) == (line, col), str(e)
    assert params.items() <= e.params.items(), e.params
    assert str(e).startswith(f"{KINDS[kind].file}:{line}:{col}: ")
    json.dumps(e.params)  # the admin API sends them as they are


def test_every_problem_of_a_large_faq_is_coded_at_its_entry() -> None:
    """Three hundred entries, every seventh with one of six mistakes: each mistake found once,
    at its own line, with its code; the good entries give no problem."""
    mistakes = [("answer: ''", "required_text"), ("variants: ['']", "expected_nonempty_string"),
                ("tags: x", "expected_string_list"), ("colour: red", "unknown_key"),
                ("question: 7", "required_text"), ("category: []", "required_text")]
    lines, want = ["entries:"], []
    for i in range(300):
        lines += [f"  - id: q{i}", f"    question: 问题{i}", f"    answer: 答案{i}", "    category: 售前"]
        if i % 7 == 0:
            extra, code = mistakes[(i // 7) % len(mistakes)]
            key = extra.split(":")[0]
            at = next((n for n in range(len(lines) - 4, len(lines)) if lines[n].strip().startswith(key + ":")),
                      None)
            if at is None:
                lines.append(f"    {extra}")
                at = len(lines) - 1
            else:
                lines[at] = f"    {extra}"
            want.append((at + 1, code))
    errors = problems_of("faq", "\n".join(lines) + "\n")
    assert len(errors) == len(want) == 43
    assert sorted((e.line, e.code) for e in errors) == sorted(want)
    assert all(e.code in PROBLEMS or e.code in SHARED for e in errors)


def test_the_english_message_is_what_kefu_check_printed() -> None:
    (e,) = problems_of("shifts", SHIFT.replace("[ann]", "[ann, bob]"))
    assert str(e) == "shifts.yaml:5:19: unknown agent 'bob'; agents are: ann"
    (e,) = problems_of("pools", "pools:\n  - id: 5\n")
    assert str(e) == "pools.yaml:2:9: pools.0.id: Expected `str`, got `int`"
    (e,) = problems_of("hours", "hours:\n  closed: ['2026-13-01']\n")
    assert str(e) == "hours.yaml:2:3: hours: month must be in 1..12"


ADMIN_TOKEN = "ada-admin-token-1"


async def test_the_admin_api_sends_code_and_params_with_each_problem(redis_url: str) -> None:
    admin = f"  - id: ada\n    name: Ada\n    token: {ADMIN_TOKEN}\n    role: admin\n    pools: [presale]\n"
    settings = parse_settings(BASIC.format(cap=5).replace("worker:\n", admin + "worker:\n", 1), "<test>")
    bad = "pools:\n" + "".join(f"  - id: {f'bad id {i}' if i % 10 == 3 else f'p{i}'}\n" for i in range(100))
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    async with running(settings, redis_url) as (_rt, base), aiohttp.ClientSession(headers=auth) as http:
        async with http.post(f"{base}/api/v1/admin/pools/validate", json={"source": bad}) as r:
            body = await r.json()
        assert body["ok"] is False and len(body["problems"]) == 10
        assert body["problems"][0] == {"line": 5, "col": 9, "file": "pools.yaml", "severity": "error",
                                       "message": "pool id 'bad id 3' must be 1-64 of A-Z a-z 0-9 _ . -",
                                       "code": "bad_pool_id", "params": {"value": "bad id 3"}}
        async with http.get(f"{base}/api/v1/admin/pools") as r:
            etag = r.headers["ETag"]
        async with http.put(f"{base}/api/v1/admin/pools", json={"source": bad}, headers={"If-Match": etag}) as r:
            assert r.status == 422
            refused = await r.json()
        assert [(p["line"], p["code"]) for p in refused["problems"]] == [(5 + 10 * i, "bad_pool_id") for i in range(10)]
        async with http.get(f"{base}/api/v1/admin/pools") as r:
            assert r.headers["ETag"] == etag  # nothing stored
        # The JSON pool routes name the field, with the document's codes.
        body = {"id": "bad id", "name": "长" * 201, "skills": ["ok", "no way", 7], "colour": "red"}
        async with http.post(f"{base}/api/v1/pools", json=body) as r:
            assert r.status == 422
            refused = await r.json()
        assert [(p["field"], p["code"], p["params"]) for p in refused["problems"]] == [
            ("colour", "unknown_key", {"key": "colour", "expected": ["id", "name", "skills"]}),
            ("id", "bad_pool_id", {"value": "bad id"}), ("name", "pool_name_too_long", {"limit": 200}),
            ("skills[1]", "bad_skill_id", {"value": "no way"}), ("skills[2]", "bad_skill_id", {"value": 7})]
        async with http.patch(f"{base}/api/v1/pools/presale", json={"skills": "vip"}) as r:
            assert r.status == 422
            (p,) = (await r.json())["problems"]
        assert (p["code"], p["params"]) == ("expected_list", {"what": "skills", "got": "string"})
        assert all(p["code"] in PROBLEMS or p["code"] in SHARED for p in refused["problems"])
