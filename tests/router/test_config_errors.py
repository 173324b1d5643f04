"""A bad config names FILE:LINE:COL and `kefu serve` exits non-zero without starting."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kefu_common.errors import ConfigError
from router.config.settings import load_settings

CASES = [
    ("agents:\n  - id: a\n    tokn: abcdefghij\n", 3, 5, "unknown key 'tokn'; did you mean 'token'?"),
    ("pools:\n  - id: p\nagents:\n  - id: alice\n    token: abcdefghij\n    max_chats: lots\n", 6, 16, "Expected `int`"),
    ("pools:\n  - id: p\nagents:\n  - id: alice\n    token: abcdefghij\n    pools: [presal]\n", 6, 13, "unknown pool 'presal'"),
    ("pools:\n  - id: p\nagents:\n  - id: alice\n    token_env: KEFU_TEST_NOT_SET\n", 5, 16, "KEFU_TEST_NOT_SET is not set"),
    ("redis:\n  url: [1, 2\n", 3, 1, "YAML syntax"),
    ("pools:\n  - id: p\n  - id: p\n", 3, 9, "duplicate pool id"),
    ("media:\n  store: ftp\n", 2, 10, "media.store: expected dir or s3"),
    ("media:\n  store: s3\n", 2, 10, "no media.s3 section"),
    ("media:\n  limits:\n    image: 0\n", 3, 12, "media.limits.image"),
    ("media:\n  allow:\n    webchat: [image/jpeg, jpg]\n", 3, 27, "'jpg' is not a MIME type"),
    ("media:\n  limit: {image: 5}\n", 2, 3, "unknown key 'limit'"),
    ("media:\n  s3: {bucket: B_ad}\n", 2, 16, "media.s3.bucket"),
    ("redis:\n  partitions: 0\n", 2, 15, "redis.partitions: expected 1 to 64"),
    ("redis:\n  partitions: 40\n", 2, 15, "raise redis.max_connections above 88"),
]


@pytest.mark.parametrize(("text", "line", "col", "message"), CASES)
def test_config_errors_are_positioned(tmp_path: Path, text: str, line: int, col: int, message: str) -> None:
    path = tmp_path / "kefu.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as exc:
        load_settings(path)
    first = str(exc.value).splitlines()[0]
    assert first.startswith(f"{path}:{line}:{col}: "), first
    assert message in first


def test_serve_refuses_bad_config(tmp_path: Path) -> None:
    path = tmp_path / "kefu.yaml"
    path.write_text("pools:\n  - id: p\nagents:\n  - id: alice\n    token: abcdefghij\n    max_chats: lots\n")
    proc = subprocess.run([sys.executable, "-m", "router", "serve", "--config", str(path), "--port", "0"],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert proc.returncode == 2
    assert f"{path}:6:16: " in proc.stderr
    assert not (tmp_path / ".kefu").exists()  # nothing was started or written
