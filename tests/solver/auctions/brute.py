"""Independent brute forces for tiny auction instances: naive LPs in payment variables with every
constraint written out (scipy ``linprog``), the ex-post regret by explicit loops, and Border's
condition over every family of subsets."""

from __future__ import annotations

import itertools

import numpy as np
from scipy.optimize import linprog

from mechsolve.solver.auctions import TypePrior


def _profiles(priors: list[TypePrior]) -> list[tuple[int, ...]]:
    return list(itertools.product(*[range(p.n_types) for p in priors]))


def _solve_with_supply(
    c: np.ndarray, rows: list[np.ndarray], rhs: list[float], n_prof: int, n: int, m: int, nq: int
) -> float:
    """Add ``sum_i q[(k * n + i) * m + j] <= 1`` per profile ``k`` and item ``j`` (allocations
    are the first ``nq`` variables, in [0, 1]; the rest are free) and maximize ``-c . x``."""
    for k in range(n_prof):
        for j in range(m):
            row = np.zeros(len(c))
            row[[(k * n + i) * m + j for i in range(n)]] = 1.0
            rows.append(row)
            rhs.append(1.0)
    bounds = [(0.0, 1.0)] * nq + [(None, None)] * (len(c) - nq)
    res = linprog(c, A_ub=np.array(rows), b_ub=np.array(rhs), bounds=bounds, method="highs")
    assert res.status == 0, res.message
    return -float(res.fun)


def naive_dsic_revenue(priors: list[TypePrior], unit_demand: bool = False) -> float:
    """max E[sum_i p_i(t)] over ex-post q_i(t) in [0,1]^m, p_i(t) free, with every DSIC and
    ex-post IR row and supply per profile and item (payment variables, no utility trick)."""
    n, m = len(priors), priors[0].n_items
    profs = _profiles(priors)
    index = {t: k for k, t in enumerate(profs)}
    nq = len(profs) * n * m
    nv = nq + len(profs) * n

    def q(k: int, i: int, j: int) -> int:
        return (k * n + i) * m + j

    def p(k: int, i: int) -> int:
        return nq + k * n + i

    c = np.zeros(nv)
    rows, rhs = [], []
    for k, t in enumerate(profs):
        prob = np.prod([priors[i].probs[t[i]] for i in range(n)])
        for i in range(n):
            c[p(k, i)] -= prob
            v_i = priors[i].values[t[i]]
            ir = np.zeros(nv)  # -(q.v - p) <= 0
            for j in range(m):
                ir[q(k, i, j)] = -v_i[j]
            ir[p(k, i)] = 1.0
            rows.append(ir)
            rhs.append(0.0)
            for s in range(priors[i].n_types):
                if s == t[i]:
                    continue
                t2 = (*t[:i], s, *t[i + 1 :])
                k2 = index[t2]
                row = np.zeros(nv)  # (q(t2).v - p(t2)) - (q(t).v - p(t)) <= 0
                for j in range(m):
                    row[q(k2, i, j)] += v_i[j]
                    row[q(k, i, j)] -= v_i[j]
                row[p(k2, i)] -= 1.0
                row[p(k, i)] += 1.0
                rows.append(row)
                rhs.append(0.0)
            if unit_demand:
                row = np.zeros(nv)
                for j in range(m):
                    row[q(k, i, j)] = 1.0
                rows.append(row)
                rhs.append(1.0)
    return _solve_with_supply(c, rows, rhs, len(profs), n, m, nq)


def naive_bic_revenue(priors: list[TypePrior]) -> float:
    """max revenue over ex-post allocations q_i(t) and interim payments P_i(t_i), with every
    interim IC and IR row written as expectations over the others' types (no reduced form)."""
    n, m = len(priors), priors[0].n_items
    profs = _profiles(priors)
    nq = len(profs) * n * m
    offs = np.concatenate([[0], np.cumsum([p.n_types for p in priors])]).astype(int)
    nv = nq + int(offs[-1])

    def q(k: int, i: int, j: int) -> int:
        return (k * n + i) * m + j

    def interim_q(i: int, a: int) -> np.ndarray:
        """(m, nv) coefficients of Q_i(a) (expected allocation given own type a)."""
        out = np.zeros((m, nv))
        for k, t in enumerate(profs):
            if t[i] != a:
                continue
            w = np.prod([priors[o].probs[t[o]] for o in range(n) if o != i])
            for j in range(m):
                out[j, q(k, i, j)] += w
        return out

    c = np.zeros(nv)
    rows, rhs = [], []
    for i, pr in enumerate(priors):
        qs = [interim_q(i, a) for a in range(pr.n_types)]
        for a in range(pr.n_types):
            c[nq + offs[i] + a] -= pr.probs[a]
            util_a = pr.values[a] @ qs[a]
            util_a[nq + offs[i] + a] -= 1.0
            rows.append(-util_a)
            rhs.append(0.0)
            for b in range(pr.n_types):
                if b != a:
                    dev = pr.values[a] @ qs[b]
                    dev[nq + offs[i] + b] -= 1.0
                    rows.append(dev - util_a)
                    rhs.append(0.0)
    return _solve_with_supply(c, rows, rhs, len(profs), n, m, nq)


def regret_by_loops(
    alloc: np.ndarray, pay: np.ndarray, priors: list[TypePrior]
) -> tuple[np.ndarray, np.ndarray]:
    """Per bidder mean and max ex-post regret by explicit loops over profiles and misreports."""
    n = len(priors)
    mean = np.zeros(n)
    worst = np.zeros(n)
    for t in _profiles(priors):
        prob = np.prod([priors[i].probs[t[i]] for i in range(n)])
        for i in range(n):
            v = priors[i].values[t[i]]
            truth = alloc[t][i] @ v - pay[t][i]
            best = truth
            for s in range(priors[i].n_types):
                t2 = (*t[:i], s, *t[i + 1 :])
                best = max(best, alloc[t2][i] @ v - pay[t2][i])
            mean[i] += prob * (best - truth)
            worst[i] = max(worst[i], best - truth)
    return mean, worst


def border_by_subsets(interim: list[np.ndarray], probs: list[np.ndarray]) -> float:
    """max over all families of subsets of sum f pi - (1 - prod (1 - f(S_i)))."""
    best = -np.inf
    subsets = [
        [
            np.array(c, dtype=int)
            for r in range(len(p) + 1)
            for c in itertools.combinations(range(len(p)), r)
        ]
        for p in probs
    ]
    for fam in itertools.product(*subsets):
        lhs = sum(float((probs[i][s] * interim[i][s]).sum()) for i, s in enumerate(fam))
        rhs = 1.0 - np.prod([1.0 - probs[i][s].sum() for i, s in enumerate(fam)])
        best = max(best, lhs - rhs)
    return best
