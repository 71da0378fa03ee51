"""The epsilon-greedy agents, the simulation loop, and ``mechsolve demo`` end to end (a real
server started by the command, real gRPC calls, a real PNG)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mechsolve.client.local import LocalMechsolve
from mechsolve.client.sim.agents import EpsilonGreedy
from mechsolve.client.sim.simulation import simulate
from mechsolve.solver.core.errors import MechsolveInputError
from mechsolve.solver.games.normal_form import random_game, seed000_prisoners_dilemma


def test_epsilon_is_one_over_t() -> None:
    agents = EpsilonGreedy(populations=4000, n_agents=1, n_arms=2, seed=0)
    agents.sums[:, :, 0] = 1.0  # arm 0 is known to be best
    agents.counts[:, :, :] = 1
    agents.t = 9  # next round is t = 10: explore with probability 1/10, half of it on arm 1
    arms = agents.act()
    assert abs((arms == 1).mean() - 0.05) < 0.015


def test_agents_learn_the_best_arm() -> None:
    agents = EpsilonGreedy(populations=50, n_agents=2, n_arms=3, seed=1)
    means = np.array([0.2, 0.8, 0.5])
    rng = np.random.default_rng(2)
    for _ in range(400):
        arms = agents.act()
        agents.update(arms, means[arms] + rng.normal(0, 0.05, arms.shape))
    assert (agents.values.argmax(axis=2) == 1).mean() > 0.8


def test_simulation_pays_the_mediated_outcome() -> None:
    pd = seed000_prisoners_dilemma()
    tr = simulate(LocalMechsolve(), pd, "pareto", rounds=200, populations=16, seed=0)
    assert tr.mean_reward.shape == (200,)
    assert tr.share_delegating.min() >= 0 and tr.share_delegating.max() <= 1
    # in the PD, delegating to the Pareto Mediator weakly dominates: agents end up delegating
    assert tr.share_delegating[-50:].mean() > 0.5
    orig = simulate(LocalMechsolve(), pd, "original", rounds=200, populations=16, seed=0)
    assert tr.mean_reward[-50:].mean() > orig.mean_reward[-50:].mean()
    assert orig.share_delegating.max() == 0


def test_simulation_rejects_bad_arms() -> None:
    with pytest.raises(MechsolveInputError, match="`arm` must be one of"):
        simulate(LocalMechsolve(), random_game([2, 2], seed=0), "anarchy", rounds=1, populations=1)


def test_demo_command_end_to_end(tmp_path: Path) -> None:
    plot, table = tmp_path / "demo.png", tmp_path / "table.json"
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "mechsolve",
            "demo",
            "--rounds",
            "80",
            "--games",
            "3",
            "--populations",
            "16",
            "--no-progress",
            "--plot",
            str(plot),
            "--json",
            str(table),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout
    assert "server 127.0.0.1:" in out  # it served over a loopback socket
    assert "mean reward" in out and "pareto" in out and "punishing" in out
    rows = {r["arm"]: r for r in json.loads(table.read_text())}
    assert rows["pareto"]["mean_reward"] >= rows["original"]["mean_reward"]
    assert rows["original"]["share_delegating"] == 0.0
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"plot: {plot}" in out
