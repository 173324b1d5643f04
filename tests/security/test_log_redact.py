"""router/logsafe.py `SecretFilter` skips its regex scans on a line that cannot hold a secret
(substring tests first) and redacts a record once when it sits on a logger and on a handler.
Both must redact exactly what the plain two scans redact (test_log_secrets.py runs a whole
`kefu serve`; this checks the filter itself on generated lines)."""

from __future__ import annotations

import io
import logging
import random
import re
import uuid

import pytest

from router.logsafe import _SHAPES, REDACTED, SecretFilter, _shape

SECRETS = ["wx-callback-token-88d1", "987654:AAH-fake_bot_token_4d2c", "tg-webhook-secret_e91",
           "alice-agent-token-7f3a9c", "Zyxwvutsrqponmlkjihgfedcba9876543210ABCDEFG"]
PIECES = [
    *SECRETS, "/webhooks/wechat/shop", "/bot987654:AAH-fake_bot_token_4d2c/sendMessage", "/file/bot1:x/a.jpg",
    "/bot", "bot123:abc", "?token=abc", "&session=v1.x", "signature=0a1b", " nonce=n123", "msg_signature=ff",
    "echostr=e", "access_token=T", "appsecret=s", "secret=", "token", "=", "v1.abcd.123.0123456789abcdefghijKLMN",
    "v1.", "v1.a.1.short", '127.0.0.1 "POST ', ' HTTP/1.1" 200 7 0.001s', "这件外套有M码吗", " ", "'", '"', "&",
    "wx-callback-token-88d", "alice-agent-token", "GET /api/v1/conversations", "/ws/agent", "shopbot",
]


def reference(secrets: list[str], text: str) -> str:
    """The filter before the substring tests: both scans on every line."""
    literal = re.compile("|".join(re.escape(s) for s in sorted(secrets, key=len, reverse=True)))
    return _SHAPES.sub(_shape, literal.sub(REDACTED, text))


def test_redaction_is_that_of_both_scans_on_generated_lines() -> None:
    guard = SecretFilter(SECRETS)
    rng = random.Random(21)
    changed = 0
    for _ in range(3000):
        line = "".join(rng.choice(PIECES) for _ in range(rng.randrange(1, 9)))
        want = reference(SECRETS, line)
        assert guard.redact(line) == want, line
        changed += want != line
    assert 1000 < changed < 2900  # both kinds of line were tried: with something to hide, and without


def test_an_access_line_without_secrets_is_left_as_it_is() -> None:
    line = '127.0.0.1 "POST /webhooks/telegram/shopbot HTTP/1.1" 200 0 0.001s'
    assert SecretFilter(SECRETS).redact(line) == line


@pytest.mark.parametrize("message, args", [
    ("sent %s", ("/bot987654:AAH-fake_bot_token_4d2c/sendMessage",)),
    ("agent %s signed in with %s", ("alice", "alice-agent-token-7f3a9c")),
    ("GET /ws/agent?token=%s", ("abc",)),
    ("nothing to hide %d", (7,)),
])
def test_a_record_through_logger_and_handler_is_redacted_once(message: str, args: tuple[object, ...],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    guard = SecretFilter(SECRETS)
    calls: list[str] = []
    plain = guard.redact
    monkeypatch.setattr(guard, "redact", lambda text: calls.append(text) or plain(text))
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(guard)
    # Not a `kefu.*` name: router.logsafe.install(), run by any app an earlier test on this worker
    # started, puts the process-wide filter on every existing kefu.* logger, and that second
    # filter would redact the record once more (rightly: it is another filter).
    log = logging.getLogger(f"test_log_redact.{uuid.uuid4().hex}")
    log.addFilter(guard)
    log.addHandler(handler)
    log.propagate = False
    log.setLevel(logging.INFO)
    try:
        log.info(message, *args)
    finally:
        log.removeHandler(handler)
        log.removeFilter(guard)
    assert len(calls) == 1
    assert out.getvalue().rstrip("\n") == reference(SECRETS, message % args)
    for secret in SECRETS:
        assert secret not in out.getvalue()


def test_another_filter_still_redacts_a_record_the_first_passed() -> None:
    """The mark names the filter that redacted: a second, different filter (secrets added by a
    later install on another handler) is not skipped."""
    first, second = SecretFilter(SECRETS[:1]), SecretFilter(SECRETS[1:])
    record = logging.LogRecord("kefu.x", logging.INFO, __file__, 1, "%s and %s", (SECRETS[0], SECRETS[2]), None)
    assert first.filter(record) and second.filter(record)
    assert record.getMessage() == f"{REDACTED} and {REDACTED}"


def test_the_access_logger_makes_lines_only_when_info_is_on() -> None:
    """aiohttp asks `enabled` before it times and logs an answer: below INFO (`--log-level ERROR`)
    no access line is made at all; at INFO each answer still gets its line."""
    from router.logsafe import AccessLog

    logger = logging.getLogger(f"kefu.test.access.{uuid.uuid4().hex}")
    try:
        logger.setLevel(logging.ERROR)
        assert AccessLog(logger, "").enabled is False
        logger.setLevel(logging.INFO)
        assert AccessLog(logger, "").enabled is True
    finally:
        logging.root.manager.loggerDict.pop(logger.name, None)
