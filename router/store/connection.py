"""The plain client's connection, pool and pipeline: redis-py's, made cheaper (router/store/client.py
makes the client).

The plain client's connections (`_Connection`, and `_UnixConnection` on a unix socket such as
the embedded server's) keep redis-py's socket timeouts at a lower cost, which the latency
profile showed on every command (docs/performance.md, "Session 8"): redis-py wraps each send in
`asyncio.wait_for`, a new task per command, and arms a timer for each reply, even the 40th reply
of a pipeline, or the 40th pub/sub frame, that one socket read already brought. Here a send
waits under a timer only when the kernel did not take all of it, and a reply that is already
whole in the parser's buffer is taken without one: neither can stall, so the timeout guards every
wait that can. And commands are packed by hiredis in C, byte for byte what redis-py's Python
packer makes.

A plain pipeline (no MULTI, no WATCH) is executed by `_Pipeline`: the same bytes and replies as
redis-py's, without the steps kefu never uses and pays for on every batch (a scan for HIMPORT
commands, the observability hooks, four coroutine levels per reply). Every coalesced batch and
every route worker turn is such a pipeline, so that path is most of a webhook's Redis CPU on our
side (docs/performance.md, "Session 9: ingest").

`_Pool` takes and gives back a free connection without redis-py's condition when nothing waits
for one, and `_Peekable` lets pub/sub (router/store/pubsub.py) take the frames one socket read
brought without a wait each.
"""

from __future__ import annotations

import asyncio
import inspect
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import hiredis
import redis.asyncio as aioredis
from redis._parsers.hiredis import NOT_ENOUGH_DATA, _AsyncHiredisParser
from redis.asyncio.client import Pipeline
from redis.asyncio.connection import AbstractConnection
from redis.client import EMPTY_RESPONSE, NEVER_DECODE
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import DataError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

_NOTHING = object()


class _Peekable:
    """A hiredis reader that can be asked whether a whole reply is buffered without losing it:
    the reply it parsed to answer is handed out by the next `gets`."""

    def __init__(self, reader: Any) -> None:
        self._reader = reader
        self._next: Any = _NOTHING

    def peek(self, raw: bool) -> Any:
        """The next reply, kept for `gets`; NOT_ENOUGH_DATA (not kept) when it is not whole yet."""
        if self._next is _NOTHING:
            reply = self._reader.gets(False) if raw else self._reader.gets()
            if reply is NOT_ENOUGH_DATA:
                return reply
            self._next = reply
        return self._next

    def gets(self, *args: Any) -> Any:
        if self._next is not _NOTHING:
            reply, self._next = self._next, _NOTHING
            return reply
        return self._reader.gets(*args)

    def has_data(self) -> bool:
        return self._next is not _NOTHING or bool(self._reader.has_data())

    def __getattr__(self, name: str) -> Any:  # feed, len, ...: the reader's own
        return getattr(self._reader, name)


class _Parser(_AsyncHiredisParser):
    """redis-py's hiredis parser over a `_Peekable` reader."""

    def on_connect(self, connection: Any) -> None:
        super().on_connect(connection)  # type: ignore[no-untyped-call]
        self._reader = _Peekable(self._reader)  # type: ignore[assignment]

    def reply_buffered(self, raw: bool, push_request: bool) -> bool:
        """True when the next reply is whole in the buffer and is the one asked for: a push
        (a pub/sub frame) when not asked for makes redis-py read on past it."""
        reader = self._reader
        if not self._connected or not isinstance(reader, _Peekable):
            return False
        reply = reader.peek(raw)
        push = getattr(self, "_hiredis_PushNotificationType", None)  # redis-py >= 6 (RESP3 pushes)
        return reply is not NOT_ENOUGH_DATA and (push_request or push is None or not isinstance(reply, push))

    def take(self) -> Any:
        """The reply `reply_buffered` found."""
        reader = self._reader
        assert isinstance(reader, _Peekable)
        return reader.gets()


class _Cheaper(AbstractConnection):
    """The cheaper timeouts and packing the module docstring describes, over whichever socket
    the connection class beside it opens."""

    def pack_command(self, *args: Any) -> list[bytes]:
        name = args[0]
        if isinstance(name, str):
            if " " in name:  # "CONFIG GET" is two words to the server
                args = (*name.encode().split(), *args[1:])
        elif b" " in name:
            args = (*name.split(), *args[1:])
        try:
            return [hiredis.pack_command(args)]
        except TypeError:  # a bytearray (redis-py takes it, hiredis not), or what neither takes
            pass
        try:
            return [hiredis.pack_command(tuple(bytes(a) if isinstance(a, bytearray | memoryview) else a  # type: ignore[arg-type]
                                               for a in args))]
        except TypeError as exc:  # None, a bool, a list: what redis-py's encoder refuses too
            raise DataError(str(exc)) from exc

    def pack_commands(self, commands: Iterable[Iterable[Any]]) -> list[bytes]:
        # One buffer, joined in C: redis-py's loop over each command's chunks (to keep large
        # values out of the join) has nothing to do with hiredis's one chunk per command.
        return [b"".join([self.pack_command(*c)[0] for c in commands])]

    async def read_response(self, disable_decoding: bool = False, timeout: float | None = None, *,  # noqa: ASYNC109
                            disconnect_on_error: bool = True, push_request: bool | None = False) -> Any:
        parser = self._parser
        if isinstance(parser, _Parser) and parser.reply_buffered(disable_decoding, bool(push_request)):
            if not push_request:
                # The reply is whole and no push: taken here, what redis-py's three coroutine
                # levels below would do with it, without them (a pipeline's replies come here).
                reply = parser.take()
                if isinstance(reply, RedisConnectionError) or (
                        isinstance(reply, list) and reply and isinstance(reply[0], RedisConnectionError)):
                    if disconnect_on_error:
                        await self.disconnect(nowait=True)
                    raise reply if isinstance(reply, RedisConnectionError) else reply[0]
                if self.health_check_interval:
                    self.next_health_check = asyncio.get_running_loop().time() + self.health_check_interval
                if isinstance(reply, ResponseError):
                    raise reply from None
                return reply
            # redis-py's "no timer": the reply is here, so neither the socket timeout nor a
            # caller's wait (pub/sub's get_message) can run out.
            timeout = math.inf
        return await super().read_response(disable_decoding, timeout, disconnect_on_error=disconnect_on_error,
                                           push_request=push_request)

    async def on_connect_check_health(self, check_health: bool = True) -> None:
        await super().on_connect_check_health(check_health)
        # A connection that has just answered its handshake, or sent none (RESP2, no password,
        # no SETINFO), is healthy: without this its first command would wait for a PING.
        if self.health_check_interval:
            self.next_health_check = asyncio.get_running_loop().time() + self.health_check_interval

    async def send_packed_command(self, command: bytes | str | Iterable[bytes], check_health: bool = True) -> None:
        if check_health and self.socket_timeout and self.is_connected:
            await self.check_health()  # type: ignore[no-untyped-call]
            check_health = False
        if not self.socket_timeout or not self.is_connected:
            # No bound to keep, or a connect first (and its handshake): redis-py's own way.
            await super().send_packed_command(command, check_health)
            return
        if isinstance(command, str):
            command = command.encode()
        if isinstance(command, bytes):
            command = [command]
        writer = self._writer
        assert writer is not None  # is_connected
        try:
            writer.writelines(command)
            if writer.transport.get_write_buffer_size():
                # The kernel's buffer is full: wait for room, but not past the socket timeout.
                async with asyncio.timeout(self.socket_timeout):
                    await writer.drain()
            else:
                await writer.drain()  # does not wait; raises if the connection was lost
        except TimeoutError:
            await self.disconnect(nowait=True)
            raise RedisTimeoutError("Timeout writing to socket") from None
        except OSError as exc:
            await self.disconnect(nowait=True)
            raise RedisConnectionError(f"Error while writing to socket: {exc}") from exc
        except BaseException:
            # A send cut short leaves the stream mid-command: the connection cannot be reused.
            await self.disconnect(nowait=True)
            raise


class _Connection(_Cheaper, aioredis.Connection):
    """redis-py's TCP connection, made cheaper."""


class _UnixConnection(_Cheaper, aioredis.UnixDomainSocketConnection):
    """redis-py's unix socket connection, made cheaper: the embedded server's, so the demo's and
    a small shop's whole live state goes through it (router/store/embedded.py)."""


class _Pipeline(Pipeline):
    """redis-py's pipeline; a plain one is sent and read by `_run` (see the module docstring).
    What redis-py does around it stays: the pool's bounded wait for a connection, its retry
    policy on a connection error (disconnect, back off, send the whole batch again), the release
    shielded from cancellation, and each reply's callback and error as redis-py gives them."""

    async def execute(self, raise_on_error: bool = True) -> list[Any]:
        stack = self.command_stack
        if (not stack or self.is_transaction or self.explicit_transaction or self.watching or self.scripts
                or self.connection is not None):
            return await super().execute(raise_on_error)
        pool = self.connection_pool
        conn: Any = await pool.get_connection()  # type: ignore[no-untyped-call]
        try:
            response: list[Any] = await conn.retry.call_with_retry(
                lambda: self._run(conn, stack), lambda error: conn.disconnect(error=error))
        finally:
            self.command_stack = []
            # A give-back that must wait is shielded: a cancel mid-way would lose the connection.
            if not (isinstance(pool, _Pool) and pool.put_back(conn)):
                await asyncio.shield(pool.release(conn))
        if raise_on_error:
            self.raise_first_error(stack, response)
        return response

    async def _run(self, conn: Any, stack: Sequence[tuple[tuple[Any, ...], Mapping[str, Any]]]) -> list[Any]:
        await conn.send_packed_command(conn.pack_commands([args for args, _ in stack]))
        callbacks = self.response_callbacks
        out: list[Any] = []
        for args, options in stack:
            try:
                reply = await conn.read_response(disable_decoding=NEVER_DECODE in options)
            except ResponseError as exc:
                out.append(options[EMPTY_RESPONSE] if EMPTY_RESPONSE in options else exc)
                continue
            callback = callbacks.get(args[0])
            if callback is not None:
                # As redis-py's parse_response: the callback gets the options but these three.
                reply = callback(reply, **{k: v for k, v in options.items()
                                           if k not in (NEVER_DECODE, EMPTY_RESPONSE, "keys")})
                if inspect.isawaitable(reply):
                    reply = await reply
            out.append(reply)
        return out


class _Pool(aioredis.BlockingConnectionPool):
    """redis-py's blocking pool, with a cheaper take and give back when nothing waits.

    redis-py's pool takes its condition, arms a timeout, checks the predicate, dispatches a
    released event and records observability counters on every take and give-back: about 22 us a
    pair on this project's machine, and a new chat takes three to six (its ingest, the route
    worker's read, route and ack). When a connection is free and no task waits for one, the
    take here pops it and checks it as redis-py does (`ensure_connection`: connected, nothing
    unread); the give-back puts it back. Everything else (an empty pool, a task waiting, redis-py's
    maintenance mode, a credential provider that re-authenticates on release) goes the pool's own
    way, so the bound holds and waiting works as redis-py's does: while a task waits, every take
    goes through redis-py's condition too, and every give-back wakes a waiter."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._waiting = 0
        """Takes inside redis-py's own path: while any is, every give-back goes that way too."""
        self._plain = self.connection_kwargs.get("credential_provider") is None

    async def get_connection(self, *args: Any, **kwargs: Any) -> Any:
        if (args or kwargs or self._waiting or not self._available_connections or not self._plain
                or self._in_maintenance):
            self._waiting += 1
            try:
                return await super().get_connection(*args, **kwargs)  # type: ignore[no-untyped-call]
            finally:
                self._waiting -= 1
        conn = self._available_connections.pop()
        self._in_use_connections.add(conn)
        try:
            await self.ensure_connection(conn)
        except BaseException:
            await self.release(conn)
            raise
        return conn

    def put_back(self, connection: Any) -> bool:
        """The give-back when it needs no wait (nothing waits, nothing to reconnect): done at
        once, so it cannot be cut short by a cancel. False: use `release`."""
        if self._waiting or not self._plain or self._in_maintenance or connection.should_reconnect():
            return False
        self._in_use_connections.remove(connection)
        self._available_connections.append(connection)
        return True

    async def release(self, connection: Any) -> None:
        if not self.put_back(connection):
            await super().release(connection)


class _Redis(aioredis.Redis):
    """The plain client, whose pipelines are `_Pipeline`s."""

    def pipeline(self, transaction: bool = True, shard_hint: str | None = None) -> Pipeline:
        return _Pipeline(self.connection_pool, self.response_callbacks, transaction, shard_hint)


_CONNECTIONS: dict[str, type[_Cheaper]] = {"redis": _Connection, "unix": _UnixConnection}
"""The plain client's connection class by URL scheme; rediss:// keeps redis-py's own (its TLS reads)."""
