"""Children spawned with `die_with_parent()` get SIGTERM when the spawning thread goes."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading

import pytest
from helpers.procs import gone

from router import childproc

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")

# A parent that spawns a long sleep with die_with_parent(), says the sleeper's pid, and waits.
PARENT = """
import subprocess, sys, time
from router.childproc import die_with_parent
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], preexec_fn=die_with_parent())
print(child.pid, flush=True)
time.sleep(120)
"""


def _reap(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


@linux
def test_child_dies_when_its_parent_is_killed() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True,
                              preexec_fn=childproc.die_with_parent())
    grandchild = 0
    try:
        assert parent.stdout is not None
        grandchild = int(parent.stdout.readline())
        assert not gone(grandchild, timeout=0.2)
        parent.kill()
        parent.wait(10)
        assert gone(grandchild), "the child outlived its SIGKILLed parent"
    finally:
        parent.kill()
        parent.wait(10)
        if parent.stdout is not None:
            parent.stdout.close()
        if grandchild:
            _reap(grandchild)


@linux
def test_the_signal_follows_the_spawning_thread_not_the_process() -> None:
    """Why the docs say to spawn from a thread that lives as long as the child should."""
    spawned: list[subprocess.Popen[bytes]] = []

    def spawn() -> None:
        spawned.append(subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"],
                                        preexec_fn=childproc.die_with_parent()))

    worker = threading.Thread(target=spawn)
    worker.start()
    worker.join(10)
    try:
        assert gone(spawned[0].pid), "the child outlived the thread that spawned it"
    finally:
        spawned[0].kill()
        spawned[0].wait(10)


def test_other_platforms_spawn_without_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    assert childproc._load_prctl() is None
    monkeypatch.setattr(childproc, "_PRCTL", None)
    hook = childproc.die_with_parent()
    assert hook is None
    assert subprocess.run([sys.executable, "-c", "pass"], preexec_fn=hook, check=True).returncode == 0
