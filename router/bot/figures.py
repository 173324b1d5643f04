"""The bot's figures, read from Redis: deflection and the questions it could not answer."""

from __future__ import annotations

from typing import Any

from router.bot.pii import mask_pii
from router.store import Store


async def deflection(store: Store) -> dict[str, Any]:
    """Bot conversations closed without a person, out of all bot conversations."""
    n = await store.bot.stats()
    total = n.get("conversations", 0)
    resolved = n.get("resolved", 0)
    handed = n.get("handed_off", 0)
    return {
        "conversations": total,
        "resolved_by_bot": resolved,
        "handed_off": handed,
        "open": max(total - resolved - handed, 0),
        "deflection_rate": round(resolved / total, 4) if total else None,
        "handoff_reasons": {k[7:]: v for k, v in sorted(n.items()) if k.startswith("reason:")},
        "answered_faq": n.get("answered_faq", 0),
        "unanswered": n.get("unanswered", 0),
        "bursts": n.get("bursts", 0),
        "llm": {
            "turns": {k[4:]: v for k, v in sorted(n.items()) if k.startswith("llm:")},
            "prompt_tokens": n.get("llm_prompt_tokens", 0),
            "completion_tokens": n.get("llm_completion_tokens", 0),
            "latency_ms_total": n.get("llm_latency_ms", 0),
        },
    }


async def unknown_questions(store: Store, top: int) -> list[dict[str, Any]]:
    """The most asked questions the bot could not answer, grouped by normalised text."""
    return [{"question": mask_pii(q), "count": c, "example": ex}
            for q, c, ex in await store.bot.top_unanswered(top)]
