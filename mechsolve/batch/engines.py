"""Where chunks are solved: this process, a local process pool (default), a Ray cluster, or a
mechsolve server. Every engine runs the same task (:func:`solve_chunk`) on each chunk and
yields the finished chunks as they come (in any order), keeping at most two chunks per worker
in flight, so memory stays bounded however large the input.
"""

from __future__ import annotations

import concurrent.futures as cf
import ctypes
import multiprocessing
import os
import signal
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mechsolve import codec
from mechsolve.server.servicer import failure
from mechsolve.server.status import describe
from mechsolve.solver.core.errors import MechsolveError
from mechsolve.solver.core.limits import Limits

from .parts import encode_rows
from .records import Chunk, Defaults, GameFiles, Record, parse
from .solvers import InProcess, Remote, Row, Solver, row, solve_records

MAX_REPORTED_ERRORS = 20
"""Failed rows a chunk reports back (for ``--dry-run`` and the summary)."""

ENGINES = ("local", "ray", "server")


@dataclass(frozen=True)
class Settings:
    """What every chunk is solved with."""

    defaults: Defaults
    limits: Limits = field(default_factory=Limits)
    time_limit: float | None = None
    fmt: str = "jsonl"
    dry_run: bool = False


@dataclass(frozen=True)
class ChunkDone:
    """A solved chunk: its part file's bytes, and counts by status."""

    index: int
    records: int
    payload: bytes
    counts: dict[str, int]
    errors: list[Row]


_GAME_FILES: dict[tuple[Path, Limits], GameFiles] = {}
"""Per process: game files read once."""


def solve_chunk(chunk: Chunk, settings: Settings, solver: Solver | None = None) -> ChunkDone:
    """Parse a chunk's records and solve them (or, for a dry run, only check them)."""
    defaults = settings.defaults
    limits = codec.UNLIMITED if isinstance(solver, Remote) else settings.limits
    key = (defaults.folder, limits)
    games = _GAME_FILES.get(key)
    if games is None:
        games = _GAME_FILES[key] = GameFiles(defaults.folder, defaults.games, limits)
    records = [parse(chunk.start + i, raw, defaults, games) for i, raw in enumerate(chunk.raw())]
    if settings.dry_run:
        rows = [check(rec, settings.limits) for rec in records]
    else:
        rows = solve_records(
            records, solver or InProcess(settings.limits, settings.time_limit), limits
        )
    errors = [r for r in rows if r["status"] != "OK"][:MAX_REPORTED_ERRORS]
    payload = b"" if settings.dry_run else encode_rows(rows, settings.fmt)
    counts = dict(Counter(r["status"] for r in rows))
    return ChunkDone(chunk.index, len(rows), payload, counts, errors)


def check(rec: Record, limits: Limits) -> Row:
    """A dry run's row: whether the record's request decodes (types, shapes, sizes)."""
    if rec.status != "OK":
        return row(rec, rec.status, rec.error, 0.0, None)
    assert rec.rpc is not None and rec.request is not None
    try:
        codec.decode_request(rec.rpc, rec.request, limits, rec.supplied)
    except Exception as exc:
        answer = failure(rec.rpc, exc)
        return row(rec, answer.code, describe(answer.message, answer.field), 0.0, None)
    return row(rec, "OK", None, 0.0, None)


def _windowed(
    submit: Callable[[Chunk], cf.Future[ChunkDone]], chunks: Iterable[Chunk], window: int
) -> Iterator[ChunkDone]:
    """Submit chunks keeping at most ``window`` in flight; yield each as it finishes."""
    pending: set[cf.Future[ChunkDone]] = set()
    source = iter(chunks)
    exhausted = False
    while True:
        while not exhausted and len(pending) < window:
            chunk = next(source, None)
            if chunk is None:
                exhausted = True
            else:
                pending.add(submit(chunk))
        if not pending:
            return
        done, pending = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
        for future in done:
            yield future.result()


class LocalEngine:
    """``processes`` worker processes on this machine (1: this process)."""

    def __init__(self, processes: int | None = None) -> None:
        self.processes = processes or os.cpu_count() or 1

    def run(self, chunks: Iterable[Chunk], settings: Settings) -> Iterator[ChunkDone]:
        if self.processes == 1:
            for chunk in chunks:
                yield solve_chunk(chunk, settings)
            return
        context = multiprocessing.get_context("spawn")  # children of this process (see below)
        with cf.ProcessPoolExecutor(
            self.processes, mp_context=context, initializer=_start_worker, initargs=(settings,)
        ) as pool:
            try:
                yield from _windowed(
                    lambda c: pool.submit(_solve_chunk_here, c), chunks, 2 * self.processes
                )
            except BrokenProcessPool as exc:
                raise MechsolveError(
                    "a worker process died (killed, or out of memory) while solving; the "
                    "chunks committed so far are kept: rerun the same command to resume"
                ) from exc


_SETTINGS: list[Settings] = []
"""A pool worker's settings, sent once when it starts (not with every chunk: ``--game`` may
be large)."""


def _start_worker(settings: Settings) -> None:  # pragma: no cover - in pool workers
    """A pool worker dies with the process that started it (``PR_SET_PDEATHSIG``), so a
    killed run leaves no workers behind."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: workers end when their pipe closes
        pass
    if os.getppid() == 1:  # the driver died before the line above ran
        os._exit(1)
    _SETTINGS[:] = [settings]


def _solve_chunk_here(chunk: Chunk) -> ChunkDone:  # pragma: no cover - in pool workers
    return solve_chunk(chunk, _SETTINGS[0])


class ServerEngine:
    """A mechsolve server at ``address``: ``threads`` chunks at a time, each record a unary
    call and each vectorized group one message of the stream RPC."""

    def __init__(self, address: str, threads: int | None = None, **channel: Any) -> None:
        from mechsolve.client import MechsolveClient

        self.client = MechsolveClient(address, **channel)
        self.threads = threads or os.cpu_count() or 1

    def run(self, chunks: Iterable[Chunk], settings: Settings) -> Iterator[ChunkDone]:
        solver = Remote(self.client, settings.time_limit)
        with cf.ThreadPoolExecutor(self.threads) as pool:
            yield from _windowed(
                lambda c: pool.submit(solve_chunk, c, settings, solver), chunks, 2 * self.threads
            )

    def close(self) -> None:
        self.client.close()


class RayEngine:
    """Ray tasks on the cluster at ``address`` (``None``: a new local Ray instance), one task
    per chunk, two per cluster CPU in flight. Game files named by records must be readable at
    the same path on every node (``--game`` is read here and shipped with the tasks)."""

    def __init__(self, address: str | None = None) -> None:
        try:
            import ray
        except ImportError as exc:
            raise MechsolveError("--engine ray needs Ray: pip install 'mechsolve[ray]'") from exc
        self.ray = ray
        self._started = not ray.is_initialized()
        if self._started:
            ray.init(address=address, log_to_driver=False, include_dashboard=False)
        self.cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))

    def run(self, chunks: Iterable[Chunk], settings: Settings) -> Iterator[ChunkDone]:
        task = self.ray.remote(num_cpus=1)(solve_chunk)
        settings_ref = self.ray.put(settings)

        def submit(chunk: Chunk) -> cf.Future[ChunkDone]:
            return task.remote(chunk, settings_ref).future()

        yield from _windowed(submit, chunks, 2 * self.cpus)

    def close(self) -> None:
        if self._started:
            self.ray.shutdown()
