"""A private S3 emulator for tests: moto's server mode, a child process on a free loopback port."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from helpers.ending import end_process
from helpers.procs import listens
from helpers.redis_server import PORT_ATTEMPTS, free_port
from router.childproc import die_with_parent
from router.config.media import S3Settings


class MotoServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> None:
        """Until this moto listens. Another worker's server may take the port between our pick
        and moto's bind (moto then exits): start again on a fresh port."""
        deadline = time.monotonic() + timeout
        for _ in range(PORT_ATTEMPTS):
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=die_with_parent())
            while time.monotonic() < deadline and self.proc.poll() is None:
                if listens(self.proc.pid, self.port):
                    return
                time.sleep(0.1)
            if self.proc.poll() is None:
                break
            self.port = free_port()
            self.url = f"http://127.0.0.1:{self.port}"
        raise RuntimeError(f"moto server did not listen on {self.port} within {timeout}s")

    def stop(self) -> None:
        if self.proc is not None:
            end_process(self.proc)

    def bucket(self) -> S3Settings:
        """A new, empty bucket of its own: tests sharing one server never see each other's files."""
        import boto3  # moto's own dependency; a plain client suffices to create the bucket

        name = f"kefu-{uuid.uuid4().hex[:16]}"
        client = boto3.client("s3", endpoint_url=self.url, region_name="us-east-1",
                              aws_access_key_id="test", aws_secret_access_key="test")
        client.create_bucket(Bucket=name)
        return S3Settings(bucket=name, endpoint_url=self.url, access_key_id="test", secret_access_key="test",
                          prefix="shop1/")


@contextmanager
def moto_server() -> Iterator[MotoServer]:
    server = MotoServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
