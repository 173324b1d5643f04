"""Erlang-A (M/M/n+M): Poisson arrivals, exponential handle times and patience, n agents.

The number in the system is a birth-death chain: births at the arrival rate, deaths at
`min(k, n) * mu + max(k - n, 0) * theta`. An arrival sees the stationary distribution (Poisson
arrivals see time averages). One that finds k >= n waits with j = k - n ahead of it; from there
the next event moves it up a place at rate `n * mu + j * theta` (an agent frees, or someone
ahead gives up) or loses it at rate `theta` (it gives up itself). The chance that it is answered
within t is that little chain's absorption by time t, computed here by uniformization.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

TAIL = 1e-12
"""States whose stationary probability falls below this are left out."""


@dataclass(frozen=True, slots=True)
class ErlangA:
    service_level: float
    """Answered within the threshold, over offered (those who give up count as not answered)."""
    abandoned: float
    """Share of arrivals who give up."""
    waiting: float
    """Share of arrivals who find every agent busy."""


def stationary(lam: float, mu: float, theta: float, n: int) -> list[float]:
    """P(k in system), k = 0.., truncated where the tail is negligible."""
    logs = [0.0]
    k = 0
    while True:
        k += 1
        death = min(k, n) * mu + max(k - n, 0) * theta
        if death <= 0:
            raise ValueError("no agents and no patience: the queue grows without bound")
        logs.append(logs[-1] + math.log(lam) - math.log(death))
        if k > n and (logs[-1] < logs[0] + math.log(TAIL) and logs[-1] < logs[-2]):
            break
        if k > 200_000:
            raise ValueError("the queue does not settle (no patience and load >= 1)")
    top = max(logs)
    weights = [math.exp(x - top) for x in logs]
    total = sum(weights)
    return [w / total for w in weights]


def answered_within(t: float, mu: float, theta: float, n: int, ahead: int) -> list[float]:
    """For j = 0..ahead customers in front: P(answered within t)."""
    if t <= 0:
        return [0.0] * (ahead + 1)
    rate = [n * mu + j * theta for j in range(ahead + 1)]
    big = max(rate) + theta
    lt = big * t
    # v[j]: P(absorbed in "answered" within m uniformized steps, from j); advanced one step at a time.
    v = [0.0] * (ahead + 1)
    out = [0.0] * (ahead + 1)
    log_w = -lt
    m = 0
    steps = int(lt + 10 * math.sqrt(lt) + 20)
    while m <= steps:
        w = math.exp(log_w)
        if w > 0:
            for j in range(ahead + 1):
                out[j] += w * v[j]
        nxt = [0.0] * (ahead + 1)
        for j in range(ahead + 1):
            up = rate[j] / big
            stay = 1.0 - up - theta / big
            nxt[j] = up * (1.0 if j == 0 else v[j - 1]) + stay * v[j]
        v = nxt
        m += 1
        log_w += math.log(lt) - math.log(m) if lt > 0 else -math.inf
    return out


def erlang_a(lam: float, mu: float, theta: float, n: int, t: float = 30.0) -> ErlangA:
    """Rates per second: arrivals `lam`, service `mu` (1 / mean handle), patience `theta`
    (1 / mean patience; 0 means nobody gives up, Erlang-C)."""
    pi = stationary(lam, mu, theta, n)
    ahead = max(0, len(pi) - 1 - n)
    within = answered_within(t, mu, theta, n, ahead)
    sl = sum(pi[:n]) + sum(pi[n + j] * within[j] for j in range(ahead + 1) if n + j < len(pi))
    queue = sum((k - n) * p for k, p in enumerate(pi) if k > n)
    abandoned = theta * queue / lam if lam > 0 else 0.0
    return ErlangA(service_level=sl, abandoned=abandoned, waiting=sum(pi[n:]))


def agents_for(lam: float, mu: float, theta: float, target: float, t: float = 30.0, most: int = 5000) -> int:
    """The fewest agents whose Erlang-A service level reaches `target` (it rises with n)."""
    if lam <= 0:
        return 0

    def ok(n: int) -> bool:
        return erlang_a(lam, mu, theta, n, t).service_level >= target

    hi = max(1, math.ceil(lam / mu))
    while not ok(hi):
        if hi >= most:
            return most
        hi = min(most, hi * 2)
    lo = 0  # 0 agents answer nobody
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return hi
