"""Frozen result dataclasses of the auction solvers, evaluations and audits.

Everything is a plain numpy array, a float, an int, a string or an enum with a string value,
so that the server can translate a result to protobuf field by field.

Conventions shared by all of them:

- Ex-post tables: ``allocation[t_1, ..., t_n, i, j]`` is the probability that bidder ``i`` gets
  item ``j`` at the type profile ``(t_1, ..., t_n)`` (indices into each bidder's
  :class:`~mechsolve.solver.auctions.priors.TypePrior`), ``payment[t_1, ..., t_n, i]`` what
  bidder ``i`` pays. Utility is ``allocation . values - payment`` (additive, quasi-linear).
- Revenue is the expected total payment under the (discrete) prior.
- Regret follows RegretNet (Duetting et al. 2019; seed 004, first study): bidder ``i``'s ex-post
  regret at a profile is the best utility gain from misreporting any type of its type set
  while the others report truthfully; ``regret_mean`` is its expectation averaged over bidders
  (``(1/n) sum_i E[rgt_i]``), ``regret_max`` the largest value at any profile.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from ..core.results import HasSolveInfo, SolveInfo
from .priors import Box, TypePrior


class Incentive(enum.Enum):
    """Which incentive constraints a mechanism satisfies."""

    MENU = "menu"
    """One bidder: IC and IR for every type (DSIC and BIC coincide)."""
    DSIC = "dsic"
    """Dominant-strategy IC and ex-post IR for every bidder at every profile."""
    BIC = "bic"
    """Bayesian IC and interim IR on the reduced form (interim allocations and payments)."""
    REGRET_BUDGET = "regret_budget"
    """Ex-post IR, mean ex-post regret at most the budget (DSIC when the budget is 0)."""


@dataclass(frozen=True)
class Verification:
    """The check of a returned mechanism against every one of its constraints.

    Violations are ``>= 0`` (0 = satisfied); ``passed`` when each is ``<= tolerance``.

    Attributes:
        passed: every constraint holds within ``tolerance``.
        max_ic_violation: the largest gain from a misreport beyond what is allowed (0 for IC
            mechanisms, the per-row regret allowance for regret-budget mechanisms).
        max_ir_violation: the largest negative (ex-post or interim) utility, as a positive number.
        max_feasibility_violation: allocation outside ``[0, 1]``, an item over-allocated at a
            profile, a unit-demand bidder over one item, or Border's condition (BIC).
        max_budget_violation: mean regret allowance above the budget (regret-budget LPs only).
        tolerance: the absolute tolerance used (``1e-6 * max(1, largest value)``).
        ic_constraints_checked: the number of (type or profile, misreport) pairs examined.
    """

    passed: bool
    max_ic_violation: float
    max_ir_violation: float
    max_feasibility_violation: float
    max_budget_violation: float
    tolerance: float
    ic_constraints_checked: int


@dataclass(frozen=True)
class GenerationStats:
    """How the LP was built and solved.

    Attributes:
        constraints: ``"generation"`` (seeded rows + exact separation) or ``"full"``.
        rounds: LP solves (1 + rounds of added rows).
        ic_rows: IC rows in the final LP.
        ic_rows_full: IC rows the full formulation has (after the symmetry reduction).
        border_rows: Border rows added (BIC).
        lp_rows, lp_cols: the final LP's size.
        symmetry_order: order of the symmetry group used (1 = none).
        lp_time_s: seconds in HiGHS; separation_time_s: seconds in separation oracles.
    """

    constraints: str
    rounds: int
    ic_rows: int
    ic_rows_full: int
    border_rows: int
    lp_rows: int
    lp_cols: int
    symmetry_order: int
    lp_time_s: float
    separation_time_s: float


@dataclass(frozen=True, eq=False)
class Menu:
    """The distinct entries of a one-bidder mechanism, the null entry excluded.

    Attributes:
        allocation: ``(E, m)`` item probabilities of each entry.
        price: ``(E,)`` prices.
        mass: ``(E,)`` prior probability of the types that pick each entry (empty when
            unknown).
        lo, hi: the continuous prior ``prod_j U[lo_j, hi_j]`` the menu was solved for (its
            uniform grid's box: a float when every item has the same interval, else one per
            item), ``None`` when it came from another prior.
    """

    allocation: NDArray[np.float64]
    price: NDArray[np.float64]
    mass: NDArray[np.float64] = field(default_factory=lambda: np.empty(0))
    lo: Box | None = None
    hi: Box | None = None


@dataclass(frozen=True, eq=False)
class MenuResult(HasSolveInfo):
    """The revenue-optimal menu for one bidder (Rochet utility formulation).

    Attributes:
        info: termination, objective (= grid revenue), method, backend, wall time.
        prior: the type set solved on.
        allocation: ``(T, m)`` item probabilities per type.
        payment: ``(T,)`` price per type.
        utility: ``(T,)`` ``allocation . values - payment``.
        revenue: expected payment on the prior.
        unit_demand: whether allocations were restricted to ``sum_j q_j <= 1``.
        verification: the final check against every IC and IR constraint.
        stats: constraint-generation statistics.
    """

    info: SolveInfo
    prior: TypePrior
    allocation: NDArray[np.float64]
    payment: NDArray[np.float64]
    utility: NDArray[np.float64]
    revenue: float
    unit_demand: bool
    verification: Verification
    stats: GenerationStats

    def menu(self, *, tol: float = 1e-7) -> Menu:
        """The distinct (allocation, price) entries chosen by some type, rows within ``tol`` of
        each other merged (LP noise; the merged menu earns the LP's revenue on the prior, else
        only identical rows are merged), the null entry left out; ``mass`` is the probability
        of the types choosing each entry (:func:`~mechsolve.solver.auctions.menus.distinct_menu`).
        """
        from .menus import distinct_menu

        return distinct_menu(self.prior, self.allocation, self.payment, tol=tol)


@dataclass(frozen=True, eq=False)
class AuctionResult(HasSolveInfo):
    """An ex-post mechanism for ``n`` bidders (DSIC, or at a regret budget).

    Attributes:
        info: termination, objective (= grid revenue), method, backend, wall time.
        priors: one type set per bidder.
        incentive: :attr:`Incentive.DSIC` or :attr:`Incentive.REGRET_BUDGET`.
        allocation: ``(T_1, ..., T_n, n, m)``.
        payment: ``(T_1, ..., T_n, n)``.
        revenue: expected total payment on the prior.
        regret_budget: the budget on the mean ex-post regret (0 for DSIC).
        unit_demand: whether each bidder gets at most one item in expectation per profile.
        verification: the final check against every constraint of the LP.
        stats: constraint-generation statistics.
    """

    info: SolveInfo
    priors: tuple[TypePrior, ...]
    incentive: Incentive
    allocation: NDArray[np.float64]
    payment: NDArray[np.float64]
    revenue: float
    regret_budget: float
    unit_demand: bool
    verification: Verification
    stats: GenerationStats

    @property
    def n_bidders(self) -> int:
        return len(self.priors)

    @property
    def n_items(self) -> int:
        return self.priors[0].n_items


@dataclass(frozen=True, eq=False)
class InterimAuctionResult(HasSolveInfo):
    """A BIC mechanism as its reduced form (interim rules), one entry per bidder.

    Attributes:
        info: termination, objective (= revenue), method, backend, wall time.
        priors: one type set per bidder.
        allocation: per bidder ``(T_i, m)``: probability of getting each item given the type.
        payment: per bidder ``(T_i,)`` expected payment given the type.
        utility: per bidder ``(T_i,)`` interim utility.
        revenue: expected total payment.
        verification: IC, interim IR and Border feasibility of every item, checked exactly.
        stats: constraint-generation statistics (``border_rows`` counts Border cuts).
    """

    info: SolveInfo
    priors: tuple[TypePrior, ...]
    allocation: tuple[NDArray[np.float64], ...]
    payment: tuple[NDArray[np.float64], ...]
    utility: tuple[NDArray[np.float64], ...]
    revenue: float
    verification: Verification
    stats: GenerationStats

    @property
    def incentive(self) -> Incentive:
        return Incentive.BIC


@dataclass(frozen=True)
class ContinuousRevenue:
    """Expected revenue of a menu on a continuous prior.

    Attributes:
        revenue: the estimate.
        error: ``error_kind == "bound"``: a guaranteed bound on ``|revenue - exact|``;
            ``"standard_error"``: one Monte Carlo standard error.
        error_kind: ``"bound"`` or ``"standard_error"``.
        method: ``"adaptive_cells"`` or ``"monte_carlo"``.
        evaluations: cells or samples evaluated.
    """

    revenue: float
    error: float
    error_kind: str
    method: str
    evaluations: int


@dataclass(frozen=True, eq=False)
class RoundedEvaluation:
    """An n-bidder grid mechanism run on continuous values ``U[lo, hi]^m`` with every bid
    rounded to its grid cell (any bid is a report of some grid type).

    Attributes:
        revenue: exact expected revenue (payments depend on the cells only, each cell has its
            grid mass), equal to the grid revenue.
        regret_mean: ``(1/n) sum_i E[rgt_i]`` on the continuous prior, Monte Carlo.
        regret_mean_se: its standard error.
        regret_per_bidder: ``(n,)`` ``E[rgt_i]``.
        regret_max_observed: the largest regret among the samples.
        n_samples: continuous profiles sampled; seed: the seed of the draw (drawn from
            fresh entropy when the call gave none), so the evaluation can be repeated.
    """

    revenue: float
    regret_mean: float
    regret_mean_se: float
    regret_per_bidder: NDArray[np.float64]
    regret_max_observed: float
    n_samples: int
    seed: int


@dataclass(frozen=True)
class Extrapolation:
    """Two-grid Richardson extrapolation ``R* ~ (K2 R(K2) - K1 R(K1)) / (K2 - K1)`` from grid
    revenues with error ``c / K + O(1/K^2)``.

    Attributes:
        estimate: the extrapolated continuous optimum.
        grids: ``(K1, K2)``; revenues: the grid optima ``(R(K1), R(K2))``; points: grid kind.
        wall_time_s: seconds for both solves.
        message: why ``estimate`` is ``nan`` (a grid not solved to optimality), else ``""``.
    """

    estimate: float
    grids: tuple[int, int]
    revenues: tuple[float, float]
    points: str
    wall_time_s: float
    message: str = ""


@dataclass(frozen=True, eq=False)
class AuditReport:
    """Exact incentive audit of a mechanism given as tables on a grid.

    Attributes:
        revenue: expected total payment.
        regret_mean: ``(1/n) sum_i E[rgt_i]`` (RegretNet's reported regret).
        regret_per_bidder: ``(n,)`` ``E[rgt_i]``; regret_max_per_bidder: ``(n,)`` max over profiles.
        regret_max: the largest ex-post regret of any bidder at any profile.
        witness_bidder, witness_profile, witness_report: where ``regret_max`` is attained:
            the bidder, the true profile (type indices, ``(n,)``) and the best misreport (a
            type index of that bidder); ``-1`` / empty when the regret is 0.
        ir_violation_max: the largest negative ex-post utility (as a positive number).
        ir_violation_mass: probability of the profiles where some bidder's utility is negative.
        supply_violation_max: the largest over-allocation ``sum_i q_ij - 1`` (and
            allocations outside ``[0, 1]``; unit-demand excess when requested).
        tolerance: values at or below it are reported as 0.
        convention: a sentence stating the regret convention.
    """

    revenue: float
    regret_mean: float
    regret_per_bidder: NDArray[np.float64]
    regret_max_per_bidder: NDArray[np.float64]
    regret_max: float
    witness_bidder: int
    witness_profile: NDArray[np.int64]
    witness_report: int
    ir_violation_max: float
    ir_violation_mass: float
    supply_violation_max: float
    tolerance: float
    convention: str
