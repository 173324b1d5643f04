"""Several questions in one turn: split into clauses, keep those that ask something the bot can
act on (this order, one product's stock, an FAQ entry), and decide each on its own.

A debounced burst often holds two questions ("我的快递到哪了 <单号>" then "这件连衣裙有M码吗").
Clauses come from punctuation and line breaks, and from jieba at joining words (还有, 另外, 顺便).
A clause that asks nothing on its own ("这件毛衣", "请问一下") joins the next one as context.
Fewer than two distinct asks: the turn is one question, decided whole as before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from router.bot.arbiter import ORDER_SURE, answerable, arbitrate, is_product_question
from router.bot.brain_types import BotConfig
from router.bot.faq_match import FaqIndex
from router.bot.order_flow import extract_order_id
from router.bot.text import tokenizer
from routing_rules.intents import builtin_table, normalize

_TABLE: Final = builtin_table()
_LEADING_JOINER: Final = re.compile(
    r"^(?:另外|顺便问一下|顺便问下|顺便|再问一下|再问下|以及|还想问|对了|还有个问题|另外问一下)[，,\s]*")
_SPLIT: Final = re.compile(r"[\n。？！?!；;，,、~～]+")
# Not 还有 alone: "还有货吗" is one question.
_JOINERS: Final = frozenset({"另外", "顺便", "顺便问一下", "顺便问下", "再问一下", "再问下", "以及",
                             "还想问", "对了", "还有个问题", "另外问一下"})  # fmt: skip
# A clause asks something of the FAQ only if it is put as a question.
_QUESTION: Final = re.compile(
    r"[吗呢么嘛?？]|怎么|怎样|如何|什么|啥|多少|多久|几|哪|能不能|可不可以|是不是|有没有|会不会|要不要|"
    r"支持|可以|能否|how|what|which|when|can|do you|is it", re.I)


# A clause put as a whole question (ending in a question particle, or asking how/why/which), so
# that it is not a fragment of the next one ("洗了会不会" / "起球啊").
_OPEN: Final = re.compile(r"..[吗呢么嘛?？]$|(?:怎么|如何|为什么|为啥|多少|哪里|哪个|什么).{2,}")


@dataclass(frozen=True, slots=True)
class Part:
    """One question of a turn: its text (with the context clauses before it) and its intents."""

    text: str
    key: str  # "order", "product", "faq:<entry id>", or "open:<n>" for a question none of those answers
    intents: frozenset[str]


def clauses(text: str) -> list[str]:
    """The turn cut at punctuation, line breaks and joining words."""
    tk = tokenizer(_JOINERS)
    out: list[str] = []
    for chunk in _SPLIT.split(text):
        cur = ""
        for w in tk.lcut(chunk.strip(), HMM=False):
            if w in _JOINERS and cur.strip():
                out.append(cur.strip())
                cur = ""
            cur += w
        if cur.strip():
            out.append(cur.strip())
    return out


def split_parts(text: str, faq: FaqIndex | None, config: BotConfig) -> list[Part]:
    """Two or more parts when the turn holds two or more distinct questions, else []."""
    cs = clauses(text)
    if len(cs) < 2:
        return []
    parts: list[Part] = []
    loose: list[str] = []
    for n, c in enumerate(cs):
        key = _ask(c, faq, config)
        if key is None and _OPEN.search(c):
            key = f"open:{n}"  # a question nothing here answers: decided on its own, never dropped
        if key is None:
            loose.append(c)
            continue
        joined = " ".join([*loose, c])
        loose = []
        same = next((i for i, p in enumerate(parts) if p.key == key), None)
        if same is not None:
            joined = f"{parts[same].text} {joined}"
            parts[same] = Part(joined, key, _intents(joined))
        else:
            parts.append(Part(joined, key, _intents(joined)))
    if loose and parts:
        last = parts[-1]
        joined = " ".join([last.text, *loose])
        parts[-1] = Part(joined, last.key, _intents(joined))
    if len(parts) < 2 or all(p.key.startswith("open:") for p in parts):
        return []
    return parts


def _intents(text: str) -> frozenset[str]:
    return _TABLE.scan(normalize(text))[0]


def _ask(clause: str, faq: FaqIndex | None, config: BotConfig) -> str | None:
    """What the clause asks on its own, or None when it is context for another clause."""
    intents = _intents(clause)
    has_id = extract_order_id(clause, config) is not None
    arb = arbitrate(clause, intents, has_id, False, faq)
    if arb is not None and arb.choice == "order" and arb.margin >= ORDER_SURE:
        return "order"
    if is_product_question(clause):
        return "product"
    if faq is not None and _QUESTION.search(clause):
        bare = _LEADING_JOINER.sub("", clause) or clause  # "另外发票怎么开": the joiner is no topic
        hit = answerable(faq, bare)
        if hit is not None:
            return f"faq:{hit.entry.id}"
    return None
