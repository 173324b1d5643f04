"""`kefu serve` as real subprocesses, for crash, persistence and multi-process tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from helpers.ending import end_process
from helpers.redis_server import PORT_ATTEMPTS, free_port
from router.childproc import die_with_parent


class Serve:
    """One `kefu serve` process on a free loopback port."""

    def __init__(self, config: Path | None, redis_url: str | None, cwd: Path, data_dir: Path | None = None,
                 extra: list[str] | None = None, port: int | None = None, own_group: bool = False) -> None:
        self.picked = port is None  # a given port: a restart that clients reconnect to, kept
        self.own_group = own_group
        """In a process group of its own, as a shell's foreground job is: a test can send the
        group a terminal's Ctrl-C (`os.killpg`) without reaching pytest."""
        self.cwd = cwd
        self.args = [sys.executable, "-m", "router", "serve"]
        if config:
            self.args += ["--config", str(config)]
        if redis_url:
            self.args += ["--redis-url", redis_url]
        if data_dir:
            self.args += ["--data-dir", str(data_dir)]
        self.args += extra or []
        self._spawn(port or free_port())

    def _spawn(self, port: int) -> None:
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.log = self.cwd / f"serve-{port}.log"
        self._out = self.log.open("wb")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("KEFU_REDIS_URL", None)
        # SIGTERM when the test run dies, so a killed pytest leaves no server (and its embedded
        # redis) behind. Tests build Serve on the main thread, which lives as long as the run.
        self.proc = subprocess.Popen([*self.args, "--port", str(port)], cwd=self.cwd, stdout=self._out,
                                     stderr=subprocess.STDOUT, env=env, preexec_fn=die_with_parent(),
                                     process_group=0 if self.own_group else None)

    # Generous: a cold start imports jieba, SQLAlchemy and aiohttp, which takes tens of seconds on a
    # 2-core machine running the suite side by side; a server that fails exits, and that fails at once.
    def wait_ready(self, timeout: float = 120) -> None:
        """Until this process answers /readyz. An answer on the port is not enough: another
        worker's server may have bound the port between our pick and our start (ours then exits
        on the bind), and a test would run against that one; so the listening socket must be
        ours. A lost race starts again on a fresh port, unless the port was given."""
        deadline = time.monotonic() + timeout
        races = 0
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                if self.picked and races < PORT_ATTEMPTS and f"port {self.port} is in use" in self.output():
                    races += 1
                    self._out.close()
                    self._spawn(free_port())
                    continue
                raise AssertionError(f"kefu serve exited {self.proc.returncode}: {self.output()}")
            try:
                with urllib.request.urlopen(f"{self.base}/readyz", timeout=1) as r:
                    if r.status == 200 and listens(self.proc.pid, self.port):
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)
        raise AssertionError(f"kefu serve not ready in {timeout}s: {self.output()}")

    def output(self) -> str:
        self._out.flush()
        return self.log.read_text(errors="replace")[-3000:]

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self._out.close()

    def stop(self, timeout: float = 20) -> int:
        end_process(self.proc, grace=timeout)
        if not self._out.closed:
            self._out.close()
        return int(self.proc.returncode)


def children(pid: int) -> dict[int, str]:
    """Linux: the live child processes of `pid`, by pid, with their command names."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            head, _, tail = stat.read_text().rpartition(")")
        except OSError:
            continue  # it exited while we looked
        state, ppid = tail.split()[:2]
        if int(ppid) == pid and state != "Z":
            found[int(stat.parent.name)] = head.partition("(")[2]
    return found


def listens(pid: int, port: int) -> bool:
    """Linux: whether `pid` or one of its children holds the socket listening on `port`."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            fields = row.split()
            if fields[3] == "0A" and int(fields[1].rpartition(":")[2], 16) == port:  # 0A: LISTEN
                inodes.add(f"socket:[{fields[9]}]")
    for owner in (pid, *children(pid)):
        try:
            if any(os.readlink(fd) in inodes for fd in Path(f"/proc/{owner}/fd").iterdir()):
                return True
        except OSError:
            continue  # it exited, or closed that descriptor, while we looked
    return False


def gone(pid: int, timeout: float = 10) -> bool:
    """Linux: whether `pid` has exited (a zombie counts: nobody may reap it) within `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
        except OSError:
            return True
        if state == "Z":
            return True
        time.sleep(0.05)
    return False
