"""``mechsolve serve`` and ``mechsolve health`` as real processes: structured logs, graceful
shutdown that drains in-flight calls, SO_REUSEPORT worker processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from mechsolve.client import MechsolveClient
from mechsolve.server.app import free_port
from mechsolve.solver.core.results import TerminationReason
from mechsolve.solver.games.normal_form import random_game, seed000_prisoners_dilemma

MECHSOLVE = [sys.executable, "-m", "mechsolve"]


def _health(address: str) -> int:
    return subprocess.run(
        [*MECHSOLVE, "health", "--address", address, "--time-limit", "1"], capture_output=True
    ).returncode


def _wait_serving(address: str, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        if _health(address) == 0:
            return
        time.sleep(0.2)
    raise AssertionError(f"{address} never served")


@pytest.fixture
def serve() -> Iterator:
    procs: list[subprocess.Popen] = []

    def start(*args: str) -> tuple[subprocess.Popen, str]:
        port = free_port()
        proc = subprocess.Popen(
            [*MECHSOLVE, "serve", "--port", str(port), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        procs.append(proc)
        address = f"127.0.0.1:{port}"
        _wait_serving(address, proc)
        return proc, address

    yield start
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()


def _log_events(stderr: str) -> list[dict]:
    return [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]


def test_sigterm_drains_in_flight_calls_then_exits(serve) -> None:
    """A stream is in flight for certain once its first answer has arrived: then SIGTERM, and
    its next (slow) batch is still answered before the server exits."""
    proc, address = serve("--grace-seconds", "20")
    rng = np.random.default_rng(0)
    acts = rng.integers(0, 8, (4000, 3))
    game = random_game([8, 8, 8], seed=1)
    sent_signal = threading.Event()

    def batches() -> Any:
        yield acts[:2], np.ones((2, 3), bool)  # fast: answered before the signal
        proc.send_signal(signal.SIGTERM)
        sent_signal.set()
        yield acts, np.ones_like(acts, bool)  # slow: solved while the server drains

    with MechsolveClient(address) as c:
        results = list(c.stream_mediate_batch(game, batches(), method="milp", time_limit=3.0))
    assert sent_signal.is_set()
    assert proc.wait(timeout=30) == 0
    assert [len(r) for r in results] == [2, 4000]  # the in-flight call finished normally
    assert results[1].termination.reason is TerminationReason.FEASIBLE
    assert _health(address) != 0  # and nobody serves any more
    events = _log_events(proc.stderr.read())
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
    proc, address = serve("--log-level", "DEBUG")
    with MechsolveClient(address) as c:
        c.pareto_mediator(seed000_prisoners_dilemma(), [1, 1], [1, 1])
        with pytest.raises(ValueError):
            c.pareto_mediator(seed000_prisoners_dilemma(), [1, 9], [1, 1])
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    rpc = [e for e in _log_events(proc.stderr.read()) if e["event"] == "rpc"]
    codes = {e["code"]: e for e in rpc if e["method"].endswith("/Mediate")}
    assert codes["OK"]["level"] == "DEBUG" and codes["INVALID_ARGUMENT"]["level"] == "INFO"
    assert codes["OK"]["ms"] > 0 and codes["OK"]["peer"]


def test_new_calls_are_refused_during_shutdown(serve) -> None:
    proc, address = serve("--grace-seconds", "5")
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 0
    with (
        MechsolveClient(address, default_time_limit=1.0) as c,
        pytest.raises(Exception, match="UNAVAILABLE"),
    ):
        c.pareto_mediator(seed000_prisoners_dilemma(), [1, 1], [1, 1])


def test_worker_processes_share_the_port(serve) -> None:
    proc, address = serve("--workers", "2", "--log-format", "json")
    pd = seed000_prisoners_dilemma()
    for _ in range(24):  # fresh connections are spread over the workers by the kernel
        with MechsolveClient(address) as c:
            assert c.pareto_mediator(pd, [1, 1], [1, 1]).welfare_after == 4.0
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0
    events = _log_events(proc.stderr.read())
    serving_pids = {e["pid"] for e in events if e["event"] == "serving"}
    assert len(serving_pids) == 2 and os.getpid() not in serving_pids
    rpc_pids = {e["pid"] for e in events if e["event"] == "rpc_stats"}
    assert rpc_pids <= serving_pids and rpc_pids


def test_health_command_fails_when_nobody_serves() -> None:
    assert _health(f"127.0.0.1:{free_port()}") == 1
