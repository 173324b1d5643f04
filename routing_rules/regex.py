"""Admin regexes run on google-re2, which matches in linear time and so cannot hang the router.

Python's `re` backtracks: `(a+)+$` against 50,000 a's and a "!" would block the event loop for
ever. re2 has no backtracking, which is why it refuses backreferences and lookaround.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import re2

from kefu_common.errors import ConfigError

# A pattern whose compiled program needs more than this is refused, so one rule cannot eat memory.
MAX_MEM = 8 << 20

# (what re2 says, the problem code, the hint in English). re2 names its error kind, then ": " and
# the part of the pattern it stopped at (re2/re2.h, RE2::ErrorCode); the first match wins.
_REFUSED_HINTS = (
    ("invalid named capture group", "regex_named_group", "use (?P<name>...) for named groups"),
    ("invalid perl operator: (?=", "regex_lookahead", "lookahead (?=...) is not supported"),
    ("invalid perl operator: (?!", "regex_negative_lookahead", "negative lookahead (?!...) is not supported"),
    ("invalid perl operator: (?<", "regex_lookbehind", "lookbehind (?<=...) / (?<!...) is not supported"),
    ("invalid perl operator: (?>", "regex_atomic_group", "atomic groups (?>...) are not supported"),
    ("bad repetition operator", "regex_nested_repetition",
     "nested repetition like a{1000}{1000} is not supported"),
    ("invalid repetition size", "regex_repetition_size",
     "repetition counts are at most 1000, the smaller number first"),
)
# Plain mistakes in a pattern rather than constructs re2 lacks: no sermon about linear time.
_MISTAKES = (
    ("invalid perl operator", "regex_bad_group", "a (?...) group re2 does not know"),
    ("no argument for repetition operator", "regex_repeat_argument", "a repetition with nothing to repeat"),
    ("missing )", "regex_missing_paren", "a ( is not closed"),
    ("missing ]", "regex_missing_bracket", "a [ is not closed"),
    ("unexpected )", "regex_unexpected_paren", "a ) without its ("),
    ("trailing \\", "regex_trailing_backslash", "a lone \\ at the end"),
    ("invalid escape sequence", "regex_bad_escape", "an unknown escape"),
    ("invalid character class range", "regex_bad_class_range", "a character range or class that is not valid"),
    ("invalid character class", "regex_bad_class", "a character class that is not valid"),
    ("invalid UTF-8", "regex_bad_utf8", "not valid UTF-8 text"),
    ("pattern too large", "regex_too_large", "too large once compiled"),
)
_BACKREFERENCE = re.compile(r"invalid escape sequence: \\[1-9]")
REFUSAL_CODES = frozenset({"regex_invalid", "regex_backreference",
                           *(code for _, code, _ in (*_REFUSED_HINTS, *_MISTAKES))})
"""Every code a refused pattern can have (routing_rules/problems.py lists them)."""


def options() -> Any:
    """re2 options for every rules regex: case-insensitive, quiet, memory-bounded."""
    opts = re2.Options()
    opts.case_sensitive = False
    opts.log_errors = False
    opts.max_mem = MAX_MEM
    return opts


_WHY_RE2 = (
    "rules use re2, which matches in linear time so that no message can stall the router, "
    "and therefore has no backreferences or lookaround"
)


def refusal(pattern: str, raw: str) -> ConfigError:
    """Why re2 refused `pattern`, in English, with a code naming the kind of error; `found` is
    the part of the pattern re2 stopped at, when it says."""
    shown = pattern.encode("utf-8", "backslashreplace").decode()  # a lone surrogate, as written
    params = {"pattern": shown, "raw": raw}
    found = raw.partition(": ")[2]
    if found:
        params["found"] = found
    if _BACKREFERENCE.match(raw):
        return ConfigError(f"regex '{shown}' refused by re2: backreferences (\\1) are not supported "
                           f"({raw}); {_WHY_RE2}", code="regex_backreference", params=params)
    for needle, code, hint in _REFUSED_HINTS:
        if needle in raw:
            return ConfigError(f"regex '{shown}' refused by re2: {hint} ({raw}); {_WHY_RE2}", code=code,
                               params=params)
    for needle, code, hint in _MISTAKES:
        if raw.startswith(needle):
            return ConfigError(f"invalid regex '{shown}': {hint} ({raw}, checked with re2)", code=code,
                               params=params)
    return ConfigError(f"invalid regex '{shown}': {raw} (checked with re2: {_WHY_RE2})",
                       code="regex_invalid", params=params)


@dataclass(frozen=True, slots=True)
class Regex:
    """A compiled, case-insensitive re2 pattern that keeps its source for explanations."""

    pattern: str
    _rx: Any = field(repr=False, compare=False)

    @classmethod
    def compile(cls, pattern: str) -> Regex:
        try:
            rx = re2.compile(pattern, options())
        except UnicodeEncodeError:  # a lone surrogate ("\\ud800" in a double-quoted YAML string)
            raise refusal(pattern, "invalid UTF-8") from None
        except re2.error as exc:
            raw = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
            # No position here: the parser re-raises it at the pattern's FILE:LINE:COL.
            raise refusal(pattern, raw) from None
        return cls(pattern, rx)

    def search(self, text: str) -> bool:
        return self._rx.search(text) is not None


class RegexBank:
    """Every admin regex of one rule set, matched in a single RE2::Set pass per message.

    The Python wrapper costs a few microseconds per search; with one Set call the price of a
    message no longer grows with the number of regex rules.
    """

    __slots__ = ("_set", "regexes")

    def __init__(self) -> None:
        self.regexes: list[Regex] = []
        self._set: Any = None

    def add(self, rx: Regex) -> int:
        self.regexes.append(rx)
        return len(self.regexes) - 1

    def freeze(self) -> RegexBank:
        if self.regexes:
            rset = re2.Set.SearchSet(options())
            for rx in self.regexes:
                rset.Add(rx.pattern)
            try:
                rset.Compile()
                self._set = rset
            except re2.error:
                self._set = None  # too big for one program: search one by one
        return self

    def scan(self, text: str) -> frozenset[int]:
        """Indexes of the regexes that match `text`."""
        if not self.regexes:
            return frozenset()
        if self._set is None:
            return frozenset(i for i, rx in enumerate(self.regexes) if rx.search(text))
        return frozenset(self._set.Match(text) or ())
