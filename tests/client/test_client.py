"""Client behaviour: retries on UNAVAILABLE only (the backoff sleeps recorded, not timed),
deadlines, validation before sending, streams that outlive the client's default deadline with
each round built from the previous answer, and the in-process client's transport methods."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from typing import Any

import grpc
import numpy as np
import pytest

from mechsolve.client import (
    AsyncMechsolveClient,
    LocalMechsolve,
    MechsolveClient,
    MechsolveRpcError,
    RemoteInputError,
    RetryPolicy,
    grpc_client,
)
from mechsolve.server.app import RunningServer, build_server, free_port
from mechsolve.server.config import ServerConfig
from mechsolve.solver.core.errors import MechsolveInputError
from mechsolve.solver.core.results import Limit, TerminationReason
from mechsolve.solver.games.normal_form import random_game, seed000_prisoners_dilemma

PD = seed000_prisoners_dilemma()
GAME = random_game([3, 3, 3], seed=4)


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The client's backoff sleeps, recorded instead of slept (retry tests need no clock)."""
    recorded: list[float] = []
    monkeypatch.setattr(grpc_client.time, "sleep", recorded.append)
    return recorded


def test_retries_unavailable_until_the_server_comes_up() -> None:
    port = free_port()
    holder: dict[str, Any] = {}
    up = threading.Event()

    def start_later() -> None:
        time.sleep(0.6)
        holder["server"] = build_server(ServerConfig(port=port))
        up.set()

    th = threading.Thread(target=start_later)
    th.start()
    policy = RetryPolicy(max_attempts=60, initial_backoff=0.05, max_backoff=0.2, seed=1)
    try:
        with MechsolveClient(f"127.0.0.1:{port}", retry=policy, default_time_limit=30) as c:
            assert c.pareto_mediator(PD, [1, 1], [1, 1]).welfare_after == 4.0
            assert up.is_set()  # it was answered by the server that came up later
    finally:
        th.join()
        holder["server"].stop(0)


def test_gives_up_after_max_attempts_with_the_policys_backoff(sleeps: list[float]) -> None:
    policy = RetryPolicy(max_attempts=4, initial_backoff=0.05, max_backoff=0.1, seed=1)
    with MechsolveClient(f"127.0.0.1:{free_port()}", retry=policy, default_time_limit=60) as c:
        with pytest.raises(MechsolveRpcError, match="UNAVAILABLE"):
            c.health()
    assert sleeps == list(
        RetryPolicy(max_attempts=4, initial_backoff=0.05, max_backoff=0.1, seed=1).delays()
    )


def test_other_errors_are_not_retried(server: RunningServer, sleeps: list[float]) -> None:
    policy = RetryPolicy(max_attempts=5, initial_backoff=1.0, max_backoff=1.0)
    with MechsolveClient(server.address, retry=policy) as c:
        with pytest.raises(RemoteInputError):
            c.pareto_mediator(PD, [1, 3], [1, 1])
    assert sleeps == []  # no backoff: the answer was INVALID_ARGUMENT


def test_retry_delays_follow_the_policy() -> None:
    delays = list(
        RetryPolicy(
            max_attempts=6, initial_backoff=0.1, max_backoff=0.5, multiplier=2, seed=3
        ).delays()
    )
    assert len(delays) == 5
    caps = [0.1, 0.2, 0.4, 0.5, 0.5]
    assert all(c / 2 <= d <= c for d, c in zip(delays, caps, strict=True))
    with pytest.raises(MechsolveInputError, match="`max_attempts` must be >= 1"):
        RetryPolicy(max_attempts=0)


def test_default_time_limit_is_the_deadline(server: RunningServer) -> None:
    rng = np.random.default_rng(0)
    acts = rng.integers(0, 8, (4000, 3))
    game = np.random.default_rng(1).random((3, 8, 8, 8))
    with MechsolveClient(server.address, default_time_limit=1.0) as c:  # no time_limit: the default
        try:
            res = c.mediate_batch(game, acts, np.ones_like(acts, bool), method="milp")
        except MechsolveRpcError as exc:  # the answer came back after the deadline
            assert exc.code == grpc.StatusCode.DEADLINE_EXCEEDED
        else:  # the server's solver was stopped by the deadline's time limit
            assert res.termination.reason is TerminationReason.FEASIBLE
            assert res.termination.limit is Limit.TIME


def test_client_validates_before_sending() -> None:
    with MechsolveClient(f"127.0.0.1:{free_port()}") as c:
        with pytest.raises(
            MechsolveInputError, match=r"pareto_mediator\(\): `delegate\[1\]` must be a boolean"
        ):
            c.pareto_mediator(PD, [1, 1], [1, 2])
        with pytest.raises(
            MechsolveInputError,
            match=r"pareto_mediator\(\): `actions\[0\]` must be an integer; got 0.5",
        ):
            c.pareto_mediator(PD, [0.5, 1], [1, 1])
        with pytest.raises(MechsolveInputError, match=r"`welfare` must be one of"):
            c.pareto_mediator(PD, [0, 1], [1, 1], welfare="bogus")
        with pytest.raises(MechsolveInputError, match=r"`mediator` must be one of 'pareto'"):
            c.mediate(PD, [0, 1], [1, 1], mediator="nobody")
        with pytest.raises(MechsolveInputError, match=r"`time_limit` must be > 0\.0; got 0"):
            c.mediate(PD, [0, 1], [1, 1], time_limit=0)
        with pytest.raises(TypeError, match="unexpected keyword argument 'timeout'"):
            c.mediate(PD, [0, 1], [1, 1], timeout=3)  # type: ignore[call-arg]


def test_local_client_has_the_transport_methods() -> None:
    with LocalMechsolve() as local:
        assert local.health() == "SERVING"
        batches = [([[1, 1]], [[1, 1]]), ([[0, 1]], [[1, 0]])]
        results = list(local.stream_mediate_batch(PD, batches))
        assert [r.actions_after.tolist() for r in results] == [[[0, 0]], [[0, 1]]]


def _next_round(res: Any) -> tuple[np.ndarray, np.ndarray]:
    """Round t+1 from round t's answer: everyone best-responds... to a deterministic rule of
    the previous mediated outcome (any function of the answer would do)."""
    actions = (np.asarray(res.actions_after) + 1) % 3
    delegate = np.asarray(res.actions_after) % 2 == 0
    return actions, delegate


def test_a_stream_outlives_the_default_deadline_each_round_from_the_last(
    server: RunningServer,
) -> None:
    local = LocalMechsolve()
    rounds, pause = 30, 0.05  # 30 rounds with pauses: longer than the 1 s default deadline
    answers: list[Any] = []

    def batches() -> Any:
        actions, delegate = np.zeros((4, 3), np.int64), np.ones((4, 3), bool)
        for _ in range(rounds):
            yield actions, delegate
            time.sleep(pause)  # the simulation's own work between rounds
            actions, delegate = _next_round(answers[-1])  # needs the previous answer: lazy pull

    with MechsolveClient(server.address, default_time_limit=1.0) as client:
        t0 = time.monotonic()
        for res in client.stream_mediate_batch(GAME, batches(), mediator="pareto"):
            answers.append(res)
        assert time.monotonic() - t0 > 1.0  # the stream lived longer than one deadline
    assert len(answers) == rounds
    expected = list(
        local.stream_mediate_batch(GAME, [(a.actions_before, a.delegate) for a in answers])
    )
    for got, want in zip(answers, expected, strict=True):
        np.testing.assert_array_equal(got.actions_after, want.actions_after)
    for prev, cur in itertools.pairwise(answers):
        np.testing.assert_array_equal(cur.actions_before, _next_round(prev)[0])


def test_async_stream_pulls_lazily_and_outlives_the_default_deadline(server: RunningServer) -> None:
    answers: list[Any] = []

    async def batches() -> Any:
        actions, delegate = np.zeros((2, 3), np.int64), np.ones((2, 3), bool)
        for _ in range(25):
            yield actions, delegate
            await asyncio.sleep(0.05)
            actions, delegate = _next_round(answers[-1])

    async def go() -> None:
        async with AsyncMechsolveClient(server.address, default_time_limit=1.0) as client:
            async for res in client.stream_mediate_batch(GAME, batches(), welfare="egalitarian"):
                answers.append(res)

    asyncio.run(go())
    assert len(answers) == 25
    for prev, cur in itertools.pairwise(answers):
        np.testing.assert_array_equal(cur.actions_before, _next_round(prev)[0])


def test_a_stream_message_gets_its_own_deadline(server: RunningServer) -> None:
    """Each message's solve gets 0.95 x the per-message time limit: a slow batch comes back
    stopped by the time limit (or the message's deadline passes), not after the solve."""
    rng = np.random.default_rng(0)
    acts = rng.integers(0, 8, (4000, 3))
    game = random_game([8, 8, 8], seed=1)
    with MechsolveClient(server.address) as client:
        stream = client.stream_mediate_batch(
            game, [(acts, np.ones_like(acts, bool))], method="milp", time_limit=0.5
        )
        try:
            (res,) = list(stream)
        except MechsolveRpcError as exc:
            assert exc.code == grpc.StatusCode.DEADLINE_EXCEEDED
        else:
            assert res.termination.limit is Limit.TIME


def test_a_bad_stream_message_raises_the_input_error_naming_the_field(
    server: RunningServer,
) -> None:
    with MechsolveClient(server.address) as client:
        stream = client.stream_mediate_batch(PD, [([[0, 0]], [[1, 1]]), ([[0, 5]], [[1, 1]])])
        first = next(stream)
        assert first.actions_after.tolist() == [[0, 0]]
        with pytest.raises(RemoteInputError) as info:
            next(stream)
    assert info.value.field == "batch.actions[0][1]"


def test_a_bad_async_stream_message_raises_the_input_error(server: RunningServer) -> None:
    async def go() -> list[Any]:
        got: list[Any] = []
        async with AsyncMechsolveClient(server.address) as client:
            async for res in client.stream_mediate_batch(
                PD, [([[0, 0]], [[1, 1]]), ([[0, 5]], [[1, 1]])]
            ):
                got.append(res)
        return got

    with pytest.raises(RemoteInputError) as info:
        asyncio.run(go())
    assert info.value.field == "batch.actions[0][1]"
