"""Client behaviour: retries on UNAVAILABLE only, deadlines, parity between the remote and
in-process implementations."""

from __future__ import annotations

import inspect
import threading
import time

import numpy as np
import pytest

from mechsolve.client import (
    LocalMechsolve,
    MechsolveClient,
    MechsolveRpcError,
    RemoteInputError,
    RetryPolicy,
)
from mechsolve.client.grpc_client import AsyncMechsolveClient
from mechsolve.server.app import build_server, free_port
from mechsolve.server.config import ServerConfig
from mechsolve.solver.core.errors import MechsolveInputError
from mechsolve.solver.games.normal_form import seed000_prisoners_dilemma

PD = seed000_prisoners_dilemma()


def test_retries_unavailable_until_the_server_comes_up() -> None:
    port = free_port()
    holder: dict = {}

    def start_later() -> None:
        time.sleep(0.6)
        holder["server"] = build_server(ServerConfig(port=port))

    th = threading.Thread(target=start_later)
    th.start()
    policy = RetryPolicy(max_attempts=30, initial_backoff=0.05, max_backoff=0.2, seed=1)
    try:
        with MechsolveClient(f"127.0.0.1:{port}", retry=policy, timeout=10) as c:
            t0 = time.perf_counter()
            assert c.pareto_mediator(PD, [1, 1], [1, 1]).welfare == 4.0
            assert time.perf_counter() - t0 >= 0.5  # it waited for the server, retrying
    finally:
        th.join()
        holder["server"].stop(0)


def test_gives_up_after_max_attempts() -> None:
    policy = RetryPolicy(max_attempts=3, initial_backoff=0.05, max_backoff=0.05, seed=1)
    with MechsolveClient(f"127.0.0.1:{free_port()}", retry=policy, timeout=10) as c:
        t0 = time.perf_counter()
        with pytest.raises(MechsolveRpcError, match="UNAVAILABLE"):
            c.health()
        assert time.perf_counter() - t0 < 2.0


def test_other_errors_are_not_retried(server) -> None:
    policy = RetryPolicy(max_attempts=5, initial_backoff=1.0, max_backoff=1.0)
    with MechsolveClient(server.address, retry=policy) as c:
        t0 = time.perf_counter()
        with pytest.raises(RemoteInputError):
            c.pareto_mediator(PD, [1, 3], [1, 1])
        assert time.perf_counter() - t0 < 0.5  # no backoff sleep happened


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


def test_default_deadline_applies(server) -> None:
    rng = np.random.default_rng(0)
    acts = rng.integers(0, 8, (4000, 3))
    game = np.random.default_rng(1).random((3, 8, 8, 8))
    with MechsolveClient(server.address, timeout=1.0) as c:  # no per-call timeout: the default
        t0 = time.perf_counter()
        try:
            res = c.mediate_batch(game, acts, np.ones_like(acts, bool), method="milp")
        except MechsolveRpcError as exc:  # the answer came back after the deadline
            assert exc.code.name == "DEADLINE_EXCEEDED"
        else:  # the server's solver stopped inside the client's deadline
            assert res.wall_time_s < 1.0 and res.termination.value == "FEASIBLE"
        assert time.perf_counter() - t0 < 1.5


def test_client_validates_before_sending() -> None:
    with MechsolveClient(f"127.0.0.1:{free_port()}") as c:
        with pytest.raises(
            MechsolveInputError, match=r"client\(\): `delegate\[1\]` must be a boolean"
        ):
            c.pareto_mediator(PD, [1, 1], [1, 2])
        with pytest.raises(
            MechsolveInputError, match=r"client\(\): `actions\[0\]` must be an integer; got 0.5"
        ):
            c.pareto_mediator(PD, [0.5, 1], [1, 1])


def _public(cls: type) -> set[str]:
    return {n for n, _ in inspect.getmembers(cls, callable) if not n.startswith("_")}


def test_remote_and_in_process_implementations_offer_the_same_methods() -> None:
    transport_only = {"health", "wait_until_serving", "stream_mediate_batch"}
    assert _public(MechsolveClient) - transport_only == _public(LocalMechsolve)
    assert _public(AsyncMechsolveClient) - transport_only <= _public(MechsolveClient)
