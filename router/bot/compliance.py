"""Advertising-law check of outgoing text: absolute claims (最好, 第一, 100%...) are flagged.

China's Advertising Law (art. 9) forbids superlatives such as 国家级, 最高级, 最佳 in what a
shop says to buyers; marketplaces fine and demote shops for it. Agents quoting the customer
are not making a claim, so quoted text is skipped: 「...」, 『...』, “...”, "..." and lines
starting with '>'.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Final

from kefu_common.errors import ConfigError, ConfigErrors
from kefu_common.yamlpos import load_yaml_file

DEFAULT_TERMS: Final = (
    "最好", "最佳", "最优", "最高级", "最便宜", "最低价", "第一", "唯一", "首个", "首选",
    "国家级", "世界级", "顶级", "顶尖", "极品", "极致", "王牌", "销量冠军", "全网最低",
    "100%", "绝对", "万能", "永久", "无敌", "史无前例",
)  # fmt: skip

# Quotation pairs; the customer's words inside them are not the shop's claim.
_QUOTES = re.compile(
    "\u300c[^\u300d]*\u300d"  # 「」
    "|\u300e[^\u300f]*\u300f"  # 『』
    "|\u201c[^\u201d]*\u201d"  # “”
    '|"[^"\\n]*"'
    "|(?m:^[ \\t]*>.*$)"  # a quoted line, as in mail
)


class ComplianceMode(StrEnum):
    """What the router does with a finding: show the agent a warning, or refuse to send."""

    WARN = "warn"
    BLOCK = "block"


@dataclass(frozen=True, slots=True)
class Finding:
    """One banned term at text[start:end]."""

    term: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class ComplianceResult:
    findings: tuple[Finding, ...]
    mode: ComplianceMode

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def blocked(self) -> bool:
        """True when the text must not be sent as it stands."""
        return bool(self.findings) and self.mode is ComplianceMode.BLOCK


@dataclass(frozen=True, slots=True)
class CompliancePolicy:
    """Banned terms, allowed phrases that contain them (第一时间), and the mode."""

    terms: tuple[str, ...] = DEFAULT_TERMS
    allow: tuple[str, ...] = ()
    mode: ComplianceMode = ComplianceMode.WARN

    def check(self, text: str) -> ComplianceResult:
        """Every banned term in `text` outside quotes and allowed phrases, in text order."""
        # Fold width and case one character at a time, so offsets still index `text`.
        folded = "".join(_fold(c) for c in text)
        terms, any_term, allowed = _compiled(self.terms, self.allow)
        if any_term.search(folded) is None:
            return ComplianceResult((), self.mode)  # every agent reply is checked; most have none
        skip = [m.span() for m in _QUOTES.finditer(folded)]
        skip += [m.span() for a in allowed for m in a.finditer(folded)]
        found: list[Finding] = []
        for term, pattern in terms:
            for m in pattern.finditer(folded):
                s, e = m.span()
                covered = any(a <= s and e <= b for a, b in skip)
                overlaps = any(f.start < e and s < f.end for f in found)
                if not covered and not overlaps:
                    found.append(Finding(term, s, e))
        return ComplianceResult(tuple(sorted(found, key=lambda f: f.start)), self.mode)


def _fold(c: str) -> str:
    n = unicodedata.normalize("NFKC", c).lower()
    return n if len(n) == 1 else c


def _fold_all(s: str) -> str:
    return "".join(_fold(c) for c in s)


@functools.lru_cache(maxsize=8)
def _compiled(terms: tuple[str, ...], allow: tuple[str, ...]
              ) -> tuple[tuple[tuple[str, re.Pattern[str]], ...], re.Pattern[str], tuple[re.Pattern[str], ...]]:
    """A policy's terms folded and compiled once, longest first (the order `check` takes them
    in), with one pattern that finds whether any is there at all, and the allowed phrases."""
    ordered = sorted(set(terms), key=len, reverse=True)
    folded = [re.escape(_fold_all(t)) for t in ordered]
    return (tuple((t, re.compile(f)) for t, f in zip(ordered, folded, strict=True)),
            re.compile("|".join(folded) or "(?!)"),
            tuple(re.compile(re.escape(_fold_all(a))) for a in allow))


def load_compliance(path: str | Path) -> CompliancePolicy:
    """Read config/compliance.yaml: mode, banned_terms, allow; errors carry FILE:LINE:COL."""
    doc = load_yaml_file(path)
    if not isinstance(doc.data, dict):
        raise doc.error((), "a compliance file is a mapping with mode, banned_terms, allow")
    errors: list[ConfigError] = doc.unknown_keys((), ("mode", "banned_terms", "allow"))
    mode = ComplianceMode.WARN
    raw_mode = doc.data.get("mode", "warn")
    try:
        mode = ComplianceMode(raw_mode)
    except ValueError:
        errors.append(doc.error(("mode",), f"mode must be warn or block, not {raw_mode!r}"))
    lists: dict[str, tuple[str, ...]] = {}
    for key in ("banned_terms", "allow"):
        node = doc.data.get(key, [])
        if not isinstance(node, list):
            errors.append(doc.error((key,), f"{key} must be a list of strings"))
            continue
        for i, v in enumerate(node):
            if not isinstance(v, str | int) or isinstance(v, bool) or not str(v).strip():
                errors.append(doc.error((key, i), "expected a non-empty string"))
        lists[key] = tuple(str(v).strip() for v in node if isinstance(v, str | int) and str(v).strip())
    if errors:
        raise ConfigErrors(errors)
    terms = lists.get("banned_terms") or DEFAULT_TERMS
    return CompliancePolicy(terms=terms, allow=lists.get("allow", ()), mode=mode)
