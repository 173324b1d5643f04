"""The customer's language for queue texts and promises: read from their latest lines once per
conversation and remembered for a while, not read again for every text at the peak."""

from __future__ import annotations

import pytest

from router.models import Channel, Message, new_id
from router.pipeline import transcript as transcript_mod
from router.pipeline.transcript import Transcript
from router.store import Store


def line(cid: str, text: str) -> Message:
    return Message(id=new_id("m"), channel=Channel("webchat"), account="web", native_id=new_id("n"), sender_ref="v1", text=text,
                   conversation_id=cid)


async def test_language_is_read_once_per_conversation_then_again_after_its_ttl(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    t = Transcript(store)
    reads: list[str] = []
    messages = t.messages

    async def counted(cid: str, limit: int = 500) -> list[Message]:
        reads.append(cid)
        return await messages(cid, limit)

    monkeypatch.setattr(t, "messages", counted)
    now = [1000.0]
    monkeypatch.setattr(transcript_mod.time, "monotonic", lambda: now[0])
    convs = [f"c_lang{i}" for i in range(300)]
    for i, cid in enumerate(convs):
        await t.append(line(cid, "where is my parcel, please?" if i % 2 else "我的快递到哪了"))
    for _ in range(5):  # five queue texts each
        assert [await t.customer_language(cid) for cid in convs] == ["en" if i % 2 else "zh" for i in range(300)]
    assert len(reads) == 300

    # The customer switches language; after the TTL the next text follows.
    await t.append(line(convs[0], "hello, is anyone there?"))
    assert await t.customer_language(convs[0]) == "zh"
    now[0] += transcript_mod.LANGUAGE_TTL_S + 1
    assert await t.customer_language(convs[0]) == "en"
    assert len(reads) == 301
