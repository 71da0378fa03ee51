"""``mechsolve batch``: solve every record of an input file into an output file, resumably.

The input is read in chunks of ``chunk_size`` records (the same chunks on every run of the
same command); each chunk is solved by an engine (:mod:`.engines`) and committed as a part
file (:mod:`.parts`). A rerun after a crash or ``kill -9`` skips the committed chunks; when
every chunk is committed the parts are joined into the output, one row per input record in
input order. ``verify`` re-solves random records one at a time in this process and compares.
"""

from __future__ import annotations

import math
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mechsolve.solver.core.errors import MechsolveInputError
from mechsolve.solver.core.limits import Limits
from mechsolve.solver.games.files import read_game

from .engines import ENGINES, ChunkDone, LocalEngine, RayEngine, ServerEngine, Settings
from .parts import Parts, iter_rows
from .records import Chunk, Defaults, GameFiles, count_records, file_format, parse, read_chunks
from .solvers import InProcess, Row

VERSION = 1
"""Of the part files' layout (in the manifest: parts of another layout are not resumed)."""


@dataclass
class BatchJob:
    """One ``mechsolve batch`` run (the CLI's options)."""

    input: Path
    output: Path | None = None
    rpc: str | None = None
    game: str | None = None
    chunk_size: int = 4096
    time_limit: float | None = None
    engine: str = "local"
    processes: int | None = None
    address: str | None = None
    restart: bool = False
    dry_run: bool = False
    verify: int = 0
    seed: int = 0
    progress: bool = True
    limits: Limits = field(default_factory=Limits)

    def validate(self) -> None:
        fn = "batch"
        if not self.input.is_file():
            raise MechsolveInputError(
                fn, "input", f"must be an existing file; got {str(self.input)!r}"
            )
        file_format(self.input, "input")
        if not self.dry_run:
            if self.output is None:
                raise MechsolveInputError(fn, "output", "is required (or use --dry-run)")
            file_format(self.output, "output")
            if self.output.resolve() == self.input.resolve():
                raise MechsolveInputError(fn, "output", "must not be the input file")
            if self.output.is_dir():
                raise MechsolveInputError(fn, "output", f"is a folder: {str(self.output)!r}")
        if self.chunk_size < 1:
            raise MechsolveInputError(fn, "chunk_size", f"must be >= 1; got {self.chunk_size}")
        if self.engine not in ENGINES:
            raise MechsolveInputError(
                fn, "engine", f"must be one of {ENGINES}; got {self.engine!r}"
            )
        if self.engine == "server" and not self.address:
            raise MechsolveInputError(fn, "address", "is required with --engine server")
        if self.engine == "server" and self.limits != Limits():
            raise MechsolveInputError(
                fn, "limit", "applies to solving here; with a server, the server's limits apply"
            )
        if self.time_limit is not None and not (
            self.time_limit > 0 and math.isfinite(self.time_limit)
        ):
            raise MechsolveInputError(fn, "time_limit", f"must be > 0; got {self.time_limit}")
        if self.processes is not None and self.processes < 1:
            raise MechsolveInputError(fn, "processes", f"must be >= 1; got {self.processes}")
        if self.verify < 0:
            raise MechsolveInputError(fn, "verify", f"must be >= 0; got {self.verify}")

    def settings(self) -> Settings:
        folder = self.input.resolve().parent
        games = {}
        if self.game is not None:  # relative to the current folder, like any CLI path
            spec = self.game if self.game.startswith("fixture:") else str(Path(self.game).resolve())
            games[self.game] = read_game(spec, function="batch")  # a bad --game fails now
        defaults = Defaults(self.rpc, self.game, folder, games)
        fmt = file_format(self.output, "output") if self.output is not None else "jsonl"
        return Settings(defaults, self.limits, self.time_limit, fmt, self.dry_run)

    def identity(self) -> dict[str, Any]:
        """What the parts of this run depend on: resuming with another input or options
        would mix answers."""
        stat = self.input.stat()
        return {
            "version": VERSION,
            "input": str(self.input.resolve()),
            "input_bytes": stat.st_size,
            "input_mtime_ns": stat.st_mtime_ns,
            "chunk_size": self.chunk_size,
            "rpc": self.rpc,
            "game": self.game,
            "game_file": _stat(self.game),
            "time_limit": self.time_limit,
            "limits": {k: v for k, v in asdict(self.limits).items() if k.startswith("max_")},
        }


def _stat(spec: str | None) -> list[int] | None:
    """Size and modification time of a game file (a changed file is another run)."""
    if spec is None or spec.startswith("fixture:"):
        return None
    stat = Path(spec).resolve().stat()
    return [stat.st_size, stat.st_mtime_ns]


@dataclass
class Summary:
    """What a run did."""

    records: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    resumed_chunks: int = 0
    resumed_records: int = 0
    seconds: float = 0.0
    errors: list[Row] = field(default_factory=list)
    output: Path | None = None
    already_complete: bool = False
    verified: int = 0
    mismatches: list[Any] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0

    def text(self) -> str:
        if self.already_complete:
            lines = [f"{self.output} is complete: nothing to do (--restart to solve again)"]
        else:
            counts = ", ".join(f"{k} {v:,}" for k, v in sorted(self.counts.items())) or "none"
            lines = [
                f"{self.records:,} records in {self.seconds:.1f} s ({self.rate:,.0f} records/s): "
                + counts
            ]
            if self.resumed_chunks:
                lines.append(
                    f"resumed: {self.resumed_chunks} chunks ({self.resumed_records:,} records) "
                    "were committed by an earlier run"
                )
            for r in self.errors[:10]:
                lines.append(f"  record {r['id']!r} ({r['rpc']}): {r['status']} {r['error']}")
            if self.output is not None:
                lines.append(f"wrote {self.output}")
        if self.verified:
            lines.append(
                f"verify: {self.verified} random records re-solved in-process: "
                + (
                    "all equal"
                    if not self.mismatches
                    else f"{len(self.mismatches)} DIFFER: {self.mismatches[:5]}"
                )
            )
        return "\n".join(lines)


def _engine(job: BatchJob) -> Any:
    if job.engine == "ray":
        return RayEngine(job.address)
    if job.engine == "server":
        assert job.address is not None
        return ServerEngine(job.address, job.processes)
    return LocalEngine(job.processes)


def run(job: BatchJob) -> Summary:
    """Solve (or, with ``dry_run``, check) every record; resume committed chunks."""
    job.validate()
    settings = job.settings()
    if job.dry_run:
        return _solve_all(job, settings, None, set())
    assert job.output is not None
    parts = Parts(job.output, settings.fmt, job.identity())
    with parts.lock():
        if job.output.exists() and not parts.folder.exists() and not job.restart:
            parts.check_complete()
            summary = Summary(output=job.output, already_complete=True)
            return _verified(job, settings, summary)
        committed = parts.open(job.restart)
        return _solve_all(job, settings, parts, committed)


def _solve_all(
    job: BatchJob, settings: Settings, parts: Parts | None, committed: set[int]
) -> Summary:
    summary = Summary(output=job.output)
    total = count_records(job.input)
    bar = _bar(job, total)
    chunks_seen = [0]

    def pending() -> Iterator[Chunk]:
        for chunk in read_chunks(job.input, job.chunk_size):
            chunks_seen[0] += 1
            if chunk.index in committed:
                summary.resumed_chunks += 1
                summary.resumed_records += len(chunk)
                bar.update(len(chunk))
                continue
            yield chunk

    engine = _engine(job)
    start = time.perf_counter()
    try:
        for done in engine.run(pending(), settings):
            _take(done, parts, summary)
            bar.update(done.records)
            bar.set_postfix_str(_postfix(summary.counts), refresh=False)
    finally:
        bar.close()
        close = getattr(engine, "close", None)
        if close is not None:
            close()
    summary.seconds = time.perf_counter() - start
    if parts is not None:
        parts.assemble(chunks_seen[0], total)
    return _verified(job, settings, summary)


def _take(done: ChunkDone, parts: Parts | None, summary: Summary) -> None:
    if parts is not None:
        parts.commit(done.index, done.payload)
    summary.records += done.records
    summary.counts.update(done.counts)
    room = 20 - len(summary.errors)
    if room > 0:
        summary.errors.extend(done.errors[:room])


def _postfix(counts: Counter[str]) -> str:
    return " ".join(f"{k}={v}" for k, v in sorted(counts.items()))


def _bar(job: BatchJob, total: int) -> Any:
    from tqdm import tqdm

    return tqdm(
        total=total,
        unit="record",
        unit_scale=True,
        desc="checking" if job.dry_run else f"batch ({job.engine})",
        disable=not job.progress,
        file=sys.stderr,
        dynamic_ncols=True,
    )


# -- verification -----------------------------------------------------------------------------


def _verified(job: BatchJob, settings: Settings, summary: Summary) -> Summary:
    if job.verify and job.output is not None and not job.dry_run:
        summary.verified, summary.mismatches = verify(job, settings, job.verify)
    return summary


def verify(job: BatchJob, settings: Settings, n: int) -> tuple[int, list[Any]]:
    """Re-solve ``n`` random records one at a time in this process (no grouping) and compare
    them with the output's rows (timings aside). Returns (checked, ids that differ)."""
    assert job.output is not None
    total = count_records(job.input)
    rng = np.random.default_rng(job.seed)
    picks = set(rng.choice(total, size=min(n, total), replace=False).tolist()) if total else set()
    games = GameFiles(settings.defaults.folder, settings.defaults.games, settings.limits)
    solver = InProcess(settings.limits, settings.time_limit)
    expected: dict[int, Row] = {}
    for chunk in read_chunks(job.input, job.chunk_size):
        raws = chunk.raw()
        for i, raw in enumerate(raws):
            position = chunk.start + i
            if position in picks:
                rec = parse(position, raw, settings.defaults, games)
                expected[position] = (
                    solver.one(rec)
                    if rec.status == "OK"
                    else {"status": rec.status, "error": rec.error, "result": None, "id": rec.id}
                )
    found: dict[int, Row] = {}
    for position, out in enumerate(iter_rows(job.output)):
        if position in expected:
            found[position] = out
    mismatches = [
        expected[p]["id"] for p in sorted(expected) if not same_answer(expected[p], found.get(p))
    ]
    return len(expected), mismatches


def same_answer(a: Row | None, b: Row | None) -> bool:
    """Two rows give the same answer: id, status, error and result equal, timings aside
    (``seconds``, any ``wall_time_s``), reals equal to 1e-9 relative."""
    if a is None or b is None:
        return a is b
    keys = ("id", "status", "error", "result")
    return all(_same(a.get(k), b.get(k)) for k in keys)


def _same(x: Any, y: Any) -> bool:
    if isinstance(x, dict) and isinstance(y, dict):
        keys = (set(x) | set(y)) - {"wall_time_s"}
        return all(_same(x.get(k), y.get(k)) for k in keys)
    if isinstance(x, list | tuple) and isinstance(y, list | tuple):
        return len(x) == len(y) and all(_same(u, v) for u, v in zip(x, y, strict=True))
    if isinstance(x, float) or isinstance(y, float):
        if isinstance(x, bool) or isinstance(y, bool) or x is None or y is None:
            return x == y
        return math.isclose(float(x), float(y), rel_tol=1e-9, abs_tol=1e-12)
    return bool(x == y)
