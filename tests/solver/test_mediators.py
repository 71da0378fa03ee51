"""Pareto / Punishing Mediators and the central planner against an exhaustive plain-Python
search (tests/solver/brute_force.py) on thousands of random games, for every method and
welfare function; the no-delegator-worse-off guarantee on every instance."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mechsolve.solver.core.errors import MechsolveInputError, ProblemTooLargeError
from mechsolve.solver.core.limits import Limits
from mechsolve.solver.core.results import Termination
from mechsolve.solver.games.normal_form import NormalFormGame, seed000_prisoners_dilemma
from mechsolve.solver.games.welfare import WELFARE_NAMES, make_welfare
from mechsolve.solver.mediators.deterministic import (
    MEDIATOR_NAMES,
    central_planner,
    mediate,
    mediate_batch,
    mediator_problem,
    pareto_mediator,
    punishing_mediator,
    write_mediator_model,
)

from . import brute_force as bf


@dataclass(frozen=True)
class Instance:
    payoffs: np.ndarray
    actions: tuple[int, ...]
    delegate: tuple[bool, ...]
    welfare: str
    disagreement: tuple[float, ...] | None
    weights: tuple[float, ...] | None
    beta: float | None

    @property
    def ks(self) -> tuple[int, ...]:
        return tuple(self.payoffs.shape[1:])

    def welfare_spec(self):
        return make_welfare(
            "test",
            self.welfare,
            len(self.ks),
            weights=self.weights,
            disagreement=self.disagreement,
            beta=self.beta,
        )

    def brute(self, mediator: str) -> tuple[tuple[int, ...], float, float]:
        kw: dict = {}
        if self.disagreement is not None:
            kw["d"] = self.disagreement
        if self.weights is not None:
            kw["weights"] = self.weights
        if self.beta is not None:
            kw["beta"] = self.beta
        return bf.mediate(
            self.payoffs.tolist(),
            self.ks,
            self.actions,
            self.delegate,
            mediator,
            self.welfare,
            **kw,
        )


@st.composite
def instances(draw: st.DrawFn, max_outcomes: int = 360) -> Instance:
    """2-5 players, 2-6 actions (outcomes capped so the brute force stays fast); continuous
    U[0,1) payoffs or small integers (many exact ties); random delegate sets and welfare."""
    n = draw(st.integers(2, 5))
    ks: list[int] = []
    for i in range(n):
        room = max_outcomes // (int(np.prod(ks)) if ks else 1) // 2 ** (n - i - 1)
        ks.append(draw(st.integers(2, max(2, min(6, room)))))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if draw(st.booleans()):
        payoffs = rng.random((n, *ks))
    else:
        payoffs = rng.integers(-1, 4, (n, *ks)).astype(float)
    actions = tuple(draw(st.integers(0, k - 1)) for k in ks)
    delegate = tuple(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    welfare = draw(st.sampled_from(WELFARE_NAMES))
    d = tuple(rng.uniform(-0.5, 0.5, n).round(3)) if draw(st.booleans()) else None
    weights = None
    if welfare == "utilitarian" and draw(st.booleans()):
        weights = tuple(rng.uniform(0.1, 2.0, n).round(3))
    beta = float(draw(st.sampled_from([0.0, 0.5, 2.0]))) if welfare == "inequity_averse" else None
    return Instance(payoffs, actions, delegate, welfare, d, weights, beta)


def _close(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= 1e-8 * max(1.0, abs(b))


def _check(inst: Instance, method: str, mediator: str) -> None:
    res = mediate(
        inst.payoffs,
        inst.actions,
        inst.delegate,
        mediator=mediator,
        welfare=inst.welfare_spec(),
        method=method,
    )
    outcome, objective, welfare = inst.brute(mediator)
    assert res.termination is Termination.OPTIMAL
    assert _close(res.objective, objective), (res.objective, objective)
    assert _close(res.welfare, welfare), (res.welfare, welfare)
    assert tuple(res.actions_after) == outcome
    d = np.asarray(inst.delegate)
    after = inst.payoffs[(slice(None), *res.actions_after)]
    np.testing.assert_array_equal(res.utilities_after, after)
    if mediator == "pareto":  # the guarantee, exactly: no delegator worse off
        assert (res.utilities_after[d] >= res.utilities_before[d]).all()
    if mediator != "central_planner" and not d.all():  # non-delegators keep their action
        assert (res.actions_after[~d] == np.asarray(inst.actions)[~d]).all()


@settings(max_examples=2000)
@given(instances())
def test_enumeration_matches_brute_force(inst: Instance) -> None:
    for mediator in MEDIATOR_NAMES:
        _check(inst, "enumeration", mediator)


@settings(max_examples=1000)
@given(instances())
def test_highs_milp_matches_brute_force(inst: Instance) -> None:
    for mediator in MEDIATOR_NAMES:
        _check(inst, "milp", mediator)


@settings(max_examples=1000)
@given(instances(max_outcomes=120))
def test_pyomo_milp_matches_brute_force(inst: Instance) -> None:
    for mediator in MEDIATOR_NAMES:
        _check(inst, "pyomo", mediator)


@settings(max_examples=200)
@given(instances(), st.integers(1, 40), st.sampled_from(MEDIATOR_NAMES), st.data())
def test_batch_equals_single_profile_calls(
    inst: Instance, m: int, mediator: str, data: st.DataObject
) -> None:
    n = len(inst.ks)
    rng = np.random.default_rng(data.draw(st.integers(0, 1000)))
    acts = np.stack([rng.integers(0, k, m) for k in inst.ks], axis=1)
    dele = rng.random((m, n)) < 0.6
    w = inst.welfare_spec()
    batch = mediate_batch(inst.payoffs, acts, dele, mediator=mediator, welfare=w)
    for p in range(m):
        single = mediate(inst.payoffs, acts[p], dele[p], mediator=mediator, welfare=w)
        np.testing.assert_array_equal(batch.actions_after[p], single.actions_after)
        assert _close(batch.welfare[p], single.welfare)
        assert batch.terminations[p] == "OPTIMAL"


# -- seed 000 Table 1 -----------------------------------------------------------------------


def test_table1_prisoners_dilemma_pareto_replaces_dd_with_cc() -> None:
    g = seed000_prisoners_dilemma()
    res = pareto_mediator(g, [1, 1], [True, True])
    assert res.actions_after.tolist() == [0, 0]
    assert res.utilities_after.tolist() == [2.0, 2.0]
    assert res.welfare == 4.0
    # only one delegator: unchanged
    assert pareto_mediator(g, [1, 1], [True, False]).actions_after.tolist() == [1, 1]


def test_punishing_mediator_punishes_the_non_delegator() -> None:
    g = seed000_prisoners_dilemma()
    res = punishing_mediator(g, [0, 0], [True, False])
    # the delegator defects: the non-delegator (cooperating) gets 0, the minimum
    assert res.actions_after.tolist() == [1, 0]
    assert res.objective == 0.0
    allin = punishing_mediator(g, [1, 1], [True, True])
    assert allin.actions_after.tolist() == [0, 0]


def test_central_planner_ignores_delegation() -> None:
    g = seed000_prisoners_dilemma()
    assert central_planner(g).actions_after.tolist() == [0, 0]
    assert central_planner(g, [1, 1], [False, False]).actions_after.tolist() == [0, 0]


def test_tie_break_prefers_the_submitted_profile_then_smallest_index() -> None:
    p = np.zeros((2, 2, 2))  # every outcome ties
    assert pareto_mediator(p, [1, 1], [1, 1]).actions_after.tolist() == [1, 1]
    assert central_planner(p, [1, 0]).actions_after.tolist() == [1, 0]
    q = np.zeros((2, 2, 2))
    q[:, 1, 1] = -1.0  # the submitted profile is strictly worse: smallest index among ties
    assert pareto_mediator(q, [1, 1], [1, 1]).actions_after.tolist() == [0, 0]


def test_nash_welfare_outside_the_bargaining_set_falls_back_to_utilitarian() -> None:
    p = -np.ones((2, 2, 2))
    p[:, 0, 1] = [-0.5, -0.2]  # no outcome has u > d = 0: every Nash welfare is -inf
    res = pareto_mediator(p, [1, 1], [1, 1], welfare="nash")
    assert res.actions_after.tolist() == [0, 1]
    assert res.welfare == -math.inf


# -- time limits, sizes, models -------------------------------------------------------------


def test_time_limit_leaves_remaining_profiles_unchanged_and_says_so() -> None:
    rng = np.random.default_rng(0)
    g = NormalFormGame(rng.random((3, 8, 8, 8)))
    acts = rng.integers(0, 8, (3000, 3))
    res = mediate_batch(g, acts, np.ones((3000, 3), bool), method="milp", time_limit=0.05)
    assert res.termination is Termination.FEASIBLE
    limited = res.terminations == "FEASIBLE"
    assert limited.any() and (res.terminations[~limited] == "OPTIMAL").all()
    # every returned profile is feasible: no delegator worse off, limited or not
    assert (res.utilities_after >= res.utilities_before).all()
    # profiles never reached keep their submitted action
    assert (res.actions_after[limited] == acts[limited]).all(axis=1).any()
    assert "time limit" in res.info.message


def test_candidate_limit_raises_problem_too_large() -> None:
    g = NormalFormGame(np.zeros((2, 10, 10)))
    with pytest.raises(
        ProblemTooLargeError, match=r"`candidates` has size 100, over the limit max_candidates=50"
    ):
        pareto_mediator(g, [0, 0], [1, 1], limits=Limits(max_candidates=50))
    # a profile that searches fewer candidates passes
    pareto_mediator(g, [0, 0], [1, 0], limits=Limits(max_candidates=50))


def test_batch_limit() -> None:
    with pytest.raises(ProblemTooLargeError, match=r"mediate_batch\(\): `actions` has size 3"):
        mediate_batch(
            np.zeros((2, 2, 2)),
            np.zeros((3, 2), int),
            np.ones((3, 2), bool),
            limits=Limits(max_batch_profiles=2),
        )


@pytest.mark.parametrize("suffix", [".lp", ".mps"])
def test_write_model_is_readable_by_highs_with_the_same_optimum(tmp_path, suffix: str) -> None:
    import highspy

    rng = np.random.default_rng(3)
    g = NormalFormGame(rng.random((3, 3, 4, 2)))
    path = write_mediator_model(g, [0, 1, 1], [1, 1, 0], tmp_path / f"m{suffix}")
    h = highspy.Highs()
    h.silent()
    h.readModel(str(path))
    h.run()
    res = pareto_mediator(g, [0, 1, 1], [1, 1, 0])
    assert h.getInfo().objective_function_value == pytest.approx(res.welfare, rel=1e-9)


def test_mediator_problem_of_an_unchanged_profile_has_one_candidate() -> None:
    prob = mediator_problem(np.zeros((2, 2, 2)), [0, 1], [1, 0])
    assert prob.n_candidates == 1


# -- bad input ------------------------------------------------------------------------------

BAD = [
    pytest.param(
        dict(game=np.full((2, 2, 2), np.nan)),
        r"`game\[0\]\[0\]\[0\]` must be finite; got nan",
        id="nan",
    ),
    pytest.param(
        dict(game=np.zeros((2, 2))),
        r"`game` must have shape \(n_players, k_1, ..., k_n\)",
        id="shape",
    ),
    pytest.param(
        dict(game=np.zeros((2, 0, 2))), r"at least one player and one action each", id="empty"
    ),
    pytest.param(
        dict(actions=[0, 5]),
        r"pareto_mediator\(\): `actions\[1\]` must be in \[0, 2\); got 5",
        id="action-range",
    ),
    pytest.param(
        dict(actions=[0]), r"`actions` must have shape \(2,\); got \(1,\)", id="action-count"
    ),
    pytest.param(
        dict(actions=[0.5, 1]), r"`actions\[0\]` must be an integer; got 0.5", id="action-float"
    ),
    pytest.param(
        dict(delegate=[1, 2]),
        r"`delegate\[1\]` must be a boolean \(0 or 1\); got 2",
        id="delegate-int",
    ),
    pytest.param(
        dict(delegate=["yes", "no"]), r"`delegate` must be an array of booleans", id="delegate-str"
    ),
    pytest.param(
        dict(welfare="rawlsian"),
        r"`welfare` must be one of 'utilitarian', .*; got 'rawlsian'",
        id="welfare",
    ),
    pytest.param(
        dict(method="gurobi"),
        r"`method` must be one of 'enumeration', 'milp', 'pyomo'; got 'gurobi'",
        id="method",
    ),
    pytest.param(dict(time_limit=-1), r"`time_limit` must be > 0.0; got -1.0", id="time-limit"),
    pytest.param(dict(solver="cbc"), r"`solver` applies to method='pyomo' only", id="solver"),
]


@pytest.mark.parametrize(("override", "message"), BAD)
def test_bad_input_names_function_argument_and_value(override: dict, message: str) -> None:
    kw = dict(game=np.zeros((2, 2, 2)), actions=[0, 1], delegate=[1, 1])
    kw.update(override)
    game, actions, delegate = kw.pop("game"), kw.pop("actions"), kw.pop("delegate")
    with pytest.raises(MechsolveInputError, match=message):
        pareto_mediator(game, actions, delegate, **kw)


def test_unknown_mediator_in_batch() -> None:
    with pytest.raises(
        MechsolveInputError, match=r"`mediator` must be one of 'pareto'.*; got 'nice'"
    ):
        mediate_batch(np.zeros((2, 2, 2)), [[0, 0]], [[1, 1]], mediator="nice")


def test_game_size_limit() -> None:
    with pytest.raises(ProblemTooLargeError, match=r"over the limit max_outcomes=10"):
        pareto_mediator(np.zeros((2, 4, 4)), [0, 0], [1, 1], limits=Limits(max_outcomes=10))
