"""HiGHS (highspy) plumbing shared by every LP/MILP formulation.

Models are passed whole from numpy/scipy arrays (CSC), never built variable by variable in
Python. :func:`termination_of` maps HiGHS' model status to :class:`Termination` in one place.
"""

from __future__ import annotations

import multiprocessing as mp
import resource
import threading
import time
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from .results import Limit, Termination, TerminationReason

INF = highspy.kHighsInf

_STATUS = highspy.HighsModelStatus
_FEASIBLE = 2  # highspy SolutionStatus.kSolutionStatusFeasible as reported by getInfo()


def new_highs(
    time_limit: float | None = None,
    *,
    mip_rel_gap: float = 0.0,
    mip_abs_gap: float = 1e-10,
    feasibility_tol: float = 1e-9,
    threads: int | None = 1,
    options: dict[str, Any] | None = None,
) -> highspy.Highs:
    """A silent HiGHS instance with exact-MIP defaults (zero relative gap) and tight tolerances.

    ``threads=1`` by default: the service scales with processes, not solver threads.
    """
    h = highspy.Highs()
    h.silent()
    h.setOptionValue("output_flag", False)
    if time_limit is not None:
        h.setOptionValue("time_limit", float(max(time_limit, 1e-3)))
    h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
    h.setOptionValue("mip_abs_gap", float(mip_abs_gap))
    h.setOptionValue("primal_feasibility_tolerance", float(feasibility_tol))
    h.setOptionValue("mip_feasibility_tolerance", float(feasibility_tol))
    if threads is not None:
        h.setOptionValue("threads", int(threads))
    for key, value in (options or {}).items():
        h.setOptionValue(key, value)
    return h


_LIMITS = {
    _STATUS.kTimeLimit: Limit.TIME,
    _STATUS.kIterationLimit: Limit.ITERATION,
    _STATUS.kSolutionLimit: Limit.OTHER,
    _STATUS.kInterrupt: Limit.INTERRUPTED,
    _STATUS.kObjectiveBound: Limit.OTHER,
    _STATUS.kObjectiveTarget: Limit.OTHER,
}
_FAILURES = {
    _STATUS.kInfeasible: TerminationReason.INFEASIBLE,
    _STATUS.kUnbounded: TerminationReason.UNBOUNDED,
    _STATUS.kUnboundedOrInfeasible: TerminationReason.INFEASIBLE_OR_UNBOUNDED,
}


def termination_of(h: highspy.Highs) -> Termination:
    """The :class:`Termination` for the last solve of ``h`` (detail: HiGHS' status text)."""
    status = h.getModelStatus()
    text = h.modelStatusToString(status)
    if status == _STATUS.kOptimal:
        return Termination.optimal()
    if status in _FAILURES:
        return Termination.failed(_FAILURES[status], text)
    if status in _LIMITS:
        if h.getInfo().primal_solution_status == _FEASIBLE:
            return Termination.feasible(_LIMITS[status], text)
        return Termination.no_solution(_LIMITS[status], text)
    return Termination.failed(TerminationReason.NUMERICAL_ERROR, text)


@dataclass(frozen=True, eq=False)
class HighsSolution:
    """Primal solution (``x`` is empty without one), objective, status, backend text."""

    x: NDArray[np.float64]
    objective: float
    termination: Termination
    row_duals: NDArray[np.float64]

    @property
    def status_text(self) -> str:
        return self.termination.detail


def pass_model(
    h: highspy.Highs,
    c: NDArray[np.float64],
    a: sp.spmatrix | sp.sparray,
    row_lower: NDArray[np.float64],
    row_upper: NDArray[np.float64],
    col_lower: NDArray[np.float64],
    col_upper: NDArray[np.float64],
    *,
    integrality: NDArray[np.int32] | None = None,
    maximize: bool = False,
    offset: float = 0.0,
) -> None:
    """Load ``opt c.x + offset s.t. row_lower <= A x <= row_upper, col bounds`` into ``h``."""
    lp = highspy.HighsLp()
    a_csc = sp.csc_array(a)
    a_csc.sort_indices()
    n_col = len(c)
    n_row = int(a_csc.shape[0])
    lp.num_col_ = n_col
    lp.num_row_ = n_row
    lp.col_cost_ = np.asarray(c, dtype=np.float64)
    lp.col_lower_ = np.asarray(col_lower, dtype=np.float64)
    lp.col_upper_ = np.asarray(col_upper, dtype=np.float64)
    lp.row_lower_ = np.asarray(row_lower, dtype=np.float64)
    lp.row_upper_ = np.asarray(row_upper, dtype=np.float64)
    lp.offset_ = float(offset)
    lp.sense_ = highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_ = n_col
    lp.a_matrix_.num_row_ = n_row
    lp.a_matrix_.start_ = a_csc.indptr.astype(np.int32)
    lp.a_matrix_.index_ = a_csc.indices.astype(np.int32)
    lp.a_matrix_.value_ = a_csc.data.astype(np.float64)
    h.passModel(lp)
    if integrality is not None:  # from numpy in one call (a per-column list is slow at scale)
        kinds = np.asarray(integrality, dtype=np.uint8)
        h.changeColsIntegrality(n_col, np.arange(n_col, dtype=np.int32), kinds)


def run(h: highspy.Highs) -> HighsSolution:
    """Solve the loaded model and collect the solution.

    HiGHS honours its ``time_limit`` option at some points of a solve only (large MILPs can
    overrun it by seconds); :func:`solve_isolated` gives a hard deadline where that matters.
    """
    h.run()
    term = termination_of(h)
    if term.has_solution:
        sol = h.getSolution()
        x = np.asarray(sol.col_value, dtype=np.float64)
        duals = np.asarray(sol.row_dual, dtype=np.float64) if sol.dual_valid else np.empty(0)
        return HighsSolution(x, float(h.getInfo().objective_function_value), term, duals)
    return HighsSolution(np.empty(0), float("nan"), term, np.empty(0))


def solve(
    c: NDArray[np.float64],
    a: sp.spmatrix | sp.sparray,
    row_lower: NDArray[np.float64],
    row_upper: NDArray[np.float64],
    col_lower: NDArray[np.float64],
    col_upper: NDArray[np.float64],
    *,
    integrality: NDArray[np.int32] | None = None,
    maximize: bool = False,
    time_limit: float | None = None,
    options: dict[str, Any] | None = None,
) -> HighsSolution:
    """One-shot LP/MILP solve with HiGHS (see :func:`pass_model` for the model)."""
    h = new_highs(time_limit, options=options)
    pass_model(
        h,
        c,
        a,
        row_lower,
        row_upper,
        col_lower,
        col_upper,
        integrality=integrality,
        maximize=maximize,
    )
    return run(h)


# -- isolated solves: a hard deadline for large MILPs -----------------------------------------

ISOLATE_COLUMNS = 50_000
"""Time-limited MILPs with more columns than this are solved in a child process."""

ANSWER_MARGIN = 0.5
"""The child's HiGHS time limit ends this long (at most a fifth of the limit) before the
caller's, so that it normally answers before it is killed at the caller's limit."""


def _vm_size() -> int:
    """This process's address space in bytes (Linux; 0 where unknown)."""
    try:
        with open("/proc/self/status") as status:
            return next(int(x.split()[1]) * 1024 for x in status if x.startswith("VmSize:"))
    except (OSError, StopIteration, ValueError):
        return 0


def _memory_left() -> int | None:
    """What this process may still add to its address space under ``RLIMIT_AS`` (``None``:
    unlimited)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    return None if soft == resource.RLIM_INFINITY else max(0, soft - _vm_size())


def _solve_child(answer: Any, model: Any, deadline: float, memory_left: int | None) -> None:
    """Child-process body of :func:`solve_isolated`: receive the model, solve it with what is
    left until the (wall-clock) ``deadline`` as the HiGHS limit, send the answer back. The
    child may add to its address space only what the caller had left (``memory_left``): the
    caller waits meanwhile, so the two stay within the caller's budget."""
    if memory_left is not None:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = _vm_size() + memory_left
        soft = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    args, kwargs = model.recv()
    model.close()
    sol = solve(*args, time_limit=max(1e-3, deadline - time.time()), **kwargs)
    answer.send((sol.x, sol.objective, sol.termination))
    answer.close()


def solve_isolated(
    c: NDArray[np.float64],
    a: sp.spmatrix | sp.sparray,
    row_lower: NDArray[np.float64],
    row_upper: NDArray[np.float64],
    col_lower: NDArray[np.float64],
    col_upper: NDArray[np.float64],
    *,
    integrality: NDArray[np.int32] | None = None,
    maximize: bool = False,
    time_limit: float,
    options: dict[str, Any] | None = None,
) -> HighsSolution:
    """:func:`solve` in a child process that is killed when the time limit has passed.

    HiGHS checks its time limit (and its user interrupt) only at some points of a MIP solve:
    on models with hundreds of thousands of binaries its root phases (clique table, probing,
    heuristics) can run seconds past the limit. A service with deadlines needs a hard stop,
    so large time-limited MILPs run in a child of a clean ``forkserver`` process (no gRPC
    threads are forked) whose HiGHS limit ends :data:`ANSWER_MARGIN` before the caller's and
    which is killed at the caller's limit; after a kill the caller gets ``NO_SOLUTION_FOUND``
    (an incumbent found before the kill is lost).

    The call returns by its limit whatever the child is doing: starting the
    child and sending it the model (which blocks until the child, importing numpy, scipy and
    highspy first, reads it: seconds on a loaded machine) happen in a helper thread, and a
    child that starts after the call has given up is killed by that thread.
    """
    deadline = time.time() + time_limit  # the caller's: the child is killed then
    solve_by = deadline - min(ANSWER_MARGIN, time_limit / 5)  # the child's HiGHS limit
    ctx = mp.get_context("forkserver")
    answer_r, answer_w = ctx.Pipe(duplex=False)
    model_r, model_w = ctx.Pipe(duplex=False)
    payload = (
        (c, sp.csc_array(a), row_lower, row_upper, col_lower, col_upper),
        {"integrality": integrality, "maximize": maximize, "options": options},
    )
    proc = ctx.Process(
        target=_solve_child, args=(answer_w, model_r, solve_by, _memory_left()), daemon=True
    )
    # Exactly one thread stops the child: the caller if the child had started when it gave
    # up, else the feeder once it has.
    lock = threading.Lock()
    flags = {"started": False, "given_up": False}

    def feed() -> None:
        try:
            proc.start()
        except (OSError, ValueError):  # could not start: the caller reports a failure
            model_w.close()
            return
        finally:
            answer_w.close()  # the parent's copies of the child's ends (EOF when it dies)
            model_r.close()
        with lock:
            flags["started"] = True
            given_up = flags["given_up"]
        if given_up:  # the call has already returned: nobody waits for this child
            _stop(proc)
            model_w.close()
            return
        try:
            model_w.send(payload)
        except (OSError, ValueError):  # the child was stopped while reading the model
            pass
        finally:
            model_w.close()

    threading.Thread(target=feed, name="solve_isolated", daemon=True).start()
    try:
        if answer_r.poll(max(0.0, deadline - time.time())):
            x, objective, term = answer_r.recv()
            return HighsSolution(x, objective, term, np.empty(0))
    except EOFError:  # the child died (or could not start) without an answer
        term = Termination.failed(TerminationReason.OTHER_ERROR, "solver process failed")
        return HighsSolution(np.empty(0), float("nan"), term, np.empty(0))
    finally:
        with lock:
            flags["given_up"] = True
            started = flags["started"]
        if started:
            _stop(proc)
        answer_r.close()
    term = Termination.no_solution(Limit.TIME, "time limit: solver process stopped")
    return HighsSolution(np.empty(0), float("nan"), term, np.empty(0))


def _stop(proc: Any) -> None:
    """Kill ``proc`` if it is still running, and reap it."""
    if proc.is_alive():
        proc.kill()
    proc.join()
