"""Deliveries to webhooks: every process reads the delivery stream as one consumer group and
POSTs each delivery, signed, with retries and backoff, in order per (webhook, conversation).

Each (webhook, conversation) has a lane of its own in this process, so a receiver that is slow or
failing holds up only its own deliveries; routing never waits for any of this. Attempts are
counted in the delivery's record, so the bound (`max_attempts`, then the dead letters) holds
whichever process makes them, and every attempt carries the same body and event id.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import Counter
from typing import Any

import aiohttp

from router.config.webhooks import WebhookDeliverySettings
from router.hooks.events import DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, sign
from router.hooks.ssrf import GuardedResolver, RefusedAddress, check_url
from router.pipeline.lanes import Earlier, LaneSender
from router.pipeline.streams import DeadLetters, Entry, failure
from router.store import Store
from router.store.client import REDIS_ERRORS

log = logging.getLogger("kefu.hooks")

HOOK_GROUP = "hooksenders"
"""Consumer group of the webhook senders on the delivery stream."""
HOOKS_TTL_S = 2.0
"""How long this process uses the webhooks it read before reading them again."""
USER_AGENT = "kefu-router-webhooks/1"


class Failed(Exception):
    """One attempt failed: the reason kept in the delivery log."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


class HookSender(LaneSender[tuple[Entry, str, str]]):
    name = "webhook sender"
    block_ms = 1000

    def __init__(self, store: Store, settings: WebhookDeliverySettings, claim_idle_ms: int = 30_000,
                 max_tries: int = 3) -> None:
        k = store.keys
        super().__init__(store, 0, k.hook_deliveries, HOOK_GROUP, claim_idle_ms,
                         DeadLetters(k.hook_dead_letters, k.hook_tries, max_tries), settings.concurrency)
        self.settings = settings
        self.delivered = 0
        self.failures: Counter[str] = Counter()
        """Failed attempts by webhook id (GET /metrics)."""
        self.dead = 0
        self._hooks: dict[str, dict[str, Any]] = {}
        self._hooks_at = 0.0
        self._session: aiohttp.ClientSession | None = None

    async def run(self) -> None:
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(
            resolver=GuardedResolver(self.settings.allow_private_networks), limit=self.settings.concurrency))
        try:
            await super().run()
        finally:
            await self._session.close()

    async def dispatch(self, entries: list[Entry]) -> None:
        """Each (webhook, conversation) in a lane of its own."""
        for entry in entries:
            eid, fields = entry
            hid, did, cid = fields.get("hook", ""), fields.get("d", ""), fields.get("cid", "")
            try:
                seq = int(fields.get("seq") or 0)
            except ValueError:
                seq = -1
            if not hid or not did or seq < 0:
                await self.group.failed(entry, "not a delivery entry", hopeless=True)
                continue
            # A redelivery (seq 0) has a lane of its own: it is not in its conversation's order.
            await self._lanes.add((hid, cid if seq else f"again:{did}"), seq, eid, (entry, hid, did))

    async def _handle(self, item: tuple[Entry, str, str], seq: int, earlier: Earlier) -> bool:
        """Deliver one entry and ack it; False when an earlier entry of the lane came first."""
        entry, hid, did = item
        try:
            rec = await self.store.hooks.record(hid, did)
            cid = rec.get("cid", "")
            if rec and seq and not await self._wait_turn(hid, cid, seq, earlier):
                return False
            if rec:
                async with self._lanes.sending:
                    await self.deliver(hid, did, rec, redelivery=not seq)
            await self.store.hooks.finish(hid, cid, seq, self.settings.record_ttl_s)
            await self.group.ack([entry[0]])
        except asyncio.CancelledError:
            raise
        except REDIS_ERRORS as exc:
            log.warning("webhook delivery %s: Redis error, left pending for XAUTOCLAIM: %s", did, exc)
        except Exception as exc:
            log.exception("webhook delivery %s could not be handled", did)
            try:
                await self.group.failed(entry, failure(exc))
            except REDIS_ERRORS:
                pass
        return True

    async def _wait_turn(self, hid: str, cid: str, seq: int, earlier: Earlier) -> bool:
        """Until delivery seq-1 of the conversation is finished (True), or an earlier entry joins
        this lane (False). Bounded as the outbox's is, so a lost entry cannot stall the
        conversation for ever (XAUTOCLAIM returns a dead process's entries much sooner)."""
        deadline = time.monotonic() + 2 * self.claim_idle_ms / 1000 + 5
        delay = 0.01
        while seq > 1 and time.monotonic() < deadline:
            if await self.store.hooks.finished_upto(hid, cid) >= seq - 1:
                return True
            if earlier():
                return False
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.5)
        return True

    async def hooks(self) -> dict[str, dict[str, Any]]:
        if time.monotonic() - self._hooks_at > HOOKS_TTL_S:
            self._hooks = await self.store.hooks.all()
            self._hooks_at = time.monotonic()
        return self._hooks

    async def deliver(self, hid: str, did: str, rec: dict[str, str], redelivery: bool = False) -> None:
        """POST until the receiver takes it (2xx) or the attempts run out."""
        if rec.get("status") in ("delivered", "dead") and not redelivery:
            return  # finished before a crash: not again
        hook = (await self.hooks()).get(hid) or await self.store.hooks.get(hid)
        if hook is None or not hook.get("enabled", True):
            await self.store.hooks.update(hid, did, status="skipped",
                                          last_error="the webhook was deleted or disabled")
            return
        attempts = 0 if redelivery else int(rec.get("attempts") or 0)
        payload = rec.get("body", "").encode()
        while True:
            attempts += 1
            try:
                status = await self._post(hook, did, rec.get("type", ""), payload)
            except Failed as exc:
                self.failures[hid] += 1
                final = attempts >= self.settings.max_attempts
                await self.store.hooks.update(hid, did, status="dead" if final else "retrying", attempts=attempts,
                                              last_error=exc.reason, last_status=exc.status or "")
                if final:
                    self.dead += 1
                    await self.store.hooks.dead_letter({"hook": hid, "d": did, "reason": exc.reason,
                                                        "attempts": attempts, "at": time.time()})
                    log.warning("webhook %s: delivery %s dead after %d attempts: %s", hid, did, attempts, exc.reason)
                    return
                await self._backoff(attempts)
                continue
            await self.store.hooks.update(hid, did, status="delivered", attempts=attempts, last_status=status,
                                          delivered_at=time.time())
            self.delivered += 1
            return

    async def _backoff(self, attempts: int) -> None:
        s = self.settings
        ceiling = min(s.max_delay_s, s.base_delay_s * 2 ** (attempts - 1))
        await asyncio.sleep(random.uniform(min(s.base_delay_s / 2, ceiling), ceiling))

    async def _post(self, hook: dict[str, Any], did: str, etype: str, payload: bytes) -> int:
        url = str(hook.get("url", ""))
        refused = check_url(url, self.settings.allow_private_networks)
        if refused:
            raise Failed(refused)
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT,
                   SIGNATURE_HEADER: sign(str(hook.get("secret", "")), payload), EVENT_HEADER: etype,
                   DELIVERY_HEADER: did}
        assert self._session is not None
        try:
            async with self._session.post(url, data=payload, headers=headers, allow_redirects=False,
                                          timeout=aiohttp.ClientTimeout(total=self.settings.timeout_s)) as r:
                await r.read()
                if 200 <= r.status < 300:
                    return r.status
                raise Failed(f"the receiver answered HTTP {r.status}", r.status)
        except TimeoutError:
            raise Failed(f"no answer within {self.settings.timeout_s:g}s") from None
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, RefusedAddress):  # the resolver's refusal, said as it is
                raise Failed(str(exc.os_error)) from None
            raise Failed(f"could not reach the receiver: {exc}") from None
        except aiohttp.ClientError as exc:
            raise Failed(f"could not reach the receiver: {exc}") from None
        except OSError as exc:  # a refused address (ssrf.RefusedAddress)
            raise Failed(str(exc)) from None
