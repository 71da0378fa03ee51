"""Adaptive mechanism design (seed 001 chapter 4): every analytic gradient against central finite
differences of an objective written independently (explicit loops over joint actions), the
games against Table 4.1 and footnote 4, short runs reproducing the orderings of Tables 4.2 and
4.3, bad input naming the argument, and the CLI's files."""

from __future__ import annotations

import argparse
import itertools
import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from mechsolve.client.sim import amd
from mechsolve.client.sim.amd import (
    AmdSettings,
    code_planner_gradient,
    estimated_planner_gradient,
    exact_planner_gradient,
    game_rewards,
    simulate_amd,
    summarize,
    value_gradients,
)
from mechsolve.client.sim.amd_report import run_table, table_markdown
from mechsolve.solver.core.errors import MechsolveInputError, ProblemTooLargeError

H = 1e-6


def _sig(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _profiles(n: int) -> list[tuple[int, ...]]:
    return list(itertools.product((1, 0), repeat=n))


def _prob(theta: np.ndarray, a: tuple[int, ...]) -> float:
    out = 1.0
    for t, ai in zip(theta, a, strict=True):
        out *= _sig(t) if ai else 1.0 - _sig(t)
    return out


def _rp(w: np.ndarray, b: np.ndarray, a: np.ndarray, c: float) -> np.ndarray:
    """r^p(a) written out: 2c (sigmoid(W a + b) - 1/2), ``a`` possibly continuous."""
    return np.array([2 * c * (_sig(float(w[i] @ a + b[i])) - 0.5) for i in range(len(b))])


def _paid(w: np.ndarray, b: np.ndarray, a: np.ndarray, c: float, rn: bool) -> np.ndarray:
    r = _rp(w, b, a, c)
    return r - r.mean() if rn else r


def _fd(f: Callable[[np.ndarray], float], x: np.ndarray) -> np.ndarray:
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        up, dn = x.copy(), x.copy()
        up[idx] += H
        dn[idx] -= H
        g[idx] = (f(up) - f(dn)) / (2 * H)
    return g


def _welfare_gradient(theta: np.ndarray, rewards: np.ndarray) -> list[float]:
    """grad_i V (V = sum_j E[r_j], original rewards) by an explicit loop over joint actions."""
    n = len(theta)
    return [
        sum(
            _prob(theta, a) * (a[i] - _sig(float(theta[i]))) * sum(rewards[k])
            for k, a in enumerate(_profiles(n))
        )
        for i in range(n)
    ]


def _exact_objective(
    theta: np.ndarray,
    w: np.ndarray,
    b: np.ndarray,
    rewards: np.ndarray,
    lr: float,
    cost: float,
    c: float,
    rn: bool,
) -> float:
    """Eqs. 4.3 + 4.7 written out: sum_i lr grad_i V^p_i . grad_i V - cost ||V^p||^2."""
    n = len(theta)
    profiles = _profiles(n)
    g_v = _welfare_gradient(theta, rewards)
    paid = [_paid(w, b, np.array(a, float), c, rn) for a in profiles]
    vp = sum(_prob(theta, a) * paid[k] for k, a in enumerate(profiles))
    look = sum(
        lr
        * sum(
            _prob(theta, a) * (a[i] - _sig(float(theta[i]))) * paid[k][i]
            for k, a in enumerate(profiles)
        )
        * g_v[i]
        for i in range(n)
    )
    return float(look - cost * np.sum(vp**2))


def _code_objective(
    theta: np.ndarray,
    w: np.ndarray,
    b: np.ndarray,
    a: np.ndarray,
    g_v: np.ndarray,
    lr: float,
    cost: float,
    c: float,
    rn: bool,
) -> float:
    """RESEARCH item 4 written out: d r^p_i / d a_i of r^p_i = 2c (sigmoid(W_i . a + b_i) - 1/2)
    in the continuous input a_i (chain rule: 2c sigmoid' W_ii; a nested finite difference would
    be too noisy for an outer one), the norm cost of the realised (centred when
    revenue-neutral) rewards."""
    look = 0.0
    for i in range(len(theta)):
        p = _sig(float(theta[i]))
        s_i = _sig(float(w[i] @ a + b[i]))
        d_ai = 2 * c * s_i * (1 - s_i) * w[i, i]
        look += lr * p * (1 - p) * d_ai * g_v[i]
    return look - cost * float(np.linalg.norm(_paid(w, b, a, c, rn)))


def _estimated_objective(
    theta: np.ndarray,
    w: np.ndarray,
    b: np.ndarray,
    a: np.ndarray,
    welfare: float,
    baseline: float,
    lr: float,
    cost: float,
    c: float,
    rn: bool,
) -> float:
    """Eq. 4.5 as coded (RESEARCH item 6): single-sample estimates of both gradients; the
    look-ahead uses the uncentred r^p (item 5), the cost the centred one."""
    rp = _rp(w, b, a, c)
    score = [a[i] - _sig(float(theta[i])) for i in range(len(theta))]
    look = sum(lr * (score[i] * rp[i]) * (score[i] * (welfare - baseline)) for i in range(len(a)))
    return float(look - cost * np.linalg.norm(_paid(w, b, a, c, rn)))


def _instance(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    gen = np.random.default_rng(seed)
    return gen.normal(0, 1, n), gen.normal(0, 0.8, (n, n)), gen.normal(0, 0.8, n)


# --- games ------------------------------------------------------------------------------------


def test_two_player_games_are_table_4_1() -> None:
    # rows CC, CD, DC, DD; R = 3, P = 1, (T, S) of Table 4.1
    for game, (t, s) in {"pd": (4, 0), "chicken": (3.5, 2), "staghunt": (2, 0)}.items():
        want = np.array([[3, 3], [s, t], [t, s], [1, 1]], dtype=float)
        assert np.array_equal(game_rewards(game), want)
    assert amd.outcome_labels(2) == ["CC", "CD", "DC", "DD"]


def test_n_player_pd_is_footnote_4() -> None:
    n = 5
    r = game_rewards("pd", n)
    for a, row in zip(_profiles(n), r, strict=True):
        for i in range(n):
            others = sum(a) - a[i]
            # linear interpolation between the footnote's four corner payoffs
            want = 3 * others / (n - 1) if a[i] else 1 + 3 * others / (n - 1)
            assert row[i] == pytest.approx(want)
    assert r[0].tolist() == [3.0] * n  # all cooperate
    assert r[-1].tolist() == [1.0] * n  # all defect
    lone_defector = _profiles(n).index((1, 1, 1, 1, 0))
    assert r[lone_defector][4] == 4.0 and r[lone_defector][0] == pytest.approx(2.25)
    lone_cooperator = _profiles(n).index((1, 0, 0, 0, 0))
    assert r[lone_cooperator][0] == 0.0


# --- gradients against finite differences -----------------------------------------------------


@pytest.mark.parametrize("n", [2, 3])
def test_value_gradients_match_finite_differences(n: int) -> None:
    theta, _, _ = _instance(n, 1)
    rewards = game_rewards("chicken", n)
    actions = amd.joint_actions(n)
    p = amd.sigmoid(theta[None])
    got = value_gradients(
        amd.outcome_probabilities(p, actions), actions[None] - p[:, None], rewards
    )
    for j in range(n):

        def v_j(th: np.ndarray, j: int = j) -> float:
            return sum(_prob(th, a) * rewards[k, j] for k, a in enumerate(_profiles(n)))

        # grad_i V_j for every i: the diagonal is what eq. 4.1 uses
        np.testing.assert_allclose(got[0, j], _fd(v_j, theta)[j], atol=1e-7)


@pytest.mark.parametrize(("n", "rn", "cost"), [(2, False, 2e-4), (2, True, 0.3), (3, False, 0.5)])
def test_exact_planner_gradient_matches_finite_differences(n: int, rn: bool, cost: float) -> None:
    theta, w, b = _instance(n, 2 + n)
    rewards = game_rewards("pd", n)
    lr, c = 0.7, 3.0

    def objective(w_: np.ndarray, b_: np.ndarray) -> float:
        return _exact_objective(theta, w_, b_, rewards, lr, cost, c, rn)

    gw, gb = exact_planner_gradient(
        theta[None], w[None], b[None], rewards, lr=lr, cost=cost, max_reward=c, revenue_neutral=rn
    )
    np.testing.assert_allclose(gw[0], _fd(lambda x: objective(x, b), w), atol=1e-6)
    np.testing.assert_allclose(gb[0], _fd(lambda x: objective(w, x), b), atol=1e-6)


@pytest.mark.parametrize(("n", "rn"), [(2, False), (2, True), (3, True)])
def test_code_planner_gradient_matches_finite_differences(n: int, rn: bool) -> None:
    theta, w, b = _instance(n, 7 + n)
    a = np.array([1.0, 0.0, 1.0][:n])
    g_v = np.array([0.4, -1.3, 0.9][:n])
    lr, c, cost = 0.5, 3.0, 0.2

    def objective(w_: np.ndarray, b_: np.ndarray) -> float:
        return _code_objective(theta, w_, b_, a, g_v, lr, cost, c, rn)

    gw, gb = code_planner_gradient(
        theta[None],
        w[None],
        b[None],
        a[None],
        g_v[None],
        lr=lr,
        cost=cost,
        max_reward=c,
        revenue_neutral=rn,
    )
    np.testing.assert_allclose(gw[0], _fd(lambda x: objective(x, b), w), atol=1e-7)
    np.testing.assert_allclose(gb[0], _fd(lambda x: objective(w, x), b), atol=1e-7)


@pytest.mark.parametrize(("n", "rn"), [(2, False), (3, True)])
def test_estimated_planner_gradient_matches_finite_differences(n: int, rn: bool) -> None:
    theta, w, b = _instance(n, 11 + n)
    a = np.array([0.0, 1.0, 1.0][:n])
    welfare, baseline, lr, c, cost = 4.0, 1.9, 0.5, 3.0, 0.2

    def objective(w_: np.ndarray, b_: np.ndarray) -> float:
        return _estimated_objective(theta, w_, b_, a, welfare, baseline, lr, cost, c, rn)

    gw, gb = estimated_planner_gradient(
        theta[None],
        w[None],
        b[None],
        a[None],
        np.array([welfare]),
        lr=lr,
        cost=cost,
        max_reward=c,
        revenue_neutral=rn,
        baseline=baseline,
    )
    np.testing.assert_allclose(gw[0], _fd(lambda x: objective(x, b), w), atol=1e-6)
    np.testing.assert_allclose(gb[0], _fd(lambda x: objective(w, x), b), atol=1e-6)


def test_one_exact_sgd_step_is_eq_4_1() -> None:
    """Without a planner, one plain-gradient step of exact learners moves theta by lr * grad."""
    theta0 = math.log(0.25 / 0.75)
    lr = 0.3
    run = simulate_amd(
        game="staghunt",
        mechanism=False,
        learners="exact",
        optimizer="sgd",
        lr=lr,
        episodes=1,
        seeds=1,
    )
    rewards = game_rewards("staghunt")

    def v_1(th: np.ndarray) -> float:
        return sum(_prob(th, a) * rewards[k, 0] for k, a in enumerate(_profiles(2)))

    grad = _fd(v_1, np.array([theta0, theta0]))[0]
    assert run.p_cooperate[0, 0, 0] == pytest.approx(_sig(theta0 + lr * grad), abs=1e-9)


@pytest.mark.parametrize(
    ("planner", "rn", "n", "game"),
    [
        ("exact", False, 2, "pd"),
        ("exact", True, 3, "staghunt"),
        ("code", True, 2, "chicken"),
        ("code", False, 3, "pd"),
        ("estimated", False, 2, "staghunt"),
        ("estimated", True, 3, "pd"),
    ],
)
def test_first_episode_of_training_is_the_written_out_update(
    planner: str, rn: bool, n: int, game: str
) -> None:
    """The training loop itself (not only the gradient functions): with plain ascent, episode 1
    moves the sampled learners by lr (a_i - p_i)(r^tot_i(a) - E[r^tot_i]) and the planner by
    planner_lr times the finite-difference gradient of its written-out objective at the
    realised joint action, from the initial state SeedSequence([1, 4, seed]) describes."""
    seed, lr, planner_lr, cost, c = 3, 0.5, 40.0, 0.05, 3.0
    run = simulate_amd(
        game=game,
        players=n,
        planner=planner,
        revenue_neutral=rn,
        optimizer="sgd",
        lr=lr,
        planner_lr=planner_lr,
        cost=cost,
        episodes=2,
        seeds=[seed],
    )
    gen = np.random.default_rng(np.random.SeedSequence([1, 4, seed]))
    w, b = gen.normal(0.0, 0.1, (n, n)), gen.normal(0.0, 0.1, n)
    theta = np.full(n, math.log(0.25 / 0.75))
    played = (gen.random((2, n))[0] < _sig(float(theta[0]))).astype(float)
    rewards = game_rewards(game, n)
    profiles = _profiles(n)
    # learners: REINFORCE with the perfect baseline, on the rewards paid at episode start
    tot = [rewards[k] + _paid(w, b, np.array(a, float), c, rn) for k, a in enumerate(profiles)]
    base = sum(_prob(theta, a) * tot[k] for k, a in enumerate(profiles))
    played_row = profiles.index(tuple(int(x) for x in played))
    p0 = np.array([_sig(float(t)) for t in theta])
    theta1 = theta + lr * (played - p0) * (tot[played_row] - base)
    np.testing.assert_allclose(run.p_cooperate[0, 0], [_sig(float(t)) for t in theta1], atol=1e-12)

    def objective(w_: np.ndarray, b_: np.ndarray) -> float:
        if planner == "exact":
            return _exact_objective(theta, w_, b_, rewards, lr, cost, c, rn)
        if planner == "code":
            g_v = np.array(_welfare_gradient(theta, rewards))
            return _code_objective(theta, w_, b_, played, g_v, lr, cost, c, rn)
        welfare = float(rewards[played_row].sum())
        return _estimated_objective(theta, w_, b_, played, welfare, 1.9, lr, cost, c, rn)

    w1 = w + planner_lr * _fd(lambda x: objective(x, b), w)
    b1 = b + planner_lr * _fd(lambda x: objective(w, x), b)
    before = [_paid(w, b, np.array(a, float), c, rn)[0] for a in profiles]
    after = [_paid(w1, b1, np.array(a, float), c, rn)[0] for a in profiles]
    assert run.planner_reward is not None
    np.testing.assert_allclose(run.planner_reward[0, 0], before, atol=1e-12)
    np.testing.assert_allclose(run.planner_reward[0, 1], after, atol=1e-6)
    assert np.abs(np.subtract(after, before)).max() > 1e-3  # the step is far above the tolerance


# --- runs -------------------------------------------------------------------------------------


def test_seeds_replay_independently() -> None:
    both = simulate_amd(game="pd", episodes=300, seeds=[0, 5], planner="code")
    alone = simulate_amd(game="pd", episodes=300, seeds=[5], planner="code")
    np.testing.assert_array_equal(both.p_cooperate[1], alone.p_cooperate[0])
    assert both.p_cooperate.shape == (2, 300, 2) and not both.p_cooperate.flags.writeable


def test_table_4_2_orderings() -> None:
    """Mechanism >> no mechanism in all three games; after turning the planner off, Stag Hunt
    stays cooperative while the PD falls back (2000 + 2000 episodes, 4 seeds)."""
    arms = run_table("4.2", AmdSettings(episodes=2000), seeds=4)
    by = {(a.game, a.arm): a.summary for a in arms}
    for game in amd.GAMES:
        none, mech = by[(game, "no mechanism")], by[(game, "mechanism")]
        assert mech.p_all_cooperate > 0.9 > none.p_all_cooperate + 0.5
        assert mech.welfare > none.welfare
        assert mech.aar > 0 == none.aar
    stag_off, pd_on, pd_off = (
        by[("staghunt", "turning off")],
        by[("pd", "mechanism")],
        by[("pd", "turning off")],
    )
    assert min(stag_off.per_seed_p_all_cooperate) > 0.95  # every Stag Hunt run stays
    assert pd_off.p_all_cooperate < pd_on.p_all_cooperate - 0.4  # the PD falls back
    assert pd_off.welfare < stag_off.welfare - 1.0
    text = table_markdown("4.2", arms)
    assert "98.7% ± 0.1%" in text and "turning off" in text


def test_table_4_3_orderings() -> None:
    """Revenue-neutral (code planner) cooperates less than the exact planner in the PD but not in
    Chicken; the estimated planner (eq. 4.5) hands out far more reward and fails in the PD."""
    e = 2500
    exact = {g: summarize(simulate_amd(game=g, episodes=e, seeds=3)) for g in ("pd", "chicken")}
    rn = {
        g: summarize(
            simulate_amd(game=g, episodes=e, seeds=3, planner="code", revenue_neutral=True)
        )
        for g in ("pd", "chicken")
    }
    assert rn["pd"].p_all_cooperate < exact["pd"].p_all_cooperate - 0.03
    assert rn["chicken"].p_all_cooperate > exact["chicken"].p_all_cooperate - 0.02
    est = summarize(simulate_amd(game="pd", episodes=e, seeds=3, planner="estimated"))
    assert est.p_all_cooperate < 0.2 and est.aar > 2 * exact["pd"].aar


def test_n_player_pd_learns_cooperation() -> None:
    on = summarize(simulate_amd(game="pd", players=3, episodes=1000, seeds=2))
    off = summarize(simulate_amd(game="pd", players=3, episodes=1000, seeds=2, mechanism=False))
    assert on.p_all_cooperate > 0.7 and off.p_all_cooperate < 0.01


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"game": "poker"}, "game"),
        ({"players": 1}, "players"),
        ({"episodes": 0}, "episodes"),
        ({"planner": "oracle"}, "planner"),
        ({"optimizer": "rmsprop"}, "optimizer"),
        ({"learners": "greedy"}, "learners"),
        ({"init": "zero"}, "init"),
        ({"lr": 0.0}, "lr"),
        ({"cost": -1.0}, "cost"),
        ({"max_reward": float("nan")}, "max_reward"),
        ({"turn_off": 1}, "turn_off"),
        ({"seeds": []}, "seeds"),
        ({"seeds": 0}, "seeds"),
        ({"seeds": [-1]}, "seed"),
        ({"temperature": 1.0}, "temperature"),
    ],
)
def test_bad_input_names_the_argument(kwargs: dict[str, object], argument: str) -> None:
    with pytest.raises(MechsolveInputError) as err:
        simulate_amd(**{"episodes": 5, **kwargs})
    assert err.value.argument == argument
    assert f"`{argument}`" in str(err.value)


def test_too_many_players_is_too_large() -> None:
    with pytest.raises(ProblemTooLargeError) as err:
        simulate_amd(players=amd.MAX_PLAYERS + 1, episodes=5)
    assert err.value.argument == "players"
    with pytest.raises(MechsolveInputError) as err2:
        run_table("4.2", games=["go"], seeds=1)
    assert err2.value.argument == "games"
    with pytest.raises(MechsolveInputError) as err3:
        summarize(simulate_amd(episodes=5, seeds=1), episode=6)
    assert err3.value.argument == "episode"


# --- CLI --------------------------------------------------------------------------------------


def _cli(argv: list[str]) -> int:
    from mechsolve.cli import simulate_amd as cli

    parser = argparse.ArgumentParser()
    cli.add_parser(parser.add_subparsers())
    args = parser.parse_args(["amd", *argv])
    return int(args.func(args))


def test_cli_writes_summary_json_and_plots(tmp_path: Path) -> None:
    out = tmp_path / "t42"
    assert (
        _cli(
            [
                "--game",
                "pd",
                "--episodes",
                "200",
                "--seeds",
                "2",
                "--out",
                str(out),
                "--no-progress",
            ]
        )
        == 0
    )
    summary = (out / "summary.md").read_text()
    assert "Table 4.2" in summary and "0.004% ± 0.001%" in summary
    record = json.loads((out / "amd.json").read_text())
    assert [a["arm"] for a in record["arms"]] == ["no mechanism", "mechanism", "turning off"]
    assert record["arms"][1]["paper"]["p"]["mean"] == pytest.approx(0.987)
    assert (out / "figure_4_1_pd_mechanism.png").stat().st_size > 0
    out43 = tmp_path / "t43"
    argv = ["--table", "4.3", "--game", "chicken", "--episodes", "50", "--seeds", "1", "--no-plot"]
    assert _cli([*argv, "--out", str(out43), "--no-progress"]) == 0
    arms = [a["arm"] for a in json.loads((out43 / "amd.json").read_text())["arms"]]
    assert arms == [
        "exact V",
        "revenue-neutral (code planner)",
        "revenue-neutral (exact planner)",
        "estimated V",
    ]
    assert not list(out43.glob("*.png"))
    outn = tmp_path / "n"
    assert (
        _cli(
            [
                "--players",
                "3",
                "--table",
                "none",
                "--episodes",
                "50",
                "--seeds",
                "1",
                "--out",
                str(outn),
                "--no-progress",
            ]
        )
        == 0
    )
    assert "P(all C), N=3" in (outn / "summary.md").read_text()


def test_cli_bad_input_names_the_argument(tmp_path: Path) -> None:
    for argv, argument in (
        (["--seeds", "0"], "--seeds"),
        (["--players", "3", "--game", "chicken"], "--game"),
        (["--lr", "-1"], "--lr"),
    ):
        with pytest.raises(MechsolveInputError) as err:
            _cli([*argv, "--out", str(tmp_path), "--no-progress"])
        assert err.value.argument == argument
