"""`kefu passwd` prints an argon2 hash the config's `password_hash` takes, and refuses weak ones."""

from __future__ import annotations

import subprocess
import sys

from router.accounts.passwords import _verify


def _run(stdin: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "router", "passwd", *args], input=stdin, text=True,
                          capture_output=True, timeout=120, check=False)


def test_passwd_prints_a_hash_that_checks_and_refuses_a_weak_password() -> None:
    done = _run("a good long passphrase\n", "--id", "carol")
    assert done.returncode == 0, done.stderr
    hashed = done.stdout.strip()
    assert hashed.startswith("$argon2id$") and "a good long passphrase" not in done.stdout
    assert _verify(hashed, "a good long passphrase") and not _verify(hashed, "another one entirely")
    weak = _run("carol\n", "--id", "carol")
    assert weak.returncode == 2 and "at least" in weak.stderr and "carol" not in weak.stderr.split(":", 1)[1]
