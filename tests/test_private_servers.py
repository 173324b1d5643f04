"""The tests' private servers (Redis, `kefu serve`) survive losing a port race.

A port is picked free and bound later by a server we start; under `pytest -n 3` another worker's
server can take it in between ("cluster node NNNNN did not start" failed a CI run; a migrate test
once read another test's `kefu serve`, which answered /readyz on the port its own server lost).
Here the race is lost on purpose: the picker hands out a port that something already holds."""

from __future__ import annotations

import http.server
import socket
import threading
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from helpers import procs, redis_cluster, redis_server
from helpers.redis_cluster import RedisCluster, system_redis_server
from helpers.redis_server import CLUSTER_BUS_OFFSET, PortTaken, RedisServer


def held_port(offset: int = 0) -> tuple[socket.socket, int]:
    """A listening socket on a port p + `offset` (p a free Cluster port), and p."""
    while True:
        port = redis_server.free_cluster_port()
        sock = socket.socket()
        try:
            sock.bind(("127.0.0.1", port + offset))
        except OSError:
            sock.close()
            continue
        sock.listen()
        return sock, port


def picker(first: int, then: Callable[[], int]) -> Callable[[], int]:
    """A port picker whose first answer is `first` (a port lost to another process)."""
    given = []

    def pick() -> int:
        if not given:
            given.append(first)
            return first
        return then()

    return pick


def served_by(port: int) -> int:
    client = redis.Redis(port=port)
    try:
        return int(client.info("server")["process_id"])
    finally:
        client.close()


@pytest.fixture
def cluster_binary() -> None:
    binary, why = system_redis_server()
    if binary is None:
        pytest.skip(f"Redis Cluster tests need redis-server >= 7: {why}")


def test_a_server_whose_port_is_taken_moves_to_a_fresh_one(tmp_path: Path) -> None:
    sock, taken = held_port()
    with sock:
        server = RedisServer(tmp_path / "redis")
        server.port = taken
        server.start()
        try:
            assert server.port != taken
            assert server.proc is not None and served_by(server.port) == server.proc.pid
        finally:
            server.stop()


def test_a_port_held_by_another_redis_is_not_mistaken_for_ours(tmp_path: Path) -> None:
    """The other worker's server answers PING on the port: the test must not run against it."""
    other = RedisServer(tmp_path / "other")
    other.start()
    try:
        server = RedisServer(tmp_path / "redis")
        server.port = other.port
        server.start()
        try:
            assert server.port != other.port
            assert server.proc is not None and other.proc is not None
            assert served_by(server.port) == server.proc.pid != other.proc.pid
        finally:
            server.stop()
    finally:
        other.stop()


def test_a_restart_keeps_its_port_and_says_when_it_is_taken(tmp_path: Path) -> None:
    """Clients hold a restarted server's address, so no fresh port: a clear refusal instead."""
    server = RedisServer(tmp_path / "redis")
    server.start()
    port = server.port
    server.stop()
    sock = socket.socket()
    sock.bind(("127.0.0.1", port))
    sock.listen()
    with sock, pytest.raises(PortTaken) as caught:
        server.start()
    assert caught.value.port == port == server.port
    server.start()  # freed: the same port again
    try:
        assert server.port == port and server.proc is not None and served_by(port) == server.proc.pid
    finally:
        server.stop()


@pytest.fixture
def occupied(request: pytest.FixtureRequest) -> Iterator[tuple[int, int]]:
    """(port, offset): a Cluster port whose own port (offset 0) or bus port (+10000) is held."""
    offset = int(request.param)
    sock, port = held_port(offset)
    with sock:
        yield port, offset


@pytest.mark.usefixtures("cluster_binary")
@pytest.mark.parametrize("occupied", [0, CLUSTER_BUS_OFFSET], indirect=True, ids=["port", "bus-port"])
def test_a_cluster_node_whose_port_is_taken_starts_the_cluster_again_on_fresh_ports(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, occupied: tuple[int, int]) -> None:
    taken, _offset = occupied
    monkeypatch.setattr(redis_cluster, "free_cluster_port", picker(taken, redis_server.free_cluster_port))
    cluster = RedisCluster(tmp_path / "cluster", masters=1, replicas=0)
    cluster.start(timeout=30)
    try:
        assert taken not in cluster.ports and len(cluster.ports) == 1
        assert not (tmp_path / "cluster" / str(taken)).exists()  # the lost attempt left nothing
        assert served_by(cluster.ports[0]) == cluster.procs[cluster.ports[0]].pid
        assert cluster.master_of(0) == cluster.ports[0]
    finally:
        cluster.stop()


@pytest.mark.usefixtures("cluster_binary")
def test_a_full_cluster_survives_one_of_its_six_ports_taken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sock, taken = held_port()
    real = redis_server.free_cluster_port
    picks = iter([real(), real(), real(), taken])  # the fourth node's port is lost

    def pick() -> int:
        return next(picks, None) or real()

    with sock:
        monkeypatch.setattr(redis_cluster, "free_cluster_port", pick)
        cluster = RedisCluster(tmp_path / "cluster")
        cluster.start(timeout=60)
        try:
            assert taken not in cluster.ports and len(cluster.ports) == 6
            assert len(cluster.master_ports()) == 3
        finally:
            cluster.stop()


class _Ready(http.server.BaseHTTPRequestHandler):
    """Another test's server: it answers /readyz, and nothing of ours is behind it."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"status": "ready", "decoy": true}')

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_serve_whose_port_another_server_answers_on_starts_again_on_a_fresh_port(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    decoy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Ready)
    taken = decoy.server_address[1]
    threading.Thread(target=decoy.serve_forever, daemon=True).start()
    monkeypatch.setattr(procs, "free_port", picker(taken, redis_server.free_port))
    server = procs.Serve(None, None, tmp_path, data_dir=tmp_path / "data")
    try:
        assert server.port == taken
        server.wait_ready()
        assert server.port != taken and server.base.endswith(f":{server.port}")
        assert procs.listens(server.proc.pid, server.port) and not procs.listens(server.proc.pid, taken)
        with urllib.request.urlopen(f"{server.base}/readyz", timeout=5) as r:
            assert b"decoy" not in r.read()
    finally:
        server.stop()
        decoy.shutdown()
        decoy.server_close()
