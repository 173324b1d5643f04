"""Where browser tests write their screenshots.

The pictures in docs/ are refreshed on purpose (`KEFU_SCREENSHOTS=1 pytest tests/browser`), not by
every test run: a run must not leave the checkout modified. Otherwise they go to a scratch
directory, so the screenshot step is still exercised.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"
_SCRATCH = Path(tempfile.gettempdir()) / "kefu-screenshots"


def screenshot_path(name: str) -> str:
    if os.environ.get("KEFU_SCREENSHOTS") == "1":
        return str(DOCS / name)
    _SCRATCH.mkdir(exist_ok=True)
    return str(_SCRATCH / name)
