"""Every refusal code a person can meet has Chinese and English words (issue 19, item 8).

Which codes reach whom, decided by the modules that raise them:
- The console calls the whole /api/v1 surface and the agent socket, so every code raised under
  router/ (and kefu_common/, whose errors the web layer passes on) is reachable from it, and so
  is every Lua script's refusal (router/store/lua, via ProtocolError.refusal), the sentence-built
  ones ("already assigned to bob") as prefixes. refusals.js must word each as `re_<code>`.
- The widget talks to the chat socket (chat_socket.py, widget_socket.py, frames.py, safejson),
  the widget's own routes (widget.py), uploads (media_api.py and the media policy), ratings
  (ops/csat.py) and the exceptions in kefu_common/errors.py; i18n.json must word each of those
  codes, zh and en.
- adapters/ answer channel servers (WeChat, Telegram, a shop's bridge), never a person's page,
  so their codes are in neither table; the scan still reads them, to show what it leaves out.
"""

from __future__ import annotations

import json
import re

from helpers.js_tables import console_table_sources
from helpers.refusal_codes import ROOT, codes_under, lua_refusals

STATIC = ROOT / "router" / "web" / "static"
WIDGET_MODULES = ("router/web/chat_socket.py", "router/web/widget_socket.py", "router/web/frames.py",
                  "router/web/widget.py", "router/web/media_api.py", "router/media/policy.py", "router/ops/csat.py",
                  "kefu_common/safejson.py", "kefu_common/errors.py")
# Named in the scope's list of codes a customer can meet, though raised elsewhere.
WIDGET_EXTRA = {"busy", "closed"}


def console_keys() -> dict[str, set[str]]:
    src = (STATIC / "console" / "refusals.js").read_text(encoding="utf-8")
    found = console_table_sources({"refusals.js": src})
    assert len(found) == 1
    return {lang: set(keys) for lang, keys in found[0][1].items()}


def widget_keys() -> dict[str, set[str]]:
    table = json.loads((STATIC / "i18n.json").read_text(encoding="utf-8"))
    return {lang: set(keys) for lang, keys in table.items()}


def console_codes() -> tuple[dict[str, str], set[str]]:
    codes = codes_under("router", "kefu_common")
    lua, prefixes = lua_refusals()
    for c in lua:
        codes.setdefault(c, "router/store/lua")
    return codes, prefixes


def test_the_scan_finds_the_codes_it_should() -> None:
    codes, prefixes = console_codes()
    # Hundreds of raise sites, some 70 distinct codes: a scan that found few has stopped working.
    assert len(codes) >= 60, sorted(codes)
    for known in ("too_long", "weak_password", "busy", "exists", "stale_version", "too_large",
                  "locked", "slow_down", "unauthorized", "conversation_is_closed", "already_closed"):
        assert known in codes, known
    assert prefixes == {"already_assigned_to_", "cannot_close_a_conversation_in_state_",
                        "cannot_transfer_in_state_"}
    # The channel-facing codes exist, and are left out on purpose (see the docstring).
    assert {"bad_xml", "bad_update", "hostile_xml"} <= set(codes_under("adapters"))


def test_every_console_code_has_english_and_chinese_words() -> None:
    keys = console_keys()
    codes, prefixes = console_codes()
    for lang in ("en", "zh"):
        missing = sorted(f"{c} ({w})" for c, w in codes.items() if f"re_{c}" not in keys[lang])
        assert missing == [], lang
        assert sorted(p for p in prefixes if f"re_{p}" not in keys[lang]) == [], lang
        assert "re_fallback" in keys[lang]
    # Both languages word the same things, variants (__limit, __wait, __short) included.
    assert keys["en"] == keys["zh"]


def test_every_widget_code_has_english_and_chinese_words() -> None:
    keys = widget_keys()
    codes = set(codes_under(only=WIDGET_MODULES)) | WIDGET_EXTRA
    assert {"too_long", "rate_limited", "bad_rating", "not_closed", "already_rated",
            "unknown_conversation", "too_large", "unsupported_media_type", "invalid_media"} <= codes
    for lang in ("en", "zh"):
        assert sorted(c for c in codes if f"re_{c}" not in keys[lang]) == [], lang
        assert "re_fallback" in keys[lang]
    assert {k for k in keys["en"] if k.startswith("re_")} == {k for k in keys["zh"] if k.startswith("re_")}


def test_the_chinese_words_carry_no_english() -> None:
    """The point of the tables: a Chinese person reads no English words in a refusal. Slots
    ({limit}) and units (MB, KB come filled in) are all the ASCII letters allowed."""
    def english(text: str) -> list[str]:
        return re.findall(r"[A-Za-z]{2,}", re.sub(r"\{\w+\}", "", text))

    src = (STATIC / "console" / "refusals.js").read_text(encoding="utf-8")
    zh_block = src[src.index("  zh: {"):]
    zh_values = re.findall(r':\s*"([^"]*)"', zh_block)
    assert len(zh_values) >= 70
    assert [v for v in zh_values if english(v)] == []
    table = json.loads((STATIC / "i18n.json").read_text(encoding="utf-8"))["zh"]
    assert [v for k, v in table.items() if k.startswith("re_") and english(v)] == []


def test_a_refusal_carries_the_values_its_words_need() -> None:
    """The limit and field travel beside `error`/`detail` (additive; the codes stay the same)."""
    from kefu_common.errors import MediaTooLarge, ProtocolError
    from router.accounts.passwords import check_strength
    from router.web import frames

    try:
        frames.text_field({"text": "x" * 11}, "text", max_len=10)
    except ProtocolError as exc:
        assert (exc.code, exc.params) == ("too_long", {"field": "text", "limit": 10})
        frame = json.loads(frames.error(exc.code, exc.detail, **exc.params, ref="m1"))
        assert frame == {"type": "error", "code": "too_long", "detail": exc.detail,
                         "field": "text", "limit": 10, "ref": "m1"}
    else:
        raise AssertionError("not refused")
    for password, rule in (("short", "short"), ("aaaaaaaaaaaa", "common"), ("x" * 2000, "long")):
        try:
            check_strength(password, 10, "bob")
        except ProtocolError as exc:
            assert (exc.code, exc.params["rule"]) == ("weak_password", rule)
        else:
            raise AssertionError(password)
    assert MediaTooLarge("too big", 1024).params == {"limit": 1024}
    # A param can never replace the code or the detail.
    frame = json.loads(frames.error("too_long", "d", type="x"))
    assert (frame["type"], frame["code"], frame["detail"]) == ("error", "too_long", "d")
