"""Symmetric games in compact (anonymous) form and seed 004's Public Goods Game.

A symmetric ``N``-player game with ``q`` actions per player is given by one payoff function of
(own action, counts of the others' actions): ``payoffs[a, c_1, ..., c_{q-1}]`` is the payoff of
a player playing ``a`` while ``c_j`` of the ``N - 1`` others play action ``j`` (and
``N - 1 - sum_j c_j`` play action 0). The array has shape ``(q,) + (N,) * (q - 1)``; entries
with ``sum_j c_j > N - 1`` are never read (any finite value, or ``nan``). For two actions it is
``(2, N)``: ``payoffs[a, m]`` with ``m`` the number of others playing action 1.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..core import validation as v
from ..core.errors import MechsolveInputError
from ..core.limits import Limits, resolve
from ..games.normal_form import NormalFormGame, as_game

SYMMETRY_RTOL = 1e-12
"""A normal-form game is symmetric when every payoff matches the compact table within this,
relative to the game's largest absolute payoff."""


@dataclass(frozen=True, eq=False)
class SymmetricGame:
    """A symmetric game in compact form (module docstring).

    Attributes:
        n_players: ``N >= 1``.
        payoffs: ``(q,) + (N,) * (q - 1)`` read-only; unread entries (counts summing over
            ``N - 1``) are stored as 0.
        actions: one label per action (empty or ``None``: ``"1"``, ``"2"``, ...).
        title: free text.
    """

    n_players: int
    payoffs: NDArray[np.float64]
    actions: tuple[str, ...] = field(default=())
    title: str = ""

    def __post_init__(self) -> None:
        fn = "SymmetricGame"
        n = v.positive_int(fn, "n_players", self.n_players)
        try:
            raw = np.array(self.payoffs, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise MechsolveInputError(fn, "payoffs", "must be an array of real numbers") from exc
        if raw.ndim < 1 or raw.shape[0] < 1:
            raise MechsolveInputError(
                fn, "payoffs", f"must have shape (q,) + (N,) * (q - 1); got {raw.shape}"
            )
        q = raw.shape[0]
        want = (q,) + (n,) * (q - 1)
        if raw.shape != want:
            raise MechsolveInputError(
                fn,
                "payoffs",
                f"must have shape {want} for {n} players and {q} actions (own action, then the "
                f"count of the others playing each action 1..q-1); got {raw.shape}",
            )
        valid = read_mask(n, q)
        bad = valid & ~np.isfinite(raw)
        if bad.any():
            idx = tuple(int(j) for j in np.argwhere(bad)[0])
            raise MechsolveInputError(fn, f"payoffs{list(idx)}", f"must be finite; got {raw[idx]}")
        raw = np.where(valid, raw, 0.0)
        raw.setflags(write=False)
        given = self.actions
        if given is not None and (
            isinstance(given, str | bytes) or not isinstance(given, Iterable)
        ):
            raise MechsolveInputError(fn, "actions", f"must be a sequence of labels; got {given!r}")
        labels = (tuple(given) if given is not None else ()) or tuple(str(j + 1) for j in range(q))
        if len(labels) != q or not all(isinstance(s, str) for s in labels):
            raise MechsolveInputError(fn, "actions", f"must be {q} strings; got {given!r}")
        if not isinstance(self.title, str):
            raise MechsolveInputError(fn, "title", f"must be a string; got {self.title!r}")
        object.__setattr__(self, "n_players", n)
        object.__setattr__(self, "payoffs", raw)
        object.__setattr__(self, "actions", labels)

    @property
    def n_actions(self) -> int:
        return int(self.payoffs.shape[0])

    def payoff(self, action: int, counts: Any) -> NDArray[np.float64]:
        """The payoff of playing ``action`` when the others' action counts are ``counts``
        (``(..., q)``, each row summing to ``N - 1``), vectorized over the leading axes."""
        c = np.asarray(counts, dtype=np.int64)
        return lookup(self.payoffs, action, c)

    def to_normal_form(self, limits: Limits | None = None) -> NormalFormGame:
        """The explicit game ``(N, q, ..., q)`` (checked against ``limits``' players and
        outcomes before it is built)."""
        fn = "SymmetricGame.to_normal_form"
        n, q = self.n_players, self.n_actions
        lim = resolve(limits)
        lim.check(fn, "n_players", n, "max_players")
        lim.check(fn, "outcomes", q**n, "max_outcomes")
        coords = np.indices((q,) * n).reshape(n, -1)  # (n, M)
        counts = np.stack([(coords == a).sum(axis=0) for a in range(q)], axis=1)  # (M, q)
        pay = np.empty((n, coords.shape[1]))
        for i in range(n):
            own = coords[i]
            others = counts - np.eye(q, dtype=np.int64)[own]
            pay[i] = np.choose(own, [lookup(self.payoffs, a, others) for a in range(q)])
        labels = tuple(self.actions for _ in range(n))
        return NormalFormGame(pay.reshape(n, *((q,) * n)), actions=labels, title=self.title)


def read_mask(n: int, q: int) -> NDArray[np.bool_]:
    """``True`` where the compact table is read: count vectors summing to at most ``N - 1``."""
    if q == 1:
        return np.ones(1, dtype=bool)
    total = np.indices((n,) * (q - 1)).sum(axis=0)
    return np.broadcast_to(total <= n - 1, (q,) + (n,) * (q - 1))


def lookup(
    table: NDArray[np.float64], action: int, counts: NDArray[np.int64]
) -> NDArray[np.float64]:
    """``table[action, counts[..., 1], ..., counts[..., q-1]]``."""
    q = table.shape[0]
    if q == 1:
        return np.full(counts.shape[:-1], float(table[0]))
    index: tuple[Any, ...] = (action, *[counts[..., j] for j in range(1, q)])
    return np.asarray(table[index], dtype=np.float64)


def seed004_multiplier(n_players: int) -> float:
    """The amplification factor of seed 004's PGG in the authors' code: ``PG_MULTIPLIER = 5 if
    N > 10 else 2`` (``n = 2`` at ``N = 3, 10``; ``n = 5`` at ``N = 25``)."""
    n = v.positive_int("seed004_multiplier", "n_players", n_players)
    return 5.0 if n > 10 else 2.0


def symmetric_public_goods_game(
    n_players: int, multiplier: float | None = None, limits: Limits | None = None
) -> SymmetricGame:
    """Seed 004's Public Goods Game in compact form: actions 0 keep, 1 contribute,
    ``r_i = ((n / N) sum_j a_j - a_i) / (n - 1)`` (the authors' code), so ``payoffs[a, m] =
    ((n / N)(m + a) - a) / (n - 1)`` with ``m`` the contributing others. ``multiplier`` ``n``
    (``None``: :func:`seed004_multiplier`) must differ from 1. Everyone contributing pays 1,
    nobody 0. The explicit form is ``.to_normal_form()``, equal to
    :func:`mechsolve.solver.games.public_goods_game` with the same multiplier. The table's
    ``2 N`` entries are checked against ``limits``' ``max_outcomes`` before it is built."""
    fn = "symmetric_public_goods_game"
    n = v.positive_int(fn, "n_players", n_players)
    resolve(limits).check(fn, "n_players", 2 * n, "max_outcomes")
    k = seed004_multiplier(n) if multiplier is None else v.real(fn, "multiplier", multiplier)
    if k == 1.0:
        raise MechsolveInputError(
            fn, "multiplier", "must differ from 1 (the reward divides by n - 1); got 1.0"
        )
    m = np.arange(n, dtype=np.float64)
    pay = np.stack([((k / n) * (m + a) - a) / (k - 1.0) for a in (0, 1)])
    return SymmetricGame(n, pay, ("keep", "contribute"), f"Public Goods Game (N={n}, n={k:g})")


def symmetric_table(
    function: str, game: NormalFormGame, limits: Limits | None = None
) -> SymmetricGame:
    """``game`` in compact form, or an error naming ``game`` when it is not symmetric (equal
    action counts, and every player's payoff a function of its own action and the counts of
    the others' actions, the same function for every player). The compact table ``(q,) +
    (N,) * (q - 1)`` can be far larger than the game (``N = 2``, ``q = 30``: 1,800 payoffs,
    ``30 * 2^29`` table entries), so its size is checked against ``max_outcomes`` first."""
    n, ks = game.n_players, game.num_actions
    q = ks[0]
    if any(k != q for k in ks):
        raise MechsolveInputError(
            function,
            "game",
            f"must be symmetric: every player needs the same number of actions; got {ks}",
        )
    resolve(limits).check(function, "game compact table", q * n ** (q - 1), "max_outcomes")
    coords = np.indices(ks).reshape(n, -1)
    counts = np.stack([(coords == a).sum(axis=0) for a in range(q)], axis=1)
    flat = game.payoffs.reshape(n, -1)
    table = np.zeros((q,) + (n,) * (q - 1))
    for i in range(n):  # scatter every player's payoffs (the last write wins)...
        own = coords[i]
        others = counts - np.eye(q, dtype=np.int64)[own]
        table[(own, *[others[:, j] for j in range(1, q)])] = flat[i]
    tol = SYMMETRY_RTOL * max(1.0, float(np.max(np.abs(flat))))
    for i in range(n):  # ...then check that every payoff agrees with the table
        own = coords[i]
        others = counts - np.eye(q, dtype=np.int64)[own]
        got = table[(own, *[others[:, j] for j in range(1, q)])]
        bad = np.abs(got - flat[i]) > tol
        if bad.any():
            s = tuple(int(c) for c in coords[:, int(np.argmax(bad))])
            raise MechsolveInputError(
                function,
                "game",
                "must be symmetric (each payoff a function of the own action and the counts of "
                f"the others' actions, alike for every player): player {i}'s payoff at {s} is "
                f"{flat[i][int(np.argmax(bad))]!r}, another player's in the same position "
                f"{got[int(np.argmax(bad))]!r}",
            )
    return SymmetricGame(n, table, game.actions[0], game.title)


def as_symmetric(function: str, game: Any, limits: Limits | None) -> SymmetricGame:
    """A :class:`SymmetricGame` as given, or from a symmetric normal-form game (or its payoff
    array)."""
    if isinstance(game, SymmetricGame):
        return game
    return symmetric_table(function, as_game(function, game, limits), limits)


def compositions(total: int, q: int) -> NDArray[np.int64]:
    """Every vector of ``q`` non-negative integers summing to ``total``, ``(C(total + q - 1,
    q - 1), q)``."""
    if q == 1:
        return np.array([[total]], dtype=np.int64)
    if q == 2:
        c1 = np.arange(total + 1, dtype=np.int64)
        return np.stack([total - c1, c1], axis=1)
    rows = [
        np.hstack([np.full((n_compositions(total - first, q - 1), 1), first), rest])
        for first in range(total + 1)
        for rest in [compositions(total - first, q - 1)]
    ]
    return np.vstack(rows)


def n_compositions(total: int, q: int) -> int:
    return math.comb(total + q - 1, q - 1)
