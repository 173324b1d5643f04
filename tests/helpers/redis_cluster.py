"""A private Redis Cluster: 3 masters and 3 replicas from the machine's redis-server (>= 7) on free
loopback ports, data dirs in tmp; never port 6379, never a shared server."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import redis

from helpers.ending import end_process
from helpers.redis_server import PORT_ATTEMPTS, PortTaken, free_cluster_port, log_size, wait_own_server
from router.childproc import die_with_parent
from router.store.client import make_client

MIN_VERSION = (7, 0)


def system_redis_server() -> tuple[str | None, str]:
    """The machine's redis-server when it is >= 7 (the embedded 6.2 cannot shard pub/sub), else
    None and why."""
    path = shutil.which("redis-server")
    if path is None:
        return None, "no redis-server on PATH (tests/machine.sh installs Redis 7)"
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=False).stdout
    m = re.search(r"v=(\d+)\.(\d+)", out)
    if not m or (int(m.group(1)), int(m.group(2))) < MIN_VERSION:
        return None, f"redis-server on PATH is not >= 7.0: {out.strip()}"
    if shutil.which("redis-cli") is None:
        return None, "no redis-cli on PATH (Debian's redis-tools) to create the cluster"
    return path, ""


class RedisCluster:
    """`masters` masters with `replicas` replicas each. Nodes are indexed by start order; after a
    failover, ask `master_of(slot)` rather than assume."""

    def __init__(self, data_dir: Path, masters: int = 3, replicas: int = 1, node_timeout_ms: int = 1000) -> None:
        binary, why = system_redis_server()
        if binary is None:
            raise RuntimeError(why)
        self.binary = binary
        self.data_dir = data_dir
        self.masters = masters
        self.replicas = replicas
        self.node_timeout_ms = node_timeout_ms
        self.ports: list[int] = []
        self.procs: dict[int, subprocess.Popen[bytes]] = {}
        self.log_from: dict[int, int] = {}
        """Where each node's latest start begins in its log (a restart appends)."""

    @property
    def url(self) -> str:
        """The seed address: the first node's; any node would do."""
        return f"redis://127.0.0.1:{self.ports[0]}/0"

    def urls(self) -> list[str]:
        return [f"redis://127.0.0.1:{p}/0" for p in self.ports]

    def _log(self, port: int) -> Path:
        return self.data_dir / str(port) / "redis.log"

    def _spawn(self, port: int) -> None:
        old = self.procs.get(port)
        if old is not None:
            end_process(old)  # a restart: reap the old process before its Popen is dropped
        node_dir = self.data_dir / str(port)
        node_dir.mkdir(parents=True, exist_ok=True)
        self.log_from[port] = log_size(self._log(port))
        self.procs[port] = subprocess.Popen(
            [self.binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(node_dir),
             "--save", "", "--appendonly", "yes", "--appendfsync", "everysec",
             "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
             "--cluster-node-timeout", str(self.node_timeout_ms),
             "--logfile", str(self._log(port))],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=die_with_parent(),
        )

    def start(self, timeout: float = 60) -> None:
        """Ports are picked free, then bound by servers started later; under `pytest -n 3` another
        worker's server can take one in between. Then the node exits ("Address already in use"
        in its log) and the whole start is tried again on fresh ports."""
        for attempt in range(PORT_ATTEMPTS):
            self._pick_ports()
            try:
                self._start_once(timeout)
                return
            except PortTaken:
                self.stop()
                for port in self.ports:  # nothing of the lost attempt is kept
                    shutil.rmtree(self.data_dir / str(port), ignore_errors=True)
                if attempt == PORT_ATTEMPTS - 1:
                    raise
            except Exception:
                self.stop()
                raise

    def _pick_ports(self) -> None:
        # Ports are picked one by one, so a port must not be picked twice before its server binds.
        self.ports = []
        while len(self.ports) < self.masters * (1 + self.replicas):
            port = free_cluster_port()
            if port not in self.ports:
                self.ports.append(port)

    def _start_once(self, timeout: float) -> None:
        for port in self.ports:
            self._spawn(port)
        deadline = time.monotonic() + timeout
        for port in self.ports:
            self._wait_ping(port, deadline)
        if self.masters == 1 and self.replicas == 0:
            # redis-cli will not create a cluster of fewer than 3 masters; one node takes all.
            node = redis.Redis(port=self.ports[0])
            try:
                node.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 16383)
            finally:
                node.close()
            self.wait_ok(deadline)
            return
        subprocess.run(
            [shutil.which("redis-cli") or "redis-cli", "--cluster", "create",
             *(f"127.0.0.1:{p}" for p in self.ports), "--cluster-replicas", str(self.replicas),
             "--cluster-yes"],
            check=True, capture_output=True, timeout=timeout,
        )
        self.wait_ok(deadline)

    def _wait_ping(self, port: int, deadline: float) -> None:
        """Until this node's own server answers (not another worker's on a port it took)."""
        wait_own_server(self.procs[port], port, self._log(port), deadline, self.log_from.get(port, 0),
                        what="cluster node")

    def wait_ok(self, deadline: float) -> None:
        """Every live node says cluster_state:ok and agrees every slot is served by a master."""
        while True:
            if all(self._node_ok(p) for p in self.live_ports()):
                return
            if time.monotonic() > deadline:
                raise RuntimeError("the cluster did not reach cluster_state:ok")
            time.sleep(0.1)

    def _node_ok(self, port: int) -> bool:
        client = redis.Redis(port=port, decode_responses=True)
        try:
            info = client.execute_command("CLUSTER", "INFO")
            text = info if isinstance(info, str) else str(info)
            return "cluster_state:ok" in text and "cluster_slots_ok:16384" in text
        except redis.RedisError:
            return False
        finally:
            client.close()

    def live_ports(self) -> list[int]:
        return [p for p, proc in self.procs.items() if proc.poll() is None]

    def master_of(self, slot: int) -> int:
        """The port of the master serving `slot`, as a live node sees it."""
        for port in self.live_ports():
            client = redis.Redis(port=port, decode_responses=True)
            try:
                for start, end, master, *_ in client.execute_command("CLUSTER", "SLOTS"):
                    if int(start) <= slot <= int(end):
                        return int(master[1])
            except redis.RedisError:
                continue
            finally:
                client.close()
        raise RuntimeError(f"no live node knows slot {slot}")

    def slot(self, key: str) -> int:
        client = redis.Redis(port=self.live_ports()[0])
        try:
            return int(client.execute_command("CLUSTER", "KEYSLOT", key))
        finally:
            client.close()

    def master_ports(self) -> list[int]:
        """Ports of the live masters."""
        out = []
        for port in self.live_ports():
            client = redis.Redis(port=port, decode_responses=True)
            try:
                if client.info("replication")["role"] == "master":
                    out.append(port)
            finally:
                client.close()
        return out

    def move_slot(self, slot: int, dst_port: int) -> int:
        """Reshard one slot to another master, as `redis-cli --cluster reshard` does, but with
        every key in one MIGRATE: the routing scripts reach keys they derive from ids, which
        Redis does not redirect, so no script may run while the slot is half moved. Returns how
        many keys moved."""
        src_port = self.master_of(slot)
        src = redis.Redis(port=src_port, decode_responses=True)
        dst = redis.Redis(port=dst_port, decode_responses=True)
        try:
            src_id, dst_id = src.execute_command("CLUSTER", "MYID"), dst.execute_command("CLUSTER", "MYID")
            dst.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", src_id)
            src.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", dst_id)
            keys = src.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 1_000_000)
            if keys:
                src.execute_command("MIGRATE", "127.0.0.1", dst_port, "", 0, 60_000, "KEYS", *keys)
            for port in self.master_ports():
                node = redis.Redis(port=port)
                try:
                    node.execute_command("CLUSTER", "SETSLOT", slot, "NODE", dst_id)
                finally:
                    node.close()
            return len(keys)
        finally:
            src.close()
            dst.close()

    def kill(self, port: int) -> None:
        """kill -9 one node: no shutdown, no save, exactly as a crash."""
        proc = self.procs[port]
        proc.kill()
        proc.wait(10)

    def restart(self, port: int) -> None:
        """Start a killed node again on its data dir: it rejoins, as a replica of whoever took
        its slots."""
        self._spawn(port)
        self._wait_ping(port, time.monotonic() + 30)

    def stop(self) -> None:
        # Replicas first: a master stopped while its replicas run waits for them to catch up
        # (Redis 7's shutdown-timeout) instead of exiting at once.
        for port in reversed(self.ports):
            proc = self.procs.pop(port, None)
            if proc is not None:
                end_process(proc)
        self.procs.clear()


class Backend:
    """Where `kefu serve` keeps its state in a test: one plain server or a 3+3 Cluster."""

    def __init__(self, kind: str, url: str, cluster: RedisCluster | None = None) -> None:
        self.kind = kind
        self.url = url
        self.cluster = cluster
        self.serve_args = ["--redis-cluster"] if cluster else []

    def client(self) -> Any:
        """A client for the test's own reads; on a Cluster, one that follows MOVED."""
        return make_client(self.url, self.cluster is not None)
