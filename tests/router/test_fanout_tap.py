"""A socket writer that fails is never a frame dropped silently: the tap tries the frame again,
and when it keeps failing it closes the socket so the client reconnects and replays."""

from __future__ import annotations

import asyncio

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from router.pipeline import tap as fanout_tap
from router.pipeline.fanout import Hub
from router.pipeline.tap import Tap, as_is
from router.store import Store


class Flaky:
    """A writer that fails its first `fails` calls the way a busy Redis pool does."""

    def __init__(self, fails: int) -> None:
        self.fails = fails
        self.sent: list[str] = []
        self.closed: list[str] = []

    async def write(self, frame: str) -> None:
        if self.fails:
            self.fails -= 1
            raise RedisConnectionError("No connection available.")
        self.sent.append(frame)

    async def close(self, reason: str) -> None:
        self.closed.append(reason)


async def unused(text: str) -> None:
    raise AssertionError("the writer sends its frames itself")


async def wait_for(cond: object, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not cond():  # type: ignore[operator]
            await asyncio.sleep(0.01)


async def test_a_failed_frame_is_tried_again_in_order(monkeypatch: object) -> None:
    fanout_delays = (0.01, 0.01, 0.01, 0.01, 0.01)
    monkeypatch.setattr(fanout_tap, "RETRY_DELAYS_S", fanout_delays)
    w = Flaky(fails=3)
    tap = Tap("agent-a", w.write, unused, on_stuck=w.close)
    tap.go_live()
    for i in range(1, 4):
        tap.offer(f"1-{i}", f"frame {i}")
    await wait_for(lambda: len(w.sent) == 3)
    assert w.sent == ["frame 1", "frame 2", "frame 3"] and w.closed == [] and tap.stuck is None
    await tap.close()


async def test_a_frame_that_keeps_failing_closes_the_socket(monkeypatch: object) -> None:
    monkeypatch.setattr(fanout_tap, "RETRY_DELAYS_S", (0.01, 0.01))
    w = Flaky(fails=100)
    tap = Tap("agent-a", w.write, unused, on_stuck=w.close)
    tap.go_live()
    tap.offer("1-1", "assigned")
    tap.offer("1-2", "message")
    await wait_for(lambda: w.closed)
    assert tap.stuck is not None and w.sent == [] and "failed" in w.closed[0]
    tap.offer("1-3", "later")  # nothing more goes out on a socket that is being closed
    await asyncio.sleep(0.05)
    assert w.sent == [] and len(w.closed) == 1
    await tap.close()


async def test_a_restarted_hub_replays_its_taps(store: Store) -> None:
    """The supervisor restarts a crashed fan-out by calling `run` again; frames published while it
    was down reach its sockets only by replay, so the new run replays every tap from its cursor."""
    hub = Hub(store)
    replays: list[str] = []

    async def replay(tap: Tap, after: str) -> None:
        replays.append(after)

    w = Flaky(fails=0)
    tap = Tap("agent-a", w.write, unused, replay=replay)
    tap.go_live()
    tap.offer("5-1", "frame")
    hub.add_agent("agent-a", tap)
    first = asyncio.create_task(hub.run())
    await asyncio.wait_for(hub.subscribed.wait(), 5)
    assert replays == []  # a first subscription has nothing to catch up on
    # A payload for a held address without its entry id: run raises. (One for an address nobody
    # here holds is dropped unread.)
    await store.publish(store.keys.agent_channel, "agent-a")
    with pytest.raises(ValueError):
        await asyncio.wait_for(first, 5)
    hub.subscribed.clear()
    second = asyncio.create_task(hub.run())
    try:
        await asyncio.wait_for(hub.subscribed.wait(), 5)
        await wait_for(lambda: replays)
        assert replays == ["5-1"]
    finally:
        hub.stop()
        await asyncio.wait_for(second, 5)
        await tap.close()


async def test_a_frame_past_the_send_timeout_gives_the_socket_up() -> None:
    sent: list[str] = []
    closed: list[str] = []
    stall = asyncio.Event()

    async def write(frame: str) -> None:
        if frame == "f3":
            await stall.wait()  # a browser that stopped reading
        sent.append(frame)

    async def on_stuck(reason: str) -> None:
        closed.append(reason)

    tap = Tap("agent:a", as_is, write, drain=fanout_tap.Drain(send_timeout_s=0.3), on_stuck=on_stuck)
    tap.go_live()
    for i in range(1, 6):
        tap.offer(f"1-{i}", f"f{i}")
    await wait_for(lambda: closed, timeout=3)
    assert sent == ["f1", "f2"]
    assert closed == ["slow consumer: one frame took over 0.3 s to send"] and tap.stuck == closed[0]
    await tap.close()


async def test_slow_frames_each_within_the_bound_all_go_and_arm_few_timers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hundreds of frames over several times the bound, each one quick enough: none is given up,
    and the watchdog is armed about once per bound, not once per frame."""
    sent: list[str] = []

    async def write(frame: str) -> None:
        await asyncio.sleep(0.002)
        sent.append(frame)

    loop = asyncio.get_running_loop()
    armed = 0
    real = loop.call_at

    def counting(when: float, callback: object, *args: object, **kw: object) -> asyncio.TimerHandle:
        nonlocal armed
        if getattr(callback, "__name__", "") == "_check":
            armed += 1
        return real(when, callback, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(loop, "call_at", counting)
    tap = Tap("agent:b", as_is, write, drain=fanout_tap.Drain(send_timeout_s=0.2))
    tap.go_live()
    frames = [f"g{i}" for i in range(300)]
    for i, frame in enumerate(frames):
        tap.offer(f"1-{i + 1}", frame)
        if i % 50 == 49:
            await asyncio.sleep(0.15)  # idle gaps: the watchdog lapses and is armed again
    await wait_for(lambda: len(sent) == len(frames), timeout=10)
    assert sent == frames and tap.stuck is None
    assert 1 <= armed < 40, armed
    await tap.close()


async def test_an_idle_socket_is_written_in_the_offering_task() -> None:
    """No task and no turn of the event loop between a frame and its socket when the socket is idle."""
    sent: list[str] = []

    async def send(frame: str) -> None:
        sent.append(frame)

    tap = Tap("agent:c", as_is, send)
    tap.go_live()
    tap.offer("1-1", "f1")
    assert sent == ["f1"]  # before this test awaited anything
    tap.offer("1-1", "again")  # the same entry: already sent
    tap.offer("-", "f2")
    assert sent == ["f1", "f2"] and tap._pump_task is None
    await tap.close()


async def test_frames_offered_while_a_write_waits_go_after_it_in_order() -> None:
    """A write that has to wait (a full socket buffer, an `assigned` frame read from Redis) does not
    hold up the offering task; frames offered meanwhile follow it, and a failure after its wait is
    tried again like any other."""
    sent: list[str] = []
    gate = asyncio.Event()
    failed: list[str] = []

    async def send(frame: str) -> None:
        if frame == "f2":
            await gate.wait()
        if frame == "f4" and not failed:
            await asyncio.sleep(0)
            failed.append(frame)
            raise RedisConnectionError("No connection available.")
        sent.append(frame)

    tap = Tap("agent:d", as_is, send)
    tap.go_live()
    for i in range(1, 6):
        tap.offer(f"1-{i}", f"f{i}")  # returns at once although f2 waits
    assert sent == ["f1"] and tap._pump_task is not None
    gate.set()
    await wait_for(lambda: len(sent) == 5)
    assert sent == ["f1", "f2", "f3", "f4", "f5"] and failed == ["f4"] and tap.stuck is None
    await wait_for(lambda: tap._pump_task is None)
    tap.offer("1-6", "f6")  # idle again: written in this task
    assert sent[-1] == "f6"
    await tap.close()


async def test_close_lets_queued_frames_go_then_takes_no_more() -> None:
    sent: list[str] = []

    async def send(frame: str) -> None:
        await asyncio.sleep(0.01)
        sent.append(frame)

    tap = Tap("agent:e", as_is, send)
    tap.go_live()
    for i in range(1, 4):
        tap.offer(f"1-{i}", f"f{i}")
    await tap.close()
    tap.offer("1-4", "f4")
    await asyncio.sleep(0.05)
    assert sent == ["f1", "f2", "f3"]


async def test_a_failed_send_of_a_frame_the_writer_took_for_shown_is_sent_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """The agent socket's writer notes a message as shown when it hands its text over; if the send
    then fails, the tap sends that text again rather than asking the writer, which would now
    skip it: the frame is not dropped."""
    monkeypatch.setattr(fanout_tap, "RETRY_DELAYS_S", (0.01, 0.01))
    shown: set[str] = set()
    sent: list[str] = []
    fails = [2]

    def write(frame: str) -> str | None:
        if frame in shown:
            return None
        shown.add(frame)
        return frame

    async def send(text: str) -> None:
        if text == "m2" and fails[0]:
            fails[0] -= 1
            raise RedisConnectionError("No connection available.")
        sent.append(text)

    tap = Tap("agent:f", write, send)
    tap.go_live()
    for i in range(1, 4):
        tap.offer(f"1-{i}", f"m{i}")
    await wait_for(lambda: len(sent) == 3)
    assert sent == ["m1", "m2", "m3"] and tap.stuck is None
    await tap.close()
