"""A plain-text progress bar for stderr that stays bounded when stderr is a file or a pipe."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """On a terminal, one line redrawn at most 10 times a second; elsewhere, a line per 10%."""

    def __init__(self, label: str, total: int, stream: TextIO | None = None) -> None:
        self.label = label
        self.total = max(total, 1)
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_draw = 0.0
        self._last_step = -1
        self._done = False

    def update(self, done: int, count: int | None = None) -> None:
        frac = min(max(done / self.total, 0.0), 1.0)
        suffix = f" {count} items" if count is not None else ""
        if self.tty:
            now = time.monotonic()
            if now - self._last_draw < 0.1 and frac < 1.0:
                return
            self._last_draw = now
            bar = "#" * int(frac * 30)
            self.stream.write(f"\r{self.label} [{bar:<30}] {frac:4.0%}{suffix}")
        else:
            # Pipes and CI logs get at most 11 lines, never a flood of carriage returns.
            step = int(frac * 10)
            if step == self._last_step:
                return
            self._last_step = step
            self.stream.write(f"{self.label}: {step * 10}%{suffix}\n")
        self.stream.flush()

    def close(self) -> None:
        if self._done:
            return
        self._done = True
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
