"""The streams: inbound in ``{in:NS}`` (one script: dedupe + XADD), outbound in ``{out:NS}`` with its
dead letters, reply idempotency and per-conversation send order; partition P >= 1 in
``{in:NS:P}`` and ``{out:NS:P}``. And the replication barrier each tag has.
"""

from __future__ import annotations

from router.store.keys.base import KeysBase


class StreamKeys(KeysBase):
    """Keys of the inbound and outbound streams and the replication barriers."""

    __slots__ = ()

    @property
    def inbound(self) -> str:
        """Stream: every accepted customer message, consumed by the route workers."""
        return f"{self._in}:stream"

    def inbound_seen(self, dedupe_key: str) -> str:
        """String: (channel, account, native id) -> our message id, so retries are accepted once."""
        return f"{self._in}:seen:{dedupe_key}"

    def inbound_line(self, ident: str) -> str:
        """Counter: lines accepted from one customer identity ('channel:account:user'); ingest
        numbers each entry with it, so the route workers route a conversation's lines in order
        whichever process reads which."""
        return f"{self._in}:n:{ident}"

    def inbound_routed(self, ident: str) -> str:
        """String: the number of the identity's last line routed; line n waits for n-1."""
        return f"{self._in}:routed:{ident}"

    @property
    def inbound_tries(self) -> str:
        """Hash: inbound entry id -> failed tries, so a poison entry is retried a bounded number
        of times whichever process takes it back."""
        return f"{self._in}:tries"

    @property
    def inbound_dead_letters(self) -> str:
        """Stream: inbound entries that could not be parsed or routed, with the reason; in {in},
        so moving one there and acking it is one transaction."""
        return f"{self._in}:dead-letters"

    @property
    def stream_partitions(self) -> str:
        """String: how many partitions the streams were last consumed as (`redis.partitions`); a
        process with another count refuses to start while entries wait in the old ones. Absent
        until the count first differs from 1."""
        return f"{{in:{self.ns}}}:partitions"

    # Outbound {out}.

    @property
    def outbound(self) -> str:
        """Stream: the outbox of replies, consumed by the senders."""
        return f"{self._out}:stream"

    @property
    def dead(self) -> str:
        """Stream: replies that ran out of attempts, for a person to look at."""
        return f"{self._out}:dead"

    @property
    def outbound_tries(self) -> str:
        """Hash: outbound entry id -> failed tries (a send that raised, not a channel refusal)."""
        return f"{self._out}:tries"

    @property
    def outbound_dead_letters(self) -> str:
        """Stream: outbound entries that could not be parsed or handled, with the reason. Replies a
        channel refused go to `dead`: those were handled, and the agent saw them fail."""
        return f"{self._out}:dead-letters"

    def outbound_seen(self, author: str, client_msg_id: str) -> str:
        """String: an author's client_msg_id -> message id, so a resent reply is accepted once."""
        return f"{self._out}:seen:{author}:{client_msg_id}"

    def outbound_seq(self, cid: str) -> str:
        """Counter: order number of the next reply in a conversation."""
        return f"{self._out}:seq:{cid}"

    def outbound_done(self, cid: str) -> str:
        """String: highest reply order number finished (sent or dead) in a conversation."""
        return f"{self._out}:done:{cid}"

    def outbound_sent(self, mid: str) -> str:
        """String: the channel took this reply; a re-read outbox entry is not sent again."""
        return f"{self._out}:sent:{mid}"

    def reply_parts(self, reply_id: str) -> str:
        """String: how many parts of a split reply the channel took, so an outbox retry of the
        reply does not send those parts again (adapters.base.Adapter.send)."""
        return f"{self._out}:parts:{reply_id}"

    # Replication barriers: one per tag.

    @staticmethod
    def barrier(key: str) -> str:
        """Counter: written just before a WAIT, in the slot of `key`. WAIT covers the writes of
        its own connection; one write on that connection moves its mark to the master's offset,
        so WAIT then covers every earlier write to that master, by any connection."""
        start, end = key.find("{"), key.find("}")
        return f"{key[start:end + 1]}:barrier"
