"""Frames: what a line is doing, beyond which words it uses (issue 18, round 4).

Keyword intents say a line is *about* refunds or returns; they cannot say whether the shopper
asks how refunds work here ("退款一般几天到账", the FAQ answers) or has a case with the shop
("我上周退回去的裤子你们收到没有，钱一直没到", only a person can look into it). Two frames
decide that from how the line is put, and are reported as derived intents next to the keyword
ones, so rules can use them (`intent: grievance`, `intent: policy_question`) and the bot sees them:

* `grievance`: the customer's own case gone wrong. A fault with the goods, the delivery or the
  money (破了, 只到了一个, 没退, 驳回...) told as something that happened to them (我, 收到, 了,
  到手...) or put as a demand (要求, 给个说法, 退我), and not as a supposition (如果, 要是, 万一);
  or suspected fraud or a privacy request, which are a person's job however they are put.
* `policy_question`: a question about how things work here (一般, 流程, 多久, 怎么申请, 能…吗;
  not a bare wh-question)
  with nothing of the customer's own case in it (我的, 我要, 收到了, 这单, an order number...)
  unless it is put as a supposition ("买回来不合适的话能退吗"), no grievance and no reproach
  ("你们退款审核怎么这么慢" is put as a question and is not one).

`reproach` (not an intent) finds rhetorical blame without swear words (到底, 就是这么, 说好的,
第二次, 浪费我时间): the bot's FAQ needs a higher bar on such a line (router/bot/arbiter.py).
"""

from __future__ import annotations

import re
from typing import Final

GRIEVANCE: Final = "grievance"
POLICY_QUESTION: Final = "policy_question"
FRAME_INTENTS: Final = (GRIEVANCE, POLICY_QUESTION)

# Faults with the goods, the delivery or the money. Delay alone is not here: "我的快递还没到" is
# an order look-up the bot answers; a delay told with blame is `reproach`.
_FAULT: Final = re.compile(
    r"(?:破了|是破的|破损|坏了|烂了|脏了|有(?:个|一个)?洞|开胶|开线|脱线|线头|变形|掉色|褪色|染色|缩水了|起球了"
    r"|漏毛|有(?:股|一股)?(?:霉|异|怪|臭)?味|霉味|污渍|头发|二手|旧的|假的"
    r"|发错|寄错|送错|弄错|搞错|不一样|不符|不对(?:版|板)?|小了两码|大了两码"
    r"|只(?:到了|收到|有)|少(?:了|发|寄|件|一件)|(?:另一个|另外一个|剩下的).{0,8}(?:查不到|没到|没收到)|查不到"
    r"|签收.{0,10}(?:没|未)收到|根本没收到|我(?:的|买的)[^，。,.!?！？]{0,8}呢$"
    r"|(?:钱|款|退款).{0,8}(?:没|未)(?:到|退|下来)|没(?:有)?(?:退|赔|补|到账)(?:给)?(?:我)?|多扣|还我|退我"
    r"|驳回|拒绝|不给(?:退|换|赔|补|处理|开)|推脱|被退回"
    r")(?![吗么嘛])"  # "掉色吗" asks about the product, it tells of no fault
)
# Told as the customer's own experience: first person, delivery to them, or a finished event.
_OWN: Final = re.compile(r"我|收到|到手|寄来|发来|拿到|签收|这单|这件|订单|包裹|单子|你们(?:发|寄|给)的"
                         r"|了(?:$|[，,。.!！?？])|已经|之前|上周|昨天|前天")
# Put as a demand on the shop.
_DEMAND: Final = re.compile(r"要求|给(?:个|我一个)?说法|怎么赔|赔偿|负责|还我|退我|你们出")
# Put as a supposition or a general question about the product: a policy question, not a case.
_SUPPOSE: Final = re.compile(r"如果|要是|万一|假如|假设|的话|会不会|会.{0,4}吗")
# Fraud and privacy: a person's job however they are put.
_FRAUD_PRIVACY: Final = re.compile(
    r"冒充|诈骗|骗子|泄露|盗用|被盗|扫码领|陌生(?:的)?包裹|没有下过|没下过(?:这个)?单"
    r"|(?:删除|注销).{0,8}(?:信息|账号|资料)|个人信息|身份证信息|隐私"
)
# A question about how things work in general: what may be done (可以/能…吗/支持), how it is done
# (流程, 怎么申请, 在哪提交), how long it takes in general (一般, 多久, 几天), or what happens if
# (如果, 要是, 万一). A bare wh-question
# ("退货地址是哪里", "钱什么时候能退回来") is not enough: it is as often asked in the middle of
# the customer's own return.
_GENERAL: Final = re.compile(
    r"一般|通常|流程|政策|规则|规定|步骤|如果|要是|万一|假如|(?:怎么|如何|怎样)(?:申请|办理|理赔|操作|算|收费|使用|用)|怎样的"
    r"|(?:在)?哪(?:里|儿)?(?:申请|提交|办理|填)|从哪天|多久|几天|多长时间|多少天"
    r"|支持|可以.{0,8}(?:吗|么|嘛)|能.{0,8}(?:吗|么|嘛)|能不能|可不可以|有没有|有.{0,6}吗|是否"
)
# The customer's own case in a question: "我要退", "我的钱", "收到了", "这单", "怎么还没到账",
# the refunded money itself ("退的钱", "钱…退回来"), an order number.
_CASE: Final = re.compile(
    r"我(?:的|买的|要|想|得|已经|都|上周|昨天|前天|刚|这|那)|给我(?!发)|帮我|收到了|到手|寄回去|退回去|这单|这个订单"
    r"|还没|一直|不想要|不要了|钱.{0,8}退|退.{0,4}的钱|退回来|退给我"
    r"|\d{12,}"
)
# Rhetorical blame without swear words.
_REPROACH: Final = re.compile(
    r"到底|究竟|就是这么|怎么搞的|搞什么|有没有人管|能不能认真|浪费(?:我)?(?:的)?时间|失望|说好的|答应(?:过)?(?:我|的)"
    r"|第(?:二|三|几)次|又(?:是|发错|没)|都(?:说|等|问|催)了|一直(?:没|不)|到现在(?:也|还)?(?:没|不)"
    r"|怎么(?:这么|回事)|做生意|坑人|你们这(?:是|样)|解释一下|给个说法|书面|不合理"
)


def grievance(norm: str) -> bool:
    """The customer's own case gone wrong, or fraud or privacy (normalized text)."""
    if _FRAUD_PRIVACY.search(norm):
        return True
    if not _FAULT.search(norm) or _SUPPOSE.search(norm):
        return False
    return bool(_OWN.search(norm) or _DEMAND.search(norm))


def policy_question(norm: str) -> bool:
    """A question about how things work here, with no case of the customer's own in it."""
    return not grievance(norm) and _general(norm)


def _general(norm: str) -> bool:
    # policy_question without the grievance test, which `frames` has already made
    if not _GENERAL.search(norm) or reproach(norm):
        return False
    return not _CASE.search(norm) or bool(_SUPPOSE.search(norm))


def reproach(norm: str) -> str | None:
    """The first word of rhetorical blame in the line, else None."""
    m = _REPROACH.search(norm)
    return m.group(0) if m else None


_GRIEVANCE_ONLY: Final = frozenset({GRIEVANCE})
_POLICY_ONLY: Final = frozenset({POLICY_QUESTION})
_NONE: Final = frozenset[str]()


def frames(norm: str) -> frozenset[str]:
    """The derived intents of normalized text (at most one: a grievance is never a policy question)."""
    if grievance(norm):
        return _GRIEVANCE_ONLY
    return _POLICY_ONLY if _general(norm) else _NONE
