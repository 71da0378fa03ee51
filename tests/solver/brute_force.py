"""Independent reference implementations in plain Python (loops over all outcomes, no numpy
vectorization, no code shared with mechsolve.solver) for checking the optimizers."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

TIE_RTOL = 1e-9


def welfare_value(
    kind: str,
    u: Sequence[float],
    players: Sequence[int],
    *,
    d: Sequence[float] | None = None,
    weights: Sequence[float] | None = None,
    beta: float = 1.0,
    ideal: Sequence[float] | None = None,
) -> float:
    """Welfare of ``u`` (a full utility vector) over ``players`` (SPEC section 1)."""
    gains = [u[i] - (d[i] if d else 0.0) for i in players]
    if not players:
        return math.nan
    if kind == "utilitarian":
        ws = [weights[i] if weights else 1.0 for i in players]
        return sum(w * x for w, x in zip(ws, gains, strict=True))
    if kind == "egalitarian":
        return min(gains)
    if kind == "nash":
        if all(x > 0 for x in gains):
            return math.prod(gains)
        return -math.inf
    if kind == "inequity_averse":
        m = len(gains)
        if m < 2:
            return sum(gains)
        pairs = [abs(gains[a] - gains[b]) for a in range(m) for b in range(a + 1, m)]
        return sum(gains) - beta * sum(pairs) / len(pairs)
    if kind == "kalai_smorodinsky":
        assert ideal is not None
        ratios = []
        for i, x in zip(players, gains, strict=True):
            span = ideal[i] - (d[i] if d else 0.0)
            if span > 0:
                ratios.append(x / span)
        return min(ratios) if ratios else 0.0
    raise ValueError(kind)


def _tie_keep(values: list[float], alive: list[bool]) -> list[bool]:
    best = max((v for v, a in zip(values, alive, strict=True) if a), default=-math.inf)
    if best == -math.inf:
        return alive
    tol = TIE_RTOL * max(1.0, abs(best)) if math.isfinite(best) else 0.0
    return [a and v >= best - tol for v, a in zip(values, alive, strict=True)]


def mediate(
    payoffs: list,  # nested lists or a numpy array; indexed payoffs[i][a_1]...[a_n]
    num_actions: Sequence[int],
    actions: Sequence[int],
    delegate: Sequence[bool],
    mediator: str,
    welfare: str,
    **wkw: object,
) -> tuple[tuple[int, ...], float, float]:
    """The mediator's outcome, its optimized objective and ``W`` over the beneficiaries, by
    exhaustive search."""
    n = len(num_actions)

    def util(profile: Sequence[int]) -> list[float]:
        out = []
        for i in range(n):
            x = payoffs[i]
            for a in profile:
                x = x[a]
            out.append(float(x))
        return out

    D = [i for i in range(n) if delegate[i]]
    ND = [i for i in range(n) if not delegate[i]]
    before = util(actions)
    everyone = list(range(n))
    if mediator == "central_planner":
        free, pareto, punish, ben = everyone, [], [], everyone
    elif mediator == "pareto":
        if len(D) < 2:
            w0 = welfare_value_unchanged(welfare, payoffs, num_actions, actions, D, **wkw)
            return tuple(actions), w0, w0
        free, pareto, punish, ben = D, D, [], D
    else:
        if len(D) == n:
            free, pareto, punish, ben = everyone, [], [], everyone
        elif not D:
            return tuple(actions), math.nan, math.nan
        else:
            free, pareto, punish, ben = D, [], ND, D
    cands = []
    for prof in itertools.product(*[range(k) for k in num_actions]):
        if any(prof[j] != actions[j] for j in range(n) if j not in free):
            continue
        u = util(prof)
        if all(u[i] >= before[i] for i in pareto):
            cands.append((prof, u))
    ideal = None
    if welfare == "kalai_smorodinsky":
        ideal = [max(u[i] for _, u in cands) for i in range(n)]
    wv = [welfare_value(welfare, u, ben, ideal=ideal, **wkw) for _, u in cands]  # type: ignore[arg-type]
    stages = []
    if punish:
        stages.append([-sum(u[j] for j in punish) for _, u in cands])
    stages.append(wv)
    stages.append([sum(u[i] for i in ben) for _, u in cands])
    alive = [True] * len(cands)
    for s in stages:
        alive = _tie_keep(s, alive)
    chosen = None
    for (prof, _), a in zip(cands, alive, strict=True):
        if a and tuple(prof) == tuple(actions):
            chosen = prof
    if chosen is None:
        chosen = next(prof for (prof, _), a in zip(cands, alive, strict=True) if a)
    k = [c[0] for c in cands].index(chosen)
    objective = -stages[0][k] if punish else wv[k]
    return tuple(chosen), objective, wv[k]


def welfare_value_unchanged(
    welfare: str,
    payoffs: list,
    num_actions: Sequence[int],
    actions: Sequence[int],
    D: list[int],
    **wkw: object,
) -> float:
    """``W`` of ``D`` at a profile the mediator leaves unchanged (``nan`` when ``D`` is empty).

    Kalai-Smorodinsky measures each delegator against its ideal: the best utility it reaches
    over the outcomes ``D`` could reach (others fixed) without anyone in ``D`` losing; not
    against the profile itself, which would always score 1."""
    if not D:
        return math.nan
    n = len(num_actions)

    def util(profile: Sequence[int]) -> list[float]:
        out = []
        for i in range(n):
            x = payoffs[i]
            for a in profile:
                x = x[a]
            out.append(float(x))
        return out

    before = util(actions)
    ideal = list(before)
    for prof in itertools.product(*[range(k) for k in num_actions]):
        if any(prof[j] != actions[j] for j in range(n) if j not in D):
            continue
        u = util(prof)
        if all(u[i] >= before[i] for i in D):
            ideal = [max(a, b) for a, b in zip(ideal, u, strict=True)]
    return welfare_value(welfare, before, D, ideal=ideal, **wkw)  # type: ignore[arg-type]


def pure_nash(payoffs: list, num_actions: Sequence[int]) -> list[tuple[int, ...]]:
    """Pure equilibria by checking every unilateral deviation."""
    n = len(num_actions)

    def u(i: int, prof: Sequence[int]) -> float:
        x = payoffs[i]
        for a in prof:
            x = x[a]
        return float(x)

    out = []
    for prof in itertools.product(*[range(k) for k in num_actions]):
        ok = True
        for i in range(n):
            for dev in range(num_actions[i]):
                alt = list(prof)
                alt[i] = dev
                if u(i, alt) > u(i, prof):
                    ok = False
                    break
            if not ok:
                break
        if ok:
            out.append(prof)
    return out
