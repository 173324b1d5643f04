"""Calls about customers: customer_link.lua (link an identity to a person, merge two customers,
undo a merge), widget_view.lua (what a connecting web chat page is shown) and customer_typing.lua
(a web chat customer's typing, to their agent)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar

from router.store.calls import Call, text


@dataclass(frozen=True, slots=True)
class Linked:
    customer: str
    """The customer the identity belongs to now."""
    merged_from: str = ""
    """A customer the link found to be the same person and merged in ('' when none)."""


@dataclass(frozen=True, slots=True)
class Link(Call[Linked]):
    """`ident` ('channel:account:user') belongs to whoever `anchor` names ('phone::DIGEST',
    'user:web:ID', 'unionid:wechat:ID', 'order::NO'); two customers found to be one are merged."""

    script: ClassVar[str] = "customer_link"
    ident: str
    anchor: str
    new_customer: str
    now: float
    by: str

    def argv(self) -> list[Any]:
        return ["link", self.ident, self.anchor, self.new_customer, self.now, self.by]

    def result(self, reply: Any) -> Linked:
        return Linked(str(reply[1]), text(reply[2]))


@dataclass(frozen=True, slots=True)
class Merge(Call[str]):
    """Fold customer `source` into `into`: identities, conversations, empty fields, tags."""

    script: ClassVar[str] = "customer_link"
    statuses: ClassVar[dict[str, int]] = {"same_customer": 400}
    source: str
    into: str
    now: float
    by: str

    def argv(self) -> list[Any]:
        return ["merge", self.source, self.into, self.now, self.by]

    def refusal(self) -> str:
        return f"merge {self.source} into {self.into}"

    def result(self, reply: Any) -> str:
        return str(reply[1])


@dataclass(frozen=True, slots=True)
class Unmerge(Call[str]):
    """Undo the merge of `source`; the result is the customer it had been merged into."""

    script: ClassVar[str] = "customer_link"
    statuses: ClassVar[dict[str, int]] = {"not_merged": 409, "target_merged": 409}
    source: str

    def argv(self) -> list[Any]:
        return ["unmerge", self.source]

    def refusal(self) -> str:
        return f"unmerge {self.source}"

    def result(self, reply: Any) -> str:
        return str(reply[1])


@dataclass(frozen=True, slots=True)
class Claim(Call[str]):
    """`anchor` is `customer`'s unless another customer holds it; the result is its holder."""

    script: ClassVar[str] = "customer_link"
    customer: str
    anchor: str

    def argv(self) -> list[Any]:
        return ["claim", self.customer, self.anchor]

    def result(self, reply: Any) -> str:
        return str(reply[1])


@dataclass(frozen=True, slots=True)
class ConversationView:
    """A web chat visitor's open conversation (else their last one), as their page is shown it."""

    id: str
    state: str
    agent: str
    """'' when nobody holds it."""
    agent_name: str
    agent_avatar: str
    read: str
    """The newest message id its agent has seen; '' when none."""
    queue: dict[str, Any] | None
    """Its `queue` frame while it waits in line, else None."""


@dataclass(frozen=True, slots=True)
class WidgetView(Call[tuple[str | None, ConversationView | None]]):
    """(the visitor's customer or None, their conversation or None), read in one step."""

    script: ClassVar[str] = "widget_view"
    ident: str
    """'webchat:web:VISITOR'."""

    def result(self, reply: Any) -> tuple[str | None, ConversationView | None]:
        if not reply:
            return None, None
        if len(reply) == 1:
            return str(reply[0]), None
        cust, cid, state, aid, name, avatar, read, queue = (text(v) for v in reply)
        return cust, ConversationView(cid, state, aid, name, avatar, read, json.loads(queue) if queue else None)


@dataclass(frozen=True, slots=True)
class CustomerTyping(Call[bool]):
    """Tell the agent holding the visitor's open conversation that they are typing; False when
    no agent holds one (nothing is sent)."""

    script: ClassVar[str] = "customer_typing"
    ident: str
    """'webchat:web:VISITOR'."""

    def result(self, reply: Any) -> bool:
        return bool(reply)
