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

It also lets the youngest generation grow to YOUNG objects before a collection, instead of
CPython's 700: a webhook allocates hundreds of containers, most freed by reference counting
before any collection, and at 700 the young collections ran every webhook or two. Counted in the
served process over a `--quick` all-in-one ingest run (docs/performance.md, "Session 8: ingest"):
full and young collections took 2,663 CPU ms before, 1,893 with the freeze, 606 with both.

It was 10,000 until session 21. A young collection holds the event loop while it walks the
generation, and at 10,000 a serving process's took 2-5 ms, two or three times in a 10 s run at
1,000 messages a second, each holding every line in flight like one of the machine's own pauses;
a middle-generation collection, every ten young ones, took 73 ms once at 2,000 a second. At
2,000 (web+worker, 1,000 msg/s, six alternating runs a build): 16 young collections a run of
0.4-0.8 ms each, one middle one of 4-7 ms, against 3 young ones of 2-5 ms; all the collections
together 11-20 ms a run against 6-16, and CPU per line the same (0.52 against 0.51 ms at the
mean; docs/performance.md, "Session 21").
"""

from __future__ import annotations

import gc

YOUNG = 2_000
"""Allocations (less frees) of tracked objects before the youngest generation is collected."""


def settle() -> int:
    """Collect, then freeze what is left, and collect the young less often; the number of
    objects frozen."""
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG, middle, oldest)
    return gc.get_freeze_count()
