"""FAQ loading, matching behaviour, reloads and unknown-question grouping."""

from __future__ import annotations

from pathlib import Path

import pytest

from kefu_common.errors import ConfigError, ConfigErrors
from router.bot.compliance import load_compliance
from router.bot.faq_kb import FaqEntry, FaqKb, load_faq, parse_faq
from router.bot.faq_match import FaqIndex
from router.bot.text import group_key

ROOT = Path(__file__).resolve().parents[3]
FAQ = ROOT / "config" / "faq.yaml"


@pytest.fixture(scope="module")
def index() -> FaqIndex:
    return FaqIndex.from_file(FAQ)


def test_default_kb_is_large_enough_and_varied() -> None:
    kb = load_faq(FAQ)
    assert len(kb.entries) >= 40
    cats = {e.category for e in kb.entries}
    assert {"尺码面料", "物流配送", "退换货", "发票", "跨境", "预售", "支付"} <= cats
    assert all(e.variants for e in kb.entries)


def test_default_answers_make_no_banned_claims() -> None:
    policy = load_compliance(ROOT / "config" / "compliance.yaml")
    for e in load_faq(FAQ).entries:
        assert policy.check(e.answer).ok, (e.id, policy.check(e.answer).findings)


def test_exact_question_matches_with_high_confidence(index: FaqIndex) -> None:
    for e in index.kb.entries:
        hit = index.match(e.question)
        assert hit is not None and hit.entry.id == e.id, e.id
        assert 0 <= hit.score <= 1


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("包邮吗亲", "free-shipping"),
        ("能开发票不", "invoice"),
        ("定金可以退吗", "presale-deposit"),
        ("衣服起球怎么办？", "pilling"),
        ("do you ship internationally", "ship-abroad"),
    ],
)
def test_short_and_colloquial(index: FaqIndex, text: str, want: str) -> None:
    hit = index.match(text)
    assert hit is not None and hit.entry.id == want


@pytest.mark.parametrize("text", ["", "   ", "？？？", "今天天气怎么样", "哈哈哈", "12345"])
def test_no_guess_below_threshold(index: FaqIndex, text: str) -> None:
    assert index.match(text) is None


def test_threshold_is_configurable() -> None:
    strict = FaqIndex.from_file(FAQ, threshold=0.99)
    lax = FaqIndex.from_file(FAQ, threshold=0.0)
    q = "满多少包邮"
    assert strict.match(q) is None or strict.match(q).score >= 0.99  # type: ignore[union-attr]
    assert lax.match(q) is not None
    assert load_faq(FAQ).threshold == FaqIndex.from_file(FAQ).threshold


def test_search_ranks_and_limits(index: FaqIndex) -> None:
    res = index.search("退货", limit=3)
    assert 1 <= len(res) <= 3
    assert [m.score for m in res] == sorted((m.score for m in res), reverse=True)
    assert any(m.entry.category == "退换货" for m in res)
    assert index.search("", 5) == []


def test_reload_builds_a_new_index_and_leaves_the_old_one() -> None:
    kb1 = FaqKb((FaqEntry("a", "可以开发票吗", "可以。", "发票"),), version="1")
    kb2 = FaqKb((FaqEntry("b", "可以寄到香港吗", "可以。", "物流"),), version="2")
    old, new = FaqIndex(kb1), FaqIndex(kb2)
    assert old.match("可以开发票吗") is not None and old.version == "1"
    assert new.match("可以开发票吗") is None and new.version == "2"
    with pytest.raises(AttributeError, match="immutable"):
        old.threshold = 0.1
    assert old.threshold == FaqIndex(kb1).threshold


def test_load_errors_point_at_file_line_col() -> None:
    text = (
        "entries:\n"
        "  - id: a\n"
        "    question: 包邮吗\n"
        "    answer: 满99包邮\n"
        "    category: 物流\n"
        "  - id: a\n"
        "    question: 发票\n"
        "    answer: 可以\n"
        "    category: 发票\n"
        "  - id: c\n"
        "    question: 发票\n"
        "    answer: 可以\n"
        "    categry: 发票\n"
        "threshold: 2\n"
    )
    with pytest.raises(ConfigErrors) as ei:
        parse_faq(text, "faq.yaml")
    msgs = [str(e) for e in ei.value.errors]
    assert "faq.yaml:13:5: unknown key 'categry'; did you mean 'category'?" in msgs
    assert any(m.startswith("faq.yaml:10:5: 'category' must be") for m in msgs)
    assert any(m.startswith("faq.yaml:6:9: duplicate id 'a'") for m in msgs)
    assert any(m.startswith("faq.yaml:14:12: threshold") for m in msgs)


def test_yaml_syntax_error_is_a_config_error(tmp_path: Path) -> None:
    p = tmp_path / "faq.yaml"
    p.write_text("entries: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"faq.yaml:\d+:\d+: YAML syntax"):
        load_faq(p)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("衣服起球怎么办？", "衣服起球怎么办"),
        ("衣服起球怎么办", "亲，衣服起球怎么办呢？"),
        ("Do you ship to HK?", "do you ship to hk"),
        ("包邮吗", "包邮吗？？？"),
        ("能开发票吗", "你好 能开发票吗"),
    ],
)
def test_group_key_merges_trivial_differences(a: str, b: str) -> None:
    assert group_key(a) == group_key(b)


def test_group_key_keeps_different_questions_apart() -> None:
    assert group_key("衣服起球怎么办") != group_key("衣服缩水怎么办")
    assert group_key("吗") != ""


def test_a_kb_tokenizer_copies_the_shared_dictionary_and_keeps_its_words_to_itself() -> None:
    """The FAQ's tokenizer starts from jieba's loaded dictionary (no second load at start-up)
    and its KB words never reach the shared one the archive's search tokens use."""
    import jieba

    from router.bot.text import tokenizer

    word = "蛋蛋包邮码测"
    tk = tokenizer(frozenset({word}))
    assert tk.initialized and tk.FREQ is not jieba.dt.FREQ
    assert word in tk.lcut(f"{word}好", HMM=False)
    assert word not in jieba.dt.FREQ and word not in jieba.lcut(f"{word}好", HMM=False)
    assert tk.FREQ["发票"] == jieba.dt.FREQ["发票"]  # the same dictionary underneath
