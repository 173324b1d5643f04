"""Child processes that die with their parent, even when the parent dies by SIGKILL.

A `kefu serve` killed with `kill -9` cannot stop its embedded redis-server, and a test run killed
mid-way cannot stop the `kefu serve` and redis-server processes it started: they live on, holding
ports, sockets and data dirs. On Linux, `prctl(PR_SET_PDEATHSIG, sig)` in the child asks the kernel
to send `sig` to the child when its parent goes. Elsewhere `die_with_parent()` returns None, which
`subprocess.Popen(preexec_fn=None)` takes as "nothing to do", so spawning still works there; the
children just outlive a parent that was killed outright.

The subtlety: the kernel sends the signal when the parent *thread* that forked the child exits,
not when the parent process does. Spawn from a thread that lives as long as the child should
(the main thread, or the event loop's thread), never from a short-lived worker thread such as
`asyncio.to_thread` or `run_in_executor`, or the child is signalled when that thread retires.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
from collections.abc import Callable

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _load_prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    return prctl


# Loaded once, in the parent: loading a library between fork and exec in a process with threads
# can deadlock on the loader's lock, so the preexec function below only makes the call.
_PRCTL = _load_prctl()


def die_with_parent(sig: signal.Signals = signal.SIGTERM) -> Callable[[], None] | None:
    """A `preexec_fn` that has the child receive `sig` when the calling thread exits, or None.

    SIGTERM by default, so a redis-server flushes its AOF and a `kefu serve` stops in order.
    Call it, and `Popen`, from the thread that stays alive as long as the child should (see the
    module docstring).
    """
    prctl = _PRCTL
    if prctl is None:
        return None
    parent = os.getpid()

    def preexec() -> None:
        # A failure leaves the child as it would be on another platform: running on its own.
        prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
        if os.getppid() != parent:
            # The parent died between fork and prctl, so the kernel will never send the signal.
            os.kill(os.getpid(), sig)

    return preexec
