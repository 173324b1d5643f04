"""Messages and replies carry a media ref (the config's `media:` errors: tests/router/test_config_errors.py)."""

from __future__ import annotations

import msgspec
import pytest

from router.models import WEBCHAT, Kind, MediaRef, Message, Reply, decode_message, encode_message

REF = MediaRef(id="md_" + "a" * 32, kind=Kind.IMAGE, mime="image/jpeg", size=1234, name="seam.jpg",
               width=640, height=480, conversation="c_1", channel="webchat", thumb=True)


def test_a_message_carries_its_media_in_frames_and_through_redis() -> None:
    m = Message(id="m_1", channel=WEBCHAT, account="web", native_id="v:1", sender_ref="v", kind=Kind.IMAGE,
                media=REF)
    assert decode_message(encode_message(m)) == m
    assert m.public()["media"] == {"id": REF.id, "url": f"/api/v1/media/{REF.id}", "mime": "image/jpeg",
                                   "size": 1234, "name": "seam.jpg", "width": 640, "height": 480,
                                   "thumb_url": f"/api/v1/media/{REF.id}?thumb=1"}
    assert m.public()["kind"] == "image"


def test_a_reply_carries_media_beside_its_text() -> None:
    r = Reply(id="r_1", conversation_id="c_1", customer_id="cu_1", channel=WEBCHAT, account="web", chat="v",
              text="like this one?", author="alice", kind=Kind.IMAGE, media=REF)
    out = r.public()
    assert (out["kind"], out["text"], out["agent_id"]) == ("image", "like this one?", "alice")
    assert msgspec.json.decode(msgspec.json.encode(r), type=Reply) == r


def test_a_message_stored_before_media_refs_still_reads() -> None:
    old = (b'{"id":"m_0","channel":"telegram","account":"shopbot","native_id":"5","sender_ref":"7",'
           b'"kind":"image","media":"AgACAgIAAx","ts":1.0}')
    m = decode_message(old)
    assert (m.kind, m.media, m.native_media) == (Kind.IMAGE, None, "AgACAgIAAx")
    with pytest.raises(msgspec.ValidationError):
        decode_message(b'{"id":"m_0","channel":"x","account":"a","native_id":"5","sender_ref":"7","ts":"soon"}')
