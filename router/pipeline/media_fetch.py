"""Customers' photos, voice notes, videos and files, fetched from their channel off the webhook
path and kept in the media store.

A WeChat callback or a Telegram update carries only the channel's reference to a file (a media
id good for three days, a file id whose download URL expires within the hour). The webhook is
acked as soon as the message is durable; the route worker then schedules one durable timer per
message (`media_fetch`, router/pipeline/timers.py), and this module fetches the file:

1. The timer fires on any process. Its handler first moves the timer `LEASE_S` ahead, so a
   process that dies mid-download leaves a timer that fires again elsewhere, then starts the
   download as a task of its own: a slow channel never holds up the SLA timers that share the
   runner.
2. The adapter downloads (`Adapter.fetch_media`); the media store sniffs, checks and keeps the
   bytes, owned by the conversation. A WeChat AMR voice note is kept as it came and as MP3 beside
   it, for browsers (router/media/voice.py).
3. The message's attachment is recorded beside the transcript (`Transcripts.attach`), and the
   conversation's agent gets a `media` frame with the ref. The timer is cancelled.

A retryable failure (the channel busy, the network) tries again after `DELAYS_S`; a permanent one
(the file expired, a type the store refuses), or running out of tries or of WeChat's three days,
records a failure instead, and the agent sees a placeholder that says why.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from adapters.base import Adapter
from kefu_common.errors import ChannelError, MediaRefused, PermanentChannelError
from router.media.base import MediaStore
from router.media.voice import amr_seconds, amr_to_mp3
from router.models import MediaRef, Message
from router.pipeline.timers import TimerRunner
from router.store import Store
from router.store.calls.agents import Emit

log = logging.getLogger("kefu.media")

TIMER_KIND = "media_fetch"
LEASE_S = 180.0
"""Longer than a download may take (the adapters time out at 120 s): only a dead process's
fetch is tried again before it finished."""
DELAYS_S = (2.0, 10.0, 30.0, 120.0, 600.0, 1800.0, 3600.0, 3 * 3600.0, 6 * 3600.0, 12 * 3600.0)
"""Waits between tries; the last try is about a day after the first, within WeChat's three days."""
GIVE_UP_AFTER_S = 3 * 86400 - 600
"""WeChat's media ids live three days; past that (less a margin), a try cannot work."""
CONCURRENCY = 8
"""Downloads one process runs at once; more wait their turn."""
BACKLOG = 64
"""Downloads one process holds at once, running or waiting for a slot; later jobs stay timers."""
BUSY_WAIT_S = 2.0


def timer_id(message_id: str) -> str:
    return f"media:{message_id}"


def failure_record(reason: str) -> dict[str, str]:
    """What a failed fetch leaves beside the message: the console shows `reason` in its place."""
    return {"error": reason}


class MediaFetcher:
    """Schedules and runs the fetches. One per process, sharing the process's timer runner."""

    def __init__(self, store: Store, media: MediaStore, adapters: Mapping[tuple[str, str], Adapter],
                 timers: TimerRunner) -> None:
        self.store = store
        self.media = media
        self.adapters = adapters
        self.timers = timers
        self.fetched = 0
        self.failed = 0
        self.outcomes: Counter[tuple[str, str]] = Counter()
        """Tries this process made, by (channel, outcome: fetched, retried, failed), for /metrics."""
        self._slots = asyncio.Semaphore(CONCURRENCY)
        self._tasks: set[asyncio.Task[None]] = set()
        timers.on(TIMER_KIND, self.fire)

    async def schedule(self, msgs: Sequence[Message]) -> None:
        """A fetch for each routed message that carries a channel's file reference. Scheduling
        the same message again (an entry re-read after a crash) moves its one timer."""
        now = time.time()
        for m in msgs:
            if m.native_media and m.media is None and m.conversation_id:
                await self.timers.schedule(
                    timer_id(m.id), now, TIMER_KIND, cid=m.conversation_id, mid=m.id, channel=m.channel,
                    account=m.account, native=m.native_media, name=m.native_name or "", since=now, n=0)

    async def fire(self, tid: str, data: dict[str, Any], now: float) -> None:
        """The timer's handler: take a lease, then download in the background. With `BACKLOG`
        downloads already waiting here, the job is left for a moment (no try spent), so none waits
        in this process past its lease while another process could take it."""
        if len(self._tasks) >= BACKLOG:
            await self.store.timers.schedule(tid, now + BUSY_WAIT_S, data)
            return
        tries = int(data.get("n", 0)) + 1
        await self.store.timers.schedule(tid, now + LEASE_S, {**data, "n": tries})
        task = asyncio.create_task(self._run(tid, {**data, "n": tries}))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, tid: str, job: dict[str, Any]) -> None:
        try:
            async with self._slots:
                await self._attempt(tid, job)
        except Exception:  # Redis down while recording: the timer's lease brings the job back
            log.exception("media %s: fetch not recorded; its lease will try again", job["mid"])

    async def _attempt(self, tid: str, job: dict[str, Any]) -> None:
        try:
            ref = await self.fetch(job)
        except (PermanentChannelError, MediaRefused) as exc:
            await self._give_up(tid, job, _reason(exc))
            return
        except Exception as exc:  # retryable: the channel, the network, the store's disk
            reason = _reason(exc)
            tries, since = int(job["n"]), float(job.get("since", 0))
            wait = DELAYS_S[min(tries - 1, len(DELAYS_S) - 1)]
            if tries > len(DELAYS_S) or time.time() + wait - since > GIVE_UP_AFTER_S:
                await self._give_up(tid, job, f"{reason} (gave up after {tries} tries)")
                return
            log.info("media %s: try %d failed, again in %.0f s: %s", job["mid"], tries, wait, reason)
            self.outcomes[(str(job["channel"]), "retried")] += 1
            await self.store.timers.schedule(tid, time.time() + wait, job)
            return
        self.fetched += 1  # counted before the frame goes, so whoever sees the frame sees the count
        self.outcomes[(str(job["channel"]), "fetched")] += 1
        await self._record(job, {"media": msgspec.to_builtins(ref)}, {"media": ref.public()})
        await self.store.timers.cancel(tid)

    async def fetch(self, job: dict[str, Any]) -> MediaRef:
        """Download the file and keep it; the ref the message carries (for AMR, the MP3 copy)."""
        adapter = self.adapters.get((str(job["channel"]), str(job["account"])))
        if adapter is None:
            raise PermanentChannelError(f"no {job['channel']} account {job['account']!r} is configured")
        got = await adapter.fetch_media(str(job["native"]))
        cid, channel = str(job["cid"]), str(job["channel"])
        name = str(job.get("name") or "") or got.name
        seconds = amr_seconds(got.data)
        ref = await self.media.put(got.data, conversation=cid, channel=channel, name=name,
                                   duration=seconds if seconds is not None else got.duration)
        if ref.mime != "audio/amr":
            return ref
        try:
            mp3 = await amr_to_mp3(got.data)
        except (MediaRefused, FileNotFoundError) as exc:
            # The AMR is kept and can be downloaded; only the in-browser player is missing.
            log.warning("media %s: voice note kept as AMR only: %s", job["mid"], exc)
            return ref
        stem = (ref.name or "voice").rsplit(".", 1)[0]
        return await self.media.put(mp3, conversation=cid, channel=channel, name=f"{stem}.mp3",
                                    duration=ref.duration, original=ref.id)

    async def _give_up(self, tid: str, job: dict[str, Any], reason: str) -> None:
        log.warning("media %s in %s: not fetched: %s", job["mid"], job["cid"], reason)
        self.failed += 1
        self.outcomes[(str(job["channel"]), "failed")] += 1
        await self._record(job, failure_record(reason), {"media_error": reason})
        await self.store.timers.cancel(tid)

    async def _record(self, job: dict[str, Any], record: dict[str, Any], frame_part: dict[str, Any]) -> None:
        """The attachment beside the transcript, then a frame to the conversation's agent (the
        console of anyone who opens it later reads the transcript)."""
        cid, mid = str(job["cid"]), str(job["mid"])
        await self.store.transcripts.attach(cid, mid, json.dumps(record, ensure_ascii=False))
        conv = await self.store.conversations.get(cid)
        if conv is not None and conv.agent:
            frame = {"type": "media", "conversation_id": cid, "message_id": mid, **frame_part}
            await self.store.run(Emit(conv.agent, json.dumps(frame, ensure_ascii=False)))

    async def close(self) -> None:
        """Cancel the downloads in flight: their timers' leases bring them back."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ChannelError):
        return exc.reason
    detail = getattr(exc, "detail", None)
    return str(detail or exc) or type(exc).__name__
