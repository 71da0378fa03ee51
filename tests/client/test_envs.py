"""The PettingZoo environments of the mediated games (mechsolve.client.sim.envs): PettingZoo's
own API and seed tests, rewards checked against the payoff tables and the solver's mediators
called directly, one backend call per round, the same episode through a real gRPC server (unary
and streamed), and argument validation."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from gymnasium import spaces
from pettingzoo.test import api_test, parallel_api_test, parallel_seed_test
from pettingzoo.utils.conversions import parallel_to_aec

from mechsolve.client import LocalMechsolve, MechsolveClient
from mechsolve.client.sim.backends import StreamingBackend
from mechsolve.client.sim.envs import MatchingEnv, MediatedEnv, NormalFormEnv, RestaurantEnv
from mechsolve.client.sim.scenarios import NormalFormScenario, RestaurantScenario
from mechsolve.server.app import RunningServer, build_server
from mechsolve.server.config import ServerConfig
from mechsolve.solver.core.errors import MechsolveError, MechsolveInputError
from mechsolve.solver.games.normal_form import (
    NormalFormGame,
    random_game,
    seed000_prisoners_dilemma,
)
from mechsolve.solver.mediators import pareto_mediator, punishing_mediator
from mechsolve.solver.structured.matching import mediate_matching, random_matching_instance
from mechsolve.solver.structured.restaurant import mediate_restaurant, random_restaurant_instance

ARMS = ("original", "pareto", "punishing")
GAME = random_game([3, 3, 3], seed=11)
MATCHING = random_matching_instance(6, seed=12)
RESTAURANT = random_restaurant_instance(8, 4, max_capacity=3, alpha=2.0, seed=13)


def make_env(kind: str, arm: str, **kwargs: Any) -> MediatedEnv:
    if kind == "normal_form":
        return NormalFormEnv(GAME, arm, **kwargs)
    if kind == "matching":
        return MatchingEnv(MATCHING, arm, **kwargs)
    return RestaurantEnv(RESTAURANT, arm, **kwargs)


KINDS = ("normal_form", "matching", "restaurant")
SHAPES = {"normal_form": (3, 3), "matching": (6, 5), "restaurant": (8, 4)}  # (n, k)


def random_arms(env: MediatedEnv, rng: np.random.Generator) -> dict[str, int]:
    size = int(env.action_space(env.possible_agents[0]).n)
    return {a: int(rng.integers(size)) for a in env.agents}


# --------------------------------------------------------------------------------------------
# PettingZoo's own tests
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("arm", ARMS)
@pytest.mark.parametrize("kind", KINDS)
def test_parallel_api_test(kind: str, arm: str) -> None:
    env = make_env(kind, arm, max_rounds=5)  # 12 cycles: truncation and a second episode
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the API test reports most problems as warnings
        parallel_api_test(env, num_cycles=12)
    env.close()


@pytest.mark.parametrize("arm", ARMS)
@pytest.mark.parametrize("kind", KINDS)
def test_parallel_seed_test(kind: str, arm: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parallel_seed_test(lambda: make_env(kind, arm, max_rounds=4), num_cycles=4)


@pytest.mark.parametrize("kind", KINDS)
def test_aec_api_test_through_parallel_to_aec(kind: str) -> None:
    env = parallel_to_aec(make_env(kind, "pareto", max_rounds=3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # advice only: the observation is a Dict of the previous round, by design
        warnings.filterwarnings("ignore", "Observation is not a NumPy array")
        warnings.filterwarnings("ignore", "Observation space for each agent probably should")
        api_test(env, num_cycles=8)


def test_reset_seed_replays_the_sampled_actions() -> None:
    def episode(seed: int) -> list[dict[str, Any]]:
        env = make_env("normal_form", "pareto", max_rounds=4)
        env.reset(seed=seed)
        out = []
        while env.agents:
            actions = {a: env.action_space(a).sample() for a in env.agents}
            out.append(actions)
            env.step(actions)
        return out

    assert episode(3) == episode(3)
    assert episode(3) != episode(4)


# --------------------------------------------------------------------------------------------
# Spaces, observations, episodes
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("arm", ARMS)
@pytest.mark.parametrize("kind", KINDS)
def test_spaces_and_the_first_observation(kind: str, arm: str) -> None:
    n, k = SHAPES[kind]
    env = make_env(kind, arm)
    assert env.possible_agents == [f"player_{i}" for i in range(n)]
    assert env.agents == []
    for agent in env.possible_agents:
        space = env.action_space(agent)
        assert space is env.action_space(agent)
        assert env.observation_space(agent) is env.observation_space(agent)
        assert isinstance(space, spaces.Discrete)
        assert int(space.n) == (k if arm == "original" else 2 * k)
        assert env.observation_space(agent) == env.observation_space("player_0")  # homogeneous
    obs, infos = env.reset(seed=0)
    assert env.agents == env.possible_agents
    for agent in env.agents:
        o = obs[agent]
        assert env.observation_space(agent).contains(o)
        np.testing.assert_array_equal(o["actions"], np.full(n, k))  # nothing played yet
        np.testing.assert_array_equal(o["played"], np.full(n, k))
        np.testing.assert_array_equal(o["delegated"], np.zeros(n))
        assert o["reward"].tolist() == [0.0]
        assert infos[agent] == {"round": 0}


def test_observation_shows_the_last_round() -> None:
    env = NormalFormEnv(GAME, "pareto", max_rounds=3)
    env.reset(seed=0)
    arms = {"player_0": 0, "player_1": 3 + 2, "player_2": 3 + 1}  # 0; delegate 2; delegate 1
    obs, rewards, _, _, infos = env.step(arms)
    for i, agent in enumerate(env.agents):
        o = obs[agent]
        assert env.observation_space(agent).contains(o)
        assert o["actions"].tolist() == [0, 2, 1]
        assert o["delegated"].tolist() == [0, 1, 1]
        assert o["played"].tolist() == [infos[a]["mediated_action"] for a in env.agents]
        assert o["played"][0] == 0  # a non-delegator is never moved
        assert o["reward"][0] == np.float32(rewards[agent])
        assert infos[agent]["round"] == 1
        assert infos[agent]["action"] == [0, 2, 1][i]
        assert infos[agent]["delegated"] == (i > 0)
        assert infos[agent]["changed"] == (o["played"][i] != o["actions"][i])


def test_truncation_after_max_rounds_and_no_step_after_it() -> None:
    env = MatchingEnv(MATCHING, "pareto", max_rounds=3)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    for t in range(1, 4):
        _, _, terminations, truncations, infos = env.step(random_arms(env, rng))
        assert not any(terminations.values())
        assert all(v == (t == 3) for v in truncations.values())
        assert {i["round"] for i in infos.values()} == {t}
    assert env.agents == []
    with pytest.raises(MechsolveError, match="reset"):
        env.step({})
    env.reset()
    assert env.agents == env.possible_agents


def test_render_modes(capsys: pytest.CaptureFixture[str]) -> None:
    env = NormalFormEnv(GAME, "punishing", max_rounds=2, render_mode="ansi")
    env.reset()
    first = env.render()
    assert isinstance(first, str) and "nothing played yet" in first
    env.step(dict.fromkeys(env.agents, 4))
    text = env.render()
    assert isinstance(text, str) and "round 1/2" in text
    human = NormalFormEnv(GAME, "punishing", max_rounds=2, render_mode="human")
    human.reset()
    human.step(dict.fromkeys(human.agents, 4))
    assert "round 1/2" in capsys.readouterr().out
    silent = NormalFormEnv(GAME, "punishing")
    silent.reset()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert silent.render() is None


# --------------------------------------------------------------------------------------------
# Rewards: independent checks
# --------------------------------------------------------------------------------------------
def expected_original(kind: str, actions: np.ndarray) -> np.ndarray:
    """The original game's payoffs, straight from the payoff tables."""
    n = len(actions)
    if kind == "normal_form":
        return np.array([GAME.payoffs[(i, *actions.tolist())] for i in range(n)])
    if kind == "matching":
        partner = [int(a) if a < i else int(a) + 1 for i, a in enumerate(actions)]
        return np.array([MATCHING[i, p] if partner[p] == i else 0.0 for i, p in enumerate(partner)])
    true = RESTAURANT.known + RESTAURANT.alpha * RESTAURANT.private
    counts = np.bincount(actions, minlength=RESTAURANT.n_restaurants)
    return np.array(
        [true[i, r] * min(1.0, RESTAURANT.capacities[r] / counts[r]) for i, r in enumerate(actions)]
    )


def expected_mediated(
    kind: str, arm: str, actions: np.ndarray, delegate: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``(rewards, actions after mediation)`` from the solver's own functions."""
    if kind == "normal_form":
        solve = pareto_mediator if arm == "pareto" else punishing_mediator
        res = solve(GAME, actions, delegate)
        return res.utilities_after, res.actions_after
    if kind == "matching":
        partners = np.array([a if a < i else a + 1 for i, a in enumerate(actions)])
        m = mediate_matching(MATCHING, partners, delegate, mediator=arm)
        after = np.array([-1 if p < 0 else p - (p > i) for i, p in enumerate(m.actions_after)])
        return m.utilities_after, after
    r = mediate_restaurant(
        RESTAURANT.known, RESTAURANT.capacities, actions, delegate, mediator=arm,
        private=RESTAURANT.private, alpha=RESTAURANT.alpha, mediator_utility="known",
    )  # fmt: skip
    return r.true_utilities_after, r.actions_after


def profiles(kind: str, arm: str, count: int, seed: int) -> Iterator[tuple[np.ndarray, ...]]:
    """Random joint (actions, delegate), plus everyone delegating and nobody delegating."""
    n, k = SHAPES[kind]
    rng = np.random.default_rng(seed)
    for t in range(count):
        actions = rng.integers(k, size=n)
        if arm == "original" or t == 1:
            delegate = np.zeros(n, dtype=bool)
        elif t == 0:
            delegate = np.ones(n, dtype=bool)
        else:
            delegate = rng.random(n) < 0.6
        yield actions, delegate


@pytest.mark.parametrize("arm", ARMS)
@pytest.mark.parametrize("kind", KINDS)
def test_rewards_match_independent_computation(kind: str, arm: str) -> None:
    n, k = SHAPES[kind]
    env = make_env(kind, arm, max_rounds=50)
    env.reset(seed=0)
    for actions, delegate in profiles(kind, arm, 8, seed=5):
        arms = actions + k * delegate
        obs, rewards, _, _, infos = env.step({f"player_{i}": int(a) for i, a in enumerate(arms)})
        got = np.array([rewards[f"player_{i}"] for i in range(n)])
        if arm == "original":
            want, after = expected_original(kind, actions), actions
        else:
            want, after = expected_mediated(kind, arm, actions, delegate)
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
        played = [infos[f"player_{i}"]["mediated_action"] for i in range(n)]
        assert played == np.asarray(after).tolist()
        assert obs["player_0"]["played"].tolist() == [k if p < 0 else p for p in played]
        for i in range(n):  # a non-delegator always plays what it chose
            if not delegate[i]:
                assert played[i] == actions[i]


def test_rewards_equal_the_scenarios_own() -> None:
    scenario = RestaurantScenario(RESTAURANT)
    backend = LocalMechsolve()
    env = RestaurantEnv(RESTAURANT, "pareto", backend=backend, max_rounds=10)
    env.reset()
    for actions, delegate in profiles("restaurant", "pareto", 5, seed=8):
        arms = actions + 4 * delegate
        _, rewards, _, _, _ = env.step({f"player_{i}": int(a) for i, a in enumerate(arms)})
        want = scenario.rewards(backend, "pareto", actions[None], delegate[None])[0]
        assert [rewards[a] for a in env.possible_agents] == want.tolist()


def test_table1_prisoners_dilemma_with_the_pareto_mediator() -> None:
    """Seed 000 Table 1: (D, D) pays (1, 1); (D+, D+) is mediated to (C, C) and pays (2, 2)."""
    env = NormalFormEnv(seed000_prisoners_dilemma(), "pareto")
    env.reset()
    assert env.action_space("player_0").n == 4  # C, D, C+, D+
    _, rewards, _, _, _ = env.step({"player_0": 1, "player_1": 1})
    assert rewards == {"player_0": 1.0, "player_1": 1.0}
    _, rewards, _, _, infos = env.step({"player_0": 3, "player_1": 3})
    assert rewards == {"player_0": 2.0, "player_1": 2.0}
    assert [i["mediated_action"] for i in infos.values()] == [0, 0]
    _, rewards, _, _, _ = env.step({"player_0": 3, "player_1": 1})  # one delegator: unchanged
    assert rewards == {"player_0": 1.0, "player_1": 1.0}


class CountingBackend:
    """A LocalMechsolve that counts the mediator calls and the populations they carried."""

    def __init__(self) -> None:
        self.inner = LocalMechsolve()
        self.calls: list[tuple[str, tuple[int, ...]]] = []
        self.closed = False

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            shape = np.shape(args[2 if name == "mediate_restaurant" else 1])  # the actions
            self.calls.append((name, shape))
            return method(*args, **kwargs)

        return call

    def close(self) -> None:
        self.closed = True


@pytest.mark.parametrize("arm", ARMS)
@pytest.mark.parametrize("kind", KINDS)
def test_one_backend_call_per_round(kind: str, arm: str) -> None:
    n, _ = SHAPES[kind]
    backend = CountingBackend()
    env = make_env(kind, arm, backend=backend, max_rounds=4)
    env.reset(seed=1)
    rng = np.random.default_rng(1)
    for t in range(1, 5):
        env.step(random_arms(env, rng))
        if arm == "original":
            assert backend.calls == []
        else:
            assert len(backend.calls) == t
    method = {"normal_form": "mediate_batch"}.get(kind, f"mediate_{kind}")
    shape = (1, n) if kind == "normal_form" else (n,)  # a population of one
    assert all(c == (method, shape) for c in backend.calls)
    env.close()
    assert not backend.closed  # a backend passed in belongs to the caller


# --------------------------------------------------------------------------------------------
# The same episode through a real gRPC server
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def running() -> Iterator[RunningServer]:
    server = build_server(ServerConfig(port=0))
    yield server
    server.stop(grace=0.5)


def play(env: MediatedEnv, rounds: int, seed: int) -> list[tuple[Any, ...]]:
    rng = np.random.default_rng(seed)
    obs, _ = env.reset(seed=seed)
    trace: list[tuple[Any, ...]] = [(obs,)]
    for _ in range(rounds):
        trace.append(env.step(random_arms(env, rng)))
    return trace


def assert_same_trace(a: list[tuple[Any, ...]], b: list[tuple[Any, ...]]) -> None:
    assert len(a) == len(b)
    for step_a, step_b in zip(a, b, strict=True):
        obs_a, obs_b = step_a[0], step_b[0]
        assert obs_a.keys() == obs_b.keys()
        for agent in obs_a:
            for key in obs_a[agent]:
                np.testing.assert_array_equal(obs_a[agent][key], obs_b[agent][key])
        assert step_a[1:] == step_b[1:]  # rewards, terminations, truncations, infos


@pytest.mark.parametrize("arm", ["pareto", "punishing"])
@pytest.mark.parametrize("kind", KINDS)
def test_grpc_backend_gives_the_same_episode(running: RunningServer, kind: str, arm: str) -> None:
    local = play(make_env(kind, arm, max_rounds=6), 6, seed=21)
    with MechsolveClient(running.address, default_time_limit=30.0) as client:
        remote = play(make_env(kind, arm, backend=client, max_rounds=6), 6, seed=21)
    assert_same_trace(local, remote)


def test_streamed_backend_gives_the_same_episode(running: RunningServer) -> None:
    local = play(make_env("normal_form", "pareto", max_rounds=6), 6, seed=22)
    with MechsolveClient(running.address, default_time_limit=30.0) as client:
        backend = StreamingBackend(client)
        try:
            streamed = play(
                make_env("normal_form", "pareto", backend=backend, max_rounds=6), 6, seed=22
            )
        finally:
            backend.close()
    assert_same_trace(local, streamed)


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------
INVALID: list[tuple[str, Callable[[], Any], str]] = [
    ("arm unknown", lambda: NormalFormEnv(GAME, "bogus"), "arm"),
    ("arm central planner", lambda: RestaurantEnv(RESTAURANT, "central_planner"), "arm"),
    ("max_rounds zero", lambda: MatchingEnv(MATCHING, "pareto", max_rounds=0), "max_rounds"),
    ("max_rounds float", lambda: NormalFormEnv(GAME, max_rounds=2.5), "max_rounds"),
    ("backend", lambda: NormalFormEnv(GAME, "pareto", backend=object()), "backend"),
    ("render_mode", lambda: NormalFormEnv(GAME, render_mode="rgb_array"), "render_mode"),
    ("game type", lambda: NormalFormEnv(np.zeros((2, 2, 2))), "game"),
    ("game shape", lambda: NormalFormEnv(random_game([2, 3], seed=0)), "game"),
    ("matching not square", lambda: MatchingEnv(np.zeros((3, 4))), "rewards_matrix"),
    ("matching one agent", lambda: MatchingEnv(np.zeros((1, 1))), "rewards_matrix"),
    ("matching negative", lambda: MatchingEnv(-np.ones((3, 3))), "rewards_matrix[0][0]"),
    ("instance", lambda: RestaurantEnv(GAME), "instance"),
    ("scenario", lambda: MediatedEnv(GAME), "scenario"),
]


@pytest.mark.parametrize(
    ("make", "argument"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID]
)
def test_invalid_constructor_arguments(make: Callable[[], Any], argument: str) -> None:
    with pytest.raises(MechsolveInputError) as info:
        make()
    assert info.value.argument == argument
    assert f"`{argument}`" in str(info.value)


def test_original_arm_needs_no_mediator_methods() -> None:
    env = NormalFormEnv(GAME, "original", backend=object())
    env.reset()
    _, rewards, _, _, _ = env.step(dict.fromkeys(env.agents, 0))
    assert rewards["player_1"] == GAME.payoffs[1, 0, 0, 0]


def test_generic_env_wraps_a_scenario() -> None:
    game = NormalFormGame(np.arange(8, dtype=float).reshape(2, 2, 2))
    env = MediatedEnv(NormalFormScenario(game), "original", max_rounds=2)
    env.reset()
    _, rewards, _, _, _ = env.step({"player_0": 1, "player_1": 0})
    assert rewards == {"player_0": 2.0, "player_1": 6.0}


@pytest.mark.parametrize(
    ("actions", "argument"),
    [
        ({"player_0": 0, "player_1": 0}, "actions['player_2']"),
        ({"player_0": 0, "player_1": 0, "player_2": 6}, "actions['player_2']"),
        ({"player_0": -1, "player_1": 0, "player_2": 0}, "actions['player_0']"),
        ({"player_0": True, "player_1": 0, "player_2": 0}, "actions['player_0']"),
        ({"player_0": 0.0, "player_1": 0, "player_2": 0}, "actions['player_0']"),
        ({"player_0": 0, "player_1": 0, "player_2": 0, "player_9": 0}, "actions['player_9']"),
    ],
)
def test_invalid_step_actions(actions: dict[str, Any], argument: str) -> None:
    env = NormalFormEnv(GAME, "pareto")
    env.reset()
    with pytest.raises(MechsolveInputError) as info:
        env.step(actions)
    assert info.value.argument == argument
    _, rewards, _, _, _ = env.step(
        {"player_0": np.int64(5), "player_1": np.array(0), "player_2": 1}
    )  # numpy integers are fine
    assert len(rewards) == 3
