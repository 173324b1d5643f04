"""Keyword and pattern intent detection, language guess and the "angry" check, without a model.

Text is compared after `normalize`: NFKC folds full-width forms (U+FF01 to !, U+FF21 to a)
and casefold makes Latin case-insensitive. Keywords match as substrings, because Chinese is not
written with spaces and word splitting would miss 退款 inside 我要退款吗. Patterns are re2.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import re2

from routing_rules.frames import FRAME_INTENTS, frames
from routing_rules.regex import Regex, options


def _kw(*chunks: str) -> tuple[str, ...]:
    """Keywords written as "a|b|c" so that long lists stay readable."""
    return tuple(k for chunk in chunks for k in chunk.split("|") if k)


BUILTIN_INTENTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # name: (keywords, re2 patterns), from what customers of Chinese e-commerce shops ask before,
    # during and after a sale; a shop tunes them in the `intents:` section of its rules file.
    "presale": (
        _kw(
            "尺码|尺寸|码数|多大码|穿多大|面料|材质|什么颜色|有货吗|有没有货|库存|现货|正品|"
            "多少钱|价格|优惠|便宜点|打折|折扣|优惠券|满减|活动|促销|包邮|什么时候发货|几天发货|"
            "支付方式|花呗|分期|推荐|适合|size|fabric|material|colour|color|in stock|genuine|"
            "authentic|price|discount|coupon|promotion|free shipping|how much|recommend"
        ),
        # "M码", "XL码", "38码": asking for a size.
        (r"(?:\b|^)(?:xs|s|m|l|xl|xxl|xxxl|[2-5]xl|\d{2,3})\s*码",),
    ),
    "order_status": (
        _kw(
            "订单状态|订单号|我的订单|发货了吗|还没发货|怎么还没发|催发货|修改地址|改地址|"
            "更改地址|改一下地址|取消订单|指定日期发货|已付款|order status|my order|order number|"
            "cancel order|cancel my order|change address|change the address|shipped yet|"
            "has it shipped"
        ),
        (r"\b\d{16,20}\b",),
    ),
    "logistics": (
        _kw(
            "物流|快递|包裹|运单|到哪了|到哪里了|派送|签收|没收到|还没到|丢件|配送|顺丰|中通|"
            "圆通|韵达|申通|邮政|tracking|track my|parcel|package|courier|shipping status|"
            "where is my|not arrived|hasn't arrived|not received|delayed"
        ),
        (),
    ),
    "return_exchange": (
        _kw(
            "退货|换货|退换|七天无理由|7天无理由|换个尺码|换一个|尺码不合适|不合适|发错|少发|"
            "漏发|破损|坏了|质量问题|瑕疵|寄回|申请售后|售后申请|return|exchange|send back|wrong item|wrong size|"
            "damaged|broken|defective|missing item|doesn't fit"
        ),
        # Wanting to send back one's own purchase: "我要退这件衣服", "帮我退了吧", "怎么把它退了".
        (r"(?:我|帮我|给我)(?:要|想|得)?退(?:掉|了|这|那|回|货)|把(?:它|这|那)?.{0,6}退(?:了|掉|回去)",),
    ),
    "refund": (
        _kw(
            "退款|退钱|退差价|仅退款|没退|钱什么时候到|价保|refund|money back|reimburse|"
            "chargeback"
        ),
        # A refund verb about the customer's own money, however it is put: "钱什么时候退给我",
        # "快点把钱退给我", "退的钱多久到账", "我已经退回去了钱呢", "什么时候退回来".
        (r"钱.{0,8}退|退.{0,4}钱|退.{0,6}到账|退(?:给|还给?)我|退回来",),
    ),
    "complaint": (
        _kw(
            "投诉|差评|举报|12315|消协|曝光|维权|态度差|骗子|欺诈|假货|货不对板|描述不符|"
            "与描述不符|凭什么|骗人|太过分|虚假宣传|不满意|律师|起诉|法院|消费者协会|工商局|"
            "complain|bad review|negative review|report you|scam|fraud|fake|not as described|"
            "terrible service|lawyer|sue you"
        ),
        # Nobody answering ("申请售后三天了没人理", "客服一直不回消息"), and a loss the customer
        # holds the shop to ("包裹弄丢了你们负责吗", "谁来赔"): a person settles these.
        (r"没人(?:理|管|回|处理|接)|不理人|(?:一直|还|都)?不回(?:消息|复|我)|不给(?:处理|解决)"
         r"|(?:弄|搞|寄)丢|丢件|(?:包裹|快递|货|件)(?:被)?丢了|(?:你们|谁)(?:来)?(?:负责|赔)",),
    ),
    "invoice": (
        _kw(
            "发票|开票|专票|普票|增值税|税号|invoice|receipt|vat|fapiao|tax id"
        ),
        (),
    ),
    "cross_border": (
        _kw(
            "清关|海关|关税|进口税|跨境|海外直邮|直邮|保税|实名认证|customs|clearance|"
            "import duty|import tax|tariff|international shipping|overseas|cross-border|"
            "cross border"
        ),
        (),
    ),
    "payment_issue": (
        # Money taken without the order to show for it, or an account the customer cannot use:
        # neither is a policy question, and only a person can look into the payment or account.
        _kw(
            "重复扣款|多扣|扣了两次|扣两次|付了两次|重复支付|订单没生成|没有生成订单|显示未支付|支付失败|"
            "账号被盗|被盗号|盗号|登不上|登录不了|登陆不了|账号异常|账号被封|封号|charged twice|"
            "double charged|account hacked|can't log in|cannot log in"
        ),
        (r"扣了(?:款|钱|我)|扣款了|被扣(?:了)?(?:款|钱)|(?:付款|支付|付钱)(?:成功|了)[^。！？?!]{0,8}(?:未支付|没(?:有)?(?:生成|订单|到账)|待付款)",),
    ),
    "human_request": (
        _kw(
            "转人工|人工|真人|找客服|有人吗|活人|不要机器人|店长|负责人|主管|human|real person|operator|"
            "speak to someone|talk to someone|talk to an agent|speak to an agent"
        ),
        # Calling a person in, however named: "帮我叫一下你们的售后", "换个人来", "安排个客服跟进".
        (r"(?:叫|找|安排|派|让)(?:一下|一个|个|下)?(?:你们)?(?:的)?(?:售后|客服|经理|同事|专员|能做主的)"
         r"|换(?:一)?个(?:人|客服)",),
    ),
}

BUILTIN_ANGRY: tuple[tuple[str, ...], tuple[str, ...]] = (
    _kw(
        "投诉|差评|垃圾|骗子|欺骗|骗人|坑人|坑爹|气死|生气|太过分|恶心|什么玩意|太差了|态度差|忍无可忍|12315|"
        "scam|scammer|fraud|furious|outraged|ridiculous|disgusting|worst|terrible|"
        "unacceptable|wtf|rip-off|rip off"
    ),
    # Repeated !!! or ??? (full-width exclamation and question marks fold to these under NFKC).
    (r"[!?]{3,}",),
)


def normalize(text: str) -> str:
    """The form every keyword and pattern is matched against."""
    return unicodedata.normalize("NFKC", text).casefold()


@dataclass(frozen=True, slots=True)
class Lexicon:
    """One intent (or the angry check): normalized keywords plus compiled patterns."""

    name: str
    keywords: tuple[str, ...]
    patterns: tuple[Regex, ...]

    def hit(self, norm: str) -> str | None:
        """The first keyword or pattern found in normalized text, else None."""
        for kw in self.keywords:
            if kw in norm:
                return kw
        for rx in self.patterns:
            if rx.search(norm):
                return f"/{rx.pattern}/"
        return None


class IntentTable:
    """All intents in canonical order plus the angry lexicon, matched in one re2 pass.

    An RE2::Set reports every keyword and pattern that occurs, overlapping ones included, so a
    message costs one scan however many keywords the shop configures. The frames (frames.py:
    `grievance`, `policy_question`) come after the keyword intents, derived from how the line is
    put rather than from a lexicon.
    """

    __slots__ = ("_owner", "_set", "angry", "intents", "names")

    def __init__(self, intents: tuple[Lexicon, ...], angry: Lexicon) -> None:
        self.intents = intents
        self.angry = angry
        own = tuple(lx.name for lx in intents)
        self.names = own + tuple(f for f in FRAME_INTENTS if f not in own)
        self._owner: list[int] = []  # Set index -> position in (*intents, angry)
        rset: Any = re2.Set.SearchSet(options())
        for pos, lx in enumerate((*intents, angry)):
            for source in (*(re2.escape(k) for k in lx.keywords), *(r.pattern for r in lx.patterns)):
                rset.Add(source)
                self._owner.append(pos)
        try:
            rset.Compile()
        except re2.error:
            rset = None  # over the memory budget: fall back to one lexicon at a time
        self._set = rset

    def scan(self, norm: str) -> tuple[frozenset[str], bool]:
        """(intents present, angry) for normalized text."""
        if self._set is None:
            found = {i for i, lx in enumerate((*self.intents, self.angry)) if lx.hit(norm)}
        else:
            hits = self._set.Match(norm)
            found = {self._owner[i] for i in hits} if hits else set()
        n = len(self.intents)
        return frozenset(self.intents[p].name for p in found if p < n) | frames(norm), n in found

    def detect(self, norm: str) -> tuple[str, ...]:
        """Names of every intent whose keywords or patterns occur, in canonical order."""
        present = self.scan(norm)[0]
        return tuple(n for n in self.names if n in present)

    def lexicon(self, name: str) -> Lexicon | None:
        return next((lx for lx in self.intents if lx.name == name), None)


def make_lexicon(name: str, keywords: Iterable[str], patterns: Iterable[Regex]) -> Lexicon:
    # Dedupe while keeping order so explanations name the keyword an admin wrote first.
    kws = tuple(dict.fromkeys(normalize(k) for k in keywords if k.strip()))
    return Lexicon(name, kws, tuple(patterns))


def builtin_table(
    overrides: Mapping[str, tuple[tuple[str, ...], tuple[Regex, ...]]] | None = None,
    angry: tuple[tuple[str, ...], tuple[Regex, ...]] | None = None,
) -> IntentTable:
    """The built-in table with whole intents replaced or added by `overrides` (already merged)."""
    overrides = dict(overrides or {})
    lexs = []
    for name, (kws, pats) in BUILTIN_INTENTS.items():
        if name in overrides:
            okws, opats = overrides.pop(name)
            lexs.append(make_lexicon(name, okws, opats))
        else:
            lexs.append(make_lexicon(name, kws, (Regex.compile(p) for p in pats)))
    for name, (okws, opats) in overrides.items():
        lexs.append(make_lexicon(name, okws, opats))
    if angry is None:
        rxs = (Regex.compile(p) for p in BUILTIN_ANGRY[1])
        angry_lx = make_lexicon("angry", BUILTIN_ANGRY[0], rxs)
    else:
        angry_lx = make_lexicon("angry", *angry)
    return IntentTable(tuple(lexs), angry_lx)


def _is_cjk(ch: str) -> bool:
    o = ord(ch)
    return 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0x20000 <= o <= 0x2A6DF


def detect_language(norm: str) -> str:
    """"zh", "en", or "und" when the text has neither Han characters nor Latin letters."""
    cjk = latin = 0
    for ch in norm:
        if _is_cjk(ch):
            cjk += 1
        elif "a" <= ch <= "z":
            latin += 1
    # One Han character carries about a word; English words average ~5 letters, so weigh 4:1.
    if cjk and cjk * 4 >= latin:
        return "zh"
    if latin:
        return "en"
    return "zh" if cjk else "und"
