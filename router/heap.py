"""The garbage collector in a long-running `kefu serve`: what start-up leaves is set aside.

CPython's collector walks every object it tracks on each full (oldest-generation) collection.
After start-up a `kefu serve` tracks some 350,000 objects that never become garbage (modules,
classes and functions, wechatpy, python-telegram-bot, the compiled rules), and each full
collection walked them all: 110 CPU ms on the development machine. Counted in the ingest
benchmark's all-in-one run, full collections took 141 CPU ms each before and 57 after
(docs/performance.md, "Session 8: ingest"). `settle` collects once, then moves what survived into the
permanent generation (`gc.freeze`), which later collections skip; what the server allocates
afterwards (requests, messages, conversations) is collected as before. A start-up object that
only later becomes part of a garbage cycle is not reclaimed: start-up objects live as long as
the process anyway.
"""

from __future__ import annotations

import gc


def settle() -> int:
    """Collect, then freeze what is left; the number of objects frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
