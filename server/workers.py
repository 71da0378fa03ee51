"""Solve worker processes: every request not answered inline runs in one, under a memory
limit, and the worker is killed (and replaced) when the call's deadline passes or the caller
cancels, so no work outlives its call and no call can take the server's memory.

Workers are forked from a ``forkserver`` that has already imported the solver stack (fast,
copy-on-write starts, no gRPC threads forked). Each sets ``RLIMIT_AS`` to its size after
those imports plus the per-call budget: a solve that allocates past it gets a ``MemoryError``
(``RESOURCE_EXHAUSTED``) or dies, and the worker is replaced.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
import os
import resource
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from mechsolve.solver.core.limits import Limits

from .logs import log
from .status import reserve

PRELOAD = ["mechsolve.server.servicer", "mechsolve.server.kernels"]
"""What the forkserver imports once for every worker (the API, codec and solver stack, and
the compiled kernels)."""

START_SECONDS = 120.0
"""How long a new worker may take to report ready."""

OVERRUN_SECONDS = 1.0
"""A solve still running this long after its time limit (a solver that takes none, or one
that overruns it) is stopped even when the caller's deadline is later: ``max_solve_seconds``
bounds every solve."""


@dataclass(frozen=True)
class Answer:
    """A worker's answer: the response bytes, or a status (name, message, field)."""

    payload: bytes | None
    code: str = "OK"
    message: str = ""
    field: str = ""
    retire: bool = False
    """The worker should be replaced after this answer (it ran out of memory: its heap may
    stay fragmented and large)."""


def _worker_main(conn: Connection, limits: Limits, memory_bytes: int) -> None:  # pragma: no cover
    """A worker: answer ``(path, request bytes, seconds)`` tasks until the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server process handles shutdown
    os.setpgid(0, 0)  # its own process group: killed with every process it starts
    from .servicer import answer_bytes

    _limit_memory(memory_bytes)
    conn.send(os.getpid())
    while True:
        try:
            path, request, seconds = conn.recv()
        except (EOFError, OSError):
            return
        conn.send(answer_bytes(path, request, limits, seconds))


def _limit_memory(extra: int) -> None:
    """``RLIMIT_AS``: the address space now plus ``extra`` bytes."""
    with open("/proc/self/status") as status:
        vm = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))
    resource.setrlimit(resource.RLIMIT_AS, (vm + extra, vm + extra))


class _Worker:
    def __init__(self, ctx: Any, limits: Limits, memory_bytes: int) -> None:
        parent, child = ctx.Pipe()
        self.conn: Connection = parent
        self.proc = ctx.Process(
            target=_worker_main,
            args=(child, limits, memory_bytes),
            name="mechsolve-solver",  # not a daemon: it starts isolated MILP children itself
        )
        self.proc.start()
        child.close()
        if not self.conn.poll(START_SECONDS):
            self.kill()
            raise RuntimeError("a solve worker did not start")
        self.pid = self.conn.recv()

    def call(self, task: tuple[str, bytes, float], seconds: float) -> Answer | None:
        """Run one task (blocking); ``None`` when no answer came within ``seconds`` or the
        worker died."""
        try:
            self.conn.send(task)
            if self.conn.poll(seconds):
                answer: Answer = self.conn.recv()
                return answer
        except (EOFError, OSError):
            pass
        return None

    def kill(self) -> None:
        """Kill the worker's process group: the worker and whatever it started (an isolated
        MILP solve and its forkserver), so nothing it began outlives it."""
        with contextlib.suppress(ProcessLookupError, OSError):
            os.killpg(self.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError, OSError):
            if self.proc.is_alive():
                self.proc.kill()
        self.proc.join(timeout=5)
        self.conn.close()


class SolverPool:
    """``size`` worker processes, started on first use, each answering one call at a time."""

    def __init__(self, size: int, memory_mb: int, limits: Limits) -> None:
        self.size = size
        self.memory_bytes = memory_mb * 1024 * 1024
        self.limits = limits
        self._idle: asyncio.Queue[_Worker] | None = None
        self._threads = ThreadPoolExecutor(
            max_workers=size + 2, thread_name_prefix="mechsolve-solver"
        )
        self._lock = threading.Lock()
        self._ctx: Any = None
        self._all: set[_Worker] = set()
        self._respawning: set[asyncio.Future[None]] = set()
        self._closed = False
        self.replaced = 0

    def _context(self) -> Any:
        with self._lock:
            if self._ctx is None:
                for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
                    os.environ.setdefault(name, "1")  # the forkserver reads them at its start
                self._ctx = mp.get_context("forkserver")
                self._ctx.set_forkserver_preload(PRELOAD)
            return self._ctx

    def _spawn(self) -> _Worker:
        if self._closed:
            raise RuntimeError("the solver pool is closed")
        worker = _Worker(self._context(), self.limits, self.memory_bytes)
        with self._lock:
            if not self._closed:
                self._all.add(worker)
                return worker
        worker.kill()  # closed while it started: nobody would ever stop it
        raise RuntimeError("the solver pool is closed")

    async def _ensure_started(self) -> asyncio.Queue[_Worker]:
        """The queue of idle workers; the first call starts them in a task of its own, so a
        first caller that is cancelled does not lose them."""
        if self._idle is None:
            self._idle = asyncio.Queue()
            loop = asyncio.get_running_loop()
            for _ in range(self.size):
                self._start_one(loop, self._idle)
        return self._idle

    def _start_one(self, loop: asyncio.AbstractEventLoop, idle: asyncio.Queue[_Worker]) -> None:
        async def start() -> None:
            try:
                idle.put_nowait(await loop.run_in_executor(self._threads, self._spawn))
            except RuntimeError as exc:  # closed, or the machine cannot start processes
                if not self._closed:
                    log("solver_start_failed", error=str(exc))

        self._respawning.add(task := asyncio.ensure_future(start()))
        task.add_done_callback(self._respawning.discard)

    async def answer(
        self, path: str, request: bytes, seconds: float, deadline: float | None
    ) -> Answer:
        """Run a task on a free worker; wait for a worker and its answer until ``deadline``
        (seconds from now; ``None``: none), and for the answer at most ``seconds`` (the
        solver's time limit; with a deadline, at most what is left of it after the wait, less
        the reserve) plus :data:`OVERRUN_SECONDS` from when the worker takes the task (so a pool
        still starting, or busy, does not count as the solve overrunning): past either, or
        when the call is cancelled, the worker is killed and replaced and the answer is
        ``DEADLINE_EXCEEDED``."""
        idle = await self._ensure_started()
        loop = asyncio.get_running_loop()
        called = loop.time()
        try:
            worker = await asyncio.wait_for(idle.get(), deadline)
        except TimeoutError:
            return Answer(None, "DEADLINE_EXCEEDED", "deadline exceeded waiting for a free solver")
        start = loop.time()
        if deadline is not None:
            left = called + deadline - start
            seconds = max(0.0, min(seconds, left - reserve(left)))
        end = start + seconds + OVERRUN_SECONDS
        if deadline is not None:
            end = min(end, called + deadline)
        healthy = False
        try:
            wait = max(0.0, end - loop.time())
            result = await loop.run_in_executor(
                self._threads, worker.call, (path, request, seconds), wait
            )
            healthy = result is not None and not result.retire
            if result is not None:
                return result
            if loop.time() >= end:
                ran_out = deadline is None or called + deadline > end  # the server's cap, first
                reason = (
                    f"the solve ran {OVERRUN_SECONDS:g} s past its time limit of {seconds:.3g} s "
                    "(the server's max_solve_seconds or the call's deadline) and was stopped"
                    if ran_out
                    else "deadline exceeded: the solve was stopped"
                )
                return Answer(None, "DEADLINE_EXCEEDED", reason)
            return Answer(
                None,
                "RESOURCE_EXHAUSTED",
                f"the solver process died (exit code {worker.proc.exitcode}), most likely over the "
                f"per-call memory budget of {self.memory_bytes >> 20} MB",
            )
        finally:
            if healthy:
                idle.put_nowait(worker)
            else:  # cancelled, late or dead: stop it and start another
                await self._replace(worker)

    async def _replace(self, worker: _Worker) -> None:
        worker.kill()
        self._all.discard(worker)
        self.replaced += 1
        assert self._idle is not None
        self._start_one(asyncio.get_running_loop(), self._idle)

    def resident_bytes(self) -> int:
        """The workers' resident memory, summed (0 for one that has just exited)."""
        total = 0
        with self._lock:
            workers = list(self._all)
        for worker in workers:
            with contextlib.suppress(OSError, StopIteration, ValueError):
                with open(f"/proc/{worker.pid}/status") as status:
                    line = next(x for x in status if x.startswith("VmRSS:"))
                total += int(line.split()[1]) * 1024
        return total

    def close(self) -> None:
        """Kill every worker (shutdown: whatever they are doing); none starts after this."""
        with self._lock:
            self._closed = True
            workers = list(self._all)
            self._all.clear()
        for worker in workers:
            worker.kill()
        self._threads.shutdown(wait=False, cancel_futures=True)
