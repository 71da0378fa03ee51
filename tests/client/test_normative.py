"""amTFT(w) / amTFT(𝒲) and normative disagreement (seed 003; mechsolve.client.sim.normative)."""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mechsolve.client.sim.normative import (
    AmTFT,
    NormativeConfig,
    Prepared,
    Scripted,
    debit,
    parse_set,
    play_pair,
    play_scripted,
    punishment_length,
    punishment_policy,
    run_normative,
    stage_game,
    welfare_function,
)
from mechsolve.solver.core.errors import MechsolveInputError
from mechsolve.solver.equilibria.bargaining import normalized_score
from mechsolve.solver.games.normal_form import NormalFormGame

BOS_PAYOFFS = {(0, 0): (4, 1), (1, 1): (2, 2), (0, 1): (0, 0), (1, 0): (0, 0)}
PD_PAYOFFS = {(0, 0): (-1, -1), (0, 1): (-3, 0), (1, 0): (0, -3), (1, 1): (-2, -2)}


def _agent_pair(game: str, sets: tuple[tuple[str, ...], ...], **changes: float) -> list[AmTFT]:
    cfg = NormativeConfig(epsilon=0.0, **changes)
    prep = Prepared(stage_game(game, cfg), [m for s in sets for m in s], cfg)
    agents = [prep.agent(i, sets[i], np.random.default_rng(i)) for i in (0, 1)]
    for a in agents:
        a.reset()
    return agents


# -- the games and the welfare-optimal plans against closed forms --------------------------------


def test_stage_games_are_the_public_code_matrices() -> None:
    for name, cells, d in (("bos", BOS_PAYOFFS, (0, 0)), ("pd", PD_PAYOFFS, (-2, -2))):
        s = stage_game(name)
        for (a, b), u in cells.items():
            assert tuple(s.game.payoffs[:, a, b]) == u
        assert s.disagreement == d
    assert stage_game("pd", NormativeConfig(pd_disagreement="seed-b2")).disagreement == (-3, -3)


def test_cooperative_plans_match_the_seed_text() -> None:
    """§3.3: BB maximizes Util, SS Egal (and IA), a fair coin over BB/SS the Nash welfare
    (3, 1.5); in the PD every welfare function cooperates."""
    cfg = NormativeConfig()
    plans = Prepared(stage_game("bos"), ["util", "ia", "egal", "nash", "ks"], cfg).plans
    assert plans["util"].outcomes == ((0, 0),)
    assert plans["ia"].outcomes == plans["egal"].outcomes == ((1, 1),)
    for coin in ("nash", "ks"):  # KS: ideal (4, 2), equal relative gains at the coin
        assert plans[coin].outcomes == ((0, 0), (1, 1))
        np.testing.assert_allclose(plans[coin].cumulative, [0.5, 1.0], atol=1e-6)
        np.testing.assert_allclose(plans[coin].utilities, [3.0, 1.5], atol=1e-6)
    assert [plans["nash"].outcome(z) for z in (0.0, 0.49, 0.51, 0.999)] == [
        (0, 0), (0, 0), (1, 1), (1, 1),
    ]  # fmt: skip
    pd = Prepared(stage_game("pd"), ["util", "ia", "egal", "nash", "ks"], cfg).plans
    assert all(p.outcomes == ((0, 0),) for p in pd.values())


def test_inequity_weight_is_the_stationary_limit_of_the_smoothed_rewards() -> None:
    """App. C.1: e_i^t = gamma*lambda*e_i^{t-1} + r_i; on a stationary play the per-step penalty
    beta*|e_1 - e_2| tends to beta_eff*|r_1 - r_2|."""
    cfg = NormativeConfig(gamma=0.96, ia_beta=0.7, ia_lambda=0.9)
    e = np.zeros(2)
    for _ in range(2000):
        e = cfg.gamma * cfg.ia_lambda * e + np.array([4.0, 1.0])
    assert cfg.ia_beta * abs(e[0] - e[1]) == pytest.approx(cfg.ia_beta_eff * 3.0, rel=1e-9)
    assert welfare_function("ia", stage_game("bos"), cfg).beta == pytest.approx(cfg.ia_beta_eff)


# -- punishment: brute force over the stage game ------------------------------------------------


def _brute_min_max(opp_payoffs: np.ndarray, punisher_axis: int, grid: int) -> float:
    """min over a grid of the punisher's mixed strategies of the opponent's best reward."""
    k = opp_payoffs.shape[punisher_axis]
    best = np.inf
    for c in itertools.product(range(grid + 1), repeat=k - 1):
        if sum(c) > grid:
            continue
        y = np.array([*c, grid - sum(c)], dtype=float) / grid
        values = opp_payoffs @ y if punisher_axis == 1 else y @ opp_payoffs
        best = min(best, float(values.max()))
    return best


def _check_punishment(game: NormalFormGame, punisher: int, grid: int) -> None:
    p = punishment_policy(game, punisher)
    opp = 1 - punisher
    u = np.asarray(game.payoffs[opp])
    y = p.strategy
    assert y.min() >= -1e-12 and y.sum() == pytest.approx(1.0)
    best_reply = float((u @ y if punisher == 1 else y @ u).max())
    assert best_reply == pytest.approx(p.opponent_value, abs=1e-7)
    assert best_reply <= _brute_min_max(u, 1 if punisher == 1 else 0, grid) + 1e-7


@pytest.mark.parametrize("name", ["bos", "pd"])
@pytest.mark.parametrize("punisher", [0, 1])
def test_punishment_minimizes_the_opponents_best_reward(name: str, punisher: int) -> None:
    _check_punishment(stage_game(name).game, punisher, grid=2000)


def test_punishment_hand_values() -> None:
    """BoS: holding the row player to max(4y, 2(1-y)) needs y = 1/3 (value 4/3); holding the
    column player to max(y, 2(1-y)) needs y = 2/3 (value 2/3). PD: defect, value -2."""
    bos, pd = stage_game("bos").game, stage_game("pd").game
    np.testing.assert_allclose(punishment_policy(bos, 1).strategy, [1 / 3, 2 / 3], atol=1e-7)
    assert punishment_policy(bos, 1).opponent_value == pytest.approx(4 / 3)
    np.testing.assert_allclose(punishment_policy(bos, 0).strategy, [2 / 3, 1 / 3], atol=1e-7)
    assert punishment_policy(bos, 0).opponent_value == pytest.approx(2 / 3)
    for punisher in (0, 1):
        np.testing.assert_allclose(punishment_policy(pd, punisher).strategy, [0, 1], atol=1e-9)
        assert punishment_policy(pd, punisher).opponent_value == pytest.approx(-2.0)


@settings(max_examples=25, deadline=None)
@given(
    st.integers(2, 3),
    st.integers(2, 3),
    st.integers(0, 1),
    st.lists(st.integers(-5, 5), min_size=18, max_size=18),
)
def test_punishment_on_random_games(k0: int, k1: int, punisher: int, cells: list[int]) -> None:
    payoffs = np.array(cells[: 2 * k0 * k1], dtype=float).reshape(2, k0, k1)
    _check_punishment(NormalFormGame(payoffs), punisher, grid=60)


# -- debit and punishment length -----------------------------------------------------------------


def test_debit_hand_values() -> None:
    pd, bos = stage_game("pd").game, stage_game("bos").game
    # player 0 cooperated, the opponent defected instead of cooperating: r_1(C,D) - r_1(C,C)
    assert debit(pd, 0, (0, 1), 0) == 0.0 - (-1.0)
    # both defected; the opponent (player 0) should have cooperated: r_0(D,D) - r_0(C,D)
    assert debit(pd, 1, (1, 1), 0) == -2.0 - (-3.0)
    # BoS: the row player played S instead of B against B: r_0(S,B) - r_0(B,B) = 0 - 4
    assert debit(bos, 1, (1, 0), 0) == -4.0
    # BoS: the column player played S instead of B against B: r_1(B,S) - r_1(B,B) = 0 - 1
    assert debit(bos, 0, (0, 1), 0) == -1.0


def test_punishment_length_hand_values() -> None:
    kw = {"multiplier": 3.0, "horizon": 20, "discount": 0.96}
    # loss(k) = (1 - 0.96^k) / 0.04 per unit gap: 8.38 at k = 10, 9.04 at k = 11 >= 3 * 3
    assert punishment_length(-1.0, -2.0, 3.0, **kw) == 11
    assert punishment_length(-1.0, -2.0, 100.0, **kw) == 20  # unreachable: the largest loss
    assert punishment_length(-1.0, -2.0, 100.0, multiplier=3.0, horizon=7, discount=0.96) == 7
    assert punishment_length(-1.0, -1.0, 3.0, **kw) == 0  # punishing cannot hurt
    assert punishment_length(-1.0, -2.0, 3.0, multiplier=3.0, horizon=0, discount=0.96) == 0
    assert punishment_length(2.0, 0.0, 2.0, multiplier=1.0, horizon=20, discount=1.0) == 1
    assert punishment_length(2.0, 0.0, 2.5, multiplier=2.0, horizon=20, discount=1.0) == 3


def test_defection_is_punished_and_disagreement_is_not() -> None:
    a, _ = _agent_pair("pd", (("util",), ("util",)))
    for step in range(3):  # debit 1, 2, 3 > threshold 2 after the third defection
        assert a.intended(0.5) == 0
        a.observe(0.5, (0, 1), 16 - step)
    assert a.punishments == 1 and a.debit == 0.0
    assert a.punish_left == punishment_length(
        -1.0, -2.0, 3.0, multiplier=3.0, horizon=min(20, 14), discount=0.96
    )
    assert all(a.intended(0.5) == 1 for _ in range(a.punish_left))  # the minimax action D
    assert a.intended(0.5) == 0  # back to the plan
    # BoS, amTFT(Util) facing S: miscoordination lowers the opponent's reward, no punishment
    u, _ = _agent_pair("bos", (("util",), ("util",)))
    for _ in range(15):
        u.observe(0.3, (0, 1), 10)
    assert u.punishments == 0 and u.debit == -15.0
    # amTFT({Util, IA}) facing S: S is IA's plan, so it re-samples and accrues no debit
    w, _ = _agent_pair("bos", (("util", "ia"), ("util",)))
    w.current = 0
    w.observe(0.3, (0, 1), 10)
    assert w.resamples == 1 and w.debit == 0.0


def test_scripted_defector_does_worse_than_cooperating() -> None:
    cfg = NormativeConfig(episodes=4)
    prep = Prepared(stage_game("pd", cfg), ["util"], cfg)
    basis = [welfare_function("util", prep.stage, cfg)]
    run = play_scripted(prep, ("util",), 1, 0, basis)
    assert run.punishments >= 1.0
    assert run.payoffs[1] < -1.0  # the defector's mean payoff is below mutual cooperation
    assert Scripted(1, 1).intended(0.2) == 1


# -- the seed's qualitative pattern ---------------------------------------------------------------


def test_cross_play_pattern_over_seeds() -> None:
    """Fig. 3: same welfare function near 1; different ones fail in the BoS, not in the PD.
    Fig. 5: amTFT(𝒲) fails only for disjoint sets; {Util, IA} vs {IA} ends at IA."""
    cfg = NormativeConfig(episodes=4)
    res = {
        r.game: r
        for r in run_normative(
            welfare_functions=("util", "ia"),
            sets=("util", "ia", "util+ia"),
            seeds=range(3),
            config=cfg,
        )
    }
    bos, pd = res["bos"].matrix("crossplay")[0], res["pd"].matrix("crossplay")[0]
    assert np.diag(bos).min() >= 0.9 and bos[0, 1] <= 0.15 and bos[1, 0] <= 0.15
    assert pd.min() >= 0.9
    sets, _ = res["bos"].matrix("setplay")  # order: {Util}, {IA}, {Util, IA}
    for i, j in itertools.product(range(3), repeat=2):
        disjoint = {i, j} == {0, 1}
        assert (sets[i, j] <= 0.15) if disjoint else (sets[i, j] >= 0.7), (i, j, sets[i, j])
    exploited = next(r for r in res["bos"].setplay if (r.row, r.column) == ("util+ia", "ia"))
    assert exploited.final_agreement == 1.0
    assert exploited.payoffs[0] < 2.2  # the row player settles at SS (2, 2), not BB (4, 1)
    assert res["pd"].matrix("setplay")[0].min() >= 0.9
    assert all(r.punishments == 0.0 for r in res["bos"].defection)


def test_episode_scores_credit_each_coordinated_episode() -> None:
    """amTFT({Util, IA}) self-play ends some episodes at BB and some at SS: each scores about 1,
    their average profile less (it is no welfare function's optimum)."""
    pair = (("util", "ia"), ("util", "ia"))
    runs = {}
    for mode in ("profile", "episode"):
        cfg = NormativeConfig(epsilon=0.0, episodes=6, score=mode)
        prep = Prepared(stage_game("bos", cfg), ["util", "ia"], cfg)
        basis = [welfare_function(n, prep.stage, cfg) for n in ("util", "ia")]
        runs[mode] = [play_pair(prep, pair, s, basis) for s in range(3)]
        for r in runs[mode]:  # the memoized score is the project's normalized_score
            direct = normalized_score(prep.stage.game, r.payoffs, (0, 0), welfare_functions=basis)
            assert prep.score(np.array(r.payoffs), basis) == pytest.approx(direct.score)
    for p, e in zip(runs["profile"], runs["episode"], strict=True):
        assert p.payoffs == e.payoffs
        assert e.score > p.score and e.score >= 0.85


def test_runs_replay_exactly() -> None:
    cfg = NormativeConfig(episodes=2)
    prep = Prepared(stage_game("bos", cfg), ["util", "ia"], cfg)
    basis = [welfare_function(n, prep.stage, cfg) for n in ("util", "ia")]
    pair = (("util", "ia"), ("ia",))
    assert play_pair(prep, pair, 5, basis) == play_pair(prep, pair, 5, basis)


# -- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"games": ("chess",)}, "games[0]"),
        ({"games": ()}, "games"),
        ({"welfare_functions": ("util", "bogus")}, "welfare_functions[1]"),
        ({"sets": ("util", "util+util")}, "sets[1]"),
        ({"sets": ("util+",)}, "sets[0]"),
        ({"seeds": []}, "seeds"),
        ({"seeds": [-1]}, "seeds"),
        ({"config": NormativeConfig(epsilon=1.5)}, "epsilon"),
        ({"config": NormativeConfig(steps=0)}, "steps"),
        ({"config": NormativeConfig(debit_threshold=-1.0)}, "debit_threshold"),
        ({"config": NormativeConfig(rollout_length=0)}, "rollout_length"),
        ({"config": NormativeConfig(pd_disagreement="zero")}, "pd_disagreement"),
        ({"config": NormativeConfig(gamma=1.0, ia_lambda=1.0)}, "ia_lambda"),
    ],
)
def test_bad_input_names_the_argument(kwargs: dict[str, object], argument: str) -> None:
    with pytest.raises(MechsolveInputError) as exc:
        run_normative(**kwargs)
    assert exc.value.argument == argument
    assert argument in str(exc.value)


def test_bad_input_of_the_building_blocks() -> None:
    with pytest.raises(MechsolveInputError) as exc:
        punishment_policy(stage_game("bos").game, 2)
    assert exc.value.argument == "punisher"
    with pytest.raises(MechsolveInputError) as exc:
        punishment_policy(np.zeros((3, 2, 2, 2)), 0)
    assert exc.value.argument == "game"
    with pytest.raises(MechsolveInputError) as exc:
        stage_game("go")
    assert exc.value.argument == "name"
    with pytest.raises(MechsolveInputError) as exc:
        parse_set("f", "--sets", "util+ia+kant")
    assert exc.value.argument == "--sets"


# -- the command line -----------------------------------------------------------------------------


def _cli(argv: list[str]) -> int:
    from mechsolve.cli import simulate_normative as m

    p = argparse.ArgumentParser()
    m.add_parser(p.add_subparsers())
    args = p.parse_args(["normative-disagreement", *argv])
    return int(args.func(args))


def test_cli_writes_its_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "nd"
    argv = ["--games", "bos", "pd", "--welfare", "util", "ia", "--sets", "util+ia", "ia"]
    argv += ["--seeds", "2", "--episodes", "2", "--steps", "6", "--out", str(out), "--no-progress"]
    assert _cli(argv) == 0
    summary = (out / "summary.md").read_text()
    assert "amTFT(w) cross-play" in summary and "{Util, IA}" in summary
    data = json.loads((out / "results.json").read_text())
    assert [g["game"] for g in data["games"]] == ["bos", "pd"]
    assert len(data["games"][0]["crossplay"]) == 4 and len(data["games"][0]["setplay"]) == 4
    assert data["config"]["steps"] == 6
    assert (out / "normative_disagreement.png").stat().st_size > 10_000
    assert "wrote" in capsys.readouterr().out


def test_cli_rejects_bad_numbers(tmp_path: Path) -> None:
    with pytest.raises(MechsolveInputError) as exc:
        _cli(["--seeds", "0", "--out", str(tmp_path), "--no-plot", "--no-progress"])
    assert exc.value.argument == "--seeds"
    with pytest.raises(MechsolveInputError) as exc:
        _cli(["--epsilon", "-0.5", "--out", str(tmp_path), "--no-plot", "--no-progress"])
    assert exc.value.argument == "epsilon"
    with pytest.raises(MechsolveInputError) as exc:
        _cli(["--games", "chess", "--out", str(tmp_path), "--no-plot", "--no-progress"])
    assert exc.value.argument == "games[0]"
    with pytest.raises(MechsolveInputError) as exc:
        _cli(["--sets", "util+kant", "--out", str(tmp_path), "--no-plot", "--no-progress"])
    assert exc.value.argument == "sets[0]"
