"""The r-MDP demonstration (seed 004, a budget of policies): a short run writes its files, the
exact selection's welfare never falls with k and is never below the heuristic's."""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from mechsolve.cli import simulate_policy_budget
from mechsolve.client.sim import rmdp
from mechsolve.solver.core.errors import MechsolveInputError

SMALL = ["--users", "12", "--candidates", "30", "--budgets", "1", "2", "4", "30", "--seeds", "2",
         "--learner-steps", "2", "--em-rounds", "2", "--em-steps", "1"]  # fmt: skip


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    simulate_policy_budget.add_parser(parser.add_subparsers())
    args = parser.parse_args(["policy-budget", *argv])
    return int(args.func(args))


def test_short_run_writes_its_files(tmp_path: Path) -> None:
    assert _run([*SMALL, "--out", str(tmp_path), "--no-progress"]) == 0
    assert (tmp_path / "summary.md").read_text().startswith("# r-MDP")
    assert (tmp_path / "welfare_vs_k.png").stat().st_size > 1000
    record = json.loads((tmp_path / "policy_budget.json").read_text())
    rows = record["summary"]
    assert [r["budget"] for r in rows] == [1, 2, 4, 30]
    exact = [r["exact"] for r in rows]
    assert all(a <= b + 1e-9 for a, b in itertools.pairwise(exact))
    for seed in record["seeds"]:
        per_k = [b["exact_welfare"] for b in seed["budgets"]]
        assert all(a <= b + 1e-9 for a, b in itertools.pairwise(per_k))
        for b in seed["budgets"]:
            assert b["exact_termination"] == "optimal"
            assert b["exact_welfare"] >= b["alternating_welfare"] - 1e-9
            assert b["exact_bound"] >= b["exact_welfare"] - 1e-9
            assert b["exact_welfare"] <= seed["pool_best_per_user"] + 1e-9
        # budget >= candidates: every user's best pool policy
        assert seed["budgets"][-1]["exact_welfare"] == pytest.approx(seed["pool_best_per_user"])


def test_no_plot_skips_the_png(tmp_path: Path) -> None:
    argv = ["--users", "5", "--candidates", "6", "--budgets", "2", "--seeds", "1",
            "--learner-steps", "1", "--em-rounds", "1", "--em-steps", "1"]  # fmt: skip
    assert _run([*argv, "--out", str(tmp_path), "--no-plot", "--no-progress"]) == 0
    assert not (tmp_path / "welfare_vs_k.png").exists()
    assert (tmp_path / "summary.md").exists()


def test_values_match_a_direct_rollout() -> None:
    """V[u, p] from the vectorized code equals a plain loop over one rollout's steps."""
    cfg = rmdp.RMDPConfig(horizon=7, rollouts=1, noise=0.1)
    thetas = np.array([[0.8, -0.5], [0.1, 0.0]])
    xi = np.random.default_rng(0).standard_normal((1, 7))
    targets = np.array([0.3, 1.5])
    got = rmdp.user_values(rmdp.velocities(cfg, thetas, xi), targets)
    for p, (b, g) in enumerate(thetas):
        vel, rewards = 0.0, {0: 0.0, 1: 0.0}
        for t in range(7):
            a = min(1.0, max(-1.0, b + g * vel))
            vel = vel + cfg.dt * (a - cfg.drag * vel) + cfg.noise * xi[0, t]
            for u in (0, 1):
                rewards[u] += -abs(vel - targets[u]) / 7
        for u in (0, 1):
            assert got[u, p] == pytest.approx(rewards[u])


def test_random_search_improves_a_policy_for_its_target() -> None:
    cfg = rmdp.RMDPConfig(rollouts=4)
    rng = np.random.default_rng(1)
    targets = np.full(16, 1.0)
    start = np.zeros((16, 2))
    trained = rmdp.random_search(cfg, start, rmdp._own_target_objective(cfg, targets), 15, rng)
    before = rmdp.evaluate(cfg, start, np.array([1.0]), np.random.default_rng(2)).mean()
    after = rmdp.evaluate(cfg, trained, np.array([1.0]), np.random.default_rng(2)).mean()
    assert after > before


def test_bad_config_names_the_field() -> None:
    with pytest.raises(MechsolveInputError) as err:
        rmdp.RMDPConfig(users=0).validated()
    assert err.value.argument == "users"
    with pytest.raises(MechsolveInputError) as err:
        rmdp.RMDPConfig(budgets=(2, 0)).validated()
    assert err.value.argument == "budgets"
