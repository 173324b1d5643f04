"""The audit log on a real Redis and both archive databases: secrets never stored, filters,
paging newest first from the Redis stream on into the archive once Redis has trimmed."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest

from router.archive import audit as archived
from router.archive.audit import AuditCopier, AuditFilter
from router.archive.db import Archive
from router.auth import Principal
from router.models import Role
from router.ops.audit import REDACTED, Audit, scrub
from router.store import Store

ADA = Principal("ada", "Ada", Role.ADMIN)
SUE = Principal("sue", "Sue", Role.SUPERVISOR)


def test_scrub_hides_secret_fields_at_any_depth() -> None:
    given = {"name": "Al", "password": "hunter2hunter2", "nested": {"totp_secret": "JBSWY3DP", "otp": "123456",
             "keys": [{"api_key": "k_live_1", "label": "ci"}]}, "token_env": "KEFU_TOKEN_AL",
             "password_hash": "$argon2id$...", "Authorization": "Bearer x", "cap": 5, "empty_secret": ""}
    out = scrub(given)
    assert out["name"] == "Al" and out["cap"] == 5
    for value in (out["password"], out["nested"]["totp_secret"], out["nested"]["otp"],
                  out["nested"]["keys"][0]["api_key"], out["token_env"], out["password_hash"], out["Authorization"]):
        assert value == REDACTED
    assert out["nested"]["keys"][0]["label"] == "ci"
    assert out["empty_secret"] == ""  # nothing to hide: a reader sees it was cleared
    text = repr(out)
    assert not any(s in text for s in ("hunter2", "JBSWY3DP", "123456", "k_live_1", "argon2", "Bearer"))


async def test_record_filter_and_page_across_redis_and_archive(store: Store, archive_url: str) -> None:
    archive = Archive(archive_url)
    await archive.migrate()
    clock = itertools.count(1_700_000_000)
    # A tiny cap, so the stream forgets the oldest entries and the archive must answer for them.
    audit = Audit(store, archive, max_entries=1, clock=lambda: float(next(clock)))
    copier = AuditCopier(store, archive)
    try:
        for i in range(120):
            who = ADA if i % 2 else SUE
            action = "rules.activate" if i % 3 == 0 else "pool.update"
            await audit.record(who, action, f"pool-{i % 4}", before={"cap": i}, after={"cap": i + 1,
                               "password": "s3cret-pass"}, addr=f"10.0.0.{i % 7}", detail={"i": i})
            await copier.copy_once()  # it keeps up (a record wakes it): the cap is tiny here
        while await copier.copy_once():
            pass
        assert await copier.copy_once() is False
        assert await store.audit.length() < 120  # trimmed: the old pages come from the archive
        assert await archived.newest_id(archive) == (await store.audit.newest_first("+", 1))[0][0]

        # Every entry, newest first, in pages of 7: each exactly once, from both places.
        seen: list[dict[str, object]] = []
        cursor = None
        while True:
            page, cursor, complete = await audit.query(AuditFilter(), cursor, 7)
            assert complete and len(page) <= 7
            seen += page
            if cursor is None:
                break
        assert [e["detail"] for e in seen] == [{"i": i} for i in reversed(range(120))]
        assert len({e["id"] for e in seen}) == 120
        first = seen[-1]
        assert first["actor"] == "sue" and first["actor_name"] == "Sue" and first["role"] == "supervisor"
        assert first["addr"] == "10.0.0.0" and first["before"] == {"cap": 0}
        assert first["after"] == {"cap": 1, "password": REDACTED}
        assert first["at"] == 1_700_000_000.0

        async def every(f: AuditFilter) -> list[int]:
            out: list[int] = []
            cursor = None
            while True:
                page, cursor, _ = await audit.query(f, cursor, 5)
                out += [int(e["detail"]["i"]) for e in page]  # type: ignore[index]
                if cursor is None:
                    return out

        assert await every(AuditFilter(actor="ada")) == [i for i in reversed(range(120)) if i % 2]
        assert await every(AuditFilter(action="rules.*")) == [i for i in reversed(range(120)) if i % 3 == 0]
        assert await every(AuditFilter(action="rules.activate", target="pool-1")) == \
            [i for i in reversed(range(120)) if i % 3 == 0 and i % 4 == 1]
        since, until = 1_700_000_010.0, 1_700_000_019.0
        assert await every(AuditFilter(since=since, until=until)) == list(reversed(range(10, 20)))
        assert await every(AuditFilter(actor="nobody")) == []
    finally:
        await archive.aclose()


async def test_copier_writes_each_entry_once_when_two_race(store: Store, archive_url: str) -> None:
    archive = Archive(archive_url)
    await archive.migrate()
    audit = Audit(store, archive)
    try:
        for i in range(30):
            await audit.record(None, "account.lock", f"agent-{i}", detail={"failures": 5}, addr="192.0.2.1")
        a, b = AuditCopier(store, archive), AuditCopier(store, archive)
        await a.copy_once()
        await b.copy_once()
        await archived.write(archive, [archived.row_of(eid, f) for eid, f in await store.audit.after("0-0", 100)])
        rows = await archived.page(archive, AuditFilter(), None, 100)
        assert len(rows) == 30 and rows[0]["target"] == "agent-29" and rows[0]["actor"] == ""
    finally:
        await archive.aclose()


async def test_an_idle_copier_looks_less_often_and_a_record_wakes_it(store: Store, archive_url: str,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing to copy: each look waits twice as long as the last, up to the most. A record made in
    this process wakes it at once all the same; the archive's newest entry is asked once, not on
    every look."""
    archive = Archive(archive_url)
    await archive.migrate()
    audit = Audit(store, archive)
    copier = AuditCopier(store, archive, poll_s=0.05, max_poll_s=0.8)
    audit.on_record.append(copier.wake)
    looks: list[float] = []
    asked: list[str] = []
    copy_once, newest = copier.copy_once, archived.newest_id

    async def counted() -> bool:
        looks.append(time.monotonic())
        return await copy_once()

    async def newest_counted(a: Archive) -> str:
        asked.append("newest")
        return await newest(a)

    monkeypatch.setattr(copier, "copy_once", counted)
    monkeypatch.setattr(archived, "newest_id", newest_counted)
    task = asyncio.create_task(copier.run())
    try:
        await asyncio.sleep(3.0)
        # 0.05 + 0.1 + 0.2 + 0.4 + 0.8 + 0.8 + ...: about 6 looks in 3 s; every 0.05 s would be 60.
        assert 4 <= len(looks) <= 9, looks
        gaps = [b - a for a, b in itertools.pairwise(looks)]
        assert gaps[-1] >= 0.7
        await audit.record(ADA, "pool.update", "pool-1", before={"cap": 1}, after={"cap": 2})
        async with asyncio.timeout(0.5):  # woken: well before the 0.8 s look
            while copier.copied < 1:
                await asyncio.sleep(0.01)
        assert (await archived.page(archive, AuditFilter(), None, 10))[0]["target"] == "pool-1"
        assert asked == ["newest"]
    finally:
        copier.stop()
        await task
        await archive.aclose()
