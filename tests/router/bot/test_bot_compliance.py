"""Advertising-law check of outgoing text, and PII masking for logs."""

from __future__ import annotations

import logging
import random
import re
import unicodedata
from pathlib import Path

import pytest

from kefu_common.errors import ConfigErrors
from router.bot.compliance import _QUOTES as QUOTES
from router.bot.compliance import ComplianceMode, CompliancePolicy, load_compliance
from router.bot.pii import PiiMaskFilter, mask_pii
from router.bot.quick_replies import load_quick_replies

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def policy() -> CompliancePolicy:
    return load_compliance(ROOT / "config" / "compliance.yaml")


def test_banned_terms_are_found_with_spans(policy: CompliancePolicy) -> None:
    text = "这款是全网最低价，质量绝对是顶级的"
    r = policy.check(text)
    assert [(f.term, text[f.start : f.end]) for f in r.findings] == [
        ("全网最低", "全网最低"),
        ("绝对", "绝对"),
        ("顶级", "顶级"),
    ]
    assert not r.ok and not r.blocked and policy.mode is ComplianceMode.WARN


def test_longest_term_wins_and_width_does_not_hide_a_term(policy: CompliancePolicy) -> None:
    r = policy.check("保证１００％满意")
    assert [(f.term, f.start, f.end) for f in r.findings] == [("100%", 2, 6)]
    assert [f.term for f in policy.check("全网最低").findings] == ["全网最低"]


def reference_findings(policy: CompliancePolicy, text: str) -> list[tuple[str, int, int]]:
    """The check as first written, term by term with nothing compiled ahead: what the compiled
    check must still find."""
    def fold(s: str) -> str:
        return "".join(n if len(n := unicodedata.normalize("NFKC", c).lower()) == 1 else c for c in s)

    folded = fold(text)
    skip = [m.span() for m in QUOTES.finditer(folded)]
    skip += [m.span() for a in policy.allow for m in re.finditer(re.escape(fold(a)), folded)]
    found: list[tuple[str, int, int]] = []
    for term in sorted(set(policy.terms), key=len, reverse=True):
        for m in re.finditer(re.escape(fold(term)), folded):
            s, e = m.span()
            if not any(a <= s and e <= b for a, b in skip) and not any(f[1] < e and s < f[2] for f in found):
                found.append((term, s, e))
    return sorted(found, key=lambda f: f[1])


def test_the_compiled_check_finds_what_the_term_by_term_one_did(policy: CompliancePolicy) -> None:
    """Two thousand replies made of banned terms, allowed phrases, fullwidth and upper-case
    letters, quotes and plain words: the same findings, the same spans."""
    rng = random.Random(21)
    pieces = [*policy.terms, *policy.allow, "１００％", "ＡＢＣ", "Abc", "「", "」", "“", "”", '"', "\n> ",
              "好的", "亲", "，", "发货", "最", "第", "一", "价", " "]
    for _ in range(2000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 14)))
        got = [(f.term, f.start, f.end) for f in policy.check(text).findings]
        assert got == reference_findings(policy, text), text


def test_block_mode_blocks() -> None:
    r = CompliancePolicy(terms=("最好",), mode=ComplianceMode.BLOCK).check("这是最好的")
    assert r.blocked
    assert not CompliancePolicy(mode=ComplianceMode.BLOCK).check("您好，已为您发货").blocked


@pytest.mark.parametrize(
    "text",
    [
        "您说的「最好的面料」我们理解，这款是棉麻混纺",
        "关于“全网最低”的说法，我们没有这样宣传",
        '您问"是不是第一"，我们不做排名比较',
        "> 你们是国家级品牌吗\n我们是授权经销商",
        "我们会第一时间为您发货，面料100%棉",
    ],
)
def test_quoted_customer_text_and_allowed_phrases_are_not_flagged(policy: CompliancePolicy, text: str) -> None:
    assert policy.check(text).ok, policy.check(text).findings


def test_a_claim_outside_the_quote_is_still_flagged(policy: CompliancePolicy) -> None:
    r = policy.check("「最好的」不敢说，但这是第一流的")
    assert [f.term for f in r.findings] == ["第一"]


def test_shipped_quick_replies_pass(policy: CompliancePolicy) -> None:
    for r in load_quick_replies(ROOT / "config" / "quick_replies.yaml").replies:
        assert policy.check(r.text).ok, (r.id, policy.check(r.text).findings)


def test_bad_compliance_file(tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    p.write_text("mode: strict\nbanned_term: [最好]\n", encoding="utf-8")
    with pytest.raises(ConfigErrors) as ei:
        load_compliance(p)
    msgs = [str(e) for e in ei.value.errors]
    assert f"{p}:2:1: unknown key 'banned_term'; did you mean 'banned_terms'?" in msgs
    assert any(m.startswith(f"{p}:1:7: mode must be warn or block") for m in msgs)


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("我的电话13812345678", "我的电话138****5678"),
        ("打 +86 139-1234-5678 找我", "打 139****5678 找我"),
        ("身份证 11010519491231002X", "身份证 110*************2X"),
        ("邮箱 zhang.san@example.com", "邮箱 z***@example.com"),
        ("寄到浙江省杭州市西湖区文三路90号3栋201室", "寄到浙江省杭州市***"),
        ("地址：上海市浦东新区世纪大道100号", "地址：上海市***"),
        ("我在市区上班，第一号选手", "我在市区上班，第一号选手"),
        ("订单号2024111100012301", "订单号2024111100012301"),
    ],
)
def test_mask_pii(raw: str, masked: str) -> None:
    assert mask_pii(raw) == masked


def test_logging_filter_masks_messages_and_arguments(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("kefu.test.pii")
    filt = PiiMaskFilter()
    log.addFilter(filt)
    try:
        with caplog.at_level(logging.INFO, logger="kefu.test.pii"):
            log.info("customer %s wrote from %s", "13812345678", "a.b@example.com")
            log.info("plain message")
    finally:
        log.removeFilter(filt)
    assert [r.getMessage() for r in caplog.records] == [
        "customer 138****5678 wrote from a***@example.com",
        "plain message",
    ]
    assert "13812345678" not in caplog.text
