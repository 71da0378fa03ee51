"""Pareto / Punishing Mediators and the central planner against an exhaustive plain-Python
search (tests/solver/brute_force.py) on thousands of random games, for every method and
welfare function; the no-delegator-worse-off guarantee on every instance."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mechsolve.solver.core.errors import MechsolveInputError, ProblemTooLargeError
from mechsolve.solver.core.limits import Limits
from mechsolve.solver.core.results import Limit, Stopwatch, Termination, TerminationReason
from mechsolve.solver.games.normal_form import (
    NormalFormGame,
    random_game,
    seed000_prisoners_dilemma,
)
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
from mechsolve.solver.mediators.onehot_milp import OneHotProblem

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
    assert res.termination.reason is TerminationReason.OPTIMAL
    assert _close(res.objective, objective), (res.objective, objective)
    assert _close(res.welfare_after, welfare), (res.welfare_after, welfare)
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
        assert _close(batch.welfare_after[p], single.welfare_after)
        assert _close(batch.welfare_before[p], single.welfare_before)
        assert batch.optimal[p]


# -- seed 000 Table 1 -----------------------------------------------------------------------


def test_table1_prisoners_dilemma_pareto_replaces_dd_with_cc() -> None:
    g = seed000_prisoners_dilemma()
    res = pareto_mediator(g, [1, 1], [True, True])
    assert res.actions_after.tolist() == [0, 0]
    assert res.utilities_after.tolist() == [2.0, 2.0]
    assert res.welfare_after == 4.0
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
    assert res.welfare_after == -math.inf


# -- time limits, sizes, models -------------------------------------------------------------


def test_time_limit_leaves_remaining_profiles_unchanged_and_says_so() -> None:
    """3000 MILPs cannot all be solved in 0.05 s on any machine, so the limit is always hit
    (no assertion on elapsed time): the call says so, and every profile is still feasible."""
    rng = np.random.default_rng(0)
    g = NormalFormGame(rng.random((3, 8, 8, 8)))
    acts = rng.integers(0, 8, (3000, 3))
    res = mediate_batch(g, acts, np.ones((3000, 3), bool), method="milp", time_limit=0.05)
    assert res.termination.reason is TerminationReason.FEASIBLE
    assert res.termination.limit is Limit.TIME
    limited = ~res.optimal
    assert limited.any()
    # the profiles solved to optimality are the exact mediator's answers
    exact = mediate_batch(g, acts[~limited], np.ones(((~limited).sum(), 3), bool))
    np.testing.assert_array_equal(res.actions_after[~limited], exact.actions_after)
    # every returned profile is feasible: no delegator worse off, limited or not
    assert (res.utilities_after >= res.utilities_before).all()
    # profiles never reached keep their submitted action
    assert (res.actions_after[limited] == acts[limited]).all(axis=1).any()
    assert "time limit" in res.termination.detail
    for p in np.flatnonzero(limited)[:3]:  # a limited row says so on its own, too
        assert res.profile(int(p)).termination.reason is TerminationReason.FEASIBLE


def test_candidate_limit_raises_problem_too_large() -> None:
    g = NormalFormGame(np.zeros((2, 10, 10)))
    with pytest.raises(
        ProblemTooLargeError,
        match=r"`game candidates` has size 100, over the limit max_candidates=50",
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
    assert h.getInfo().objective_function_value == pytest.approx(res.welfare_after, rel=1e-9)


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


# -- regressions ----------------------------------------------------------------------------


@pytest.mark.parametrize("mediator", MEDIATOR_NAMES)
def test_mediate_batch_leaves_the_callers_arrays_writable(mediator: str) -> None:
    """The validation helpers copy: freezing the result's arrays must not freeze the caller's
    buffers (a simulation reuses them every round), and writing to the buffers afterwards must
    not change the result."""
    g = seed000_prisoners_dilemma()
    acts = np.array([[1, 1], [0, 1]], dtype=np.int64)
    dele = np.array([[True, True], [True, False]], dtype=np.bool_)
    res = mediate_batch(g, acts, dele, mediator=mediator)
    assert acts.flags.writeable and dele.flags.writeable
    kept_acts, kept_dele = res.actions_before.copy(), res.delegate.copy()
    acts[:] = 0  # the caller reuses its buffers
    dele[:] = False
    np.testing.assert_array_equal(res.actions_before, kept_acts)
    np.testing.assert_array_equal(res.delegate, kept_dele)
    assert not res.actions_before.flags.writeable and not res.delegate.flags.writeable
    single_a = np.array([1, 1], dtype=np.int64)
    single_d = np.array([True, True], dtype=np.bool_)
    mediate(g, single_a, single_d, mediator=mediator)
    single_a[0], single_d[0] = 0, False  # raises if the call froze them


def _one_hot_trap() -> OneHotProblem:
    """Four candidates, two Pareto-constrained players at (1, 1) (candidate 0 submitted);
    candidate 1 has the best total but leaves player 1 a hair worse off (a tolerance
    artefact a MILP solver may accept), candidate 3 = (2, 2) is the true optimum."""
    u = np.array([[1.0, 3.5, 0.5, 2.0], [1.0, 1.0 - 1e-9, 3.0, 2.0]])
    return OneHotProblem((u.sum(axis=0),), u, np.array([1.0, 1.0]), submitted=0)


class _TrapBackend:
    """A :class:`OneHotBackend` that answers with the Pareto-infeasible candidate 1 as long as it
    is not forbidden (with termination ``trap``) and solves the model honestly otherwise (by
    enumeration: the stages' objective, the forbidden mask, the added rows)."""

    name = "trap"
    made = 0

    def __init__(self, problem: OneHotProblem, trap: Termination) -> None:
        type(self).made += 1
        self.problem, self.trap = problem, trap
        self.forbidden = np.zeros(problem.n_candidates, dtype=bool)
        self.c = np.zeros(problem.n_candidates)
        self.rows: list[tuple[np.ndarray, float]] = []

    def set_objective(self, c: np.ndarray) -> None:
        self.c = np.asarray(c, dtype=np.float64)

    def add_ge_row(self, c: np.ndarray, rhs: float) -> None:
        self.rows.append((np.asarray(c, dtype=np.float64), rhs))

    def set_forbidden(self, forbidden: np.ndarray) -> None:
        self.forbidden = np.asarray(forbidden, dtype=bool).copy()

    def solve(self, time_limit: float | None) -> tuple[Termination, int | None]:
        if not self.forbidden[1]:
            return self.trap, 1
        p = self.problem
        ok = ~self.forbidden & (p.pareto_u >= p.pareto_rhs[:, None]).all(axis=0)
        for c, rhs in self.rows:
            ok &= c >= rhs
        if not ok.any():
            return Termination.failed(TerminationReason.INFEASIBLE), None
        return Termination.optimal(), int(np.flatnonzero(ok)[np.argmax(self.c[ok])])


class _AlwaysTrap(_TrapBackend):
    """A broken backend: candidate 1, claimed optimal, whatever the bounds say."""

    def solve(self, time_limit: float | None) -> tuple[Termination, int | None]:
        return self.trap, 1


def test_solve_lex_after_the_repair_limit_returns_the_submitted_profile_as_feasible() -> None:
    """Every answer is Pareto-infeasible and claimed OPTIMAL: after MAX_REPAIRS re-solves the
    submitted profile comes back, labelled FEASIBLE with limit ITERATION (it used to be
    labelled OPTIMAL)."""
    from mechsolve.solver.mediators.onehot_milp import MAX_REPAIRS, solve_lex

    problem = _one_hot_trap()
    assert not problem.is_pareto_feasible(1)
    _AlwaysTrap.made = 0
    sol = solve_lex(problem, lambda p: _AlwaysTrap(p, Termination.optimal()), Stopwatch(), None)
    assert sol.index == problem.submitted
    assert sol.termination.reason is TerminationReason.FEASIBLE
    assert sol.termination.limit is Limit.ITERATION
    assert not sol.termination.is_optimal
    assert "repairs" in sol.termination.detail
    assert _AlwaysTrap.made == MAX_REPAIRS


@pytest.mark.parametrize(
    "trap",
    [
        Termination.feasible(Limit.TIME, "time limit"),
        Termination.feasible(Limit.OTHER, "solution limit"),
        Termination.optimal(),
    ],
    ids=["feasible-time", "feasible-other", "optimal"],
)
def test_solve_lex_checks_every_answer_against_the_pareto_constraints(trap: Termination) -> None:
    """A Pareto-infeasible candidate must not come back from solve_lex, whatever the backend
    called it (FEASIBLE answers of a time-limited MILP used to be returned unchecked): it is
    excluded and the problem re-solved, which finds the true optimum (candidate 3)."""
    from mechsolve.solver.mediators.onehot_milp import solve_lex

    problem = _one_hot_trap()
    sol = solve_lex(problem, lambda p: _TrapBackend(p, trap), Stopwatch(), None)
    assert sol.index == 3
    assert problem.is_pareto_feasible(sol.index)
    assert sol.termination.reason is TerminationReason.OPTIMAL


def test_solve_lex_with_the_time_limit_gone_falls_back_to_the_submitted_profile() -> None:
    """A Pareto-infeasible FEASIBLE answer when no time is left to repair it: the submitted
    profile (always feasible), FEASIBLE with limit TIME."""
    from mechsolve.solver.mediators.onehot_milp import solve_lex

    problem = _one_hot_trap()
    trap = Termination.feasible(Limit.TIME, "time limit")
    sol = solve_lex(problem, lambda p: _AlwaysTrap(p, trap), Stopwatch(), 1e-12)
    assert sol.index == problem.submitted
    assert sol.termination.reason is TerminationReason.FEASIBLE
    assert sol.termination.limit is Limit.TIME


def test_pyomo_solver_must_be_on_the_allow_list() -> None:
    """``Limits.pyomo_solvers`` (the server's configuration) restricts the solver names: a name
    such as ``asl:...`` runs an executable. Refused before any solve, naming `solver`."""
    g = seed000_prisoners_dilemma()
    only_highs = Limits(pyomo_solvers=("appsi_highs",))
    with pytest.raises(MechsolveInputError, match=r"`solver` must be one of 'appsi_highs'") as e:
        pareto_mediator(g, [1, 1], [1, 1], method="pyomo", solver="asl:whatever", limits=only_highs)
    assert e.value.argument == "solver" and "asl:whatever" in str(e.value)
    with pytest.raises(MechsolveInputError, match=r"`solver`"):
        mediate_batch(g, [[1, 1]], [[1, 1]], method="pyomo", solver="cbc", limits=only_highs)
    res = pareto_mediator(
        g, [1, 1], [1, 1], method="pyomo", solver="appsi_highs", limits=only_highs
    )
    assert res.actions_after.tolist() == [0, 0]
    with pytest.raises(MechsolveInputError, match=r"`pyomo_solvers` must be a tuple"):
        Limits(pyomo_solvers=["appsi_highs"])  # type: ignore[arg-type]


@pytest.mark.parametrize("solver", ["asl:whatever", "ipopt", "some_unknown_solver"])
def test_pyomo_time_limit_with_a_solver_it_cannot_be_passed_to_is_refused(solver: str) -> None:
    """mechsolve knows how to give a time limit to appsi_* and a few named solvers only; any
    other name with ``time_limit`` set is refused (it would run without a limit)."""
    with pytest.raises(
        MechsolveInputError,
        match=rf"pareto_mediator\(\): `solver` takes no time limit .*got '{solver}' with time_limit",
    ):
        pareto_mediator(
            seed000_prisoners_dilemma(), [1, 1], [1, 1], method="pyomo", solver=solver,
            time_limit=1.0,
        )  # fmt: skip


def test_pyomo_backend_uses_a_zero_mip_gap() -> None:
    """Pyomo's appsi default relative gap (1e-4) could stop at a solution within 0.01% of the
    optimum; the mediator needs the exact optimum, as on the HiGHS path."""
    from mechsolve.solver.mediators.pyomo_model import PyomoOneHot

    backend = PyomoOneHot(_one_hot_trap(), "appsi_highs")
    assert backend._solver.config.mip_gap == 0.0


@pytest.mark.parametrize("disagreement", [None, (0.5, 0.0)])
def test_unchanged_profile_kalai_smorodinsky_is_measured_against_the_reachable_ideal(
    disagreement: tuple[float, float] | None,
) -> None:
    """One delegator (the Pareto Mediator leaves the profile unchanged) who is not at a best
    response: player 0 gets 1 at (0, 0) and could get 3 by playing 1, so its Kalai-Smorodinsky
    welfare is (1 - d) / (3 - d) < 1 (it used to be reported as 1.0 for every unchanged
    profile)."""
    p = np.zeros((2, 2, 2))
    p[0] = [[1.0, 0.0], [3.0, 0.0]]
    p[1] = [[2.0, 2.0], [1.0, 1.0]]
    w = make_welfare("test", "kalai_smorodinsky", 2, disagreement=disagreement)
    d0 = 0.0 if disagreement is None else disagreement[0]
    expected = (1.0 - d0) / (3.0 - d0)
    res = pareto_mediator(p, [0, 0], [1, 0], welfare=w)
    assert res.actions_after.tolist() == [0, 0]
    assert res.welfare_before == pytest.approx(expected, rel=1e-15)
    assert res.welfare_after == pytest.approx(expected, rel=1e-15)
    assert res.welfare_after < 1.0
    batch = mediate_batch(p, [[0, 0], [1, 0]], [[1, 0], [1, 0]], welfare=w)
    np.testing.assert_allclose(batch.welfare_after, [expected, 1.0], rtol=1e-15)
    # at its best response (player 0 plays 1: 3 of at most 3) the profile scores the maximum
    assert pareto_mediator(p, [1, 0], [1, 0], welfare=w).welfare_after == 1.0


def test_a_pyomo_solution_that_cannot_be_loaded_is_not_a_time_limit(monkeypatch) -> None:
    """Defect 6: a broad ``except`` turned any failure to load a Pyomo solution into "time
    limit, no solution"; now it is reported as what it is (OTHER_ERROR), and the mediator falls
    back to the submitted profile saying so."""
    from mechsolve.solver.mediators import pyomo_model

    def broken(self: Any, results: Any) -> None:
        raise ValueError("no solution in the results (test)")

    monkeypatch.setattr(
        type(pyomo_model.build_model(_one_hot_problem()).solutions), "load_from", broken
    )
    res = mediate(random_game([3, 3], seed=2), [0, 1], [1, 1], method="pyomo")
    assert res.termination.reason is TerminationReason.FEASIBLE
    assert res.termination.limit is Limit.OTHER
    assert "could not be loaded" in res.termination.detail and "time" not in res.termination.detail
    np.testing.assert_array_equal(res.actions_after, [0, 1])


def test_the_highs_milp_gets_no_mip_start(monkeypatch) -> None:
    """Defect 6: HiGHS given the submitted profile as a MIP start has declared wrong optima
    (solver/structured/restaurant.py); the one-hot MILP passes none."""
    import highspy

    calls: list[Any] = []
    monkeypatch.setattr(highspy.Highs, "setSolution", lambda self, *a: calls.append(a))
    game = random_game([3, 4, 3], seed=5)
    res = mediate(game, [1, 2, 0], [1, 1, 1], method="milp")
    assert res.termination.is_optimal and calls == []
    same = mediate(game, [1, 2, 0], [1, 1, 1])
    np.testing.assert_array_equal(res.actions_after, same.actions_after)


def _one_hot_problem() -> Any:
    return mediator_problem(random_game([2, 2], seed=0), [0, 0], [1, 1])


# -- profiles sharing a candidate set (grouped by delegate mask and the others' actions) ------


@st.composite
def grouped_batches(draw: st.DrawFn) -> tuple[Instance, np.ndarray, np.ndarray]:
    """A random game and a batch drawn from a few delegate masks and a few actions of the
    others, so that many profiles share one candidate set; the delegators' own submitted
    actions vary within a group (their "before" payoffs differ), payoffs often tie."""
    inst = draw(instances(max_outcomes=120))
    n, ks = len(inst.ks), inst.ks
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    m = draw(st.integers(2, 60))
    masks = rng.random((draw(st.integers(1, 3)), n)) < 0.6
    n_bases = draw(st.integers(1, 3))
    bases = np.stack([rng.integers(0, k, n_bases) for k in ks], axis=1)
    dele = masks[rng.integers(0, len(masks), m)]
    acts = bases[rng.integers(0, len(bases), m)]
    own = np.stack([rng.integers(0, k, m) for k in ks], axis=1)
    acts = np.where(dele & (rng.random((m, n)) < 0.8), own, acts)
    return inst, acts, dele


@settings(max_examples=150, deadline=None)
@given(grouped_batches(), st.sampled_from(MEDIATOR_NAMES))
def test_grouped_batch_matches_per_profile_brute_force(
    batch_inst: tuple[Instance, np.ndarray, np.ndarray], mediator: str
) -> None:
    """Candidates read once per group of profiles, feasibility and ties per profile: every row
    equals the exhaustive per-profile search, with the exact tie-breaking."""
    inst, acts, dele = batch_inst
    res = mediate_batch(inst.payoffs, acts, dele, mediator=mediator, welfare=inst.welfare_spec())
    assert res.termination.reason is TerminationReason.OPTIMAL
    for p in range(len(acts)):
        row = Instance(
            inst.payoffs,
            tuple(int(x) for x in acts[p]),
            tuple(bool(x) for x in dele[p]),
            inst.welfare,
            inst.disagreement,
            inst.weights,
            inst.beta,
        )
        outcome, objective, welfare = row.brute(mediator)
        assert tuple(res.actions_after[p]) == outcome, (p, acts[p], dele[p])
        assert _close(res.objectives[p], objective), (res.objectives[p], objective)
        assert _close(res.welfare_after[p], welfare), (res.welfare_after[p], welfare)
        np.testing.assert_array_equal(
            res.utilities_after[p], inst.payoffs[(slice(None), *res.actions_after[p])]
        )
        if mediator == "pareto":
            d = dele[p]
            assert (res.utilities_after[p][d] >= res.utilities_before[p][d]).all()


def test_shared_candidate_utilities_gathers_once_per_group() -> None:
    """The grouped gather returns, for every profile, exactly its own candidates."""
    from mechsolve.solver.mediators.candidates import candidate_utilities, per_row
    from mechsolve.solver.mediators.candidates import shared_candidate_utilities as shared

    g = random_game([3, 4, 2, 3], seed=3)
    rng = np.random.default_rng(0)
    free = np.array([1, 3])
    acts = np.stack([rng.integers(0, k, 50) for k in g.num_actions], axis=1)
    acts[:, 0], acts[:, 2] = rng.integers(0, 2, 50), 1  # 2 groups of the fixed players
    u, group = shared(g.payoffs, acts, free)
    assert group is not None and u.shape == (4, 2, 12)
    np.testing.assert_array_equal(per_row(u, group), candidate_utilities(g.payoffs, acts, free))
    one, none = shared(g.payoffs, acts[acts[:, 0] == 0], free)  # one group: shared, broadcast
    assert none is None and one.shape == (4, 1, 12)
    distinct = np.stack([np.arange(6) % 3, np.zeros(6, int), np.arange(6) % 2, np.zeros(6, int)], 1)
    direct, none = shared(g.payoffs, distinct, free)  # no sharing: per profile, as before
    assert none is None and direct.shape == (4, 6, 12)


def test_grouped_batch_milp_equals_enumeration() -> None:
    """The MILP reads each profile's candidates out of the shared groups."""
    g = NormalFormGame(np.random.default_rng(4).integers(0, 3, (3, 3, 3, 3)).astype(float))
    rng = np.random.default_rng(5)
    acts = rng.integers(0, 3, (24, 3))
    acts[:, 2] = rng.integers(0, 2, 24)
    dele = np.tile([True, True, False], (24, 1))
    for mediator in ("pareto", "punishing"):
        milp = mediate_batch(g, acts, dele, mediator=mediator, method="milp")
        enum = mediate_batch(g, acts, dele, mediator=mediator)
        np.testing.assert_array_equal(milp.actions_after, enum.actions_after)
        np.testing.assert_array_equal(milp.welfare_after, enum.welfare_after)
