"""Mediated-equilibrium LPs, checked independently of the module: a plain-Python evaluator of
the committed game (loops over coalitions, outsiders' profiles and the members' joint actions)
re-checks every constraint the options ask for, in the form the math states it (Encouragement
as "an outsider does not beat joining"), the anonymous formulation is compared with the
explicit one on small symmetric games and re-checked by its own loop over coalition sizes and
count vectors, and the welfare is compared with natural feasible mediators."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from mechsolve.solver.core.errors import MechsolveInputError, ProblemTooLargeError
from mechsolve.solver.core.limits import Limits
from mechsolve.solver.games.normal_form import NormalFormGame, prisoners_dilemma, public_goods_game
from mechsolve.solver.games.welfare import Welfare, WelfareKind
from mechsolve.solver.incentives import (
    AnonymousMediatedResult,
    MediatedEquilibriumResult,
    SymmetricGame,
    anonymous_mediated_equilibrium,
    mediated_equilibrium,
    seed004_multiplier,
    symmetric_public_goods_game,
)

TOL = 1e-6


# -- the plain-Python committed game --------------------------------------------------------


def members_of(mask: int, n: int) -> list[int]:
    return [i for i in range(n) if mask >> i & 1]


def value(
    game: NormalFormGame, policy: np.ndarray, mask: int, outside: dict[int, int]
) -> list[float]:
    """Every player's expected payoff when the coalition ``mask`` commits and the outsiders
    play ``outside`` (player -> action)."""
    n, ks = game.n_players, game.num_actions
    mem = members_of(mask, n)
    total = [0.0] * n
    for b in itertools.product(*(range(ks[i]) for i in mem)):
        s = [0] * n
        for i, a in outside.items():
            s[i] = a
        for i, a in zip(mem, b, strict=True):
            s[i] = a
        p = float(policy[(mask, *s)]) if mask else 1.0
        for j in range(n):
            total[j] += p * float(game.payoffs[(j, *s)])
    return total


def outsider_profiles(game: NormalFormGame, mask: int) -> list[dict[int, int]]:
    n, ks = game.n_players, game.num_actions
    out = [i for i in range(n) if not mask >> i & 1]
    return [dict(zip(out, a, strict=True)) for a in itertools.product(*(range(ks[i]) for i in out))]


def check_explicit(
    game: NormalFormGame,
    r: MediatedEquilibriumResult,
    observes: bool,
    ic: bool,
    e: bool,
    weights: tuple[float, ...] | None = None,
) -> None:
    n, ks = game.n_players, game.num_actions
    full = 2**n - 1
    pol = r.policy
    for mask in range(1, 2**n):  # every policy is a distribution per outsiders' profile
        mem = members_of(mask, n)
        for prof in outsider_profiles(game, mask):
            tot = 0.0
            for b in itertools.product(*(range(ks[i]) for i in mem)):
                s = [0] * n
                for i, a in prof.items():
                    s[i] = a
                for i, a in zip(mem, b, strict=True):
                    s[i] = a
                p = float(pol[(mask, *s)])
                assert p >= -1e-12
                tot += p
                if not observes:  # the same whatever the outsiders play
                    s0 = list(s)
                    for i in prof:
                        s0[i] = 0
                    assert p == pytest.approx(float(pol[(mask, *s0)]), abs=1e-12)
            assert tot == pytest.approx(1.0, abs=1e-9)
    util = value(game, pol, full, {})
    assert r.utilities.tolist() == pytest.approx(util, abs=1e-9)
    w = weights or (1.0,) * n
    assert r.welfare == pytest.approx(sum(a * b for a, b in zip(w, util, strict=True)), abs=1e-9)
    for i in range(n):  # full commitment is a Nash equilibrium of the committed game
        for a in range(ks[i]):
            assert util[i] >= value(game, pol, full & ~(1 << i), {i: a})[i] - TOL
    for mask in range(1, full):
        mem = members_of(mask, n)
        for prof in outsider_profiles(game, mask):
            here = value(game, pol, mask, prof)
            if ic:  # no member gains by leaving
                for i in mem:
                    for a in range(ks[i]):
                        alone = value(game, pol, mask & ~(1 << i), {**prof, i: a})
                        assert here[i] >= alone[i] - TOL
            if e and 1 < len(mem) < n:  # no outsider beats joining
                for j in prof:
                    rest = {o: a for o, a in prof.items() if o != j}
                    joined = value(game, pol, mask | (1 << j), rest)
                    assert here[j] <= joined[j] + TOL


def natural_welfare(game: NormalFormGame) -> float:
    """The best pure Nash equilibrium's total: a mediator that plays it at every coalition (its
    members' part) is feasible without IC (a deviator faces the others' equilibrium actions)."""
    n, ks = game.n_players, game.num_actions
    best = -math.inf
    for s in itertools.product(*(range(k) for k in ks)):
        if all(
            game.payoffs[(i, *s)] >= game.payoffs[(i, *s[:i], a, *s[i + 1 :])] - 1e-12
            for i in range(n)
            for a in range(ks[i])
        ):
            best = max(best, float(sum(game.payoffs[(i, *s)] for i in range(n))))
    return best


# -- explicit -------------------------------------------------------------------------------

shapes = st.sampled_from([(2, 2), (2, 3), (3, 3), (2, 2, 2), (3, 2, 2)])
options = st.tuples(st.booleans(), st.booleans(), st.booleans())


@settings(max_examples=80)
@given(shapes, st.integers(0, 2**31), options)
def test_explicit_satisfies_every_constraint(
    ks: tuple[int, ...], seed: int, opts: tuple[bool, bool, bool]
) -> None:
    game = NormalFormGame(np.round(np.random.default_rng(seed).uniform(0, 1, (len(ks), *ks)), 3))
    obs, ic, e = opts
    r = mediated_equilibrium(game, observes_outsiders=obs, ic=ic, e=e)
    if not r.termination.has_solution:  # IC for every outsiders' profile may be infeasible
        assert ic and r.termination.reason.value == "infeasible"
        return
    assert r.termination.is_optimal, r.termination
    check_explicit(game, r, obs, ic, e)
    top = max(float(game.payoffs.sum(axis=0).max()), -math.inf)
    assert r.welfare <= top + TOL  # the best outcome bounds any mediator
    if not ic:
        assert r.welfare >= natural_welfare(game) - TOL


def punishment_floor(game: NormalFormGame, i: int, observes: bool) -> float:
    """What the others' mediator can hold player i down to: observing, the pure maximin
    ``max_a min_{s_-i} u_i(a, s_-i)`` (it sees ``a``); otherwise the correlated minimax
    ``min_q max_a sum q(s_-i) u_i(a, s_-i)`` (an LP over the others' joint distributions)."""
    ui = np.moveaxis(game.payoffs[i], i, 0).reshape(game.num_actions[i], -1)
    if observes:
        return float(ui.min(axis=1).max())
    k, m = ui.shape
    res = linprog(
        np.r_[np.zeros(m), 1.0],
        A_ub=np.c_[ui, -np.ones(k)],
        b_ub=np.zeros(k),
        A_eq=np.r_[np.ones(m), 0.0][None],
        b_eq=[1.0],
        bounds=[(0, None)] * m + [(None, None)],
        method="highs",
    )
    return float(res.fun)


@settings(max_examples=60)
@given(shapes, st.integers(0, 2**31), st.booleans())
def test_welfare_matches_the_punishment_characterization(
    ks: tuple[int, ...], seed: int, observes: bool
) -> None:
    """Without IC and E each ``pi_{N - i}`` appears only in player i's equilibrium rows, so the
    optimum is ``max sum_s p(s) sum_i u_i(s)`` over distributions giving every player at least
    what the others' mediator can hold it down to: a folk-theorem LP solved here."""
    game = NormalFormGame(np.round(np.random.default_rng(seed).uniform(0, 1, (len(ks), *ks)), 3))
    n = game.n_players
    u = game.payoffs.reshape(n, -1)
    floors = [punishment_floor(game, i, observes) for i in range(n)]
    res = linprog(
        -u.sum(axis=0),
        A_ub=-u,
        b_ub=-np.array(floors),
        A_eq=np.ones((1, u.shape[1])),
        b_eq=[1.0],
        bounds=[(0, None)] * u.shape[1],
        method="highs",
    )
    r = mediated_equilibrium(game, observes_outsiders=observes)
    assert r.termination.is_optimal
    assert r.welfare == pytest.approx(-res.fun, abs=1e-6)


def test_pgg_three_players_seed004() -> None:
    """Seed 004 Table 3, N = 3, n = 2: everyone committing and contributing is a mediated
    equilibrium (reward 1 per player; the constrained mediator learned 0.891) once the
    coalition of two contributes at most 0.75 per member (learned pi^M(c | C=2) = 0.774), and
    the all-contribute mediator is a natural feasible point."""
    game = public_goods_game(3, seed004_multiplier(3))
    for ic, e in ((False, False), (True, False), (False, True), (True, True)):
        r = mediated_equilibrium(game, ic=ic, e=e)
        check_explicit(game, r, False, ic, e)
        assert r.welfare == pytest.approx(3.0, abs=1e-9)
        assert r.size_policy[:, 1].tolist()[1:] == pytest.approx([0.0, 0.75, 1.0], abs=1e-7)


def test_egalitarian_and_weighted_welfare() -> None:
    game = prisoners_dilemma()
    r = mediated_equilibrium(game, welfare="egalitarian", observes_outsiders=True)
    assert r.welfare == pytest.approx(min(r.utilities), abs=1e-12)
    assert r.welfare == pytest.approx(3.0, abs=1e-7)  # (C, C), deviations punished by D
    w = mediated_equilibrium(game, welfare=Welfare(WelfareKind.UTILITARIAN, (2.0, 1.0), None))
    assert w.welfare == pytest.approx(2 * w.utilities[0] + w.utilities[1], abs=1e-12)
    check_explicit(game, w, False, False, False, (2.0, 1.0))


# -- anonymous ------------------------------------------------------------------------------


def check_anonymous(sg: SymmetricGame, r: AnonymousMediatedResult) -> None:
    """The payoff at full commitment, recomputed from the members' count distribution by
    loops (a member plays ``a`` with probability ``c_a / N`` and then faces ``c - e_a``)."""
    n, q = sg.n_players, sg.n_actions
    pay = 0.0
    for counts, p in zip(
        r.full_commitment_counts.tolist(), r.full_commitment_distribution.tolist(), strict=True
    ):
        assert sum(counts) == n
        member = 0.0
        for a in range(q):
            if counts[a]:
                others = list(counts)
                others[a] -= 1
                member += counts[a] / n * float(sg.payoff(a, others))
        pay += p * member
    assert r.member_payoff == pytest.approx(pay, abs=1e-9)
    assert r.full_commitment_distribution.sum() == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("n", [3, 4])
@pytest.mark.parametrize("opts", list(itertools.product([False, True], repeat=3)))
def test_anonymous_equals_explicit_on_pgg(n: int, opts: tuple[bool, bool, bool]) -> None:
    obs, ic, e = opts
    sg = symmetric_public_goods_game(n)
    a = anonymous_mediated_equilibrium(sg, observes_outsiders=obs, ic=ic, e=e)
    x = mediated_equilibrium(sg.to_normal_form(), observes_outsiders=obs, ic=ic, e=e)
    assert a.termination.is_optimal and x.termination.is_optimal
    assert a.welfare == pytest.approx(x.welfare, abs=1e-7)
    check_anonymous(sg, a)
    check_explicit(sg.to_normal_form(), x, obs, ic, e)


@settings(max_examples=60)
@given(st.integers(2, 4), st.integers(2, 3), st.integers(0, 2**31), options)
def test_anonymous_equals_explicit_on_random_symmetric(
    n: int, q: int, seed: int, opts: tuple[bool, bool, bool]
) -> None:
    if q == 3 and n == 4:
        n = 3
    rng = np.random.default_rng(seed)
    sg = SymmetricGame(n, np.round(rng.uniform(0, 1, (q,) + (n,) * (q - 1)), 3))
    obs, ic, e = opts
    a = anonymous_mediated_equilibrium(sg, observes_outsiders=obs, ic=ic, e=e)
    x = mediated_equilibrium(sg.to_normal_form(), observes_outsiders=obs, ic=ic, e=e)
    assert a.termination.reason == x.termination.reason
    if a.termination.has_solution:
        assert a.welfare == pytest.approx(x.welfare, abs=1e-6)
        assert a.violation <= TOL
        check_anonymous(sg, a)


def pgg_payoff(n: int, mult: float, own: int, others: int) -> float:
    return ((mult / n) * (others + own) - own) / (mult - 1)


def check_pgg_non_observing(n: int, r: AnonymousMediatedResult, sizes: list[int]) -> None:
    """Seed 004's mediator (no observation) on the PGG, by loops: with ``m_k`` the expected
    number of contributing members of a coalition of size ``k`` (the payoffs are linear in the
    counts, so only ``E[c]`` matters), member payoff vs a leaver's, for every outsiders'
    count."""
    mult = seed004_multiplier(n)
    m = [0.0] + [k * r.size_policy[k, 1] for k in range(1, n + 1)]
    for k in sizes:
        for o in range(n - k + 1):  # contributing outsiders
            # a member's expected payoff: (mult / n)(m_k + o) - m_k / k, over mult - 1
            member = ((mult / n) * (m[k] + o) - m[k] / k) / (mult - 1)
            for a in (0, 1):
                leaver = pgg_payoff(n, mult, a, 0) + (mult / n) * (m[k - 1] + o) / (mult - 1)
                assert member >= leaver - TOL, (k, o, a)


@pytest.mark.parametrize("n", [25, 100])
def test_pgg_large_non_observing(n: int) -> None:
    sg = symmetric_public_goods_game(n)
    r = anonymous_mediated_equilibrium(sg)
    assert r.termination.is_optimal
    assert r.member_payoff == pytest.approx(1.0, abs=1e-7)  # everyone contributes
    check_pgg_non_observing(n, r, [n])
    check_anonymous(sg, r)
    if n == 25:
        rc = anonymous_mediated_equilibrium(sg, ic=True, e=True)
        assert rc.termination.is_optimal
        check_pgg_non_observing(n, rc, list(range(1, n + 1)))


def test_pgg_observing_brute_force() -> None:
    """The observing mediator on the PGG at N = 25 with IC and E, every member row by loops over
    the states ``(k, contributing outsiders)`` (linear payoffs: the expected contributions
    suffice)."""
    n = 25
    mult = seed004_multiplier(n)
    r = anonymous_mediated_equilibrium(
        symmetric_public_goods_game(n), observes_outsiders=True, ic=True, e=True
    )
    assert r.termination.is_optimal
    assert r.member_payoff == pytest.approx(1.0, abs=1e-7)
    m = {(0, o): 0.0 for o in range(n + 1)}
    for k, counts, p in zip(
        r.state_sizes.tolist(),
        r.state_outsider_counts.tolist(),
        r.state_policy.tolist(),
        strict=True,
    ):
        assert sum(counts) == n - k
        m[(k, counts[1])] = k * p[1]
    for k in range(1, n + 1):
        for o in range(n - k + 1):
            member = ((mult / n) * (m[(k, o)] + o) - m[(k, o)] / k) / (mult - 1)
            for a in (0, 1):
                leaver = pgg_payoff(n, mult, a, 0) + (mult / n) * (m[(k - 1, o + a)] + o) / (
                    mult - 1
                )
                assert member >= leaver - TOL, (k, o, a)


# -- bad input --------------------------------------------------------------------------------


def test_non_symmetric_game_to_anonymous_names_game() -> None:
    with pytest.raises(MechsolveInputError) as err:
        anonymous_mediated_equilibrium(
            NormalFormGame(np.random.default_rng(0).uniform(size=(2, 2, 2)))
        )
    assert err.value.argument == "game"
    with pytest.raises(MechsolveInputError) as err:
        anonymous_mediated_equilibrium(NormalFormGame(np.zeros((2, 2, 3))))
    assert err.value.argument == "game"


def test_symmetric_normal_form_is_accepted() -> None:
    r = anonymous_mediated_equilibrium(prisoners_dilemma())
    x = mediated_equilibrium(prisoners_dilemma())
    assert r.welfare == pytest.approx(x.welfare, abs=1e-7)


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"welfare": "nash"}, "welfare"),
        ({"observes_outsiders": "yes"}, "observes_outsiders"),
        ({"ic": 1}, "ic"),
        ({"e": None}, "e"),
        ({"time_limit": -1.0}, "time_limit"),
    ],
)
def test_bad_options_name_the_argument(kwargs: dict[str, object], argument: str) -> None:
    for fn in (mediated_equilibrium, anonymous_mediated_equilibrium):
        with pytest.raises(MechsolveInputError) as err:
            fn(prisoners_dilemma(), **kwargs)
        assert err.value.argument == argument


def test_anonymous_refuses_asymmetric_welfare() -> None:
    w = Welfare(WelfareKind.UTILITARIAN, (1.0, 2.0), None)
    with pytest.raises(MechsolveInputError) as err:
        anonymous_mediated_equilibrium(prisoners_dilemma(), welfare=w)
    assert err.value.argument == "welfare.weights"


def test_sizes_are_checked_first() -> None:
    with pytest.raises(ProblemTooLargeError):
        mediated_equilibrium(public_goods_game(8), limits=Limits(max_candidates=1000))
    with pytest.raises(ProblemTooLargeError):
        anonymous_mediated_equilibrium(
            symmetric_public_goods_game(100),
            observes_outsiders=True,
            limits=Limits(max_candidates=10_000),
        )


def test_symmetric_game_validation() -> None:
    with pytest.raises(MechsolveInputError) as err:
        SymmetricGame(3, np.zeros((2, 4)))
    assert err.value.argument == "payoffs"
    with pytest.raises(MechsolveInputError) as err:
        SymmetricGame(3, np.array([[0.0, np.nan, 1.0], [0.0, 0.0, 0.0]]))
    assert err.value.argument == "payoffs[0, 1]"
    with pytest.raises(MechsolveInputError) as err:
        symmetric_public_goods_game(5, 1.0)
    assert err.value.argument == "multiplier"
    # unread entries (counts over N - 1) may be nan
    SymmetricGame(2, np.array([[[0.0, 1.0], [2.0, np.nan]]] * 3))
