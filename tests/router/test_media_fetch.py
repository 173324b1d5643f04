"""The media fetcher's durability: a process that dies mid-download leaves its job to another, a
job past WeChat's three days gives up with a reason, and without ffmpeg a voice note is kept as
AMR. Real Redis, the real timers and the directory media store; the channel is a scripted stand-in."""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from helpers.media_samples import amr, jpeg

from adapters.base import Fetched
from kefu_common.errors import RetryableChannelError
from router.config.media import MediaSettings
from router.media import build_store
from router.media.base import MediaStore
from router.models import Channel, Kind, Message
from router.pipeline import media_fetch
from router.pipeline.media_fetch import LEASE_S, TIMER_KIND, MediaFetcher, timer_id
from router.pipeline.timers import TimerRunner
from router.store import Store

CID = "c_fetch"


class Channelish:
    """Answers fetch_media from a script: bytes, an exception, or an Event to hang on first."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.calls = 0

    async def fetch_media(self, reference: str) -> Fetched:
        self.calls += 1
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, asyncio.Event):
            await answer.wait()
            return Fetched(jpeg())
        if isinstance(answer, Exception):
            raise answer
        return Fetched(answer)


@pytest.fixture
def media(tmp_path: Path) -> MediaStore:
    return build_store(MediaSettings(), tmp_path)


def message(mid: str = "m_1") -> Message:
    return Message(id=mid, channel=Channel("wechat"), account="shop", native_id=mid, sender_ref="o1",
                   kind=Kind.IMAGE, native_media="MEDIA_1", conversation_id=CID)


def fetcher(store: Store, media: MediaStore, channel: Channelish) -> MediaFetcher:
    return MediaFetcher(store, media, {("wechat", "shop"): channel}, TimerRunner(store))  # type: ignore[dict-item]


async def attachment(store: Store, mid: str, timeout: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = (await store.transcripts.attachments(CID)).get(mid)
        if found is not None:
            return dict(json.loads(found))
        await asyncio.sleep(0.05)
    raise AssertionError(f"no attachment for {mid} within {timeout}s")


async def timers_left(store: Store) -> int:
    return int(await store.client.zcard(store.keys.timers_due)) + int(await store.client.hlen(store.keys.timers_data))


async def test_a_download_cut_off_by_a_dead_process_is_finished_by_another(store: Store, media: MediaStore) -> None:
    hang = asyncio.Event()
    first = Channelish(hang)
    a = fetcher(store, media, first)
    await a.schedule([message()])
    await a.timers.tick()
    assert first.calls == 1
    await a.close()  # the process dies mid-download: its task is gone, its lease stays
    assert await store.transcripts.attachments(CID) == {}

    second = Channelish(jpeg(seed=2))
    b = fetcher(store, media, second)
    await b.timers.tick()  # within the lease: nothing is due yet
    assert second.calls == 0
    await b.timers.tick(now=time.time() + LEASE_S + 1)
    got = await attachment(store, "m_1")
    ref, data = await media.get(got["media"]["id"])
    assert (ref.conversation, ref.mime, data[:2]) == (CID, "image/jpeg", b"\xff\xd8")
    assert second.calls == 1
    await _until(lambda: timers_left(store), 0)
    await b.close()


async def test_retries_stop_within_wechat_three_days(store: Store, media: MediaStore) -> None:
    busy = Channelish(RetryableChannelError("WeChat is busy"))
    f = fetcher(store, media, busy)
    now = time.time()
    # A job first scheduled almost three days ago: the next wait would pass WeChat's validity.
    await f.timers.schedule(timer_id("m_old"), now, TIMER_KIND, cid=CID, mid="m_old", channel="wechat",
                            account="shop", native="MEDIA_1", name="", since=now - 3 * 86400 + 500, n=0)
    await f.timers.tick()
    got = await attachment(store, "m_old")
    assert got["error"] == "WeChat is busy (gave up after 1 tries)"
    assert (busy.calls, f.failed, f.fetched) == (1, 1, 0)
    await _until(lambda: timers_left(store), 0)
    await f.close()


async def test_a_retryable_failure_waits_its_turn(store: Store, media: MediaStore,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(media_fetch, "DELAYS_S", (60.0, 600.0))
    flaky = Channelish(RetryableChannelError("busy"), jpeg(seed=3))
    f = fetcher(store, media, flaky)
    await f.schedule([message("m_flaky")])
    await f.timers.tick()
    # Moved to the first wait (60 s), not left at the lease (180 s).
    await _until(lambda: store.client.zscore(store.keys.timers_due, timer_id("m_flaky")),
                 lambda score: score is not None and time.time() + 50 < score < time.time() + 61)
    await f.timers.tick(now=time.time() + 61)
    assert "media" in await attachment(store, "m_flaky")
    assert flaky.calls == 2
    await f.close()


async def test_without_ffmpeg_the_voice_note_is_kept_as_amr(store: Store, media: MediaStore,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    f = fetcher(store, media, Channelish(amr()))
    await f.schedule([message("m_voice")])
    await f.timers.tick()
    got = await attachment(store, "m_voice")
    assert (got["media"]["mime"], got["media"]["duration"]) == ("audio/amr", 2.0)
    await f.close()


async def _keep_ticking(timers: TimerRunner) -> None:
    """What the runner's loop does: fire what is due, again and again (past the busy wait too)."""
    while True:
        await timers.tick(now=time.time() + 3)
        await asyncio.sleep(0.05)


async def test_a_hundred_messages_fetch_at_most_eight_at_once(store: Store, media: MediaStore) -> None:
    running = 0
    most = 0

    class Counting:
        async def fetch_media(self, reference: str) -> Fetched:
            nonlocal running, most
            running += 1
            most = max(most, running)
            await asyncio.sleep(0.01)
            running -= 1
            return Fetched(jpeg(32, 24, seed=int(reference)))

    f = MediaFetcher(store, media, {("wechat", "shop"): Counting()}, TimerRunner(store))  # type: ignore[dict-item]
    msgs = [Message(id=f"m_{i}", channel=Channel("wechat"), account="shop", native_id=str(i), sender_ref="o1",
                    kind=Kind.IMAGE, native_media=str(i), conversation_id=CID) for i in range(100)]
    await f.schedule(msgs)
    ticks = asyncio.create_task(_keep_ticking(f.timers))
    await _until(lambda: store.transcripts.attachments(CID), lambda got: len(got) == 100, timeout=60)
    ticks.cancel()
    await _until(lambda: _value(f.fetched), 100)
    assert most <= media_fetch.CONCURRENCY
    assert f.outcomes[("wechat", "fetched")] == 100  # each once: the backlog never outran a lease
    await f.close()


async def _until(read: Any, want: Any, timeout: float = 10.0) -> Any:
    """Poll `read()` until it equals `want` (or `want(value)` holds); the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = await read()
        if (want(value) if callable(want) else value == want) or time.monotonic() > deadline:
            assert want(value) if callable(want) else value == want, value
            return value
        await asyncio.sleep(0.05)


async def _value(v: Any) -> Any:
    return v
