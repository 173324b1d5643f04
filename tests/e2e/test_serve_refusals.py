"""`kefu serve` refuses what it cannot do in one line and a non-zero exit, before it starts
anything: a busy port, a data dir it cannot write, a partition count the streams were not
written with."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from helpers.redis_server import free_port

from router.models import WEBCHAT, Message
from router.pipeline.ingest import Ingestor
from router.store import Store
from router.store.keys import INBOUND_GROUP


def serve(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_")}
    return subprocess.run([sys.executable, "-m", "router", "serve", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)


def test_busy_port_is_one_line_before_anything_starts(tmp_path: Path) -> None:
    port = free_port()
    data = tmp_path / "data"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        done = serve(tmp_path, "--port", str(port), "--data-dir", str(data))
    assert done.returncode == 1
    assert done.stderr == f"kefu: port {port} is in use\n"
    assert "serving" not in done.stdout
    # Nor did the embedded Redis start: the demo's tokens are all it wrote.
    assert sorted(p.name for p in data.iterdir()) == ["demo-tokens.json"]


def test_data_dir_that_cannot_be_created_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    done = serve(tmp_path, "--port", str(free_port()), "--data-dir", str(blocker / "data"))
    assert done.returncode == 1
    assert done.stderr == f"kefu: data dir {blocker / 'data'} is not writable: Not a directory\n"


def test_read_only_data_dir_is_one_line(tmp_path: Path) -> None:
    """A data dir on a read-only mount (root ignores file modes, so a mount it is)."""
    done = serve(tmp_path, "--port", str(free_port()), "--data-dir", "/proc/kefu-data")
    assert done.returncode == 1
    assert done.stderr.startswith("kefu: data dir /proc/kefu-data is not writable: ")
    assert done.stderr.count("\n") == 1


async def test_another_partition_count_while_entries_wait_is_one_line(tmp_path: Path, redis_url: str) -> None:
    """A line accepted with one stream, not yet routed: `redis.partitions: 3` is refused in one
    line that says what to do, and the waiting line is still there."""
    store = Store(redis_url)
    await store.open()
    try:
        await store.streams.ensure_group(store.keys.inbound, INBOUND_GROUP)
        await Ingestor(store).ingest(Message(id="m1", channel=WEBCHAT, account="web", native_id="n1",
                                             sender_ref="v1", text="你好"))
        cfg = tmp_path / "kefu.yaml"
        cfg.write_text("redis:\n  partitions: 3\n")
        done = serve(tmp_path, "--port", str(free_port()), "--config", str(cfg), "--redis-url", redis_url)
        assert done.returncode == 1
        assert done.stderr == ("kefu: redis.partitions is 3 but the streams still hold 1 entries written with 1: "
                               'run with redis.partitions: 1 until they are drained (docs/operations.md, '
                               '"Partitions")\n')
        assert await store.client.xlen(store.keys.inbound) == 1
    finally:
        await store.close()
