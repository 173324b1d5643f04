"""axe-core (vendored in tests/browser/vendor/axe-core) run in a page: a test fails on any serious
or critical violation and says which rule, why, and on which nodes.

The pages are served with `script-src 'self'`, so axe is not added as a <script> tag (the CSP
would refuse an inline one); it is evaluated through the DevTools protocol, which the CSP does not
govern, and the page itself is left as it was served.

Use: `await assert_no_serious_violations(page)` once the part of the page under test is drawn.
Only what is visible is checked (axe skips hidden elements), so open a tab, a dialog or a panel
first, then call it; `include` narrows the check to a selector (e.g. one dialog)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from playwright.async_api import Page

AXE_JS = Path(__file__).resolve().parents[1] / "browser" / "vendor" / "axe-core" / "axe.min.js"
SERIOUS = ("serious", "critical")

_source: str | None = None


def _axe_source() -> str:
    global _source
    if _source is None:
        _source = AXE_JS.read_text(encoding="utf-8")
    return _source


async def axe_violations(page: Page, include: str | None = None) -> list[dict[str, Any]]:
    """Every violation axe reports (all impacts), as its JSON."""
    if not await page.evaluate("() => typeof window.axe === 'object'"):
        # Wrapped in a function so the UMD wrapper sees no `module`/`define` and sets window.axe.
        await page.evaluate("() => { " + _axe_source() + "\n}")
    result = await page.evaluate(
        """async (include) => {
            const context = include ? { include: [include] } : document;
            const r = await window.axe.run(context, { resultTypes: ["violations"] });
            return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
              nodes: v.nodes.map((n) => ({ target: n.target.join(" "), html: n.html.slice(0, 200),
                summary: n.failureSummary })) }));
        }""",
        include,
    )
    return list(result)


def describe(violations: list[dict[str, Any]]) -> str:
    lines: list[str] = []
    for v in violations:
        lines.append(f"[{v['impact']}] {v['id']}: {v['help']} ({len(v['nodes'])} nodes)")
        for n in v["nodes"][:8]:
            lines.append(f"    {n['target']}  {n['html']}")
            for s in str(n["summary"] or "").splitlines()[:4]:
                lines.append(f"        {s}")
    return "\n".join(lines)


async def assert_no_serious_violations(page: Page, include: str | None = None, where: str = "") -> None:
    """Fails on axe violations of impact serious or critical; moderate and minor ones are printed."""
    violations = await axe_violations(page, include)
    serious = [v for v in violations if v["impact"] in SERIOUS]
    others = [v for v in violations if v["impact"] not in SERIOUS]
    if others:
        print(f"axe (not failing) {where or page.url}:\n{describe(others)}")
    assert not serious, f"axe found serious violations on {where or page.url}:\n{describe(serious)}"


def summary(violations: list[dict[str, Any]]) -> str:
    """One line per rule, for a test's own message."""
    return json.dumps([(v["id"], v["impact"], len(v["nodes"])) for v in violations])
