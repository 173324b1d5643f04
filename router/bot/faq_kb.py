"""The FAQ knowledge base: entries loaded from YAML and checked, with FILE:LINE:COL errors."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from kefu_common.errors import ConfigError, ConfigErrors
from kefu_common.yamlpos import YamlDoc, load_yaml, read_text

_TOP_KEYS = ("version", "threshold", "synonyms", "words", "entries")
_ENTRY_KEYS = ("id", "question", "variants", "answer", "category", "tags")


@dataclass(frozen=True, slots=True)
class FaqEntry:
    """One question the bot may answer, with the phrasings that should reach it."""

    id: str
    question: str
    answer: str
    category: str
    variants: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FaqKb:
    """A whole knowledge base as loaded; `version` is a hash of the file's text."""

    entries: tuple[FaqEntry, ...]
    synonyms: tuple[tuple[str, str], ...] = ()  # (word, canonical) pairs
    words: tuple[str, ...] = ()  # extra words for the segmenter
    threshold: float | None = None
    source: str = "<faq>"
    version: str = ""

    def get(self, entry_id: str) -> FaqEntry | None:
        return next((e for e in self.entries if e.id == entry_id), None)


def load_faq(path: str | Path) -> FaqKb:
    """Read and check a FAQ file; every problem in it is raised at once as ConfigErrors."""
    return parse_faq(read_text(path), str(path))


def parse_faq(text: str, file: str = "<faq>") -> FaqKb:
    doc = load_yaml(text, file)
    errors: list[ConfigError] = []
    if not isinstance(doc.data, dict):
        raise doc.error((), "a FAQ file is a mapping with an 'entries' list", code="faq_not_mapping")
    errors += doc.unknown_keys((), _TOP_KEYS)
    threshold = doc.data.get("threshold")
    if threshold is not None and (
        isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0 <= threshold <= 1
    ):
        errors.append(doc.error(("threshold",), "threshold must be a number in [0, 1]", code="faq_threshold"))
        threshold = None
    synonyms = _synonyms(doc, errors)
    words = tuple(_str_list(doc, ("words",), errors))
    entries: list[FaqEntry] = []
    raw = doc.data.get("entries")
    if not isinstance(raw, list) or not raw:
        errors.append(doc.error(("entries",), "'entries' must be a non-empty list", code="faq_entries_empty"))
        raw = []
    seen: dict[str, int] = {}
    for i in range(len(raw)):
        entry = _entry(doc, i, errors)
        if entry is None:
            continue
        if entry.id in seen:
            errors.append(
                doc.error(
                    ("entries", i, "id"),
                    f"duplicate id {entry.id!r} (first at entry {seen[entry.id]})",
                    code="faq_duplicate_id", params={"id": entry.id, "first": seen[entry.id]},
                )
            )
            continue
        seen[entry.id] = i
        entries.append(entry)
    if errors:
        raise ConfigErrors(errors)
    return FaqKb(
        entries=tuple(entries),
        synonyms=synonyms,
        words=words,
        threshold=None if threshold is None else float(threshold),
        source=file,
        version=hashlib.sha256(text.encode()).hexdigest()[:16],
    )


def _entry(doc: YamlDoc, i: int, errors: list[ConfigError]) -> FaqEntry | None:
    path = ("entries", i)
    before = len(errors)
    fields = doc.item(path, _ENTRY_KEYS, ("id", "question", "answer", "category"), "entry", errors)
    if fields is None:
        return None
    variants = _str_list(doc, (*path, "variants"), errors)
    tags = _str_list(doc, (*path, "tags"), errors)
    if len(errors) > before:
        return None
    return FaqEntry(variants=tuple(variants), tags=tuple(tags), **fields)


def _str_list(doc: YamlDoc, path: tuple[str | int, ...], errors: list[ConfigError]) -> list[str]:
    try:
        node = doc.get(path)
    except (KeyError, IndexError, TypeError):
        return []
    if node is None:
        return []
    if not isinstance(node, list):
        errors.append(doc.error(path, "expected a list of strings", code="expected_string_list"))
        return []
    out = []
    for j, v in enumerate(node):
        if isinstance(v, str | int) and not isinstance(v, bool) and str(v).strip():
            out.append(str(v).strip())
        else:
            errors.append(doc.error((*path, j), "expected a non-empty string", code="expected_nonempty_string"))
    return out


def _synonyms(doc: YamlDoc, errors: list[ConfigError]) -> tuple[tuple[str, str], ...]:
    node = doc.data.get("synonyms")
    if node is None:
        return ()
    if not isinstance(node, dict):
        errors.append(doc.error(("synonyms",), "synonyms map a canonical word to a list of words",
                                code="synonyms_not_mapping"))
        return ()
    pairs: dict[str, str] = {}
    for canon in node:
        for w in _str_list(doc, ("synonyms", canon), errors):
            if w in pairs and pairs[w] != canon:
                errors.append(doc.error(("synonyms", canon), f"{w!r} is already a synonym of {pairs[w]!r}",
                                        code="synonym_twice", params={"word": w, "canonical": pairs[w]}))
            pairs[w] = canon
    return tuple(sorted(pairs.items()))
