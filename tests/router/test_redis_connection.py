"""The plain client's connection (router/store/client.py): cheaper socket timeouts (a pipeline's
replies that one read brought are taken without a timer each, yet a server that stalls mid-reply
or stops reading still fails the command within the socket timeout instead of hanging), and
commands packed by hiredis byte for byte as redis-py packs them."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio.connection as redis_connection
from helpers.redis_cluster import RedisCluster
from helpers.redis_server import RedisServer, short_socket_dir
from hypothesis import given
from hypothesis import strategies as st
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import DataError, RedisClusterException
from redis.exceptions import TimeoutError as RedisTimeoutError

from router.config.limits import RedisSettings
from router.store.client import make_client
from router.store.connection import _Connection, _UnixConnection

ARG = st.one_of(st.text(), st.binary(), st.integers(), st.floats(allow_nan=False), st.binary().map(bytearray),
                st.binary().map(memoryview))


@given(st.sampled_from(["SET", "EVALSHA", "CONFIG GET", b"XADD", b"CLIENT SETINFO"]), st.lists(ARG, max_size=8))
def test_commands_are_packed_as_redis_py_packs_them(name: str | bytes, args: list[Any]) -> None:
    ours, theirs = _Connection(), redis_connection.Connection()
    assert b"".join(ours.pack_command(name, *args)) == b"".join(
        bytes(p) for p in theirs.pack_command(name, *args))
    commands = [(name, *args), ("GET", "k")] * 3
    assert b"".join(ours.pack_commands(commands)) == b"".join(bytes(p) for p in theirs.pack_commands(commands))


@pytest.mark.parametrize("bad", [None, True, [1], {"a": 1}])
def test_what_redis_py_refuses_to_pack_is_refused(bad: object) -> None:
    for conn in (_Connection(), redis_connection.Connection()):
        with pytest.raises(DataError):
            conn.pack_command("SET", "k", bad)


@pytest.fixture(params=["tcp", "unix"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A private server, reached over TCP or, as the embedded server is, over a unix socket:
    kefu's connection class takes both."""
    server = RedisServer(tmp_path / "redis", unix_socket=True)
    server.start()
    try:
        yield server.url if request.param == "tcp" else server.unix_url
    finally:
        server.stop()


async def _command(reader: asyncio.StreamReader) -> list[bytes]:
    """One RESP array command as the client sends it."""
    head = await reader.readline()
    if not head.startswith(b"*"):
        raise ConnectionError("not a command")
    parts = []
    for _ in range(int(head[1:])):
        size = int((await reader.readline())[1:])
        parts.append((await reader.readexactly(size + 2))[:-2])
    return parts


@contextlib.asynccontextmanager
async def fake_server(on_get: bytes | None, unix: Path | None = None) -> AsyncIterator[str]:
    """Answers +OK to everything but GET, which gets `on_get` and then nothing more (a stall);
    `on_get=None`: it stops reading at SET, as a server whose socket buffer is full."""

    handlers: list[tuple[asyncio.Task[Any] | None, asyncio.StreamWriter]] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handlers.append((asyncio.current_task(), writer))
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while True:
                head = await reader.readline()
                if on_get is None and head.startswith(b"*3"):  # SET k v: stop reading from here
                    await asyncio.sleep(60)
                reader._buffer[0:0] = head  # type: ignore[attr-defined]  # put it back for _command
                cmd = await _command(reader)
                if cmd[0].upper() == b"GET":
                    writer.write(on_get or b"")
                    await writer.drain()
                    await asyncio.sleep(60)
                writer.write(b"+PONG\r\n" if cmd[0].upper() == b"PING" else b"+OK\r\n")
                await writer.drain()

    if unix is None:
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        url = f"redis://127.0.0.1:{server.sockets[0].getsockname()[1]}/0"
    else:
        server = await asyncio.start_unix_server(serve, str(unix))
        url = f"unix://{unix}?db=0"
    try:
        yield url
    finally:
        server.close()
        for task, writer in handlers:
            writer.close()
            if task is not None:
                task.cancel()
        await asyncio.gather(*(t for t, _ in handlers if t is not None), return_exceptions=True)


FAST = RedisSettings(socket_timeout_s=0.5, connect_timeout_s=2.0)


@pytest.fixture(params=["tcp", "unix"])
def unix(request: pytest.FixtureRequest) -> Iterator[Path | None]:
    """None for a fake server on TCP, else the unix socket it listens on."""
    if request.param == "tcp":
        yield None
        return
    folder = short_socket_dir()
    try:
        yield folder / "fake.sock"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def test_a_reply_stalled_half_way_times_out(unix: Path | None) -> None:
    async with fake_server(b"$10\r\nabc", unix) as url:
        client = make_client(url, cluster=False, o=FAST)
        started = time.monotonic()
        with pytest.raises(RedisTimeoutError):
            await client.get("k")
        assert time.monotonic() - started < 3
        await client.aclose()


async def test_a_server_that_stops_reading_times_the_send_out(unix: Path | None) -> None:
    async with fake_server(None, unix) as url:
        client = make_client(url, cluster=False, o=FAST)
        started = time.monotonic()
        with pytest.raises(RedisTimeoutError):
            await client.set("k", b"x" * (64 << 20))  # far more than loopback's socket buffers
        assert time.monotonic() - started < 5
        await client.aclose()


async def test_every_client_speaks_resp2_whatever_redis_py_defaults_to(redis_url: str,
                                                                      redis_cluster: RedisCluster) -> None:
    """redis-py 8.2 made RESP3 its default; kefu's clients, plain and Cluster, stay on RESP2 and
    say no HELLO (the two stalled-server tests above also fail on a HELLO: their fake server
    answers it with +OK)."""
    plain = make_client(redis_url, cluster=False)
    try:
        await plain.ping()
        assert [c.protocol for c in plain.connection_pool._available_connections] == [2]
    finally:
        await plain.aclose()
    cluster = make_client(redis_cluster.url, cluster=True)
    try:
        await cluster.set("k", "v")
        node = cluster.get_node_from_key("k")
        info = await cluster.execute_command("CLIENT", "INFO", target_nodes=node)
        assert "resp=2" in info.split(), info  # Redis 7 says it; 6.2's CLIENT INFO does not
    finally:
        await cluster.aclose()


async def test_a_cluster_stream_read_asks_no_server_for_its_keys(redis_cluster: RedisCluster) -> None:
    """XREAD and XREADGROUP name their keys after STREAMS, which redis-py's cluster client sent a
    COMMAND GETKEYS to find before every read; kefu's finds them itself and routes by them."""
    cluster = make_client(redis_cluster.url, cluster=True)

    async def getkeys() -> int:
        stats = [await cluster.info("commandstats", target_nodes=n) for n in cluster.get_primaries()]
        return sum(s.get("cmdstat_command|getkeys", {}).get("calls", 0) for s in stats)

    try:
        await cluster.initialize()
        keys = [f"{{s{i}}}:in" for i in range(12)]  # twelve slots, over the three masters
        assert len({cluster.get_node_from_key(k).name for k in keys}) == 3
        for k in keys:
            await cluster.xadd(k, {"n": k})
            await cluster.xgroup_create(k, "g", id="0")
        before = await getkeys()
        for k in keys:
            assert [(s, [f for _, f in e]) for s, e in await cluster.xreadgroup("g", "c", {k: ">"}, count=5)] \
                == [(k, [{"n": k}])]
            assert (await cluster.xread({k: "0"}, count=5, block=10))[0][0] == k
            async with cluster.pipeline(transaction=False) as pipe:  # a pipeline routes the same way
                pipe.xreadgroup("g", "c", {k: "0"}, count=5)
                assert [r[0][0] for r in await pipe.execute()] == [k]
        assert await getkeys() == before
        # Two slots in one read is refused as before.
        with pytest.raises(RedisClusterException):
            await cluster.xread({keys[0]: "0", keys[1]: "0"})
    finally:
        await cluster.aclose()


async def test_a_new_connection_goes_straight_to_its_command(url: str, redis_cluster: RedisCluster) -> None:
    """No CLIENT SETINFO from any client (Redis 6.2 refuses it; at a burst each new connection
    waited for it), and no health-check PING before a plain connection's first command."""
    watch = make_client(url, cluster=False)
    await watch.config_resetstat()
    client = make_client(url, cluster=False)
    try:
        # Forty at once: the pool opens a connection for each.
        assert sorted(await asyncio.gather(*(client.incr("n") for _ in range(40)))) == list(range(1, 41))
        assert len(client.connection_pool._available_connections) > 1
        stats = await watch.info("commandstats")
        assert stats["cmdstat_incrby"]["calls"] == 40
        assert "cmdstat_client|setinfo" not in stats and "cmdstat_ping" not in stats, sorted(stats)
    finally:
        await client.aclose()
        await watch.aclose()
    cluster = make_client(redis_cluster.url, cluster=True)
    try:
        await asyncio.gather(*(cluster.incr(f"n{i}") for i in range(40)))
        for node in cluster.get_primaries():
            stats = await cluster.info("commandstats", target_nodes=node)
            assert "cmdstat_client|setinfo" not in stats, sorted(stats)
    finally:
        await cluster.aclose()


async def test_a_pipeline_reads_its_buffered_replies_without_a_timer_each(url: str,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    client = make_client(url, cluster=False)
    await client.ping()  # connected: the handshake's reads are not counted
    armed = 0
    real = redis_connection.async_timeout

    def counting(delay: Any) -> Any:
        nonlocal armed
        armed += 1
        return real(delay)

    monkeypatch.setattr(redis_connection, "async_timeout", counting)
    pipe = client.pipeline(transaction=False)
    for i in range(300):
        pipe.set(f"k{i}", str(i))
        pipe.get(f"k{i}")
    replies = await pipe.execute()
    assert replies == [x for i in range(300) for x in (True, str(i))]
    # redis-py arms one per reply (600); ours only for the reads that had to wait for the socket.
    assert armed < 60, armed
    await client.aclose()


async def test_replies_keep_their_order_across_many_commands(url: str) -> None:
    client = make_client(url, cluster=False)
    values = await asyncio.gather(*(client.incr("n") for _ in range(500)))
    assert sorted(values) == list(range(1, 501))
    pipe = client.pipeline(transaction=False)
    for i in range(200):
        pipe.rpush("l", i)
    pipe.lrange("l", 0, -1)
    *lengths, items = await pipe.execute()
    assert lengths == list(range(1, 201)) and items == [str(i) for i in range(200)]
    await client.aclose()


async def test_pub_sub_frames_already_read_are_taken_without_a_timer_each(url: str,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    client = make_client(url, cluster=False)
    sub = client.pubsub()
    await sub.subscribe("ch")
    assert (await sub.get_message(timeout=1.0))["type"] == "subscribe"
    pipe = client.pipeline(transaction=False)
    for i in range(300):
        pipe.publish("ch", f"frame {i}")
    await pipe.execute()
    await asyncio.sleep(0.2)  # they are on the socket by now, most in the first read
    armed = 0
    real = redis_connection.async_timeout

    def counting(delay: Any) -> Any:
        nonlocal armed
        armed += 1
        return real(delay)

    monkeypatch.setattr(redis_connection, "async_timeout", counting)
    got = [(await sub.get_message(timeout=1.0)) for _ in range(300)]
    assert [m["data"] for m in got if m] == [f"frame {i}" for i in range(300)]
    assert armed < 30, armed
    assert await sub.get_message(timeout=0.2) is None  # nothing buffered: the wait still ends
    await sub.aclose()
    await client.aclose()


async def test_a_connection_the_server_closed_is_opened_again(url: str) -> None:
    client = make_client(url, cluster=False)
    killer = make_client(url, cluster=False)
    await client.set("k", "v")
    for _ in range(3):
        await killer.execute_command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")
        # The pooled connection is dead: the command that finds out fails, as with redis-py's
        # own connection; the next ones connect again (through redis-py's send) and answer.
        with contextlib.suppress(RedisConnectionError):
            await client.get("k")
        assert [await client.get("k") for _ in range(50)] == ["v"] * 50
    await client.aclose()
    await killer.aclose()


def _mixed(pipe: Any, tag: str) -> None:
    """Commands whose replies redis-py turns into other values (some by the options given), a
    missing key, and one that Redis refuses."""
    pipe.hset(f"{tag}:h", mapping={"a": "1", "b": "2"})
    pipe.hgetall(f"{tag}:h")
    pipe.set(f"{tag}:s", "x", nx=True)
    pipe.set(f"{tag}:s", "y", nx=True)
    pipe.incr(f"{tag}:s")  # not a number: refused
    pipe.zadd(f"{tag}:z", {"m1": 1.5, "m2": 2})
    pipe.zrange(f"{tag}:z", 0, -1, withscores=True)
    pipe.xadd(f"{tag}:x", {"f": "v"}, id="1-1")
    pipe.xrange(f"{tag}:x")
    pipe.get(f"{tag}:missing")
    pipe.exists(f"{tag}:h", f"{tag}:s")


async def test_a_plain_pipeline_answers_as_redis_pys_own(url: str) -> None:
    """Our plain pipeline (`_Pipeline`) gives what redis-py's gives, value for value, refusals
    as values or raised first, the same way."""
    import redis.asyncio as aioredis

    ours = make_client(url, cluster=False)
    theirs = aioredis.Redis.from_url(url, decode_responses=True)
    assert type(ours.pipeline(transaction=False)).__name__ == "_Pipeline"
    replies = []
    for client, tag in ((ours, "a"), (theirs, "b")):
        pipe = client.pipeline(transaction=False)
        _mixed(pipe, tag)
        replies.append(await pipe.execute(raise_on_error=False))
    got, want = replies
    assert [type(r) for r in got] == [type(r) for r in want]
    assert [str(r) for r in got] == [str(r) for r in want]
    assert got[1] == {"a": "1", "b": "2"} and got[6] == [("m1", 1.5), ("m2", 2.0)] and got[8][0][1] == {"f": "v"}
    errors = []
    for client, tag in ((ours, "c"), (theirs, "d")):
        pipe = client.pipeline(transaction=False)
        _mixed(pipe, tag)
        with pytest.raises(Exception) as raised:
            await pipe.execute()
        errors.append(str(raised.value).replace(f"{tag}:", ""))
    assert errors[0] == errors[1] and "Command # 5" in errors[0]
    pipe = ours.pipeline(transaction=False)
    assert await pipe.execute() == []
    pipe.get("a:s")
    assert await pipe.execute() == ["x"]  # the stack was emptied: the pipeline is reusable
    await ours.aclose()
    await theirs.aclose()


def _pool_sizes(pool: Any) -> tuple[int, int]:
    return len(pool._in_use_connections), len(pool._available_connections)


async def test_the_pool_stays_bounded_and_serves_its_waiters_in_turn(url: str) -> None:
    """The pool's quick take and give-back (`_Pool`) keep redis-py's bound and its waiting: 300
    tasks on a pool of 3 all get a connection and no more than 3 are ever open; a task waiting
    for a connection is woken by the next give-back and served before a task that asks after it."""
    client = make_client(url, cluster=False, o=RedisSettings(max_connections=3, pool_timeout_s=10))
    pool = client.connection_pool
    assert type(pool).__name__ == "_Pool"
    widest = 0

    async def one(i: int) -> str:
        nonlocal widest
        pipe = client.pipeline(transaction=False)
        pipe.set(f"k{i}", i)
        pipe.get(f"k{i}")
        got = (await pipe.execute())[1]
        widest = max(widest, sum(_pool_sizes(pool)))
        return str(got)

    assert await asyncio.gather(*(one(i) for i in range(300))) == [str(i) for i in range(300)]
    assert widest <= 3 and _pool_sizes(pool) == (0, 3)
    info = await client.info("clients")
    assert int(info["connected_clients"]) <= 3 + 1  # and the INFO's own turn on one of them

    # Hold all three; a waiter queues; then a connection comes back and a newcomer asks.
    held = [await pool.get_connection() for _ in range(3)]
    order: list[str] = []

    async def take(name: str) -> None:
        conn = await pool.get_connection()
        order.append(name)
        await asyncio.sleep(0.01)
        await pool.release(conn)

    first = asyncio.create_task(take("waiting"))
    await asyncio.sleep(0.05)
    assert order == []  # it waits: none is free
    await pool.release(held.pop())
    late = asyncio.create_task(take("late"))
    await asyncio.wait_for(asyncio.gather(first, late), 2)  # the waiter was woken, not left to time out
    assert order == ["waiting", "late"]
    for conn in held:
        await pool.release(conn)
    assert _pool_sizes(pool) == (0, 3)
    await client.aclose()


async def test_a_cancelled_pipeline_gives_its_connection_back(url: str) -> None:
    """Pipelines cancelled while they wait for their replies (a caller's timeout) leave no
    connection taken, and the next commands answer on clean connections."""
    client = make_client(url, cluster=False, o=RedisSettings(max_connections=4, pool_timeout_s=10))
    blocker = make_client(url, cluster=False)

    async def slow(i: int) -> None:
        pipe = client.pipeline(transaction=False)
        pipe.execute_command("BLPOP", f"never{i}", 5)
        await pipe.execute()

    tasks = [asyncio.create_task(slow(i)) for i in range(12)]
    await asyncio.sleep(0.1)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert _pool_sizes(client.connection_pool)[0] == 0
    # A connection given back mid-reply was closed, not handed out with a reply still to come.
    await blocker.lpush("never0", "x")
    assert [await client.incr("n") for _ in range(20)] == list(range(1, 21))
    await client.aclose()
    await blocker.aclose()


async def test_a_unix_socket_gets_the_cheaper_connection_pool_and_pipeline(url: str) -> None:
    """The embedded server is reached on a unix socket: its clients get the same connection,
    pool and pipeline as TCP's, not redis-py's own (which the demo and a small shop ran on)."""
    client = make_client(url, cluster=False)
    try:
        await client.set("k", "v")
        conns = client.connection_pool._available_connections
        want = _UnixConnection if url.startswith("unix://") else _Connection
        assert [type(c) for c in conns] == [want]
        assert type(client.connection_pool).__name__ == "_Pool"
        assert type(client.pipeline(transaction=False)).__name__ == "_Pipeline"
        assert await client.get("k") == "v"
    finally:
        await client.aclose()
