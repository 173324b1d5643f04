"""`KEFU_*` environment over the file over the default, in one place (router/config/environment.py)."""

from __future__ import annotations

import pytest

from kefu_common.errors import ConfigErrors
from router.config.environment import names
from router.config.settings import Settings, parse_settings

FILE = """
pools: [{id: presale}]
agents: [{id: alice, token: alice-token-1234, pools: [presale]}]
worker: {max_tries: 4}
redis: {namespace: fileshop}
"""


def test_environment_over_file_over_default(monkeypatch: pytest.MonkeyPatch) -> None:
    plain = parse_settings(FILE)
    assert plain.worker.max_tries == 4  # the file
    assert plain.worker.batch_size == 100  # the default
    assert plain.redis.url is None
    monkeypatch.setenv("KEFU_WORKER_MAX_TRIES", "7")
    monkeypatch.setenv("KEFU_WORKER_BATCH_SIZE", "20")
    monkeypatch.setenv("KEFU_REDIS_URL", "redis://10.0.0.5:6380/0")
    monkeypatch.setenv("KEFU_CHANNELS_WEBCHAT_ENABLED", "false")
    monkeypatch.setenv("KEFU_OPS_DISCONNECT_GRACE_S", "2.5")
    s = parse_settings(FILE)
    assert s.worker.max_tries == 7 and s.worker.batch_size == 20
    assert s.redis.url == "redis://10.0.0.5:6380/0" and s.redis.namespace == "fileshop"
    assert s.channels.webchat.enabled is False
    assert s.ops.disconnect_grace_s == 2.5
    assert s.worker.claim_idle_ms == 30_000  # neither: the default stays


def test_a_bad_value_is_refused_with_its_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEFU_WORKER_MAX_TRIES", "many")
    with pytest.raises(ConfigErrors) as err:
        parse_settings(FILE)
    assert str(err.value).startswith("<environment>:1:1: KEFU_WORKER_MAX_TRIES='many': Expected `int`")


def test_every_name_is_one_setting_and_none_is_a_flag() -> None:
    table = names(Settings)
    assert table["KEFU_REDIS_URL"][0] == ("redis", "url")
    assert table["KEFU_CHANNELS_WEBCHAT_SECRET"][0] == ("channels", "webchat", "secret")
    assert not {"KEFU_HOST", "KEFU_PORT", "KEFU_DATA_DIR", "KEFU_LOG_LEVEL"} & set(table)
    assert not any(path[0] in ("pools", "agents", "shifts") for path, _ in table.values())
