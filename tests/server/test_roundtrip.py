"""Every RPC over a real socket returns what the in-process call returns, for every method and
welfare function."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from mechsolve.client import AsyncMechsolveClient, LocalMechsolve, MechsolveClient
from mechsolve.server.app import RunningServer
from mechsolve.solver.games.nfg import dumps_nfg
from mechsolve.solver.games.normal_form import (
    NormalFormGame,
    random_game,
    seed000_prisoners_dilemma,
)
from mechsolve.solver.games.welfare import WELFARE_NAMES, Welfare, WelfareKind

LOCAL = LocalMechsolve()
GAME = random_game([3, 4, 3], seed=11)
ACTIONS, DELEGATE = [1, 2, 0], [1, 1, 0]


def assert_same_mediator_result(remote, local) -> None:
    assert remote.mediator == local.mediator
    np.testing.assert_array_equal(remote.actions_before, local.actions_before)
    np.testing.assert_array_equal(remote.delegate, local.delegate)
    np.testing.assert_array_equal(remote.actions_after, local.actions_after)
    np.testing.assert_array_equal(remote.utilities_before, local.utilities_before)
    np.testing.assert_array_equal(remote.utilities_after, local.utilities_after)
    np.testing.assert_array_equal(remote.beneficiaries, local.beneficiaries)
    np.testing.assert_equal(remote.welfare_before, local.welfare_before)
    np.testing.assert_equal(remote.welfare_after, local.welfare_after)
    assert remote.welfare_function == local.welfare_function
    assert remote.termination == local.termination
    np.testing.assert_equal(remote.objective, local.objective)
    assert (remote.method, remote.backend) == (local.method, local.backend)
    assert remote.wall_time_s > 0


@pytest.mark.parametrize("welfare", WELFARE_NAMES)
@pytest.mark.parametrize("method", ["enumeration", "milp", "pyomo"])
@pytest.mark.parametrize("mediator", ["pareto", "punishing", "central_planner"])
def test_mediate_matches_in_process(
    client: MechsolveClient, mediator: str, method: str, welfare: str
) -> None:
    remote = client.mediate(
        GAME, ACTIONS, DELEGATE, mediator=mediator, welfare=welfare, method=method
    )
    local = LOCAL.mediate(
        GAME, ACTIONS, DELEGATE, mediator=mediator, welfare=welfare, method=method
    )
    assert_same_mediator_result(remote, local)


def test_welfare_parameters_cross_the_wire(client: MechsolveClient) -> None:
    for w in (
        Welfare(WelfareKind.UTILITARIAN, weights=(2.0, 0.5, 1.0)),
        Welfare(WelfareKind.INEQUITY_AVERSE, disagreement=(0.1, 0.2, 0.0), beta=3.0),
        Welfare(WelfareKind.KALAI_SMORODINSKY, disagreement=(0.1, 0.1, 0.1)),
    ):
        assert_same_mediator_result(
            client.pareto_mediator(GAME, ACTIONS, [1, 1, 1], welfare=w),
            LOCAL.pareto_mediator(GAME, ACTIONS, [1, 1, 1], welfare=w),
        )


@pytest.mark.parametrize("welfare", WELFARE_NAMES)
@pytest.mark.parametrize("mediator", ["pareto", "punishing", "central_planner"])
def test_batch_matches_in_process(client: MechsolveClient, mediator: str, welfare: str) -> None:
    rng = np.random.default_rng(5)
    acts = np.stack([rng.integers(0, k, 200) for k in GAME.num_actions], axis=1)
    dele = rng.random((200, 3)) < 0.6
    remote = client.mediate_batch(GAME, acts, dele, mediator=mediator, welfare=welfare)
    local = LOCAL.mediate_batch(GAME, acts, dele, mediator=mediator, welfare=welfare)
    for name in (
        "actions_before",
        "delegate",
        "actions_after",
        "utilities_before",
        "utilities_after",
        "beneficiaries",
        "welfare_before",
        "welfare_after",
        "objectives",
        "optimal",
    ):
        np.testing.assert_array_equal(getattr(remote, name), getattr(local, name), err_msg=name)
    assert remote.termination == local.termination


def test_stream_of_batches(client: MechsolveClient) -> None:
    rng = np.random.default_rng(6)
    batches = [
        (
            np.stack([rng.integers(0, k, 20) for k in GAME.num_actions], axis=1),
            rng.random((20, 3)) < 0.5,
        )
        for _ in range(5)
    ]
    results = list(client.stream_mediate_batch(GAME, batches, mediator="pareto"))
    assert len(results) == 5
    for (acts, dele), res in zip(batches, results, strict=True):
        np.testing.assert_array_equal(
            res.actions_after, LOCAL.mediate_batch(GAME, acts, dele).actions_after
        )


@pytest.mark.parametrize("welfare", WELFARE_NAMES)
def test_lottery_matches_in_process(client: MechsolveClient, welfare: str) -> None:
    remote = client.lottery_pareto_mediator(GAME, ACTIONS, [1, 1, 1], welfare=welfare, seed=3)
    local = LOCAL.lottery_pareto_mediator(GAME, ACTIONS, [1, 1, 1], welfare=welfare, seed=3)
    np.testing.assert_array_equal(remote.support, local.support)
    np.testing.assert_allclose(remote.probabilities, local.probabilities, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(remote.sampled_actions, local.sampled_actions)
    np.testing.assert_allclose(remote.welfare_after, local.welfare_after, rtol=1e-9)
    assert remote.seed == local.seed == 3


@pytest.mark.parametrize("mediator", ["pareto", "punishing"])
def test_mediated_game_and_analysis(client: MechsolveClient, mediator: str) -> None:
    g = seed000_prisoners_dilemma()
    remote = client.mediated_game(g, mediator)
    local = LOCAL.mediated_game(g, mediator)
    assert remote.game == local.game
    np.testing.assert_array_equal(remote.outcomes, local.outcomes)
    assert client.summarize_mediation(g, mediator) == LOCAL.summarize_mediation(g, mediator)


def test_equilibria_strong_nash_and_nfg(client: MechsolveClient) -> None:
    g = seed000_prisoners_dilemma()
    np.testing.assert_array_equal(client.pure_nash_equilibria(g), LOCAL.pure_nash_equilibria(g))
    remote, local = client.strong_nash(g, [1, 1]), LOCAL.strong_nash(g, [1, 1])
    assert (remote.is_strong, remote.coalition) == (local.is_strong, local.coalition)
    np.testing.assert_array_equal(remote.deviation, local.deviation)
    text = dumps_nfg(g)
    assert client.loads_nfg(text) == g
    assert client.dumps_nfg(g) == text


def test_raw_payoff_arrays_are_accepted(client: MechsolveClient) -> None:
    p = np.random.default_rng(0).random((2, 3, 3))
    assert (
        client.pareto_mediator(p, [0, 1], [1, 1]).welfare_after
        == LOCAL.pareto_mediator(p, [0, 1], [1, 1]).welfare_after
    )
    assert isinstance(client.loads_nfg(dumps_nfg(p)), NormalFormGame)


def test_async_client_matches(server: RunningServer) -> None:
    async def go() -> None:
        async with AsyncMechsolveClient(server.address) as c:
            assert await c.health() == "SERVING"
            results = await asyncio.gather(
                *[c.pareto_mediator(GAME, ACTIONS, [1, 1, d]) for d in (0, 1)],
                c.mediate_batch(
                    GAME, [ACTIONS, ACTIONS], [[1, 1, 1], [0, 1, 1]], mediator="punishing"
                ),
            )
            for d, res in zip((0, 1), results[:2], strict=True):
                assert_same_mediator_result(res, LOCAL.pareto_mediator(GAME, ACTIONS, [1, 1, d]))
            np.testing.assert_array_equal(
                results[2].actions_after,
                LOCAL.mediate_batch(
                    GAME, [ACTIONS, ACTIONS], [[1, 1, 1], [0, 1, 1]], mediator="punishing"
                ).actions_after,
            )
            streamed = [
                b async for b in c.stream_mediate_batch(GAME, [([ACTIONS], [[1, 1, 1]])] * 3)
            ]
            assert len(streamed) == 3

    asyncio.run(go())


def test_an_unset_seed_is_fresh_entropy_on_both_sides_and_recorded(client: MechsolveClient) -> None:
    """No seed: remote and in-process draw fresh entropy alike and the result says which seed
    it used, so the draw can be replayed (the defaults of the service and the solver agree)."""
    seeds = set()
    for api in (client, LOCAL):
        for _ in range(2):
            res = api.lottery_pareto_mediator(GAME, ACTIONS, [1, 1, 1], welfare="egalitarian")
            seeds.add(res.seed)
            replay = LOCAL.lottery_pareto_mediator(
                GAME, ACTIONS, [1, 1, 1], welfare="egalitarian", seed=res.seed
            )
            np.testing.assert_array_equal(replay.sampled_actions, res.sampled_actions)
    assert len(seeds) == 4  # fresh each time (a 63-bit draw)
