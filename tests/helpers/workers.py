"""A route worker on a test's store, driven by hand: the tests read and process its batches
themselves (block_ms 10, so an empty read returns at once; no claims within a test)."""

from __future__ import annotations

from router.config.schema import WorkerSettings
from router.pipeline.transcript import Transcript
from router.pipeline.worker import RouteWorker
from router.rules.holder import RulesHolder
from router.store import Store
from routing_rules.ruleset import builtin_default


async def route_worker(store: Store, batch_size: int = 100) -> RouteWorker:
    """A worker whose rules send everything to presale, its consumer group made."""
    w = RouteWorker(store, Transcript(store), RulesHolder(builtin_default("presale")),
                    WorkerSettings(block_ms=10, claim_idle_ms=60_000, batch_size=batch_size))
    await w.group.ensure()
    return w


async def route_all(worker: RouteWorker) -> int:
    """Read and route until the stream is empty; how many entries were read."""
    total = 0
    while entries := await worker.group.read(100, 10):
        total += len(entries)
        await worker.process(entries)
    return total
