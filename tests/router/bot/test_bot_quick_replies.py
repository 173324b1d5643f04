"""Quick replies: load-time placeholder checks, search, render."""

from __future__ import annotations

from pathlib import Path

import pytest

from kefu_common.errors import ConfigError, ConfigErrors
from router.bot.quick_replies import QuickReplies, initials, load_quick_replies, parse_quick_replies

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def lib() -> QuickReplies:
    return load_quick_replies(ROOT / "config" / "quick_replies.yaml")


def test_default_library_covers_every_stage(lib: QuickReplies) -> None:
    stages = dict(lib.stages)
    assert set(stages) == {
        "greeting", "presale", "bargain", "invoice", "return", "logistics", "postage",
        "closing", "offline",
    }  # fmt: skip
    assert all(lib.by_stage(s) for s in stages)
    logistics = lib.by_stage("logistics")
    assert sum("安抚" in r.title for r in logistics) == 3
    assert any("优惠券" in r.text for r in logistics)
    assert any("五星" in r.text for r in lib.by_stage("closing"))


def test_polite_forms_everywhere(lib: QuickReplies) -> None:
    for r in lib.replies:
        assert "您" in r.text or "请" in r.text, r.id


def test_unknown_placeholder_is_a_load_error_at_its_column() -> None:
    text = (
        "stages: {greeting: 问候}\n"
        "replies:\n"
        "  - id: a\n"
        "    stage: greeting\n"
        "    title: 欢迎\n"
        "    text: 您好{customer}，欢迎光临{shop}\n"
        "  - id: b\n"
        "    stage: greetng\n"
        "    title: 欢迎\n"
        "    text: |\n"
        "      您好，\n"
        "      我是{agent}\n"
    )
    with pytest.raises(ConfigErrors) as ei:
        parse_quick_replies(text, "qr.yaml")
    msgs = [str(e) for e in ei.value.errors]
    assert "qr.yaml:6:13: unknown placeholder {customer}; did you mean {customer_name}?" in msgs
    assert "qr.yaml:12:9: unknown placeholder {agent}; did you mean {agent_name}?" in msgs
    assert any(m.startswith("qr.yaml:8:12: unknown stage 'greetng'; did you mean 'greeting'?")
               for m in msgs)  # fmt: skip


def test_malformed_brace_is_a_load_error() -> None:
    text = "stages: {g: 问候}\nreplies:\n  - {id: a, stage: g, title: t, text: '您好{'}\n"
    with pytest.raises(ConfigError, match=r"qr.yaml:3:\d+: bad placeholder syntax"):
        parse_quick_replies(text, "qr.yaml")


def test_search_by_keyword_category_and_pinyin(lib: QuickReplies) -> None:
    assert [r.id for r in lib.search("发票")] == ["invoice-how"]
    assert {r.stage for r in lib.search("", stage="logistics")} == {"logistics"}
    assert [r.id for r in lib.search("安抚", stage="logistics")][:3] == [
        "logistics-soothe-1", "logistics-soothe-2", "logistics-soothe-3",
    ]  # fmt: skip
    th = [r.id for r in lib.search("th")]
    assert "return-how" in th and "return-tracking" in th
    assert [r.id for r in lib.search("byf")] == ["postage-topup"]
    assert lib.search("没有这个词") == []
    assert initials("退货") == "th"


def test_render_fills_and_falls_back(lib: QuickReplies) -> None:
    r = lib.get("greet-welcome")
    assert r is not None
    full = r.render({"customer_name": "王女士", "agent_name": "小美", "shop": "示例服饰"})
    assert full.startswith("您好王女士，欢迎光临示例服饰，我是小美")
    assert r.render({}).startswith("您好亲，欢迎光临本店，我是客服")
    ret = lib.get("return-how")
    assert ret is not None
    assert "订单2024111100012301" in ret.render({"order_id": "2024111100012301"})
    with pytest.raises(ValueError, match=r"'return-how' needs \{order_id\}"):
        ret.render({"customer_name": "王女士"})
