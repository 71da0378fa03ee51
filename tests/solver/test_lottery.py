"""Lottery Pareto Mediator: Pareto in expectation, welfare >= the deterministic mediator's on
every instance, optimality against an independent scipy LP for the linear welfare forms."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from scipy.optimize import linprog

from mechsolve.solver.core.errors import MechsolveInputError
from mechsolve.solver.core.results import Termination
from mechsolve.solver.games.normal_form import seed000_prisoners_dilemma
from mechsolve.solver.mediators.deterministic import pareto_mediator
from mechsolve.solver.mediators.lottery import lottery_pareto_mediator

from .test_mediators import Instance, instances


def _lottery_guarantees(inst: Instance) -> None:
    w = inst.welfare_spec()
    lot = lottery_pareto_mediator(inst.payoffs, inst.actions, inst.delegate, welfare=w, seed=1)
    det = pareto_mediator(inst.payoffs, inst.actions, inst.delegate, welfare=w)
    d = np.asarray(inst.delegate)
    assert lot.termination is Termination.OPTIMAL
    assert lot.probabilities.sum() == pytest.approx(1.0, abs=1e-12)
    assert (lot.probabilities > 0).all()
    # expected utilities are what the support and probabilities say
    u = np.array([inst.payoffs[(slice(None), *s)] for s in lot.support])
    np.testing.assert_allclose(lot.expected_utilities, lot.probabilities @ u, atol=1e-12)
    if d.sum() >= 2:
        # Pareto in expectation (up to the LP feasibility tolerance)
        assert (lot.expected_utilities[d] >= lot.utilities_before[d] - 1e-8).all()
        # non-delegators keep their action in every outcome of the support
        assert (lot.support[:, ~d] == np.asarray(inst.actions)[~d]).all()
        # the deterministic outcome is a feasible lottery
        if math.isfinite(det.welfare):
            assert lot.welfare >= det.welfare - 1e-6 * max(1.0, abs(det.welfare))
    else:
        assert lot.support.tolist() == [list(inst.actions)]
    assert any((lot.sampled_actions == s).all() for s in lot.support)


@settings(max_examples=400)
@given(instances(max_outcomes=200))
def test_lottery_is_pareto_in_expectation_and_beats_the_deterministic_mediator(
    inst: Instance,
) -> None:
    _lottery_guarantees(inst)


@settings(max_examples=150)
@given(instances(max_outcomes=200))
def test_utilitarian_lottery_is_optimal_against_scipy_linprog(inst: Instance) -> None:
    """Independent LP: max sum_D E[u] s.t. sum x = 1, E[u_i] >= u_i(a) for i in D."""
    d = np.asarray(inst.delegate)
    if d.sum() < 2:
        return
    lot = lottery_pareto_mediator(inst.payoffs, inst.actions, inst.delegate, welfare="utilitarian")
    n = len(inst.ks)
    free = np.flatnonzero(d)
    grids = np.indices(inst.ks).reshape(n, -1).T
    keep = (grids[:, ~d] == np.asarray(inst.actions)[~d]).all(axis=1)
    cand = grids[keep]
    u = np.array([inst.payoffs[(slice(None), *c)] for c in cand]).T  # (n, C)
    before = inst.payoffs[(slice(None), *inst.actions)]
    res = linprog(
        -u[free].sum(axis=0),
        A_ub=-u[free],
        b_ub=-before[free],
        A_eq=np.ones((1, u.shape[1])),
        b_eq=[1.0],
        bounds=(0, None),
        method="highs",
    )
    assert res.status == 0
    assert lot.welfare == pytest.approx(-res.fun, rel=1e-7, abs=1e-9)


def test_pd_lottery_reaches_the_cooperative_outcome() -> None:
    lot = lottery_pareto_mediator(seed000_prisoners_dilemma(), [1, 1], [1, 1])
    assert lot.support.tolist() == [[0, 0]]
    assert lot.welfare == 4.0


def test_egalitarian_lottery_mixes_to_equalize() -> None:
    # asymmetric BoS-like: the egalitarian lottery mixes (4,1) and (1,4) half-half: (2.5, 2.5)
    p = np.zeros((2, 2, 2))
    p[:, 0, 0] = [4, 1]
    p[:, 1, 1] = [1, 4]
    lot = lottery_pareto_mediator(p, [0, 1], [1, 1], welfare="egalitarian")
    np.testing.assert_allclose(lot.expected_utilities, [2.5, 2.5], atol=1e-8)
    np.testing.assert_allclose(sorted(lot.probabilities), [0.5, 0.5], atol=1e-8)


def test_nash_lottery_uses_cvxpy_and_matches_the_closed_form() -> None:
    # outcomes (2,0.5) and (0.5,2): Nash product of a mix t: (0.5+1.5t)(2-1.5t), max at t=0.5
    p = np.zeros((2, 2, 2))
    p[:, 0, 0] = [2, 0.5]
    p[:, 1, 1] = [0.5, 2]
    lot = lottery_pareto_mediator(p, [0, 1], [1, 1], welfare="nash")
    assert lot.backend.startswith("cvxpy")
    np.testing.assert_allclose(lot.expected_utilities, [1.25, 1.25], atol=1e-6)
    assert lot.welfare == pytest.approx(1.5625, rel=1e-6)


def test_sampling_is_reproducible_with_a_seed() -> None:
    p = np.zeros((2, 2, 2))
    p[:, 0, 0] = [4, 1]
    p[:, 1, 1] = [1, 4]
    draws = {
        tuple(
            lottery_pareto_mediator(
                p, [0, 1], [1, 1], welfare="egalitarian", seed=s
            ).sampled_actions
        )
        for s in range(30)
    }
    assert draws == {(0, 0), (1, 1)}
    a = lottery_pareto_mediator(p, [0, 1], [1, 1], welfare="egalitarian", seed=7)
    b = lottery_pareto_mediator(p, [0, 1], [1, 1], welfare="egalitarian", seed=7)
    assert a.sampled_actions.tolist() == b.sampled_actions.tolist()


def test_bad_seed() -> None:
    with pytest.raises(
        MechsolveInputError,
        match=r"lottery_pareto_mediator\(\): `seed` must be a non-negative integer",
    ):
        lottery_pareto_mediator(np.zeros((2, 2, 2)), [0, 0], [1, 1], seed=-3)
