"""Queue length and service level over the simulated day, as one PNG (matplotlib)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kefu_common.errors import KefuError
from router.simulate.engine import Outcome


def plot_day(out: Outcome, report: dict[str, Any], path: str | Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise KefuError("plots need matplotlib: pip install 'kefu-router[bench]'") from None
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    xs = [t / 3600 for t, _ in out.queue]
    top.step(xs, [q for _, q in out.queue], where="post", linewidth=0.8)
    top.set_ylabel("chats waiting")
    top.set_title(f"{report['agents']} agents, policy {report['policy']}: offered {report['offered']}, "
                  f"service level {report['service_level_30s']}")
    hours = [h for h in report["hours"] if h["service_level_30s"] is not None]
    bottom.bar([h["hour"] + 0.5 for h in hours], [h["service_level_30s"] for h in hours], width=0.8)
    bottom.axhline(report["erlang_a_service_level_30s"], color="black", linestyle="--", linewidth=0.8,
                   label="Erlang-A, whole day")
    bottom.set_ylim(0, 1)
    bottom.set_ylabel("answered within 30 s")
    bottom.set_xlabel("hour")
    bottom.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
