"""Welfare functions against plain-Python implementations (mechsolve.solver.games.welfare)."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mechsolve.solver.core.errors import MechsolveInputError
from mechsolve.solver.games.welfare import (
    TIE_RTOL,
    WELFARE_NAMES,
    Welfare,
    WelfareKind,
    make_welfare,
    tie_tolerance,
)


def exact(text: str) -> str:
    return "^" + re.escape(text) + "$"


# -- the reference: one utility vector at a time, plain Python -------------------------------


def plain_welfare(
    kind: str,
    u: list[float],
    d: list[float] | None = None,
    weights: list[float] | None = None,
    beta: float = 1.0,
    ideal: list[float] | None = None,
) -> float:
    m = len(u)
    d = [0.0] * m if d is None else d
    gains = [u[i] - d[i] for i in range(m)]
    if kind == "utilitarian":
        w = [1.0] * m if weights is None else weights
        return math.fsum(w[i] * gains[i] for i in range(m))
    if kind == "egalitarian":
        return min(gains)
    if kind == "nash":
        if any(g <= 0 for g in gains):
            return -math.inf
        return math.prod(gains)
    if kind == "kalai_smorodinsky":
        assert ideal is not None
        ratios = [gains[i] / (ideal[i] - d[i]) for i in range(m) if ideal[i] > d[i]]
        return min(ratios) if ratios else 0.0
    if kind == "inequity_averse":
        if m < 2:
            return math.fsum(gains)
        gaps = [abs(gains[i] - gains[j]) for i in range(m) for j in range(i + 1, m)]
        return math.fsum(gains) - beta * math.fsum(gaps) / len(gaps)
    raise AssertionError(kind)


def close(a: float, b: float) -> bool:
    if math.isinf(a) or math.isinf(b):
        return a == b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


# Values from a continuous range plus small integers, so that ties (u_i == d_i, ideal_i == d_i)
# actually occur.
VALUE = st.one_of(
    st.floats(-100, 100, allow_nan=False, allow_subnormal=False),
    st.integers(-4, 4).map(float),
)


@st.composite
def instances(draw: st.DrawFn) -> dict[str, object]:
    kind = draw(st.sampled_from(WELFARE_NAMES))
    m = draw(st.integers(1, 6))
    vector = st.lists(VALUE, min_size=m, max_size=m)
    u = draw(vector)
    d = draw(st.one_of(st.none(), vector))
    weights = None
    if kind == "utilitarian":
        weights = draw(st.one_of(st.none(), st.lists(st.floats(0, 10), min_size=m, max_size=m)))
    beta = draw(st.one_of(st.none(), st.floats(0, 5)))
    ideal = None
    if kind == "kalai_smorodinsky":
        base = [0.0] * m if d is None else d
        # per player: ideal above d, equal to d, or below d
        ideal = [
            base[i] + draw(st.one_of(st.just(0.0), st.floats(-10, 100, allow_subnormal=False)))
            for i in range(m)
        ]
    return {"kind": kind, "u": u, "d": d, "weights": weights, "beta": beta, "ideal": ideal}


@settings(max_examples=400, deadline=None)
@given(case=instances())
def test_every_welfare_matches_plain_python(case: dict) -> None:
    kind, u, d, ideal = case["kind"], case["u"], case["d"], case["ideal"]
    m = len(u)
    w = make_welfare("test", kind, m, weights=case["weights"], disagreement=d, beta=case["beta"])
    got = w.evaluate(
        np.asarray(u), np.arange(m), ideal=None if ideal is None else np.asarray(ideal)
    )
    beta = 1.0 if case["beta"] is None else case["beta"]
    want = plain_welfare(kind, u, d, case["weights"], beta, ideal)
    assert got.shape == ()
    assert close(float(got), want), (float(got), want)


@settings(max_examples=100, deadline=None)
@given(
    kind=st.sampled_from(WELFARE_NAMES),
    u=hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=5),
        elements=VALUE,
    ),
    seed=st.integers(0, 2**32 - 1),
)
def test_batches_match_row_by_row(kind: str, u: np.ndarray, seed: int) -> None:
    """A batch of utility vectors (rows) along either axis gives each row's welfare."""
    rng = np.random.default_rng(seed)
    r, m = u.shape
    d = rng.integers(-2, 3, size=m).astype(float)
    weights = rng.random((m,)) if kind == "utilitarian" else None
    ideal = d + rng.integers(0, 3, size=m)  # some ideal_i == d_i
    w = make_welfare("test", kind, m, weights=weights, disagreement=d, beta=0.7)
    got = w.evaluate(u, np.arange(m), ideal=ideal)
    got_t = w.evaluate(u.T, np.arange(m), axis=0, ideal=ideal[:, None])
    assert got.shape == got_t.shape == (r,)
    for row in range(r):
        want = plain_welfare(
            kind,
            u[row].tolist(),
            d.tolist(),
            None if weights is None else weights.tolist(),
            0.7,
            ideal.tolist(),
        )
        assert close(float(got[row]), want)
        assert close(float(got_t[row]), want)


def test_subset_of_players_uses_their_parameters() -> None:
    d = [1.0, 2.0, 3.0, 4.0]
    players = np.array([3, 1])
    u = np.array([10.0, 7.0])  # utilities of players 3 and 1
    util = make_welfare("t", "utilitarian", 4, weights=[1, 2, 3, 4], disagreement=d)
    assert util.evaluate(u, players) == 4 * (10 - 4) + 2 * (7 - 2)
    egal = make_welfare("t", "egalitarian", 4, disagreement=d)
    assert egal.evaluate(u, players) == 5.0
    nash = make_welfare("t", "nash", 4, disagreement=d)
    assert nash.evaluate(u, players) == 6.0 * 5.0
    ks = make_welfare("t", "kalai_smorodinsky", 4, disagreement=d)
    assert ks.evaluate(u, players, ideal=np.array([16.0, 12.0])) == 0.5


# -- each function on hand-checked examples ------------------------------------------------------


def test_utilitarian() -> None:
    u = np.array([3.0, -1.0, 2.0])
    players = np.arange(3)
    assert make_welfare("t", "utilitarian", 3).evaluate(u, players) == 4.0
    weighted = make_welfare("t", "utilitarian", 3, weights=[2, 0, 0.5])
    assert weighted.evaluate(u, players) == 7.0
    shifted = make_welfare("t", "utilitarian", 3, disagreement=[1, 1, 1])
    assert shifted.evaluate(u, players) == 1.0


def test_egalitarian() -> None:
    w = make_welfare("t", "egalitarian", 3, disagreement=[0, -5, 1])
    assert w.evaluate(np.array([3.0, -1.0, 2.0]), np.arange(3)) == 1.0


def test_nash_outside_the_bargaining_set_is_minus_infinity() -> None:
    w = make_welfare("t", "nash", 3, disagreement=[1, 1, 1])
    players = np.arange(3)
    assert w.evaluate(np.array([3.0, 2.0, 5.0]), players) == 2.0 * 1.0 * 4.0
    assert w.evaluate(np.array([3.0, 1.0, 5.0]), players) == -np.inf  # u_i == d_i
    assert w.evaluate(np.array([3.0, 0.5, 5.0]), players) == -np.inf  # u_i < d_i
    # two players below d: the product of negatives would be positive, but it is still -inf
    assert w.evaluate(np.array([0.0, 0.0, 5.0]), players) == -np.inf
    batch = w.evaluate(np.array([[2.0, 2.0, 2.0], [2.0, 1.0, 2.0]]), players)
    assert batch.tolist() == [1.0, -np.inf]


def test_kalai_smorodinsky_with_ideal_points() -> None:
    w = make_welfare("t", "kalai_smorodinsky", 2, disagreement=[1, 0])
    players = np.arange(2)
    # normalized gains (3-1)/(5-1) = 0.5 and 3/4 = 0.75: the minimum
    assert w.evaluate(np.array([3.0, 3.0]), players, ideal=np.array([5.0, 4.0])) == 0.5
    # ideal == d for player 0: player 0 is left out
    assert w.evaluate(np.array([3.0, 3.0]), players, ideal=np.array([1.0, 4.0])) == 0.75
    # ideal below d is left out too
    assert w.evaluate(np.array([3.0, 3.0]), players, ideal=np.array([0.0, 4.0])) == 0.75
    # ideal == d for everyone: no player counts, welfare 0
    assert w.evaluate(np.array([3.0, 3.0]), players, ideal=np.array([1.0, 0.0])) == 0.0
    # negative normalized gains are kept (below the disagreement point)
    assert w.evaluate(np.array([0.0, 3.0]), players, ideal=np.array([3.0, 4.0])) == -0.5
    # the ideal point broadcasts over a batch
    batch = w.evaluate(np.array([[3.0, 3.0], [5.0, 4.0]]), players, ideal=np.array([5.0, 4.0]))
    assert batch.tolist() == [0.5, 1.0]


def test_kalai_smorodinsky_requires_the_ideal_point() -> None:
    w = make_welfare("t", "kalai_smorodinsky", 2)
    assert w.needs_ideal
    assert not make_welfare("t", "nash", 2).needs_ideal
    with pytest.raises(
        MechsolveInputError,
        match=exact("Welfare.evaluate(): `ideal` is required for kalai_smorodinsky"),
    ):
        w.evaluate(np.array([1.0, 2.0]), np.arange(2))


def test_inequity_averse() -> None:
    u = np.array([3.0, 1.0, 2.0])
    players = np.arange(3)
    # sum 6, pairwise gaps 2, 1, 1 -> mean 4/3
    assert make_welfare("t", "inequity_averse", 3).evaluate(u, players) == pytest.approx(14 / 3)
    strong = make_welfare("t", "inequity_averse", 3, beta=3)
    assert strong.evaluate(u, players) == pytest.approx(2.0)
    zero = make_welfare("t", "inequity_averse", 3, beta=0)
    assert zero.evaluate(u, players) == 6.0
    # the gaps are between gains over d
    shifted = make_welfare("t", "inequity_averse", 3, disagreement=[2, 0, 1], beta=1)
    assert shifted.evaluate(u, players) == 3.0


@pytest.mark.parametrize("name", WELFARE_NAMES)
def test_single_player(name: str) -> None:
    w = make_welfare("t", name, 1, disagreement=[1.0], beta=2.0)
    ideal = np.array([5.0])
    players = np.arange(1)
    expected = {
        "utilitarian": 2.0,
        "egalitarian": 2.0,
        "nash": 2.0,
        "kalai_smorodinsky": 0.5,
        "inequity_averse": 2.0,
    }[name]
    assert w.evaluate(np.array([3.0]), players, ideal=ideal) == expected


# -- make_welfare ------------------------------------------------------------------------------


def test_make_welfare_accepts_names_kinds_and_objects() -> None:
    for name in WELFARE_NAMES:
        w = make_welfare("t", name, 2)
        assert w == Welfare(WelfareKind(name))
        assert w.name == name
        assert make_welfare("t", WelfareKind(name), 2) == w
    w = make_welfare("t", "utilitarian", 2, weights=np.array([1, 2]), disagreement=(0.5, 0))
    assert w == Welfare(WelfareKind.UTILITARIAN, (1.0, 2.0), (0.5, 0.0), 1.0)
    assert make_welfare("t", w, 2) == w
    ia = make_welfare("t", "inequity_averse", 2, beta=0.25)
    assert ia.beta == 0.25
    with pytest.raises(AttributeError):
        ia.beta = 1.0


WELFARE_ERRORS = [
    pytest.param(
        {"welfare": "rawlsian"},
        "`welfare` must be one of 'utilitarian', 'egalitarian', 'nash', 'kalai_smorodinsky', "
        "'inequity_averse'; got 'rawlsian'",
        id="unknown-name",
    ),
    pytest.param(
        {"welfare": None},
        "`welfare` must be one of 'utilitarian', 'egalitarian', 'nash', 'kalai_smorodinsky', "
        "'inequity_averse'; got None",
        id="none",
    ),
    pytest.param(
        {"welfare": ["nash"]},
        "`welfare` must be one of 'utilitarian', 'egalitarian', 'nash', 'kalai_smorodinsky', "
        "'inequity_averse'; got ['nash']",
        id="list",
    ),
    pytest.param(
        {"welfare": np.array(["nash", "nash"])},
        "`welfare` must be one of 'utilitarian', 'egalitarian', 'nash', 'kalai_smorodinsky', "
        "'inequity_averse'; got array(['nash', 'nash'], dtype='<U4')",
        id="array",
    ),
    pytest.param(
        {"welfare": "nash", "weights": [1, 1]},
        "`weights` apply to the utilitarian welfare only; got welfare='nash'",
        id="weights-with-nash",
    ),
    pytest.param(
        {"welfare": "egalitarian", "weights": [1, 1]},
        "`weights` apply to the utilitarian welfare only; got welfare='egalitarian'",
        id="weights-with-egalitarian",
    ),
    pytest.param(
        {"welfare": Welfare(WelfareKind.NASH, weights=(1.0, 1.0))},
        "`welfare.weights` apply to the utilitarian welfare only; got welfare='nash'",
        id="welfare-object-weights-with-nash",
    ),
    pytest.param(
        {"welfare": "utilitarian", "weights": [1]},
        "`weights` must have shape (2,); got (1,)",
        id="weights-too-short",
    ),
    pytest.param(
        {"welfare": "utilitarian", "weights": [[1, 1]]},
        "`weights` must have shape (2,); got (1, 2)",
        id="weights-2d",
    ),
    pytest.param(
        {"welfare": Welfare(weights=(1.0,))},
        "`welfare.weights` must have shape (2,); got (1,)",
        id="welfare-object-weights-too-short",
    ),
    pytest.param(
        {"welfare": "utilitarian", "weights": [1, -1]},
        "`weights[1]` must be >= 0.0; got -1.0",
        id="negative-weight",
    ),
    pytest.param(
        {"welfare": "utilitarian", "weights": [1, np.nan]},
        "`weights[1]` must be finite; got nan",
        id="nan-weight",
    ),
    pytest.param(
        {"welfare": "egalitarian", "disagreement": [1, 2, 3]},
        "`disagreement` must have shape (2,); got (3,)",
        id="disagreement-too-long",
    ),
    pytest.param(
        {"welfare": "nash", "disagreement": [1, np.inf]},
        "`disagreement[1]` must be finite; got inf",
        id="infinite-disagreement",
    ),
    pytest.param(
        {"welfare": "inequity_averse", "beta": -1},
        "`beta` must be >= 0.0; got -1.0",
        id="negative-beta",
    ),
    pytest.param(
        {"welfare": Welfare(WelfareKind.INEQUITY_AVERSE, beta=-2.0)},
        "`welfare.beta` must be >= 0.0; got -2.0",
        id="welfare-object-negative-beta",
    ),
    pytest.param(
        {"welfare": "inequity_averse", "beta": float("nan")},
        "`beta` must be finite; got nan",
        id="nan-beta",
    ),
    pytest.param(
        {"welfare": "inequity_averse", "beta": True},
        "`beta` must be a real number; got True",
        id="bool-beta",
    ),
    pytest.param(
        {"welfare": Welfare(), "beta": 2.0},
        "`welfare` is a Welfare object; pass its parameters inside it, not separately",
        id="welfare-object-and-parameters",
    ),
]


@pytest.mark.parametrize(("kwargs", "message"), WELFARE_ERRORS)
def test_make_welfare_rejects_bad_specs(kwargs: dict, message: str) -> None:
    with pytest.raises(MechsolveInputError, match=exact("pareto_mediator(): " + message)):
        make_welfare("pareto_mediator", n_players=2, **kwargs)


# -- ties ----------------------------------------------------------------------------------------


def test_tie_tolerance() -> None:
    assert TIE_RTOL == 1e-9
    assert tie_tolerance(0.0) == 1e-9
    assert tie_tolerance(0.5) == 1e-9  # never below the absolute floor
    assert tie_tolerance(-1.0) == 1e-9
    assert tie_tolerance(1e6) == pytest.approx(1e-3)
    assert tie_tolerance(-5e3) == pytest.approx(5e-6)
    assert tie_tolerance(np.inf) == 0.0
    assert tie_tolerance(-np.inf) == 0.0  # e.g. Nash welfare outside the bargaining set
    batch = tie_tolerance(np.array([0.0, 2e9, -np.inf]))
    np.testing.assert_allclose(batch, [1e-9, 2.0, 0.0])


@settings(max_examples=100, deadline=None)
@given(best=st.floats(allow_nan=False))
def test_tie_tolerance_is_relative_with_floor(best: float) -> None:
    tol = float(tie_tolerance(best))
    if math.isinf(best):
        assert tol == 0.0
    else:
        assert tol == pytest.approx(TIE_RTOL * max(1.0, abs(best)), rel=1e-15)
