"""Ending a test's child process so that nothing is left to the garbage collector.

`Popen.__del__` warns ("subprocess N is still running") for any child whose exit status was never
read, even one that has died; the suite turns that warning into an error in whichever test the
collector happens to run in. So every stop here ends with a `wait`, including after a `kill`.
"""

from __future__ import annotations

import subprocess


def end_process(proc: subprocess.Popen[bytes], grace: float = 15.0) -> int:
    """SIGTERM, `grace` seconds to exit, then SIGKILL; returns the exit status once reaped.

    The grace is generous: a Redis 7 master told to stop first gives its replicas up to
    `shutdown-timeout` (10 s by default) to catch up, and on a loaded machine that took longer
    than the 10 s this waited before."""
    if proc.poll() is None:
        proc.terminate()
        try:
            return proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
    return proc.wait()
