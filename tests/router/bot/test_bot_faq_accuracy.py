"""FAQ accuracy on held-out customer phrasings (faq_heldout.yaml), reported and asserted."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from router.bot.faq_match import FaqIndex

ROOT = Path(__file__).resolve().parents[3]
HERE = Path(__file__).parent
MIN_ACCURACY = 0.85
MAX_WRONG_ANSWER_RATE = 0.05


@pytest.fixture(scope="module")
def index() -> FaqIndex:
    return FaqIndex.from_file(ROOT / "config" / "faq.yaml")


def _evaluate(index: FaqIndex, name: str) -> tuple[float, float, int, int, list[str]]:
    items = yaml.safe_load((HERE / name).read_text(encoding="utf-8"))
    ids = {e.id for e in index.kb.entries}
    right = answerable = wrong_null = nulls = 0
    misses = []
    for it in items:
        want = it["id"]
        assert want is None or want in ids, f"{name}: {want!r} is not an FAQ id"
        hit = index.match(it["q"])
        got = hit.entry.id if hit else None
        if want is None:
            nulls += 1
            wrong_null += got is not None
        else:
            answerable += 1
            right += got == want
        if got != want:
            misses.append(f"{it['q']!r}: want {want}, got {got}")
    return right / answerable, wrong_null / nulls, answerable, nulls, misses


def test_heldout_accuracy(index: FaqIndex, capsys: pytest.CaptureFixture[str]) -> None:
    acc, wrong, n_ans, n_null, misses = _evaluate(index, "faq_heldout.yaml")
    summary = (
        f"FAQ held-out: top-1 accuracy {acc:.1%} on {n_ans} answerable, "
        f"wrong-answer rate {wrong:.1%} on {n_null} unanswerable "
        f"(threshold {index.threshold})"
    )
    with capsys.disabled():
        print("\n" + summary)
        for m in misses:
            print("  miss:", m)
    assert n_ans >= 45 and n_null >= 15
    assert acc >= MIN_ACCURACY, summary + "\n" + "\n".join(misses)
    assert wrong <= MAX_WRONG_ANSWER_RATE, summary + "\n" + "\n".join(misses)


def test_dev_set_is_reported(index: FaqIndex, capsys: pytest.CaptureFixture[str]) -> None:
    acc, wrong, n_ans, n_null, _ = _evaluate(index, "faq_dev.yaml")
    with capsys.disabled():
        print(f"\nFAQ dev: accuracy {acc:.1%} ({n_ans}), wrong-answer {wrong:.1%} ({n_null})")
    # The dev set was tuned on; a large drop here means a matcher change broke something.
    assert acc >= 0.75 and wrong <= 0.15
