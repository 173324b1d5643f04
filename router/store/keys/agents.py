"""Agents' and pools' keys, all in ``{rt:NS}``: assignment changes an agent's load and a
conversation's state in one script, so they share the conversations' slot.
"""

from __future__ import annotations

from router.store.keys.base import KeysBase


class AgentKeys(KeysBase):
    """Keys of agents, their presence and load, and the pools they serve."""

    __slots__ = ()

    def agent(self, aid: str) -> str:
        """Hash: agent's live status, cap, load, idle-since, pools and skills; each skill's level
        also as a field sk:<skill>, so checking one agent reads levels without decoding JSON."""
        return f"{self.rt}agent:{aid}"

    def agent_convs(self, aid: str) -> str:
        """Set: the agent's open conversations; its size is the agent's load."""
        return f"{self.rt}agent:{aid}:convs"

    def agent_reading(self, aid: str) -> str:
        """Sorted set: conversations whose notes named the agent (keys.conv_readers), by when;
        the newest 200 kept. Lets the agent read those conversations' customers too."""
        return f"{self.rt}agent:{aid}:reading"

    def agent_away_time(self, aid: str, day: str) -> str:
        """Hash: away reason ('away' when none was given) -> seconds spent in it on one day
        (YYYY-MM-DD, UTC, counted when the agent leaves that state); expires after 40 days.
        Written by status.lua, read beside the agent for the Team tab."""
        return f"{self.rt}agent:{aid}:away:{day}"

    def agent_events(self, aid: str) -> str:
        """Stream: frames for the agent, so a reconnecting or remote console misses nothing."""
        return f"{self.rt}agent:{aid}:events"

    def agent_presence(self, aid: str) -> str:
        """Hash: connection id -> expiry, across processes; empty past the grace means offline."""
        return f"{self.rt}agent:{aid}:presence"

    @property
    def cap_overrides(self) -> str:
        """Hash: agent id -> the cap a supervisor set live. Kept apart from the agent's hash so the
        config sync, which writes `max_chats` there at every start, can see it and leave it in
        force until a supervisor clears it (set_cap.lua, agent_sync.lua)."""
        return f"{self.rt}caps:override"

    @property
    def agents(self) -> str:
        """Set: ids of all configured agents."""
        return f"{self.rt}agents"

    @property
    def pools(self) -> str:
        """Set: ids of all configured pools."""
        return f"{self.rt}pools"

    def pool_agents(self, pool: str) -> str:
        """Set: members of a pool, whatever their status."""
        return f"{self.rt}pool:{pool}:agents"

    def skill_levels(self, skill: str) -> str:
        """Hash: agent id -> level in one skill. A copy of the agents' sk:<skill> fields (both
        written by agent_sync), so a scan reads a page of agents' levels in one HMGET."""
        return f"{self.rt}skill:{skill}"

    @property
    def agent_slots(self) -> str:
        """Hash: agent id -> 'load/cap', kept by every load or cap change, so a scan records a
        page of candidates' loads in one HMGET."""
        return f"{self.rt}agents:slots"

    def pool_free(self, pool: str) -> str:
        """Sorted set: online members with free capacity, in the pool's policy order (load then
        idle-since; idle-since; or all 0 for round robin, scanned by id), so the first member who
        qualifies is the choice."""
        return f"{self.rt}pool:{pool}:free"

    def pool_queue(self, pool: str) -> str:
        """Sorted set: waiting conversations, scored by arrival minus priority's worth in seconds
        (aging), requeues and transfers ahead of the rest."""
        return f"{self.rt}pool:{pool}:queue"

    def pool_stats(self, pool: str) -> str:
        """Hash: a pool's moving average of handle time (avg_handle_s), kept by close.lua, for the
        wait estimate in queue frames."""
        return f"{self.rt}pool:{pool}"

    def pool_rr_cursor(self, pool: str) -> str:
        """String: the agent round robin chose last in a pool; the next choice starts after it."""
        return f"{self.rt}pool:{pool}:rr"

    @property
    def assign_settings(self) -> str:
        """Hash: the assignment settings (policy, stickiness, aging) the Lua scripts read, written
        by every process at start so all processes choose alike."""
        return f"{self.rt}assign:settings"

    @property
    def agent_channel(self) -> str:
        """Pub/sub: agent events, for whichever process holds the agent's WebSocket."""
        return f"{self.rt}events:agent"
