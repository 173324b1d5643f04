"""Who reads a whisper (issue 19): live, the agent it was for and supervisors; once archived (where
the agent it was for is not kept), supervisors alone. Other notes stay as they were."""

from __future__ import annotations

from router.archive.db import message_view
from router.archive.snapshot import _direction
from router.models import Direction, Message, Sender
from router.ops.supervise import visible


def _note(raw: dict[str, object] | None) -> Message:
    return Message(id="n_1", channel="webchat", account="web", native_id="n_1", sender_ref="v1",
                   direction=Direction.NOTE, sender=Sender.AGENT, text="先安抚", ts=1.0, conversation_id="c_1",
                   agent_id="sue", raw=raw)


def test_live_whisper_is_for_its_agent_and_supervisors() -> None:
    w = _note({"whisper": {"to": "alice"}})
    assert w.whisper_to() == "alice"
    view = w.public()
    assert view["note"] is True and view["whisper"] is True and view["whisper_to"] == "alice"
    assert visible([view], "alice", False) == [view]
    assert visible([view], "bob", False) == []
    assert visible([view], "sue", True) == [view]
    plain = _note(None).public()
    assert "whisper" not in plain and visible([plain], "bob", False) == [plain]


def test_archived_whisper_is_for_supervisors_only() -> None:
    assert _direction(_note({"whisper": {"to": "alice"}})) == "whisper"
    assert _direction(_note(None)) == "note"
    row = {"id": "n_1", "sender": "agent", "text": "先安抚", "ts": 1.0, "kind": "text", "media": None,
           "author": "sue", "direction": "whisper", "delivery": None}
    view = message_view(row)
    assert view["note"] is True and view["whisper"] is True
    assert visible([view], "alice", False) == []
    assert visible([view], "sue", True) == [view]
    assert "whisper" not in message_view({**row, "direction": "note"})
