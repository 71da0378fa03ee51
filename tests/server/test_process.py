"""``mechsolve serve`` and ``mechsolve health`` as real processes: structured logs, graceful
shutdown that drains in-flight calls, SO_REUSEPORT worker processes."""

from __future__ import annotations

import os
import signal
import threading
from typing import Any

import numpy as np
import pytest

from mechsolve.client import MechsolveClient
from mechsolve.server.app import free_port
from mechsolve.solver.core.results import TerminationReason
from mechsolve.solver.games.normal_form import random_game, seed000_prisoners_dilemma

from .processes import health


def test_sigterm_drains_in_flight_calls_then_exits(serve) -> None:
    """A stream is in flight for certain once its first answer has arrived: then SIGTERM, and
    its next (slow) batch is still answered before the server exits."""
    srv = serve("--grace-seconds", "20")
    rng = np.random.default_rng(0)
    acts = rng.integers(0, 8, (4000, 3))
    game = random_game([8, 8, 8], seed=1)
    sent_signal = threading.Event()

    def batches() -> Any:
        yield acts[:2], np.ones((2, 3), bool)  # fast: answered before the signal
        srv.proc.send_signal(signal.SIGTERM)
        sent_signal.set()
        yield acts, np.ones_like(acts, bool)  # slow: solved while the server drains

    with MechsolveClient(srv.address) as c:
        results = list(c.stream_mediate_batch(game, batches(), method="milp", time_limit=3.0))
    assert sent_signal.is_set()
    assert srv.proc.wait(timeout=30) == 0
    assert [len(r) for r in results] == [2, 4000]  # the in-flight call finished normally
    assert results[1].termination.reason is TerminationReason.FEASIBLE
    assert health(srv.address) != 0  # and nobody serves any more
    events = srv.events()
    names = [e["event"] for e in events]
    assert "serving" in names and "shutdown" in names and "stopped" in names
    stats = [
        e
        for e in events
        if e["event"] == "rpc_stats" and e["method"].endswith("/StreamMediateBatch")
    ]
    assert stats and stats[0]["code"] == "OK" and stats[0]["calls"] == 1
    assert names.index("shutdown") < names.index("stopped")


def test_debug_logs_every_call_and_info_logs_failures(serve) -> None:
    srv = serve("--log-level", "DEBUG")
    with MechsolveClient(srv.address) as c:
        c.pareto_mediator(seed000_prisoners_dilemma(), [1, 1], [1, 1])
        with pytest.raises(ValueError):
            c.pareto_mediator(seed000_prisoners_dilemma(), [1, 9], [1, 1])
    srv.proc.send_signal(signal.SIGTERM)
    assert srv.proc.wait(timeout=30) == 0
    rpc = [e for e in srv.events() if e["event"] == "rpc"]
    codes = {e["code"]: e for e in rpc if e["method"].endswith("/Mediate")}
    assert codes["OK"]["level"] == "DEBUG" and codes["INVALID_ARGUMENT"]["level"] == "INFO"
    assert codes["OK"]["ms"] > 0 and codes["OK"]["peer"]


def test_new_calls_are_refused_during_shutdown(serve) -> None:
    srv = serve("--grace-seconds", "5")
    srv.proc.send_signal(signal.SIGINT)
    assert srv.proc.wait(timeout=30) == 0
    with (
        MechsolveClient(srv.address, default_time_limit=1.0) as c,
        pytest.raises(Exception, match="UNAVAILABLE"),
    ):
        c.pareto_mediator(seed000_prisoners_dilemma(), [1, 1], [1, 1])


def test_worker_processes_share_the_port(serve) -> None:
    srv = serve("--workers", "2", "--log-format", "json")
    pd = seed000_prisoners_dilemma()
    for _ in range(24):  # fresh connections are spread over the workers by the kernel
        with MechsolveClient(srv.address) as c:
            assert c.pareto_mediator(pd, [1, 1], [1, 1]).welfare_after == 4.0
    srv.proc.send_signal(signal.SIGTERM)
    assert srv.proc.wait(timeout=60) == 0
    events = srv.events()
    serving_pids = {e["pid"] for e in events if e["event"] == "serving"}
    assert len(serving_pids) == 2 and os.getpid() not in serving_pids
    rpc_pids = {e["pid"] for e in events if e["event"] == "rpc_stats"}
    assert rpc_pids <= serving_pids and rpc_pids


def test_health_command_fails_when_nobody_serves() -> None:
    assert health(f"127.0.0.1:{free_port()}") == 1
