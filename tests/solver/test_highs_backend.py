"""HiGHS plumbing (mechsolve.solver.core.highs_backend): the isolated (child-process) solve
that gives large time-limited MILPs a hard deadline."""

from __future__ import annotations

import multiprocessing as mp
import os
import threading
import time
from typing import Any

import numpy as np
import scipy.sparse as sp

from mechsolve.solver.core import highs_backend as hb
from mechsolve.solver.core.results import Limit, TerminationReason


def _easy_milp(n: int) -> tuple[Any, ...]:
    """``max sum x  s.t.  x_0 + x_1 <= 1``, x binary: presolve solves it, optimum ``n - 1``."""
    a = sp.csc_array((np.ones(2), ([0, 0], [0, 1])), shape=(1, n))
    return (np.ones(n), a, np.array([-hb.INF]), np.array([1.0]), np.zeros(n), np.ones(n))


def test_isolated_solve_returns_the_childs_answer() -> None:
    n = hb.ISOLATE_COLUMNS + 10
    sol = hb.solve_isolated(
        *_easy_milp(n), integrality=np.ones(n, np.int32), maximize=True, time_limit=60.0
    )
    assert sol.termination.reason is TerminationReason.OPTIMAL
    assert sol.objective == n - 1
    assert sol.x.sum() == n - 1 and sol.x[:2].sum() == 1


class _ExitOnUnpickle:
    """Unpickled in the child, it ends the child at once (without an answer)."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (os._exit, (3,))


def test_isolated_solve_reports_a_child_that_died() -> None:
    sol = hb.solve_isolated(
        *_easy_milp(10), options={"x": _ExitOnUnpickle()}, maximize=True, time_limit=60.0
    )
    assert sol.termination.reason is TerminationReason.OTHER_ERROR
    assert sol.termination.detail == "solver process failed"


def test_isolated_solve_keeps_its_deadline_while_the_child_is_slow_to_start(monkeypatch) -> None:
    """Starting the child can take seconds on a loaded machine (the parent used to block in
    ``Process.start`` until the child, importing numpy, scipy and highspy, had read the whole
    model): the call still returns at its limit, and the late child is
    stopped as soon as it has started. Simulated by a start that takes 5 s.

    A hard-deadline property: the bound (3 s for a 0.2 s limit) is generous, and still below
    the 5 s the start takes."""
    process = type(mp.get_context("forkserver").Process())
    real_start = process.start
    started: list[Any] = []

    def slow_start(self: Any) -> None:
        time.sleep(5.0)
        real_start(self)
        started.append(self)

    monkeypatch.setattr(process, "start", slow_start)
    t0 = time.perf_counter()
    sol = hb.solve_isolated(*_easy_milp(10), maximize=True, time_limit=0.2)
    assert time.perf_counter() - t0 < 3.0
    assert sol.termination.reason is TerminationReason.NO_SOLUTION_FOUND
    assert sol.termination.limit is Limit.TIME
    feeders = [t for t in threading.enumerate() if t.name == "solve_isolated"]
    for t in feeders:
        t.join(timeout=30.0)
        assert not t.is_alive()
    assert len(started) == 1
    assert not started[0].is_alive()  # stopped by the feeder, and reaped
    assert started[0].exitcode is not None
