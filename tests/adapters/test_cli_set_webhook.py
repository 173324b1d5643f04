"""`kefu telegram set-webhook BOT URL` against the fake Bot API."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from helpers.fake_telegram import FakeTelegram

from router.cli.main import main
from tests.adapters.support import TG_SECRET


def config(tmp_path: Path, api: FakeTelegram) -> str:
    path = tmp_path / "kefu.yaml"
    path.write_text(f"""
channels:
  telegram:
    - bot: shopbot
      token_env: KEFU_TEST_TG_TOKEN
      secret_token: {TG_SECRET}
      api_base: {api.base}
""", "utf-8")
    return str(path)


async def test_set_webhook(tmp_path: Path, tg_api: FakeTelegram, monkeypatch: pytest.MonkeyPatch,
                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("KEFU_TEST_TG_TOKEN", tg_api.token)
    url = "https://shop.example/webhooks/telegram/shopbot"
    args = ["telegram", "set-webhook", "shopbot", url, "--config", config(tmp_path, tg_api)]
    assert await asyncio.to_thread(main, args) == 0
    assert tg_api.webhook == {"url": url, "secret_token": TG_SECRET,
                              "allowed_updates": ["message", "edited_message", "callback_query"]}
    assert "webhook set" in capsys.readouterr().out


async def test_unknown_bot_names_the_known_ones(tmp_path: Path, tg_api: FakeTelegram,
                                                monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("KEFU_TEST_TG_TOKEN", tg_api.token)
    args = ["telegram", "set-webhook", "otherbot", "https://x", "--config", config(tmp_path, tg_api)]
    assert await asyncio.to_thread(main, args) == 1
    assert "bots: shopbot" in capsys.readouterr().err
    assert tg_api.webhook is None


async def test_refusal_is_reported(tmp_path: Path, tg_api: FakeTelegram, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("KEFU_TEST_TG_TOKEN", "999:WRONG")
    args = ["telegram", "set-webhook", "shopbot", "https://x", "--config", config(tmp_path, tg_api)]
    assert await asyncio.to_thread(main, args) == 1
    assert "refused" in capsys.readouterr().err
