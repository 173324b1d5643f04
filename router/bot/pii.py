"""Masking of personal data (mobile, ID card, email, address) for logs and exports.

Agents see the real data in the conversation; logs, exports and analytics must not (a leaked
address or phone number is the privacy risk practitioners name first).
"""

from __future__ import annotations

import logging
import re

# 18-digit resident ID: 6-digit area, birth date 18xx-20xx, 3-digit sequence, check digit or X.
_ID_CARD = re.compile(
    r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
    r"\d{3}[\dXx](?![0-9A-Za-z])"
)
# Mainland mobile, optionally +86, optionally written 3-4-4 with spaces or dashes.
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?(1[3-9]\d)[- ]?(\d{4})[- ]?(\d{4})(?!\d)")
_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
# An address is two or more segments that end in an administrative or street unit, one of
# them fine-grained (road, number, building...): "市区" or "一号" alone are ordinary words.
_UNIT = (
    r"(?:自治区|特别行政区|省|市|区|县|镇|乡|街道|大道|路|街|巷|弄"
    r"|胡同|号楼|号|栋|幢|单元|室|村|小区|大厦|花园)"
)
_ADDRESS = re.compile(rf"(?:[\u4e00-\u9fff0-9A-Za-z\-]{{1,12}}?{_UNIT}){{2,}}")
_FINE = re.compile(r"大道|路|街|巷|弄|胡同|号|栋|幢|单元|室|村|小区|大厦|花园")
_COARSE_END = re.compile(r"^(?:[\u4e00-\u9fff]{1,8}?(?:自治区|特别行政区|省|市)){1,2}")

MASK = "***"


def mask_pii(text: str) -> str:
    """`text` with mobiles, ID numbers, emails and street addresses masked."""
    text = _ID_CARD.sub(lambda m: m.group(0)[:3] + "*" * 13 + m.group(0)[-2:], text)
    text = _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
    text = _EMAIL.sub(lambda m: f"{m.group(1)}{MASK}@{m.group(2)}", text)
    return _ADDRESS.sub(_mask_address, text)


def _mask_address(m: re.Match[str]) -> str:
    """Keep province and city (useful for statistics), hide the rest."""
    span = m.group(0)
    if not _FINE.search(span):
        return span
    head = _COARSE_END.match(span)
    return (head.group(0) if head else "") + MASK


class PiiMaskFilter(logging.Filter):
    """A logging filter that masks personal data in each record's message; it drops nothing.

    Install it on a handler (it then covers every logger writing there) or on a logger.
    The formatted message replaces msg/args, so the masking also covers %-arguments.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_pii(message)
        if masked != message:
            record.msg = masked
            record.args = None
        if record.exc_info and not record.exc_text:
            # Formatters cache exc_text; fill it masked so the traceback does not leak either.
            record.exc_text = mask_pii(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = mask_pii(record.exc_text)
        return True


def install_log_masking() -> PiiMaskFilter:
    """Mask personal data in every kefu log record, whichever handler writes it.

    A logger's filters do not apply to its children's records, so the filter goes on every
    `kefu.*` logger that exists (they are created at import) and on the root handlers.
    Installing twice adds nothing.
    """
    existing = [f for f in logging.getLogger("kefu").filters if isinstance(f, PiiMaskFilter)]
    mask = existing[0] if existing else PiiMaskFilter()
    names = [n for n in logging.root.manager.loggerDict if n == "kefu" or n.startswith("kefu.")]
    for logger in [logging.getLogger(n) for n in names] + [logging.getLogger("kefu")]:
        if mask not in logger.filters:
            logger.addFilter(mask)
    for handler in logging.getLogger().handlers:
        if mask not in handler.filters:
            handler.addFilter(mask)
    return mask
