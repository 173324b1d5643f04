"""A progress line on stderr: redrawn in place on a terminal, one line every few seconds otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, label: str, total: int | None = None, out: TextIO | None = None,
                 every_s: float = 2.0) -> None:
        self.label = label
        self.total = total
        self.out = out or sys.stderr
        self.tty = self.out.isatty()
        self.every_s = 0.2 if self.tty else every_s
        self._last = 0.0
        self._width = 0

    def show(self, done: int, note: str = "", force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < self.every_s:
            return
        self._last = now
        if self.total:
            filled = int(24 * min(done, self.total) / self.total)
            text = f"{self.label} [{'#' * filled}{'.' * (24 - filled)}] {done}/{self.total} {note}"
        else:
            text = f"{self.label} {done} {note}"
        if self.tty:
            self.out.write("\r" + text.ljust(self._width))
            self._width = len(text)
        else:
            self.out.write(text + "\n")
        self.out.flush()

    def done(self, done: int, note: str = "") -> None:
        self.show(done, note, force=True)
        if self.tty:
            self.out.write("\n")
            self.out.flush()
