"""Issue 16, Security: passwords, TOTP secrets and codes, and API keys never appear in the log,
the audit log (Redis and its API), `kefu export-config`'s files, or what the API shows of agents;
Redis holds no password or key in the clear (a TOTP secret must stay readable to check codes)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import aiohttp
import pyotp
import pytest
from helpers.accounts import ADMIN_PASSWORD, ADMIN_TOKEN, call, create_agent, login, shop_settings, shop_yaml
from helpers.app import running

from router.archive.audit import AuditFilter
from router.cli.main import main


async def test_no_secret_reaches_the_log_the_audit_log_the_export_or_the_api(
        redis_url: str, caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    caplog.set_level(logging.DEBUG)
    t0 = 1_800_000_000.0
    secrets: list[str] = [ADMIN_PASSWORD]
    async with running(shop_settings("accounts:\n  slow_base_s: 0\n"), redis_url) as (rt, base), \
            aiohttp.ClientSession() as http:
        rt.accounts.totp.clock = lambda: t0
        made = await create_agent(http, base, ADMIN_TOKEN, id="carol", name="Carol", pools=["presale"],
                                  password="carol-first-pass-1")
        secrets.append("carol-first-pass-1")
        assert made["agent"]["id"] == "carol"
        token = (await login(http, base, "carol", "carol-first-pass-1"))[2]["token"]
        secrets.append(token)
        enrol = (await call(http, "POST", f"{base}/api/v1/account/totp", token))[2]
        secrets.append(enrol["secret"])
        code = pyotp.TOTP(enrol["secret"]).at(t0)
        assert (await call(http, "POST", f"{base}/api/v1/account/totp/confirm", token, {"otp": code}))[0] == 200
        status, _, _ = await call(http, "POST", f"{base}/api/v1/account/password", token,
                                  {"old": "carol-first-pass-1", "new": "carol-second-pass-2"})
        assert status == 200
        secrets.append("carol-second-pass-2")
        key = (await call(http, "POST", f"{base}/api/v1/account/keys", ADMIN_TOKEN, {"label": "crm"}))[2]["key"]
        secrets.append(key)
        reset = (await call(http, "POST", f"{base}/api/v1/agents/carol/password", ADMIN_TOKEN, {}))[2]["password"]
        secrets.append(reset)
        assert (await login(http, base, "carol", "a-wrong-guess-99"))[0] == 401
        secrets.append("a-wrong-guess-99")
        shown = [str((await call(http, "GET", f"{base}/api/v1/agents", ADMIN_TOKEN))[2]),
                 str((await call(http, "GET", f"{base}/api/v1/audit?limit=200", ADMIN_TOKEN))[2])]
        entries, _, _ = await rt.audit.query(AuditFilter(), None, 200)
        actions = {e["action"] for e in entries}
        assert {"agent.create", "login", "account.totp_enrol", "account.password", "account.key_create",
                "agent.password_reset", "login.failed"} <= actions, actions
        shown.append(str(entries))
        stored = []
        async for name in rt.store.client.scan_iter(match="*"):
            kind = await rt.store.client.type(name)
            if kind == "hash":
                stored.append(str(await rt.store.client.hgetall(name)))
            elif kind == "string":
                stored.append(str(await rt.store.client.get(name)))
            elif kind == "stream":
                stored.append(str(await rt.store.client.xrange(name)))
    cfg = tmp_path / "kefu.yaml"
    cfg.write_text(shop_yaml("accounts:\n  slow_base_s: 0\n"))
    out = tmp_path / "export"
    assert await asyncio.to_thread(main, ["export-config", "--config", str(cfg), "--redis-url", redis_url,
                                          "--out", str(out)]) == 0
    exported = "\n".join(f.read_text() for f in sorted(out.iterdir()))
    assert "carol" in exported and "$argon2" not in exported  # not even the config's seed hash
    shown.append(exported)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in secrets:
        assert secret not in logged, f"a secret reached the log: {secret[:4]}…"
        for text in shown:
            assert secret not in text, f"a secret reached an answer or the audit log: {secret[:4]}…"
    totp_secret = secrets[3]
    for secret in secrets:
        if secret in (totp_secret, secrets[2]):
            continue  # the TOTP secret stays readable in Redis; the session token is a signed id
        assert not any(secret in s for s in stored), f"a secret is stored in the clear: {secret[:4]}…"
    assert not any(totp_secret in s for s in stored if "audit" in s)
