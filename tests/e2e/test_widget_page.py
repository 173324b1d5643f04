"""The widget's page and endpoints: CSP for shop origins, leave-a-message, and its UI strings."""

from __future__ import annotations

import json
import re
from pathlib import Path

import aiohttp
import pytest
from helpers.app import BASIC, running
from helpers.clients import agent, customer

from kefu_common.errors import ConfigErrors
from router.config.settings import parse_settings
from router.web.widget import leave_message_text

STATIC = Path(__file__).resolve().parents[2] / "router" / "web" / "static"
SHOPS = """
channels:
  webchat:
    allowed_origins: ["https://shop.example.com", "http://127.0.0.1:9999"]
"""


async def test_chat_page_may_be_framed_by_configured_shops_only(redis_url: str) -> None:
    settings = parse_settings(BASIC.format(cap=5) + SHOPS, "<test>")
    async with running(settings, redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        async with http.get(f"{base}/chat") as r:
            csp = r.headers["Content-Security-Policy"]
        assert "frame-ancestors 'self' https://shop.example.com http://127.0.0.1:9999;" in csp
        assert "script-src 'self';" in csp
        async with http.get(f"{base}/console") as r:
            assert "frame-ancestors 'self';" in r.headers["Content-Security-Policy"]
        async with http.get(f"{base}/static/widget.js") as r:
            assert r.status == 200 and "javascript" in r.headers["Content-Type"]


def test_a_bad_shop_origin_is_a_positioned_config_error() -> None:
    text = BASIC.format(cap=5) + SHOPS.replace('"http://127.0.0.1:9999"', '"shop.example.com/path"')
    with pytest.raises(ConfigErrors) as exc:
        parse_settings(text, "kefu.yaml")
    line = BASIC.format(cap=5).count("\n") + 4
    assert re.search(rf"kefu.yaml:{line}:\d+: 'shop.example.com/path' is not an origin", str(exc.value))


async def test_leave_message_is_validated_then_queued_once(redis_url: str) -> None:
    settings = parse_settings(BASIC.format(cap=5), "<test>")
    async with running(settings, redis_url) as (rt, base), aiohttp.ClientSession() as http:
        async with http.post(f"{base}/api/v1/webchat/sessions") as r:
            session = (await r.json())["session"]
        url = f"{base}/api/v1/webchat/leave-message"
        good = {"session": session, "name": "王女士", "contact": "138 0000 0000",
                "message": "<b>明天</b>能发货吗", "client_msg_id": "lm-1"}
        before = await rt.store.client.xlen(rt.store.keys.inbound)
        for bad, status, code in [
            ({**good, "session": "v1.x.1.y"}, 401, "unauthorized"),
            ({**good, "name": " "}, 400, "bad_request"),
            ({**good, "contact": "x" * 129}, 400, "too_long"),
            ({**good, "message": None}, 400, "bad_request"),
            ({**good, "client_msg_id": ""}, 400, "bad_request"),
        ]:
            async with http.post(url, json=bad) as r:
                assert (r.status, (await r.json())["error"]) == (status, code), bad
        assert await rt.store.client.xlen(rt.store.keys.inbound) == before

        async with http.post(url, json=good) as r:
            assert r.status == 201
            first = (await r.json())["message_id"]
        async with http.post(url, json=good) as r:
            assert (await r.json())["message_id"] == first
        # An agent coming online gets it like any queued message, the text as written.
        alice = await agent(http, base, "alice-token-1234")
        assigned = await alice.expect(lambda f: f["type"] == "assigned")
        assert [m["text"] for m in assigned["messages"]] == ["[留言]\n称呼：王女士\n联系方式：138 0000 0000\n\n<b>明天</b>能发货吗"]
        await alice.close()


def test_a_message_left_is_labelled_in_the_customers_language() -> None:
    assert leave_message_text("Ann", "ann@example.com", "Is it in stock?", "en") == \
        "[Message left]\nName: Ann\nContact: ann@example.com\n\nIs it in stock?"
    assert leave_message_text("王女士", "138", "在吗", "fr").startswith("[留言]\n称呼：王女士\n")


def test_both_languages_have_every_string() -> None:
    strings = json.loads((STATIC / "i18n.json").read_text(encoding="utf-8"))
    assert set(strings) == {"zh", "en"}
    assert set(strings["zh"]) == set(strings["en"])
    used = set(re.findall(r'data-i18n(?:-label|-placeholder)?="(\w+)"', (STATIC / "chat.html").read_text()))
    for js in ("chat.js", "chat-panels.js"):
        used |= set(re.findall(r"\bT\.(\w+)", (STATIC / js).read_text()))
    assert used - set(strings["en"]) == set()
    # The same placeholders in both, so a template never shows a raw {name}.
    for key, en in strings["en"].items():
        assert set(re.findall(r"\{\w+\}", en)) == set(re.findall(r"\{\w+\}", strings["zh"][key])), key


def test_leave_message_text_is_the_same_on_both_sides() -> None:
    """The widget fills the template from the i18n.json strings the server reads too."""
    js = (STATIC / "chat-panels.js").read_text()
    template = re.search(r"return `(\$\{T\.leave_record\}[^`]+)`", js)
    assert template is not None
    strings = json.loads((STATIC / "i18n.json").read_text(encoding="utf-8"))
    for lang in ("zh", "en"):
        filled = re.sub(r"\$\{T\.(\w+)\}", lambda m, t=strings[lang]: t[m.group(1)], template.group(1))
        filled = filled.replace("${name}", "N").replace("${contact}", "C").replace("${message}", "M")
        assert filled.replace("\\n", "\n") == leave_message_text("N", "C", "M", lang)


async def test_a_refused_message_names_its_client_msg_id(redis_url: str) -> None:
    settings = parse_settings(BASIC.format(cap=5) + "limits:\n  max_text_chars: 10\n", "<test>")
    async with running(settings, redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        cust, _ = await customer(http, base)
        await cust.send({"type": "message", "text": "x" * 11, "client_msg_id": "too-long-1"})
        err = await cust.expect(lambda f: f["type"] == "error")
        assert (err["code"], err["ref"]) == ("too_long", "too-long-1")
        await cust.send({"type": "nonsense"})
        err = await cust.expect(lambda f: f["type"] == "error" and f["code"] == "unknown_type")
        assert "ref" not in err
        await cust.close()
