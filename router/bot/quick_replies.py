"""Quick replies (话术) sorted by stage, with placeholders checked when the file loads.

Placeholders: {customer_name}, {agent_name}, {shop}, {order_id}. A placeholder outside this
set is a load error at FILE:LINE:COL, not a surprise in front of a customer. When rendering,
a missing name falls back to a polite generic form (亲 / 客服 / 本店); a missing order number has
no sensible stand-in and raises ValueError naming the reply.
"""

from __future__ import annotations

import difflib
import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from pypinyin import Style, lazy_pinyin

from kefu_common.errors import ConfigError, ConfigErrors
from kefu_common.yamlpos import YamlDoc, load_yaml, read_text

PLACEHOLDERS: Final = ("customer_name", "agent_name", "shop", "order_id")
FALLBACKS: Final[Mapping[str, str]] = {"customer_name": "亲", "agent_name": "客服", "shop": "本店"}
_REPLY_KEYS = ("id", "stage", "title", "text", "keywords")


@dataclass(frozen=True, slots=True)
class QuickReply:
    """One prepared reply; `initials` are the pinyin initials of its title and keywords."""

    id: str
    stage: str
    title: str
    text: str
    keywords: tuple[str, ...] = ()
    placeholders: frozenset[str] = frozenset()
    initials: tuple[str, ...] = ()

    def render(self, values: Mapping[str, str | None]) -> str:
        """The text with placeholders filled from `values`, falling back as documented."""
        filled: dict[str, str] = {}
        for name in self.placeholders:
            v = values.get(name)
            if v:
                filled[name] = v
            elif name in FALLBACKS:
                filled[name] = FALLBACKS[name]
            else:
                raise ValueError(f"quick reply {self.id!r} needs {{{name}}} and none was given")
        return self.text.format_map(filled)


@dataclass(frozen=True, slots=True)
class QuickReplies:
    """The library: stages in file order (id -> title) and replies in file order."""

    stages: tuple[tuple[str, str], ...]
    replies: tuple[QuickReply, ...]

    def get(self, reply_id: str) -> QuickReply | None:
        return next((r for r in self.replies if r.id == reply_id), None)

    def by_stage(self, stage: str) -> list[QuickReply]:
        return [r for r in self.replies if r.stage == stage]

    def search(self, query: str = "", stage: str | None = None, limit: int = 20) -> list[QuickReply]:
        """Replies matching `query` by keyword, title, text or pinyin initials ("th" -> 退货).

        Ranked: keyword hits, then title, then pinyin initials, then body text; an empty query
        lists the stage (or everything) in file order.
        """
        q = query.strip().lower()
        pool = [r for r in self.replies if stage is None or r.stage == stage]
        if not q:
            return pool[:limit]
        scored = []
        for pos, r in enumerate(pool):
            rank = _rank(r, q)
            if rank is not None:
                scored.append((rank, pos, r))
        return [r for _, _, r in sorted(scored, key=lambda t: (t[0], t[1]))][:limit]


def _rank(r: QuickReply, q: str) -> int | None:
    if any(q in k.lower() for k in r.keywords):
        return 0
    if q in r.title.lower():
        return 1
    if q.isascii() and q.isalpha() and any(i.startswith(q) for i in r.initials):
        return 2
    if q in r.text.lower():
        return 3
    return None


def initials(text: str) -> str:
    """Lower-case pinyin initials of Chinese characters; other characters kept (退货 -> th)."""
    return "".join(lazy_pinyin(text, style=Style.FIRST_LETTER)).lower().replace(" ", "")


def load_quick_replies(path: str | Path) -> QuickReplies:
    """Read and check a quick-reply file; all problems are raised at once as ConfigErrors."""
    return parse_quick_replies(read_text(path), str(path))


def parse_quick_replies(text: str, file: str = "<quick_replies>") -> QuickReplies:
    doc = load_yaml(text, file)
    lines = text.splitlines()
    if not isinstance(doc.data, dict):
        raise doc.error((), "a quick-reply file is a mapping with 'stages' and 'replies'", code="replies_not_mapping")
    errors: list[ConfigError] = doc.unknown_keys((), ("stages", "replies"))
    raw_stages = doc.data.get("stages")
    stages: dict[str, str] = {}
    if not isinstance(raw_stages, dict) or not raw_stages:
        errors.append(doc.error(("stages",), "'stages' must map a stage id to its title", code="stages_not_mapping"))
    else:
        stages = {str(k): str(v) for k, v in raw_stages.items()}
    raw = doc.data.get("replies")
    if not isinstance(raw, list):
        errors.append(doc.error(("replies",), "'replies' must be a list", code="replies_not_list"))
        raw = []
    replies: list[QuickReply] = []
    seen: set[str] = set()
    for i in range(len(raw)):
        r = _reply(doc, lines, i, stages, errors)
        if r is None:
            continue
        if r.id in seen:
            errors.append(doc.error(("replies", i, "id"), f"duplicate id {r.id!r}", code="reply_duplicate_id",
                                    params={"id": r.id}))
        seen.add(r.id)
        replies.append(r)
    if errors:
        raise ConfigErrors(errors)
    return QuickReplies(tuple(stages.items()), tuple(replies))


def _reply(
    doc: YamlDoc, lines: list[str], i: int, stages: Mapping[str, str],
    errors: list[ConfigError],
) -> QuickReply | None:  # fmt: skip
    path = ("replies", i)
    before = len(errors)
    f = doc.item(path, _REPLY_KEYS, ("id", "stage", "title", "text"), "reply", errors)
    if f is None:
        return None
    if "stage" in f and stages and f["stage"] not in stages:
        hint = difflib.get_close_matches(f["stage"], list(stages), n=1)
        more = f"; did you mean {hint[0]!r}?" if hint else f"; stages are {', '.join(stages)}"
        params = {"name": f["stage"], **({"suggestion": hint[0]} if hint else {"known": list(stages)})}
        errors.append(doc.error((*path, "stage"), f"unknown stage {f['stage']!r}{more}", code="unknown_stage",
                                params=params))
    kw = doc.get(path).get("keywords") or []
    if not isinstance(kw, list) or not all(isinstance(k, str) for k in kw):
        errors.append(doc.error((*path, "keywords"), "keywords must be a list of strings", code="keywords_not_strings"))
        kw = []
    names = _placeholders(doc, lines, (*path, "text"), f.get("text", ""), errors)
    if len(errors) > before:
        return None
    ini = tuple(initials(s) for s in (f["title"], *kw))
    return QuickReply(
        id=f["id"], stage=f["stage"], title=f["title"], text=f["text"], keywords=tuple(kw),
        placeholders=frozenset(names), initials=ini,
    )  # fmt: skip


def _placeholders(
    doc: YamlDoc, lines: list[str], path: tuple[str | int, ...], text: str,
    errors: list[ConfigError],
) -> set[str]:  # fmt: skip
    """Placeholder names in `text`; an unknown or malformed one is an error at its own column."""
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        errors.append(doc.error(path, f"bad placeholder syntax: {exc} (write {{{{ for a brace)",
                                code="placeholder_syntax", params={"detail": str(exc)}))
        return set()
    names: set[str] = set()
    for _, name, spec, conv in parsed:
        if name is None:
            continue
        if name not in PLACEHOLDERS or spec or conv:
            hint = difflib.get_close_matches(name, PLACEHOLDERS, n=1)
            more = f"; did you mean {{{hint[0]}}}?" if hint else f"; use {_known()}"
            line, col = _locate(doc, lines, path, "{" + name)
            params = {"name": name, **({"suggestion": hint[0]} if hint else {"known": list(PLACEHOLDERS)})}
            errors.append(ConfigError(f"unknown placeholder {{{name}}}{more}", doc.file, line, col,
                                      code="unknown_placeholder", params=params))
            continue
        names.add(name)
    return names


def _locate(doc: YamlDoc, lines: list[str], path: tuple[str | int, ...], needle: str) -> tuple[int, int]:
    """Where `needle` sits in the source, searching from the value's start (block scalars too)."""
    line, col = doc.where(path)
    for n in range(line - 1, min(line + 50, len(lines))):
        start = col - 1 if n == line - 1 else 0
        at = lines[n].find(needle, start)
        if at >= 0:
            return n + 1, at + 1
    return line, col


def _known() -> str:
    return ", ".join("{" + p + "}" for p in PLACEHOLDERS)
