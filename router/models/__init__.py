"""The normalised model every channel is translated into.

Values are frozen msgspec structs: cheap to build on the hot path, and encoded to JSON for Redis
and frames without a hand-written serializer. States are `str` enums so they read well in Redis.

Three modules, every name importable from here as before: base.py (a channel's name, ids),
messages.py (messages, replies, files and cards, and how a message is kept in Redis) and state.py
(customers, conversations, agents and their states).
"""

from __future__ import annotations

from router.models.base import WEBCHAT, Channel, could_be_id, new_id
from router.models.messages import (
    Direction,
    Kind,
    MediaRef,
    Message,
    PageCard,
    Reply,
    Sender,
    decode_message,
    encode_message,
)
from router.models.state import Agent, AgentStatus, Conversation, ConversationState, Customer, Role

__all__ = [
    "WEBCHAT",
    "Agent",
    "AgentStatus",
    "Channel",
    "Conversation",
    "ConversationState",
    "Customer",
    "Direction",
    "Kind",
    "MediaRef",
    "Message",
    "PageCard",
    "Reply",
    "Role",
    "Sender",
    "could_be_id",
    "decode_message",
    "encode_message",
    "new_id",
]
