"""The simulation layer (issue "Learning-agent simulations"): learners, the runner, the three
scenarios of seed 000 section 4 and ``mechsolve simulate``. Orderings are asserted over
enough seeds, games and populations to be stable (checked on other seed sets); no timings."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from mechsolve.client.local import LocalMechsolve
from mechsolve.client.sim.agents import (
    REGIMES,
    EpsilonGreedy,
    EpsilonSchedule,
    LearnerSpec,
    QLearning,
    SoftmaxPolicyGradient,
)
from mechsolve.client.sim.backends import open_backend
from mechsolve.client.sim.experiments import Matching, RandomNormalForm, Restaurant
from mechsolve.client.sim.report import read_parquet, summarize, write_parquet
from mechsolve.client.sim.runner import RunConfig, play, run
from mechsolve.client.sim.scenarios import (
    MatchingScenario,
    NormalFormScenario,
    RestaurantScenario,
)
from mechsolve.solver.core.errors import MechsolveInputError
from mechsolve.solver.games.normal_form import random_game, seed000_prisoners_dilemma
from mechsolve.solver.structured.restaurant import random_restaurant_instance

from ..solver.brute_force import mediate as brute_force_mediate


# --- learners ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("schedule", "t", "expected"),
    [
        (EpsilonSchedule("1/t"), 1, 1.0),
        (EpsilonSchedule("1/t"), 10, 0.1),
        (EpsilonSchedule("1/t", t0=100), 1, 0.01),
        (EpsilonSchedule("c/t", c=5.0), 2, 1.0),
        (EpsilonSchedule("c/t", c=5.0), 50, 0.1),
        (EpsilonSchedule("1/sqrt(t)"), 4, 0.5),
        (EpsilonSchedule("constant", c=0.3), 1000, 0.3),
    ],
)
def test_epsilon_schedules(schedule: EpsilonSchedule, t: int, expected: float) -> None:
    assert schedule(t) == pytest.approx(expected)


def test_exploration_happens_at_the_scheduled_rate() -> None:
    agents = EpsilonGreedy(4000, 1, 2, seed=0)
    agents.values[:, :, 0] = 1.0  # arm 0 is known to be best
    agents.t = 9  # next round is t = 10: explore with probability 1/10, half of it on arm 1
    arms = agents.act()
    assert abs((arms == 1).mean() - 0.05) < 0.015


@pytest.mark.parametrize(
    "make",
    [
        lambda: EpsilonGreedy(50, 2, 3, seed=1),
        lambda: EpsilonGreedy(
            50,
            2,
            3,
            seed=1,
            step_size=0.1,
            tie_break="first",
            epsilon=EpsilonSchedule("constant", c=0.1),
        ),
        lambda: QLearning(50, 2, 3, seed=1, epsilon=EpsilonSchedule("c/t", c=5.0)),
        lambda: SoftmaxPolicyGradient(50, 2, 3, seed=1, learning_rate=0.5),
    ],
    ids=["epsilon-greedy", "constant-step", "q-learning", "policy-gradient"],
)
def test_learners_find_the_best_arm(make) -> None:
    agents = make()
    means = np.array([0.2, 0.8, 0.5])
    rng = np.random.default_rng(2)
    arms = agents.act()
    for _ in range(600):
        arms = agents.act()
        agents.update(arms, means[arms] + rng.normal(0, 0.05, arms.shape))
    assert (arms == 1).mean() > 0.8


def test_first_index_ties_open_on_arm_zero_and_unavailable_arms_are_never_played() -> None:
    agents = EpsilonGreedy(100, 3, 6, seed=0, epsilon=EpsilonSchedule(t0=10**9), tie_break="first")
    assert (agents.act() == 0).all()
    available = np.array([False, False, True, True, False, False])
    rng = np.random.default_rng(0)
    for learner in (
        EpsilonGreedy(100, 3, 6, seed=1),
        QLearning(100, 3, 6, seed=1),
        SoftmaxPolicyGradient(100, 3, 6, seed=1),
    ):
        for _ in range(30):
            arms = learner.act(available)
            assert available[arms].all()
            learner.update(arms, rng.random(arms.shape))


@pytest.mark.parametrize("kind", ["epsilon-greedy", "q-learning", "policy-gradient"])
def test_a_checkpoint_continues_exactly(kind: str) -> None:
    spec = LearnerSpec(kind=kind)
    a, b = spec.make(4, 3, 5, seed=7), spec.make(4, 3, 5, seed=99)
    rng = np.random.default_rng(0)
    for _ in range(20):
        arms = a.act()
        a.update(arms, rng.random(arms.shape))
    b.load_state(a.state())
    for _ in range(20):
        arms_a, arms_b = a.act(), b.act()
        np.testing.assert_array_equal(arms_a, arms_b)
        r = rng.random(arms_a.shape)
        a.update(arms_a, r)
        b.update(arms_b, r)


@pytest.mark.parametrize(
    ("make", "argument"),
    [
        (lambda: EpsilonGreedy(0, 2, 2), "populations"),
        (lambda: EpsilonGreedy(1, 2, 2, tie_break="last"), "tie_break"),
        (lambda: EpsilonGreedy(1, 2, 2, step_size=2.0), "step_size"),
        (lambda: EpsilonSchedule("1/t^2"), "kind"),
        (lambda: EpsilonSchedule("constant", c=1.5), "c"),
        (lambda: EpsilonSchedule(t0=0), "t0"),
        (lambda: QLearning(1, 2, 2, gamma=-0.1), "gamma"),
        (lambda: LearnerSpec(kind="sarsa"), "kind"),
        (lambda: EpsilonGreedy(1, 2, 2).act(np.zeros(2, bool)), "available"),
        (lambda: EpsilonGreedy(1, 2, 2).update(np.array([[0, 2]]), np.ones((1, 2))), "arms"),
    ],
)
def test_bad_learner_settings_name_the_argument(make, argument: str) -> None:
    with pytest.raises(MechsolveInputError, match=f"`{argument}"):
        make()


# --- scenarios and the runner -------------------------------------------------------------------
def test_normal_form_rounds_pay_the_mediated_outcome_checked_by_brute_force() -> None:
    game = random_game([3, 3, 3], seed=4)
    scenario = NormalFormScenario(game)
    rng = np.random.default_rng(1)
    actions, delegate = rng.integers(0, 3, (16, 3)), rng.random((16, 3)) < 0.6
    api = LocalMechsolve()
    original = scenario.rewards(api, "original", actions, delegate)
    pareto = scenario.rewards(api, "pareto", actions, delegate)
    punishing = scenario.rewards(api, "punishing", actions, delegate)
    for p in range(16):
        a, d = tuple(actions[p]), delegate[p]
        np.testing.assert_allclose(original[p], game.payoffs[(slice(None), *a)])
        for arm, got in (("pareto", pareto), ("punishing", punishing)):
            ref, _, _ = brute_force_mediate(game.payoffs, (3, 3, 3), a, d, arm, "utilitarian")
            np.testing.assert_allclose(got[p], game.payoffs[(slice(None), *ref)])


def test_matching_and_restaurant_rounds_pay_what_the_paper_says() -> None:
    api = LocalMechsolve()
    r = np.array([[0, 0.5, 0.2], [0.4, 0, 0.9], [0.3, 0.8, 0]])
    scenario = MatchingScenario(r)
    actions = np.array([[0, 0, 1]])  # 0 -> 1, 1 -> 0, 2 -> 1: agents 0 and 1 are a pair
    assert scenario.partners(actions[0]).tolist() == [1, 0, 1]
    np.testing.assert_allclose(scenario.rewards(api, "original", actions, None), [[0.5, 0.4, 0]])
    # agents 1 and 2 delegate; 1 is matched, so the Pareto Mediator leaves everyone as is
    both = np.array([[False, True, True]])
    np.testing.assert_allclose(scenario.rewards(api, "pareto", actions, both), [[0.5, 0.4, 0]])
    # Punishing: delegator 1 is matched with non-delegator 0: unmatched
    np.testing.assert_allclose(scenario.rewards(api, "punishing", actions, both), [[0, 0, 0]])

    inst = random_restaurant_instance(5, 2, max_capacity=1, alpha=2.0, seed=0)
    rest = RestaurantScenario(inst)
    choices = np.array([[0, 0, 0, 1, 1]])
    true = inst.true_utilities
    expected = [
        true[i, c] * min(1.0, inst.capacities[c] / (choices[0] == c).sum())
        for i, c in enumerate(choices[0])
    ]
    np.testing.assert_allclose(rest.rewards(api, "original", choices, None), [expected])
    planner = rest.fixed_rewards(api, "central_planner")
    assert planner is not None and planner.shape == (5,)
    assert rest.fixed_rewards(api, "pareto") is None


def test_warm_start_offers_delegation_only_from_its_round() -> None:
    scenario = NormalFormScenario(seed000_prisoners_dilemma())
    with open_backend("in-process") as api:
        tr = play(scenario, "pareto", LearnerSpec(), backend=api, rounds=60, populations=16,
                  warm_start=30)  # fmt: skip
    assert tr.share_delegating[:29].max() == 0.0
    assert tr.share_delegating[29:].max() > 0.0


def test_bad_arms_are_refused() -> None:
    scenario = NormalFormScenario(random_game([2, 2], seed=0))
    with pytest.raises(MechsolveInputError, match="`arm` must be one of"):
        scenario.rewards(LocalMechsolve(), "anarchy", np.zeros((1, 2), int), np.zeros((1, 2), bool))


# --- the seed's orderings ---------------------------------------------------------------------
def _by(traces) -> dict:
    return {(r.setting, r.arm): r for r in summarize(traces)}


def test_figure3_orderings_hold_when_agents_start_undelegated() -> None:
    """3+ players: Pareto > original > Punishing, and fewer agents delegate to Punishing than
    to Pareto (8 games x 32 populations x 3 seeds per size)."""
    exp = RandomNormalForm(sizes=((3, 5), (4, 5)), games=8)
    config = RunConfig(rounds=300, populations=32, learner=REGIMES["undelegated-start"],
                       progress=False)  # fmt: skip
    by = _by(run(exp, config, [0, 1, 2]))
    for size in ("3x5", "4x5"):
        pareto, original, punishing = (by[(size, a)] for a in ("pareto", "original", "punishing"))
        assert pareto.mean_reward > original.mean_reward > punishing.mean_reward, size
        assert punishing.share_delegating < pareto.share_delegating, size


def test_with_the_papers_literal_learners_punishing_beats_the_original_game() -> None:
    """The seed's literal description (epsilon 1/t from round 1, random ties) puts most agents
    into delegating to the Punishing Mediator: the regime does not reproduce Figure 3."""
    exp = RandomNormalForm(sizes=((3, 5),), games=4)
    config = RunConfig(rounds=300, populations=16, learner=REGIMES["paper"], progress=False)
    by = _by(run(exp, config, [0, 1]))
    assert by[("3x5", "punishing")].mean_reward > by[("3x5", "original")].mean_reward
    assert by[("3x5", "punishing")].share_delegating > 0.7


def test_figure4_pareto_leads_and_its_lead_grows_with_the_number_of_agents() -> None:
    config = RunConfig(rounds=200, populations=2, progress=False)
    by = _by(run(Matching(agents=(6, 12, 24)), config, [0, 1, 2]))
    over_original, over_punishing = [], []
    for n in (6, 12, 24):
        pareto, original, punishing = (
            by[(f"n={n}", a)] for a in ("pareto", "original", "punishing")
        )
        assert pareto.total_reward > original.total_reward
        assert pareto.total_reward > punishing.total_reward
        over_original.append(pareto.total_reward / original.total_reward)
        over_punishing.append(pareto.total_reward / punishing.total_reward)
    assert over_original == sorted(over_original), over_original
    assert over_punishing == sorted(over_punishing), over_punishing


def test_figure5_restaurant_pareto_against_the_central_planner() -> None:
    """alpha = 0: Pareto within a few percent of the planner and above Punishing; alpha = 2:
    Pareto's true welfare above the planner's (who sees only the known utilities)."""
    exp = Restaurant(agents=150, restaurants=50)
    config = RunConfig(rounds=150, populations=2, progress=False)
    by = _by(run(exp, config, [0, 1]))
    zero = {a: by[("alpha=0", a)].total_reward for a in ("pareto", "punishing", "central_planner")}
    two = {a: by[("alpha=2", a)].total_reward for a in ("pareto", "original", "central_planner")}
    assert zero["pareto"] > 0.95 * zero["central_planner"]
    assert zero["pareto"] > zero["punishing"]
    assert two["pareto"] > two["central_planner"]
    assert two["pareto"] > two["original"]


# --- one seed, the same numbers everywhere ----------------------------------------------------
def _same(a, b) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert (x.setting, x.instance, x.arm, x.seed) == (y.setting, y.instance, y.arm, y.seed)
        for m in ("total_reward", "min_reward", "share_delegating"):
            np.testing.assert_array_equal(getattr(x, m), getattr(y, m))


def test_a_seed_gives_the_same_numbers_in_process_over_grpc_and_over_a_stream() -> None:
    exp = RandomNormalForm(sizes=((3, 3),), games=2)
    base = RunConfig(rounds=30, populations=4, progress=False)
    local = run(exp, base, [5])
    _same(local, run(exp, replace(base, backend="grpc"), [5]))
    _same(local, run(exp, replace(base, backend="stream"), [5]))
    rest = Restaurant(agents=12, restaurants=5, alphas=(2.0,))
    small = replace(base, rounds=10, populations=1)
    _same(run(rest, small, [1]), run(rest, replace(small, backend="grpc"), [1]))


def test_seeds_in_parallel_processes_give_the_sequential_numbers(tmp_path: Path) -> None:
    exp = Matching(agents=(5,))
    config = RunConfig(rounds=20, populations=2, progress=False)
    sequential = run(exp, config, [0, 1, 2])
    parallel = run(exp, replace(config, processes=2), [0, 1, 2])
    _same(sequential, parallel)
    _same(sequential, read_parquet(write_parquet(sequential, tmp_path / "rounds.parquet")))


def test_simulate_command_writes_parquet_plots_and_a_summary(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "mechsolve", "simulate", "matching", "--agents", "4", "6",
         "--rounds", "15", "--seeds", "2", "--populations", "1", "--processes", "1",
         "--regime", "undelegated-start", "--epsilon", "c/t", "--epsilon-c", "3",
         "--out", str(tmp_path), "--no-progress"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    for name in ("rounds.parquet", "summary.md", "run.json", "rounds.png", "relative.png"):
        assert (tmp_path / name).stat().st_size > 0, name
    traces = read_parquet(tmp_path / "rounds.parquet")
    assert {t.arm for t in traces} == {"original", "pareto", "punishing"}
    assert {t.setting for t in traces} == {"n=4", "n=6"} and {t.seed for t in traces} == {0, 1}
    summary = (tmp_path / "summary.md").read_text()
    assert "epsilon 3/t from t0=100" in summary and "first ties" in summary
    bad = subprocess.run(
        [sys.executable, "-m", "mechsolve", "simulate", "random-normal-form", "--sizes", "3by5"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert bad.returncode == 2 and "`--sizes` must be PLAYERSxACTIONS" in bad.stderr
