"""Welfare functions over utility vectors (SPEC section 1; seed 003 Table 2 and Appendix C).

For a utility vector ``u`` over a set of players S with disagreement point ``d``:

- utilitarian:        ``W = sum_i w_i (u_i - d_i)``                    (weights default 1)
- egalitarian:        ``W = min_i (u_i - d_i)``
- Nash:               ``W = prod_i (u_i - d_i)`` if every ``u_i > d_i``, else ``-inf``
                      (outcomes not strictly above ``d`` are outside the bargaining set)
- Kalai-Smorodinsky:  ``W = min_i (u_i - d_i) / (ideal_i - d_i)`` over players with
                      ``ideal_i > d_i`` (``0`` when there is none); ``ideal_i`` is the best
                      utility player i reaches on the feasible set of the problem at hand
- inequity-averse:    ``W = sum_i (u_i - d_i) - beta * mean_{i<j} |(u_i - d_i) - (u_j - d_j)|``

Maximizing the KS welfare over a feasible set picks the point of the Pareto frontier on the
segment from ``d`` to the ideal point (the KS solution of seed 003 Table 2) when the set is
comprehensive; on finite outcome sets it is the max-min of normalized gains.

Ties: welfare values within :data:`TIE_RTOL` (relative) are equal; ties break by utilitarian
welfare (unweighted sum of ``u``), then by the caller's rule (mediators: prefer the submitted
profile, then the smallest flat index), so results are deterministic.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..core import validation as v
from ..core.errors import MechsolveInputError

TIE_RTOL = 1e-9
"""Relative tolerance under which two welfare values are a tie."""


class WelfareKind(enum.Enum):
    UTILITARIAN = "utilitarian"
    EGALITARIAN = "egalitarian"
    NASH = "nash"
    KALAI_SMORODINSKY = "kalai_smorodinsky"
    INEQUITY_AVERSE = "inequity_averse"


WELFARE_NAMES = tuple(k.value for k in WelfareKind)


@dataclass(frozen=True)
class Welfare:
    """A welfare function with its parameters (per player of the whole game).

    Attributes:
        kind: which welfare function.
        weights: utilitarian weights, one per player (``None`` = all 1); utilitarian only.
        disagreement: the disagreement point ``d``, one per player (``None`` = all 0).
        beta: inequity-aversion strength (inequity-averse only), ``>= 0``.
    """

    kind: WelfareKind = WelfareKind.UTILITARIAN
    weights: tuple[float, ...] | None = None
    disagreement: tuple[float, ...] | None = None
    beta: float = 1.0

    @property
    def name(self) -> str:
        return self.kind.value

    @property
    def needs_ideal(self) -> bool:
        return self.kind is WelfareKind.KALAI_SMORODINSKY

    def d(self, players: NDArray[np.int64]) -> NDArray[np.float64]:
        """Disagreement values of ``players``."""
        if self.disagreement is None:
            return np.zeros(len(players))
        return np.asarray(self.disagreement, dtype=np.float64)[players]

    def evaluate(
        self,
        u: NDArray[np.float64],
        players: NDArray[np.int64],
        *,
        axis: int = -1,
        ideal: NDArray[np.float64] | None = None,
    ) -> NDArray[np.float64]:
        """Welfare of utility vectors ``u`` whose ``axis`` runs over ``players`` (vectorized).

        ``ideal`` (same layout as ``u`` with ``axis`` of length ``len(players)``, broadcastable)
        is required for Kalai-Smorodinsky.
        """
        kind = self.kind
        if kind is WelfareKind.UTILITARIAN and self.weights is None:  # the hot path: no copies
            total = np.asarray(u, dtype=np.float64).sum(axis=axis)
            return total if self.disagreement is None else total - self.d(players).sum()
        x = np.moveaxis(np.asarray(u, dtype=np.float64), axis, -1)
        if self.disagreement is not None:
            x = x - self.d(players)
        if kind is WelfareKind.UTILITARIAN:
            return x @ np.asarray(self.weights, dtype=np.float64)[players]
        if kind is WelfareKind.EGALITARIAN:
            return x.min(axis=-1)
        if kind is WelfareKind.NASH:
            inside = (x > 0).all(axis=-1)
            return np.where(inside, np.prod(np.where(x > 0, x, 1.0), axis=-1), -np.inf)
        if kind is WelfareKind.INEQUITY_AVERSE:
            m = x.shape[-1]
            if m < 2:
                return x.sum(axis=-1)
            gaps = np.abs(x[..., :, None] - x[..., None, :]).sum(axis=(-2, -1)) / 2.0
            return x.sum(axis=-1) - self.beta * gaps / (m * (m - 1) / 2.0)
        # Kalai-Smorodinsky
        if ideal is None:
            raise MechsolveInputError(
                "Welfare.evaluate", "ideal", "is required for kalai_smorodinsky"
            )
        span = np.moveaxis(np.asarray(ideal, dtype=np.float64), axis, -1) - self.d(players)
        x, span = np.broadcast_arrays(x, span)
        valid = span > 0
        ratio = np.where(valid, x / np.where(valid, span, 1.0), np.inf)
        return np.where(valid.any(axis=-1), ratio.min(axis=-1), 0.0)


def welfare_spec(function: str, argument: str, welfare: Any) -> Welfare:
    """A :class:`Welfare` from a ``Welfare``, a :class:`WelfareKind` or one of
    :data:`WELFARE_NAMES` (its parameters are checked against the game by
    :func:`make_welfare`)."""
    if isinstance(welfare, Welfare):
        return welfare
    if isinstance(welfare, WelfareKind):
        return Welfare(welfare)
    return Welfare(WelfareKind(v.choice(function, argument, welfare, WELFARE_NAMES)))


def make_welfare(
    function: str,
    welfare: Any,
    n_players: int,
    *,
    weights: Any = None,
    disagreement: Any = None,
    beta: Any = None,
) -> Welfare:
    """Validate a welfare spec: a :class:`Welfare`, a :class:`WelfareKind` or one of
    :data:`WELFARE_NAMES`; optional parameters are checked against ``n_players`` (errors name
    ``welfare.weights`` etc. when they came inside a :class:`Welfare`)."""
    at = ""
    if isinstance(welfare, Welfare):
        at = "welfare."
        if weights is not None or disagreement is not None or beta is not None:
            raise MechsolveInputError(
                function,
                "welfare",
                "is a Welfare object; pass its parameters inside it, not separately",
            )
        w = welfare
        kind = w.kind
        weights, disagreement, beta = w.weights, w.disagreement, w.beta
    else:
        if isinstance(welfare, WelfareKind):
            kind = welfare
        else:
            name = v.choice(function, "welfare", welfare, WELFARE_NAMES)
            kind = WelfareKind(name)
    wts = None
    if weights is not None:
        if kind is not WelfareKind.UTILITARIAN:
            raise MechsolveInputError(
                function,
                f"{at}weights",
                f"apply to the utilitarian welfare only; got welfare={kind.value!r}",
            )
        wts = tuple(
            v.float_array(
                function, f"{at}weights", weights, shape=(n_players,), min_value=0.0
            ).tolist()
        )
    dis = None
    if disagreement is not None:
        dis = tuple(
            v.float_array(function, f"{at}disagreement", disagreement, shape=(n_players,)).tolist()
        )
    b = 1.0 if beta is None else v.real(function, f"{at}beta", beta, min_value=0.0)
    return Welfare(kind, wts, dis, b)


def tie_tolerance(best: NDArray[np.float64] | float) -> NDArray[np.float64]:
    """Absolute tie tolerance for a best value: ``TIE_RTOL * max(1, |best|)`` (0 at +-inf)."""
    b = np.asarray(best, dtype=np.float64)
    finite = np.isfinite(b)
    return np.where(finite, TIE_RTOL * np.maximum(1.0, np.abs(np.where(finite, b, 0.0))), 0.0)
