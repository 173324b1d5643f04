"""Conversations' keys: their routing state in ``{rt:NS}``, the archive's queue beside it, and each
conversation's transcript in its own ``{t:NS:<conversation>}``.
"""

from __future__ import annotations

from router.store.keys.base import KeysBase


class ConversationKeys(KeysBase):
    """Keys of conversations, their archiving and their transcripts."""

    __slots__ = ()

    def conv(self, cid: str) -> str:
        """Hash: one conversation's routing state (see router.models.Conversation)."""
        return f"{self.rt}conv:{cid}"

    @property
    def conv_index(self) -> str:
        """Sorted set: conversation id by last update, for listing without SCAN."""
        return f"{self.rt}convs"

    def conv_trail(self, cid: str) -> str:
        """List: the conversation's assignments, queueings and transfers in order (JSON), kept
        only until it is archived; the hash holds just the latest."""
        return f"{self.rt}conv:{cid}:trail"

    def conv_readers(self, cid: str) -> str:
        """Set: agents named with @ in the conversation's notes, and agents who transferred it
        away, who may read it (and write notes in it) though it is not theirs; dropped with the
        conversation at retention, kept by the archive (its `readers` column)."""
        return f"{self.rt}conv:{cid}:readers"

    def applied(self, mid: str) -> str:
        """String: marks an inbound message as routed, so a re-read entry has no second effect."""
        return f"{self.rt}applied:{mid}"

    # The archive's queue and retention, in {rt}: a close enqueues in its own script.

    @property
    def archive_queue(self) -> str:
        """Stream: closed conversations (id, close version) waiting to be written to the archive;
        close.lua and bot_close.lua add to it in the same step as the close."""
        return f"{self.rt}archive:queue"

    @property
    def archive_done(self) -> str:
        """Sorted set: archived conversation id -> its close time, what retention reads to find
        conversations whose Redis keys may go."""
        return f"{self.rt}archive:done"

    @property
    def archive_tries(self) -> str:
        """Hash: archive queue entry id -> failed tries while the database answered, so a poison
        conversation is retried a bounded number of times whichever process takes it back."""
        return f"{self.rt}archive:tries"

    @property
    def archive_dead_letters(self) -> str:
        """Stream: archive queue entries that failed `max_tries` times with the database up, with
        the reason; in {rt} with the queue, so moving one there and acking it is one transaction."""
        return f"{self.rt}archive:dead-letters"

    @property
    def archive_purging(self) -> str:
        """Hash: conversation id -> JSON {channel, chat, closed_at}: its routing keys are gone
        and its transcript and feed (other slots) are still to delete; a crash resumes here."""
        return f"{self.rt}archive:purging"

    # Transcript {t:NS:cid}: the bulk data, spread across slots.

    def transcript(self, cid: str) -> str:
        """Stream: the conversation's messages in order, with notes."""
        return f"{{t:{self.ns}:{cid}}}:log"

    @property
    def transcript_channel(self) -> str:
        """Pub/sub: 'conversation id\nentry id\n' as a line lands in a transcript, so a supervisor
        following it live reads it at once instead of asking again and again (watch_ws.py)."""
        return f"{self.rt}events:transcript"

    def transcript_ids(self, cid: str) -> str:
        """Hash: message id -> transcript entry id, to append each message once."""
        return f"{{t:{self.ns}:{cid}}}:ids"

    def delivery(self, cid: str) -> str:
        """Hash: message id -> delivery status JSON (sent / failed + reason)."""
        return f"{{t:{self.ns}:{cid}}}:delivery"

    def attachments(self, cid: str) -> str:
        """Hash: message id -> the file fetched for a customer's message (a MediaRef as JSON), or
        why it could not be (`{"error": ...}`). Beside the stream, since a stream entry cannot be
        changed, and the fetch ends after the message was appended (router/pipeline/media_fetch.py)."""
        return f"{{t:{self.ns}:{cid}}}:media"
