"""`kefu simulate` on the real routing scripts agrees with Erlang-A where the model holds: one
pool, exponential handle times and patience, one chat per agent, at 80% load and in overload.
The model here is computed on its own, independently of router/simulate/erlang.py: the exact
birth-death chain of the number in the system, and the tagged customer's chain integrated with
Runge-Kutta."""

from __future__ import annotations

import math

import pytest

from router.simulate.engine import Simulation, summary
from router.simulate.workload import SimPlan


def birth_death(lam: float, mu: float, theta: float, n: int, cap: int = 400) -> list[float]:
    weights = [1.0]
    for k in range(1, cap + 1):
        weights.append(weights[-1] * lam / (min(k, n) * mu + max(k - n, 0) * theta))
    total = sum(weights)
    return [w / total for w in weights]


def served_within(t: float, mu: float, theta: float, n: int, ahead: int, h: float = 0.02) -> list[float]:
    """u[j](t): P(answered within t | j in front). du_j/dt = r_j (u_{j-1} - u_j) - theta u_j, u_{-1} = 1."""
    rates = [n * mu + j * theta for j in range(ahead + 1)]

    def deriv(u: list[float]) -> list[float]:
        return [rates[j] * ((1.0 if j == 0 else u[j - 1]) - u[j]) - theta * u[j] for j in range(ahead + 1)]

    u = [0.0] * (ahead + 1)
    for _ in range(round(t / h)):
        k1 = deriv(u)
        k2 = deriv([a + h / 2 * b for a, b in zip(u, k1, strict=True)])
        k3 = deriv([a + h / 2 * b for a, b in zip(u, k2, strict=True)])
        k4 = deriv([a + h * b for a, b in zip(u, k3, strict=True)])
        u = [a + h / 6 * (b + 2 * c + 2 * d + e) for a, b, c, d, e in zip(u, k1, k2, k3, k4, strict=True)]
    return u


def erlang_a_sl(lam: float, mu: float, theta: float, n: int, t: float = 30.0) -> float:
    pi = birth_death(lam, mu, theta, n)
    within = served_within(t, mu, theta, n, len(pi) - 1 - n)
    return sum(pi[:n]) + sum(pi[n + j] * within[j] for j in range(len(pi) - n))


def test_the_independent_model_is_erlang_c_without_patience() -> None:
    # Erlang C, 10 agents at 8 Erlangs: P(wait) = 0.4092; SL(30 s) = 1 - P(wait) e^{-(n mu - lam) 30}.
    lam, mu, n = 8 / 180, 1 / 180, 10
    closed_form = 1 - 0.40918 * math.exp(-(n * mu - lam) * 30)
    assert erlang_a_sl(lam, mu, 1e-12, n) == pytest.approx(closed_form, abs=1e-3)


@pytest.mark.slow
@pytest.mark.parametrize(("load", "hours"), [(0.8, 30.0), (1.3, 16.0)], ids=["80%", "overload"])
async def test_simulated_service_level_matches_erlang_a(redis_url: str, load: float, hours: float) -> None:
    n, handle_s, patience_s = 6, 120.0, 90.0
    per_hour = load * n / handle_s * 3600
    plan = SimPlan(agents=n, arrivals_per_hour=per_hour, handle_s=handle_s, patience_s=patience_s, hours=hours,
                   seed=7)
    out = await Simulation(plan, redis_url).run()
    report = summary(plan, out, n)
    model = erlang_a_sl(per_hour / 3600, 1 / handle_s, 1 / patience_s, n)
    assert report["offered"] > 2500
    assert report["erlang_a_service_level_30s"] == pytest.approx(model, abs=2e-3)  # the product's own model
    assert report["service_level_30s"] == pytest.approx(model, abs=0.04), (report, model)
    assert report["offered"] == report["served"] + report["abandoned"]
    if load > 1:
        assert report["abandoned"] / report["offered"] > 0.15  # overload shows as customers giving up
