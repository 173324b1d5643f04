"""GET /metrics: Prometheus text format (docs/operations.md, "Metrics"; Grafana: docs/grafana.json).

Two kinds of figures. What this process did (messages in and out, routing outcomes, channel API
errors, SLA timer outcomes, WebSocket connections) comes from counters its parts keep; Prometheus
scrapes every process and sums them. What the shop's Redis holds (queue depth and oldest wait per
pool, pending and lag per stream, dead letters, bot deflection) is read at scrape time, so every
process reports the same value: aggregate those with max(), not sum().
"""

from __future__ import annotations

import hmac
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from kefu_common.errors import AuthError
from router.pipeline.streams import dead_letter_counts
from router.pipeline.worker import ROUTE_DELAY_BUCKETS
from router.stalls import Histogram

if TYPE_CHECKING:
    from router.runtime import Runtime

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _Fixed(Collector):
    """The families gathered for one scrape."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterator[Metric]:
        yield from self.families


def _counter(name: str, doc: str, labels: list[str], rows: Iterable[tuple[tuple[str, ...], float]]) -> Metric:
    fam = CounterMetricFamily(name, doc, labels=labels)
    for values, n in rows:
        fam.add_metric(list(values), n)
    return fam


def _gauge(name: str, doc: str, labels: list[str], rows: Iterable[tuple[tuple[str, ...], float]]) -> Metric:
    fam = GaugeMetricFamily(name, doc, labels=labels)
    for values, n in rows:
        fam.add_metric(list(values), n)
    return fam


def route_delay(histograms: Iterable[Histogram]) -> Metric:
    """The route workers' delays (router/pipeline/worker.py), every partition's as one."""
    delay = Histogram(ROUTE_DELAY_BUCKETS)
    for h in histograms:
        delay.add(h)
    fam = HistogramMetricFamily("kefu_route_delay_seconds", "From Redis taking a line in to its route by this "
                                "process's route workers (new chats; follow-ups to a held chat and a new web "
                                "chat visitor's first line are routed as they are taken in and are not here)",
                                labels=[])
    fam.add_metric([], delay.buckets(), delay.sum)
    return fam


async def gather(rt: Runtime) -> list[Metric]:
    store, now = rt.store, time.time()
    rtt = await store.round_trip()
    families: list[Metric] = [
        _gauge("kefu_redis_rtt_seconds", "Round trip of a PING to Redis, measured at this scrape", [], [((), rtt)]),
        _counter("kefu_messages_in", "Customer messages this process accepted, by channel", ["channel"],
                 [((c,), n) for c, n in rt.ingestor.accepted.items()]),
    ]
    workers, senders = getattr(rt, "workers", []), getattr(rt, "senders", [])
    if workers or rt.ingestor.routed:
        # Lines routed as they were taken in count with the route workers' (ingest.py).
        outcomes: Counter[tuple[str, str]] = sum((w.outcomes for w in workers), Counter(rt.ingestor.routed))
        families.append(_counter("kefu_routed", "Messages this process routed, by pool and outcome "
                                 "(assigned, queued, bot, ...)", ["pool", "outcome"], list(outcomes.items())))
    if workers:
        families.append(route_delay([w.delay for w in workers]))
    if senders:
        sent: Counter[str] = sum((s.sent_by_channel for s in senders), Counter())
        errors: Counter[tuple[str, str]] = sum((s.errors for s in senders), Counter())
        families.append(_counter("kefu_messages_out", "Replies a channel took from this process, by channel",
                                 ["channel"], [((c,), n) for c, n in sent.items()]))
        families.append(_counter("kefu_channel_api_errors", "Channel API errors, by channel and code",
                                 ["channel", "code"], list(errors.items())))
    families.append(_counter("kefu_media_fetches", "Downloads of customers' files from their channel by this "
                             "process, by channel and outcome (fetched, retried, failed)", ["channel", "outcome"],
                             list(rt.fetcher.outcomes.items())))
    hooks = rt.hook_sender
    families.append(_counter("kefu_webhook_deliveries", "Webhook deliveries this process finished, by outcome "
                             "(delivered, dead) and failed attempts", ["outcome"], [
                                 (("delivered",), float(hooks.delivered)), (("dead",), float(hooks.dead)),
                                 (("failed_attempt",), float(sum(hooks.failures.values())))]))
    families.append(_counter("kefu_webhook_events", "Events this process turned into webhook deliveries", [],
                             [((), float(rt.hook_fanout.events))]))
    families.append(_counter("kefu_sla_breaches", "SLA targets this process found breached", [],
                             [((), float(rt.sla.fired.get("breached", 0)))]))
    families.append(_counter("kefu_sla_timer_outcomes", "SLA timers this process fired, by outcome",
                             ["outcome"], [((o,), n) for o, n in rt.sla.fired.items()]))
    families.append(_gauge("kefu_websocket_connections", "Open WebSocket taps on this process", ["kind"], [
        (("agent",), float(sum(len(t) for t in rt.hub.agents.values()))),
        (("customer",), float(sum(len(t) for t in rt.hub.customers.values()))),
    ]))

    depth, oldest = [], []
    for pool in rt.settings.pool_ids():
        waiting, queued_at = await store.ops.queue_head(pool)
        depth.append(((pool,), float(waiting)))
        oldest.append(((pool,), max(now - queued_at, 0.0) if queued_at is not None else 0.0))
    families.append(_gauge("kefu_queue_depth", "Conversations waiting in a pool's queue", ["pool"], depth))
    families.append(_gauge("kefu_queue_oldest_wait_seconds", "How long the head of a pool's queue has waited",
                           ["pool"], oldest))
    # Who can take chats and why the others cannot: away by reason (busy, break, training, ...).
    by_status: dict[tuple[str, str], float] = {}
    for a in await store.agents.all():
        if not a.disabled:
            key = (a.status.value, a.away_reason)
            by_status[key] = by_status.get(key, 0.0) + 1
    families.append(_gauge("kefu_agents", "Agents by status, and away ones by reason ('' for none)",
                           ["status", "reason"], sorted(by_status.items())))
    pending, lag, refused = [], [], 0
    for p in range(store.partitions):
        part = store.streams_of(p)
        for name, stream in (("inbound", part.keys.inbound), ("outbound", part.keys.outbound)):
            state = await part.group_state(stream)
            pending.append(((name, str(p)), float(state.pending)))
            lag.append(((name, str(p)), float(state.lag)))
        refused += await part.length(part.keys.dead)
    families.append(_gauge("kefu_stream_pending", "Entries read but not acked, by stream and partition",
                           ["stream", "partition"], pending))
    families.append(_gauge("kefu_stream_lag", "Entries not yet read by the group, by stream and partition",
                           ["stream", "partition"], lag))
    families.append(_gauge("kefu_dead_letters", "Replies in the dead-letter stream", [],
                           [((), float(refused))]))
    poisoned = await dead_letter_counts(store)
    families.append(_gauge("kefu_stream_dead_letters", "Stream entries that could not be parsed or handled, "
                           "by stream", ["stream"], [((name,), float(n)) for name, n in poisoned.items()]))
    states = rt.supervisor.states.values()
    families.append(_gauge("kefu_service_up", "1 while a service of this process runs, 0 while it is down",
                           ["service"], [((st.name,), 1.0 if st.up else 0.0) for st in states]))
    families.append(_counter("kefu_service_crashes", "Crashes of a service of this process, each restarted",
                             ["service"], [((st.name,), float(st.crashes)) for st in states]))
    stats = await store.bot.stats()
    bot = {k: float(stats.get(k) or 0) for k in ("conversations", "resolved", "handed_off")}
    families.append(_counter("kefu_bot_conversations", "Conversations the bot took, by how they ended",
                             ["result"], [(("all",), bot["conversations"]), (("resolved",), bot["resolved"]),
                                          (("handed_off",), bot["handed_off"])]))
    llm = sorted((k[4:], float(v)) for k, v in stats.items() if k.startswith("llm:"))
    families.append(_counter("kefu_bot_llm_turns", "Turns the bot asked its language model about, by outcome",
                             ["outcome"], [((o,), n) for o, n in llm]))
    families.append(_counter("kefu_bot_llm_tokens", "Tokens the bot's language model reported, by kind",
                             ["kind"], [((k,), float(stats.get(f"llm_{k}_tokens") or 0))
                                        for k in ("prompt", "completion")]))
    families.append(_counter("kefu_bot_llm_latency_seconds", "Time spent waiting for the language model",
                             [], [((), float(stats.get("llm_latency_ms") or 0) / 1000)]))
    ended = bot["resolved"] + bot["handed_off"]
    families.append(_gauge("kefu_bot_deflection_ratio", "Share of the bot's ended conversations it resolved",
                           [], [((), bot["resolved"] / ended if ended else 0.0)]))
    families += rt.stalls.families()
    return families


async def metrics(request: web.Request) -> web.Response:
    from router.runtime import RUNTIME

    rt = request.app[RUNTIME]
    token = rt.settings.metrics.token
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise AuthError("GET /metrics needs `Authorization: Bearer` with metrics.token")
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Fixed(await gather(rt)))
    body: Any = generate_latest(registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})
