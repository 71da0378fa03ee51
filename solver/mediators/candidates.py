"""Candidate outcomes of a mediator problem and their lexicographic selection.

A mediator fixes the actions of some players (the non-delegators, for the Pareto and Punishing
Mediators) and chooses the actions of the *free* players. For a batch of profiles that share
the same free set, the candidates of profile p are the joint actions that agree with p on the
fixed players; candidate ``c`` is the flat (C-order) index of the free players' actions.

:func:`lex_argmax` picks, per profile, the feasible candidate that maximizes a list of scores
lexicographically (values within :data:`~mechsolve.solver.games.welfare.TIE_RTOL` tie), then prefers
the submitted profile, then the smallest flat index: the deterministic tie-breaking of SPEC
section 1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..games.welfare import tie_tolerance

CHUNK_ELEMENTS = 1 << 21
"""Target size (float64 elements) of one block of candidate utilities."""


def candidate_utilities(
    payoffs: NDArray[np.float64], actions: NDArray[np.int64], free: NDArray[np.int64]
) -> NDArray[np.float64]:
    """Candidate utilities ``(n, m, C)`` of ``m`` profiles (``(n, 1, C)`` when every player is
    free: the candidates are then shared). Reads only the candidate entries of the tensor.

    Candidate ``c`` is the C-order flat index of the free players' actions; the fixed players
    keep ``actions[p]``.
    """
    n = payoffs.shape[0]
    ks = payoffs.shape[1:]
    c = int(np.prod([ks[i] for i in free], dtype=np.int64))
    if len(free) == n:
        return payoffs.reshape(n, 1, c)
    m = actions.shape[0]
    if m == 1:  # basic indexing: a view of the candidates, no index arrays
        free_set = set(free.tolist())
        row = actions[0].tolist()
        view = payoffs[(slice(None), *[slice(None) if i in free_set else row[i] for i in range(n)])]
        return view.reshape(n, 1, c)
    is_free = np.zeros(n, dtype=bool)
    is_free[free] = True
    nf = len(free)
    index: list[Any] = [slice(None)]
    j = 0
    for i in range(n):
        if is_free[i]:
            shape = [1] * (nf + 1)
            shape[1 + j] = ks[i]
            index.append(np.arange(ks[i]).reshape(shape))
            j += 1
        else:
            index.append(actions[:, i].reshape((m,) + (1,) * nf))
    return payoffs[tuple(index)].reshape(n, m, c)


def shared_candidate_utilities(
    payoffs: NDArray[np.float64], actions: NDArray[np.int64], free: NDArray[np.int64]
) -> tuple[NDArray[np.float64], NDArray[np.int64] | None]:
    """Candidate utilities gathered once per distinct action of the fixed players.

    Profiles that agree on the fixed (non-free) players have the same candidates, so their
    utilities are read once per such group: returns ``(u, group)`` with ``u`` of shape
    ``(n, G, C)`` and ``group[p]`` the column of ``u`` holding profile p's candidates; or
    ``group = None`` when ``u`` is already per profile ``(n, m, C)`` or shared by all
    ``(n, 1, C)`` (as from :func:`candidate_utilities`, used when fewer than half the
    profiles would share).
    """
    n, m = payoffs.shape[0], actions.shape[0]
    if len(free) == n or m == 1:
        return candidate_utilities(payoffs, actions, free), None
    ks = payoffs.shape[1:]
    is_free = np.zeros(n, dtype=bool)
    is_free[free] = True
    fixed = np.flatnonzero(~is_free)
    codes = flat_index(actions, fixed, ks)
    first, group = _distinct(codes, math.prod(int(ks[i]) for i in fixed))
    if 2 * len(first) > m:
        return candidate_utilities(payoffs, actions, free), None
    u = candidate_utilities(payoffs, actions[first], free)
    return (u, None) if len(first) == 1 else (u, group)


def _distinct(codes: NDArray[np.int64], size: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """``(one row per distinct code, group of each row)`` for codes in ``[0, size)``."""
    m = len(codes)
    if size > 4 * m:
        _, first, group = np.unique(codes, return_index=True, return_inverse=True)
        return first.astype(np.int64), group.reshape(-1).astype(np.int64)
    present = np.zeros(size, dtype=bool)
    present[codes] = True
    rank = np.cumsum(present, dtype=np.int64) - 1
    row = np.zeros(size, dtype=np.int64)
    row[codes] = np.arange(m, dtype=np.int64)  # any row of the code represents it
    return row[present], rank[codes]


def per_row(a: NDArray[Any], group: NDArray[np.int64] | None) -> NDArray[Any]:
    """Group-level values ``(..., G, C)`` as per-profile values ``(..., m, C)`` (unchanged
    when ``group`` is ``None``: already per profile, or shared and broadcast)."""
    return a if group is None else np.take(a, group, axis=-2)


def flat_index(
    actions: NDArray[np.int64], players: NDArray[np.int64], ks: Sequence[int]
) -> NDArray[np.int64]:
    """C-order flat index of ``actions[:, players]`` over the action counts of ``players``."""
    if len(players) == 0:
        return np.zeros(actions.shape[0], dtype=np.int64)
    if actions.shape[0] == 1:
        index = 0
        for i in players.tolist():
            index = index * int(ks[i]) + int(actions[0, i])
        return np.array([index], dtype=np.int64)
    dims = tuple(int(ks[i]) for i in players)
    return np.ravel_multi_index(tuple(actions[:, players].T), dims).astype(np.int64)


def unflatten(
    index: NDArray[np.int64], players: NDArray[np.int64], ks: Sequence[int], base: NDArray[np.int64]
) -> NDArray[np.int64]:
    """Joint actions: ``base`` with the actions of ``players`` replaced by the decoded ``index``."""
    out = base.copy()
    if len(players) and len(index) == 1:
        rest = int(index[0])
        for i in reversed(players.tolist()):
            rest, out[0, i] = divmod(rest, int(ks[i]))
    elif len(players):
        dims = tuple(int(ks[i]) for i in players)
        out[:, players] = np.stack(np.unravel_index(index, dims), axis=1)
    return out


def lex_argmax(
    scores: Sequence[NDArray[np.float64]],
    feasible: NDArray[np.bool_],
    preferred: NDArray[np.int64],
) -> NDArray[np.int64]:
    """Per row, the feasible column maximizing ``scores`` lexicographically with ties.

    Args:
        scores: arrays of shape ``(m, C)`` (or broadcastable), to maximize in order; ``-inf``
            entries lose to any finite value; if every remaining value is ``-inf`` the score
            does not discriminate.
        feasible: ``(m, C)``; every row must have a True entry.
        preferred: ``(m,)``, the column chosen among the final ties when it is one of them
            (the submitted profile); otherwise the smallest tied column.
    """
    cand = feasible  # never written to: each stage makes a new array
    for s in scores:
        masked = np.where(cand, s, -np.inf)
        best = masked.max(axis=1)
        keep = masked >= (best - tie_tolerance(best))[:, None]
        # with every best finite, keep lies within cand (masked is -inf outside it)
        cand = keep if np.isfinite(best).all() else cand & keep
    rows = np.arange(cand.shape[0])
    pref_ok = cand[rows, preferred]
    return np.where(pref_ok, preferred, cand.argmax(axis=1)).astype(np.int64)


def chunks(m: int, per_row: int) -> list[slice]:
    """Row slices so that each chunk holds about :data:`CHUNK_ELEMENTS` elements."""
    step = max(1, CHUNK_ELEMENTS // max(1, per_row))
    return [slice(s, min(m, s + step)) for s in range(0, m, step)]
