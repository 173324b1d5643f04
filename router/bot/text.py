"""Chinese-aware text normalisation shared by FAQ matching and unknown-question grouping."""

from __future__ import annotations

import functools
import logging
import re
import threading
import unicodedata
from collections.abc import Callable, Mapping

import jieba

# jieba logs its dictionary loading at DEBUG/INFO on stderr; we want it quiet.
jieba.setLogLevel(logging.WARNING)

# Function words and politeness that carry no topic: removing them keeps "亲 请问包邮吗"
# and "包邮吗" the same question.
STOPWORDS = frozenset(
    """
    的 了 吗 嘛 呢 啊 呀 吧 哦 噢 哈 哈哈 嗯 么 亲 亲亲 请问 问下 问一下 请 你好 您好 在吗 在不在
    我 我的 你 你们 您 我们 他 她 它 是 是不是 有没有 这 这个 那 那个 个 一下 一个 怎么 怎么样
    怎样 如何 什么 啥 可以 可不可以 能 能不能 会 会不会 要 想 想问 问 下 呗 就 都 也 还 又 和 跟
    与 或 或者 吗亲 谢谢 多谢 麻烦 帮 帮我 给 给我 不 没 没有 不能 一 点 有 到 对 把 被 让 得 地
    着 过 上 里 中 现在 今天 客服 老板 掌柜 小姐姐 美女 姐 宝 宝宝 the a an is are am do does did
    i you my your me we our to for of in on it this that can could how what please hi hello
    斤 公斤 cm kg 岁 米 哪 哪里 哪儿 在哪 在哪里 多 几 咋 为啥 为什么 吗
    衣服 东西 商品 宝贝 产品 这件 那件 件 款 这款 买 拍 大概 大约 左右 一般 行不行 行吗 好吗 可以吗
    能否 还能 有点 需要 帮忙 开始 的话 还是 到底 真的 已经 刚 刚刚 了吗 不行 行 好 呀亲 哈亲
    什么时候 时候 穿 多少 哪个 哪些 查 查下 查一下 在
    """.split()
)

_SPACE = re.compile(r"\s+")
# Anything that is not a letter, digit or CJK ideograph is punctuation for our purposes.
_PUNCT = re.compile(r"[^0-9a-z\u3400-\u4dbf\u4e00-\u9fff\s]+")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
# Numbers and measures (170, 120斤, 3期, 20cm) say which, not what: they are never the topic.
_NUMERIC = re.compile(r"[0-9.]+[a-z]{0,2}|[0-9.]*[一二三四五六七八九十百千万两半]+[斤期天件号点个米块元]?")
_LEAD = re.compile(r"^(?:亲爱的|亲亲|亲|你好|您好|请问|问一下|问下|在吗|在不在|hi|hello)+")
_TRAIL = re.compile(r"(?:吗|呢|啊|呀|吧|哦|噢|哈|嘛|么|亲|啦)+$")


def normalise(text: str) -> str:
    """NFKC (full-width to half-width), lower case, punctuation to spaces, single spaces."""
    t = unicodedata.normalize("NFKC", text).lower()
    t = _PUNCT.sub(" ", t)
    return _SPACE.sub(" ", t).strip()


def synonym_rewriter(synonyms: Mapping[str, str]) -> Callable[[str], str]:
    """A function rewriting each synonym to its canonical word in one left-to-right pass.

    One pass, longest word first, and canonical words mapping to themselves: so 优惠券 is not
    rewritten again through its synonym 券, and 综合税 does not become 综合关税.
    """
    table = {w: c for w, c in synonyms.items() if w}
    table.update({c: c for c in synonyms.values() if c})
    if not table:
        return lambda text: text
    pattern = re.compile("|".join(re.escape(w) for w in sorted(table, key=len, reverse=True)))
    return lambda text: pattern.sub(lambda m: table[m.group(0)], text)


_tok_lock = threading.Lock()


@functools.lru_cache(maxsize=4)
def tokenizer(words: frozenset[str]) -> jieba.Tokenizer:
    """A private jieba tokenizer knowing `words`; cached so reloads of the same KB reuse it."""
    # A private instance keeps KB words out of jieba's global dictionary (others use it too).
    with _tok_lock:
        tk = jieba.Tokenizer()
        # A copy of the shared dictionary rather than a second load of it: loading takes a CPU
        # second and more (two of them were a third of a cold start), copying a few milliseconds.
        jieba.dt.check_initialized()
        tk.FREQ, tk.total, tk.initialized = dict(jieba.dt.FREQ), jieba.dt.total, True
        for w in sorted(words):
            tk.add_word(w, freq=None)
        return tk


def tokens(text: str, tk: jieba.Tokenizer) -> list[str]:
    """Content words of already-normalised text: jieba search mode, no HMM, no stopwords."""
    # Search mode also yields the words inside compounds (开发票 -> 发票), which helps recall.
    words = (w.strip() for w in tk.cut_for_search(text, HMM=False))
    return [w for w in words if w and w not in STOPWORDS and not _NUMERIC.fullmatch(w)]


def char_grams(text: str, tk: jieba.Tokenizer) -> list[str]:
    """Character bigrams of the content runs of normalised text; Latin words count whole.

    Stopwords break runs, so "包邮吗亲" gives 包邮 even though jieba cut it 包/邮/吗/亲.
    A run of one character stands for itself (码, 退) because it is often the whole topic.
    """
    out: list[str] = []
    run: list[str] = []

    def flush() -> None:
        s = "".join(run)
        run.clear()
        if len(s) == 1:
            out.append(s)
        out.extend(s[i : i + 2] for i in range(len(s) - 1))

    for w in tk.lcut(text, HMM=False):
        w = w.strip()
        if not w or w in STOPWORDS or _NUMERIC.fullmatch(w):
            flush()
        elif _CJK.search(w):
            run.append(w)
        else:
            flush()
            out.append(w)
    flush()
    return out


def group_key(question: str) -> str:
    """A stable key for counting unanswered questions: "衣服起球怎么办?" == "亲 衣服起球怎么办".

    Punctuation, spaces, width and case go; greetings in front and particles at the end go.
    The key stays readable, so the most frequent ones can be shown to whoever writes the FAQ.
    """
    t = normalise(question).replace(" ", "")
    t = _LEAD.sub("", t)
    t = _TRAIL.sub("", t)
    return t or normalise(question).replace(" ", "")
