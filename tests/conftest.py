"""Shared fixtures: a private redis-server per test, never the shared one on 6379."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

sys.path.insert(0, str(Path(__file__).parent))

from helpers.fake_wechat import FakeWechat, fake_wechat
from helpers.pg import private_database
from helpers.redis_cluster import Backend, RedisCluster, system_redis_server
from helpers.redis_server import RedisServer

from router.store import Store

# Property tests check behaviour, not speed: on a busy 2-core CI machine a per-example deadline
# only makes them flaky. Speed is measured in bench/.
settings.register_profile("kefu", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("kefu")


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def redis_url(redis_server: RedisServer) -> AsyncIterator[str]:
    yield redis_server.url


@pytest.fixture
async def store(redis_url: str) -> AsyncIterator[Store]:
    """The router's store on this test's private Redis."""
    s = Store(redis_url)
    await s.open()
    try:
        yield s
    finally:
        await s.close()


@pytest.fixture
async def wx_api() -> AsyncIterator[FakeWechat]:
    """A fake WeChat API (tokens, customer-service sends) on loopback."""
    async with fake_wechat() as fake:
        yield fake


@pytest.fixture(params=["standalone", "cluster"])
def routing_redis_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The routing scripts' tests run on a plain server and on a Cluster node: the same scripts
    must run on both (Redis Cluster is a supported production store)."""
    server = RedisServer(tmp_path / "redis", appendonly=False, cluster=request.param == "cluster")
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
async def archive_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """One archive suite, both databases: SQLite in tmp, and a private PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'archive.db'}"
        return
    async with private_database() as url:
        yield url


def start_cluster(tmp_path: Path) -> RedisCluster:
    binary, why = system_redis_server()
    if binary is None:
        pytest.skip(f"Redis Cluster tests need redis-server >= 7: {why}")
    cluster = RedisCluster(tmp_path / "cluster")
    cluster.start()
    return cluster


@pytest.fixture
def redis_cluster(tmp_path: Path) -> Iterator[RedisCluster]:
    """3 masters + 3 replicas of the machine's redis-server 7, private to this test."""
    cluster = start_cluster(tmp_path)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(params=["single", "cluster"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """The multi-process tests run on one plain Redis and on a real 3+3 Cluster."""
    if request.param == "single":
        server = RedisServer(tmp_path / "redis")
        server.start()
        try:
            yield Backend("single", server.url)
        finally:
            server.stop()
        return
    cluster = start_cluster(tmp_path)
    try:
        yield Backend("cluster", cluster.url, cluster)
    finally:
        cluster.stop()
