"""Bad input gets the project's input error with a pinned message; over-size input gets
ProblemTooLargeError."""

from __future__ import annotations

import re

import numpy as np
import pytest

from mechsolve.solver.auctions import (
    audit_mechanism,
    discrete_marginals,
    empirical_prior,
    optimal_bic_auction,
    optimal_dsic_auction,
    optimal_menu,
    regret_budget_auction,
    uniform_grid,
)
from mechsolve.solver.core.errors import MechsolveInputError, ProblemTooLargeError
from mechsolve.solver.core.limits import Limits


def _raises(exc: type[Exception], message: str):  # type: ignore[no-untyped-def]
    return pytest.raises(exc, match=re.escape(message))


def test_grid_arguments() -> None:
    with _raises(
        MechsolveInputError, "uniform_grid(): `points_per_item` must be an integer >= 2; got 1"
    ):
        uniform_grid(2, 1)
    with _raises(MechsolveInputError, "uniform_grid(): `hi` must be > lo=1.0; got 1.0"):
        uniform_grid(2, 10, lo=1.0, hi=1.0)
    with _raises(MechsolveInputError, "uniform_grid(): `lo` must be >= 0.0; got -1.0"):
        uniform_grid(2, 10, lo=-1.0)
    with _raises(
        MechsolveInputError,
        "uniform_grid(): `points` must be one of 'midpoint', 'corner'; got 'edge'",
    ):
        uniform_grid(2, 10, points="edge")
    with _raises(
        ProblemTooLargeError,
        "uniform_grid(): `points_per_item` has size 10000, over the limit max_types=1000",
    ):
        uniform_grid(2, 100, limits=Limits(max_types=1000))


def test_samples_and_marginals() -> None:
    with _raises(MechsolveInputError, "empirical_prior(): `samples[1][0]` must be finite; got nan"):
        empirical_prior([[0.1, 0.2], [np.nan, 0.3]])
    with _raises(
        MechsolveInputError, "empirical_prior(): `samples[0][1]` must be >= 0.0; got -0.2"
    ):
        empirical_prior([[0.1, -0.2]])
    with _raises(
        MechsolveInputError, "empirical_prior(): `samples` must have 2 dimension(s); got shape (3,)"
    ):
        empirical_prior([0.1, 0.2, 0.3])
    with _raises(
        ProblemTooLargeError, "empirical_prior(): `samples` has size 5, over the limit max_types=4"
    ):
        empirical_prior(np.ones((5, 2)), limits=Limits(max_types=4))
    with _raises(
        MechsolveInputError, "discrete_marginals(): `probs[0]` must sum to 1; got sum 0.5"
    ):
        discrete_marginals([[0.0, 1.0]], [[0.25, 0.25]])
    with _raises(
        MechsolveInputError, "discrete_marginals(): `values[0]` must be distinct; got 1.0 twice"
    ):
        discrete_marginals([[1.0, 1.0]])
    prior = empirical_prior([[0.2, 0.1], [0.2, 0.1], [0.5, 0.0]])
    assert prior.n_types == 2 and np.allclose(sorted(prior.probs), [1 / 3, 2 / 3])


def test_solver_arguments() -> None:
    prior = uniform_grid(2, 4)
    with _raises(
        MechsolveInputError,
        "optimal_menu(): `constraints` must be one of 'generation', 'full'; got 'all'",
    ):
        optimal_menu(prior, constraints="all")
    with _raises(
        MechsolveInputError,
        "optimal_menu(): `prior` must be a TypePrior or a non-empty list of them; got 3",
    ):
        optimal_menu(3)
    with _raises(
        MechsolveInputError, "optimal_menu(): `unit_demand` must be True or False; got 'yes'"
    ):
        optimal_menu(prior, unit_demand="yes")
    with _raises(MechsolveInputError, "optimal_menu(): `time_limit` must be > 0.0; got -1.0"):
        optimal_menu(prior, time_limit=-1.0)
    # optimal_auction(incentive=...) is gone: the DSIC and BIC solvers are called directly, and
    # the BIC solver has no unit-demand mode (per-item Border conditions do not characterize
    # unit-demand reduced forms), so the argument does not exist there
    with pytest.raises(TypeError, match="unit_demand"):
        optimal_bic_auction(prior, 2, unit_demand=True)  # type: ignore[call-arg]
    with _raises(
        MechsolveInputError, "optimal_dsic_auction(): `n_bidders` must equal len(priors)=2; got 3"
    ):
        optimal_dsic_auction([prior, prior], 3)
    with _raises(
        MechsolveInputError,
        "optimal_dsic_auction(): `priors[1]` must have 2 items like priors[0]; got 1",
    ):
        optimal_dsic_auction([prior, uniform_grid(1, 4)])
    with _raises(
        MechsolveInputError, "regret_budget_auction(): `epsilon` must be >= 0.0; got -0.001"
    ):
        regret_budget_auction(prior, 2, epsilon=-1e-3)


def test_size_limits() -> None:
    prior = uniform_grid(2, 10)
    with _raises(
        ProblemTooLargeError,
        "optimal_dsic_auction(): `priors` has size 1000000, over the limit max_types=999999",
    ):
        optimal_dsic_auction(uniform_grid(2, 10), 3, limits=Limits(max_types=999_999))
    with _raises(
        ProblemTooLargeError,
        "optimal_menu(): `constraints` has size 5445, over the limit max_lp_rows=5000",
    ):
        optimal_menu(prior, constraints="full", limits=Limits(max_lp_rows=5000))
    with _raises(
        ProblemTooLargeError,
        "optimal_bic_auction(): `priors` has size 101, over the limit max_border_sets=100",
    ):
        optimal_bic_auction(
            [prior, uniform_grid(2, 10, points="corner")], limits=Limits(max_border_sets=100)
        )


def test_audit_shapes() -> None:
    prior = uniform_grid(1, 3)
    with _raises(
        MechsolveInputError,
        "audit_mechanism(): `allocation` must have shape (3, 3, 2, 1); got (3, 3, 2)",
    ):
        audit_mechanism(np.zeros((3, 3, 2)), np.zeros((3, 3, 2)), prior)
    with _raises(
        MechsolveInputError, "audit_mechanism(): `payment[0][1][0]` must be finite; got inf"
    ):
        pay = np.zeros((3, 3, 2))
        pay[0, 1, 0] = np.inf
        audit_mechanism(np.zeros((3, 3, 2, 1)), pay, prior)
