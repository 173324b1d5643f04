"""Which flow a question belongs to: the shop's policy (FAQ), this order (order flow), or one
product's stock (product look-up); and how sure the FAQ must be when the question names a
colour or a size the entry does not.

The keyword intents of routing_rules say *that* a line is about delivery ("快递"), not *whose*
delivery: "发什么快递" asks about the shop, "我的快递到哪了" about one parcel. `order_margin`
weighs the cues for "this order" against the cues for "the shop's policy"; `arbitrate` combines
that margin with the FAQ's confidence, and both go into the turn's record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

from router.bot.faq_match import FaqIndex, FaqMatch
from routing_rules.frames import reproach
from routing_rules.intents import builtin_table, normalize

# Cues that a line is about one order the customer has: each counts 1.
_THIS_ORDER: Final = tuple(re.compile(p, re.I) for p in (
    r"我(?:的|买的|家的|拍的|下的)(?:快递|订单|包裹|货|单子|衣服|东西|件|裙子|外套|物流)",
    r"到哪(?:了|里了|儿了)?|在哪(?:了|里了)|到了没|啥时候到|什么时候(?:能)?到(?!货)",
    r"查(?:一下|下)?(?:物流|快递|订单|单号)",
    r"还没(?:有)?(?:到|收到|发|送到|动|更新)|没收到|收不到|一直没(?:到|发|动)",
    r"(?:发货|发出|寄出|发)了(?:吗|没|么)|(?:发货|寄出)没",
    r"签收|派送中|物流(?:信息|一直|不动|没更新|停)|催(?:一下)?(?:发货|快递)",
    r"(?:好几天|几天|一直|还|都)没(?:有)?(?:更新|动静|动)",
    r"where\s+is\s+my|my\s+(?:order|parcel|package)|track(?:ing)?\s+(?:my\s+)?order",
))  # fmt: skip
# Cues that a line asks about the shop's delivery policy: each counts 1.
_POLICY: Final = tuple(re.compile(p, re.I) for p in (
    r"(?:什么|啥|哪家|哪个|哪种|哪些)(?:快递|物流)|用的.{0,4}快递|默认.{0,4}快递",
    r"(?:能|可以|能不能|可不可以|支持)(?:发|走|用|指定|改发)(?:顺丰|中通|圆通|韵达|申通|邮政|ems|京东|极兔|快递)",
    r"一般|多久|几天(?:能|可以|就)?(?:到|发|送达)|多长时间|包邮|运费|邮费|指定快递|偏远",
    r"which\s+courier|how\s+long|do\s+you\s+ship",
))  # fmt: skip
_ORDER_INTENTS: Final = frozenset({"order_status", "logistics"})
ORDER_SURE: Final = 1.5  # a margin at or above this is about this order whatever the FAQ says
FAQ_SURE_EXTRA: Final = 0.1  # in between, the FAQ must clear its threshold by this much

# One product's stock, colour or size availability: "有黑色吗", "还有货吗", "M码还有吗".
_COLOUR: Final = (r"(?:[深浅亮暗]?(?:黑|白|红|蓝|绿|黄|灰|粉|紫|棕|咖|卡其|驼|米|杏|藏青|酒红|军绿|墨绿"
                   r"|橘|橙|银|金)){1,2}色?")
_SIZE: Final = r"(?:xxxl|xxl|xl|xs|[sml]|[2-5]xl|均码|大码|小码|\d{2,3})\s*(?:码|号)?"
_PRODUCT: Final = tuple(re.compile(p, re.I) for p in (
    r"(?:还)?有(?:没有)?货(?:吗|没|么|嘛)?|有没有货|还有没有|库存|现货吗|缺货吗|卖完了?吗|断货",
    rf"有(?:没有)?{_COLOUR}(?:的)?(?:吗|没|么|嘛)|有没有{_COLOUR}|{_COLOUR}(?:的)?(?:还)?有(?:吗|没|么|货)",
    r"(?:这个|这款|那个)?(?:颜色|尺码|码子|码数|号)(?:还)?有(?:吗|没|么|货)",
    rf"(?:^|[^a-z]){_SIZE}(?:的)?(?:还)?有(?:吗|没|么|货)|有(?:没有)?{_SIZE}(?:的)?(?:吗|没|么|嘛)",
    r"(?:颜色|尺码|码数|码子)(?:还)?(?:全|齐)吗|有(?:几|哪些|什么)(?:种)?(?:颜色|色|码)",
    r"in\s+stock|available\s+in\s+(?:black|white|red|blue|size)",
))  # fmt: skip
# Attributes of one product a customer names: colours and sizes.
_ATTRIBUTE: Final = re.compile(
    rf"{_COLOUR}色|(?<![a-z0-9]){_SIZE}(?:码|号)|(?<![a-z0-9])(?:xxxl|xxl|xl|xs)(?![a-z])", re.I)
# Topical intents whose keyword an answer must share (an invoice question is not answered with
# the returns entry because both say 申请).
_TABLE: Final = builtin_table()
_TOPICAL: Final = ("invoice", "cross_border")
ATTRIBUTE_BAR: Final = 0.2  # extra confidence needed when the entry does not name the attribute
# Extra confidence needed on a line of rhetorical blame (到底, 说好的, 就是这么...): an FAQ entry that
# is merely near ("我已经等了三天了，到底有没有人管" came near the dated-shipping entry) answers
# the words, not the customer, who wants someone to look into their case.
GRIEVANCE_BAR: Final = 0.25


@dataclass(frozen=True, slots=True)
class Arbitration:
    """FAQ or order flow for one question, with what decided it (kept in the turn's record)."""

    choice: str  # "order" | "faq"
    margin: float  # this-order cues minus policy cues, plus 0.5 when an order intent was detected
    faq_id: str | None
    faq_score: float | None
    threshold: float

    def record(self) -> dict[str, Any]:
        return {"choice": self.choice, "order_margin": self.margin, "faq_id": self.faq_id,
                "faq_score": self.faq_score, "faq_threshold": self.threshold}


def order_margin(text: str, intents: frozenset[str], has_id: bool, pending_order: bool) -> float:
    """How much more the line is about this order than about the shop's policy."""
    cues = sum(1 for rx in _THIS_ORDER if rx.search(text)) + (2 if has_id else 0)
    if pending_order and has_id:
        cues += 1  # the number the bot asked for
    policy = sum(1 for rx in _POLICY if rx.search(text))
    return cues - policy + (0.5 if intents & _ORDER_INTENTS else 0.0)


def arbitrate(text: str, intents: frozenset[str], has_id: bool, pending_order: bool,
              faq: FaqIndex | None) -> Arbitration | None:  # fmt: skip
    """None when no order intent was detected and no order number given; else the flow, by the
    margin and the FAQ together."""
    if not (intents & _ORDER_INTENTS) and not has_id:
        return None
    margin = order_margin(text, intents, has_id, pending_order)
    hit = best(faq, text)
    threshold = faq.threshold if faq is not None else 1.0
    score = hit.score if hit else None
    if margin >= ORDER_SURE or (margin > 0 and (score or 0.0) < threshold + FAQ_SURE_EXTRA):
        choice = "order"
    elif margin <= 0 or (score or 0.0) >= threshold + FAQ_SURE_EXTRA:
        choice = "faq"
    else:
        choice = "order"
    return Arbitration(choice, margin, hit.entry.id if hit else None, score, threshold)


def best(faq: FaqIndex | None, text: str) -> FaqMatch | None:
    """The top entry whatever the threshold, or None."""
    if faq is None:
        return None
    found = faq.search(text, 1)
    return found[0] if found else None


def answerable(faq: FaqIndex | None, text: str, top: int = 3) -> FaqMatch | None:
    """The best entry the bot may answer with: the first of the `top` nearest that is `confident`.
    The nearest can fail only by not naming the question's topic or attribute ("发票在哪里申请"
    comes nearest to the returns entry, which says 申请售后 but not 发票); the next one that does
    name it, and clears the threshold on its own, is the answer."""
    if faq is None:
        return None
    return next((m for m in faq.search(text, top) if confident(faq, m, text)), None)


def is_product_question(text: str) -> bool:
    """A question about one product's stock, colour or size availability."""
    return any(rx.search(text) for rx in _PRODUCT)


def named_attributes(text: str) -> tuple[str, ...]:
    """Colours and sizes the question names ("黑色", "M码"), lower case."""
    return tuple(dict.fromkeys(m.group(0).lower().replace(" ", "") for m in _ATTRIBUTE.finditer(text)))


def names_all(hit: FaqMatch, words: tuple[str, ...]) -> bool:
    """Whether the entry's wording or answer holds every one of `words`."""
    e = hit.entry
    body = " ".join((e.question, *e.variants, *e.tags, e.answer)).lower()
    return all(w in body for w in words)


def after_sale_words(text: str) -> tuple[str, ...]:
    """Every refund or return keyword the line names (退款, 仅退款, 退货, 价保...), normalised."""
    norm = normalize(text)
    out: list[str] = []
    for name in ("refund", "return_exchange"):
        lx = _TABLE.lexicon(name)
        if lx is not None:
            out.extend(k for k in lx.keywords if k in norm)
    return tuple(dict.fromkeys(out))


def policy_answer(faq: FaqIndex | None, text: str, top: int = 3) -> FaqMatch | None:
    """The FAQ answer to a question about the refund or returns policy: the first of the `top`
    nearest that is `confident` and names every refund or return word the question does, so
    that "仅退款可以吗" is not answered with the refund-time entry, which never says 仅退款."""
    if faq is None:
        return None
    words = after_sale_words(text)
    return next((m for m in faq.search(text, top) if confident(faq, m, text) and names_all(m, words)), None)


def named_topics(text: str) -> tuple[str, ...]:
    """The keyword of each topical intent the question names (发票, 清关...), normalised."""
    norm = normalize(text)
    found = (lx.hit(norm) for lx in (_TABLE.lexicon(n) for n in _TOPICAL) if lx is not None)
    return tuple(k for k in found if k)


def confident(faq: FaqIndex, hit: FaqMatch | None, text: str) -> bool:
    """Whether `hit` may be answered: its score reaches `bar`."""
    if hit is None:
        return False
    return hit.score >= bar(faq, hit, text)[0]


def bar(faq: FaqIndex, hit: FaqMatch, text: str) -> tuple[float, tuple[str, ...]]:
    """The confidence `hit` needs, and why it is above the threshold: raised when the question
    names a colour or size, or a topic keyword (发票, 清关), that the entry's wording and answer do
    not, and when the line is one of rhetorical blame (GRIEVANCE_BAR)."""
    level = faq.threshold
    why: list[str] = []
    named = named_attributes(text) + named_topics(text)
    if named:
        e = hit.entry
        body = " ".join((e.question, *e.variants, *e.tags, e.answer)).lower()
        missing = [a for a in named if a not in body]
        if missing:
            level += ATTRIBUTE_BAR
            why.append(f"attribute: {missing[0]}")
    blame = reproach(normalize(text))
    if blame:
        level += GRIEVANCE_BAR
        why.append(f"reproach: {blame}")
    return round(level, 4), tuple(why)


def bar_record(faq: FaqIndex | None, text: str) -> dict[str, Any] | None:
    """For the turn's record: the bar the nearest entry had to clear, when it was raised."""
    hit = best(faq, text)
    if faq is None or hit is None:
        return None
    level, why = bar(faq, hit, text)
    return {"faq_id": hit.entry.id, "faq_score": hit.score, "bar": level, "raised_for": list(why)} if why else None
