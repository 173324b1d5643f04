"""A Lua script's refusal becomes one ProtocolError shape wherever it is raised."""

from __future__ import annotations

import pytest

from kefu_common.errors import ProtocolError


@pytest.mark.parametrize(("reason", "code", "detail", "status"), [
    ("unknown_conversation", "unknown_conversation", "cannot close c1: unknown conversation", 404),
    ("unknown_pool", "unknown_pool", "cannot close c1: unknown pool", 404),
    ("not_assigned_to_you", "not_assigned_to_you", "cannot close c1: not assigned to you", 409),
    # A reason that is a sentence keeps its words (an agent id's underscore too) and gets a code.
    ("already assigned to bo_b", "already_assigned_to_bo_b", "cannot close c1: already assigned to bo_b", 409),
])
def test_reason_becomes_code_detail_and_status(reason: str, code: str, detail: str, status: int) -> None:
    exc = ProtocolError.refusal(reason, "close c1")
    assert (exc.code, exc.detail, exc.status) == (code, detail, status)


def test_statuses_and_default_decide_what_is_not_unknown() -> None:
    assert ProtocolError.refusal("not_assigned_to_you", "x", {"not_assigned_to_you": 403}).status == 403
    assert ProtocolError.refusal("closed", "x", default=404).status == 404
    assert ProtocolError.refusal("unknown_agent", "x", {"not_assigned_to_you": 403}).status == 404
