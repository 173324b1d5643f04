"""Schemathesis against `/api/v1/openapi.json` of a real app (private Redis, every channel): no
generated request may get a 5xx or an answer that breaks the documented schema. Bounded to a few
examples per operation so that it runs in well under a minute."""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path

from tests.security.conftest import Stack


async def test_no_input_gives_a_5xx_or_breaks_the_schema(stack: Stack, tmp_path: Path) -> None:
    st = shutil.which("st") or str(Path(sys.executable).with_name("st"))
    proc = await asyncio.create_subprocess_exec(
        st, "run", f"{stack.base}/api/v1/openapi.json", "-H", "Authorization: Bearer sue-token-12345",
        "--max-examples", "10", "--checks", "not_a_server_error,response_schema_conformance",
        "--seed", "1", "--no-color",
        cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), 240)
    text = out.decode(errors="replace")
    assert proc.returncode == 0, text[-4000:]
