"""The benchmark harness: side-by-side timing, answer checks, scaling curves, reports.

A *side* is one way to compute an answer (ours, a baseline, a peer library). :func:`measure`
runs every side of one comparison **interleaved** (repetition r runs all sides, in an order
rotated by r, before repetition r + 1), the same number of repetitions each, and reports
medians; after every run it checks that the side's answer agrees with ours and raises
:class:`AnswersDiffer` if not. The *strongest baseline* of a row is the fastest of the sides
marked ``role="strong"`` (e.g. the best of HiGHS simplex and interior point); ``secondary``
baselines (e.g. the dense Hungarian method) and ``peer`` libraries are reported beside it.

:func:`scaling` measures the same sides over a range of sizes and fits the growth exponent
``b`` of ``t ~ a * size^b`` by least squares on ``log t`` against ``log size``.
"""

from __future__ import annotations

import importlib
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

ROLES = ("ours", "strong", "secondary", "peer")


class AnswersDiffer(AssertionError):
    """Two sides of a comparison gave different answers (the comparison is void)."""


class Skip(Exception):
    """A case cannot run here (a peer library or a resource is missing); the message says why."""


@dataclass(frozen=True)
class Side:
    """One way to compute the answer.

    Attributes:
        name: label in the tables.
        run: computes the result (timed).
        role: ``"ours"``, ``"strong"`` (a candidate for the strongest baseline),
            ``"secondary"`` (a weaker baseline kept for reference) or ``"peer"`` (another
            library doing the same job).
        answer: maps the result to what is compared across sides (default: the result).
    """

    name: str
    run: Callable[[], Any]
    role: str = "strong"
    answer: Callable[[Any], Any] | None = None

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}; got {self.role!r}")


@dataclass
class Timing:
    """The times of one side in one comparison."""

    name: str
    role: str
    times: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.times) if self.times else math.nan

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "median_s": self.median,
            "times_s": self.times,
        }


@dataclass
class Row:
    """One measured comparison: our side against its baselines at one size."""

    label: str
    size: dict[str, Any]
    ours: Timing
    others: list[Timing]
    note: str = ""
    answers: dict[str, Any] = field(default_factory=dict, repr=False)  # each side's last answer

    def by_role(self, role: str) -> list[Timing]:
        return [t for t in self.others if t.role == role]

    @property
    def strongest(self) -> Timing | None:
        strong = self.by_role("strong")
        return min(strong, key=lambda t: t.median) if strong else None

    @property
    def ratio(self) -> float:
        """Strongest baseline's median over ours (> 1: ours is faster)."""
        s = self.strongest
        return s.median / self.ours.median if s is not None else math.nan

    def to_json(self) -> dict[str, Any]:
        s = self.strongest
        return {
            "label": self.label,
            "size": self.size,
            "ours": self.ours.to_json(),
            "others": [{**t.to_json(), "ratio": t.median / self.ours.median} for t in self.others],
            "strongest": s.name if s else None,
            "ratio": self.ratio,
            "answers_agree": True,
            "note": self.note,
        }


@dataclass
class Curve:
    """Median time of each side against one size parameter."""

    family: str
    x_label: str
    sizes: list[float]
    series: dict[str, list[float]]
    plot: str | None = None

    @property
    def exponents(self) -> dict[str, float]:
        return {name: fit_exponent(self.sizes, ts) for name, ts in self.series.items()}

    def to_json(self) -> dict[str, Any]:
        return {
            "family": self.family,
            "x_label": self.x_label,
            "sizes": self.sizes,
            "series_s": self.series,
            "exponents": self.exponents,
            "plot": self.plot,
        }


def fit_exponent(sizes: Sequence[float], times: Sequence[float]) -> float:
    """Least-squares slope of ``log t`` on ``log size`` over the finite positive points
    (``nan`` with fewer than two)."""
    x, t = np.asarray(sizes, dtype=float), np.asarray(times, dtype=float)
    ok = np.isfinite(t) & (t > 0) & (x > 0)
    if ok.sum() < 2:
        return math.nan
    return float(np.polyfit(np.log(x[ok]), np.log(t[ok]), 1)[0])


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float | np.floating) or isinstance(b, float | np.floating):
        return math.isclose(float(a), float(b), rel_tol=1e-7, abs_tol=1e-7)
    return bool(np.array_equal(np.asarray(a), np.asarray(b)))


def measure(
    label: str,
    sides: Sequence[Side],
    *,
    repeat: int,
    agree: Callable[[Any, Any], bool] = _same,
    size: dict[str, Any] | None = None,
    note: str = "",
    log: Callable[[str], None] | None = None,
) -> Row:
    """Run ``sides`` (the first is ours) interleaved, ``repeat`` times each; medians.

    After each run the side's answer is compared with ours by ``agree(ours, theirs)``;
    :class:`AnswersDiffer` is raised at the first disagreement.
    """
    if not sides or sides[0].role != "ours":
        raise ValueError("the first side must be ours (role='ours')")
    timings = [Timing(s.name, s.role) for s in sides]
    answers: dict[str, Any] = {}
    reference: Any = None
    for rep in range(repeat):
        k = rep % len(sides)
        for j in list(range(k, len(sides))) + list(range(k)):
            side = sides[j]
            t0 = time.perf_counter()
            result = side.run()
            timings[j].times.append(time.perf_counter() - t0)
            ans = side.answer(result) if side.answer is not None else result
            answers[side.name] = ans
            if j == 0:  # repetition 0 runs ours first, so the reference exists before any other
                reference = ans if rep == 0 else reference
                continue
            if not agree(reference, ans):
                raise AnswersDiffer(
                    f"{label}: {side.name} answered {_short(ans)}, "
                    f"{sides[0].name} {_short(reference)}"
                )
        if log is not None:
            log(
                f"    rep {rep + 1}/{repeat}: "
                + ", ".join(f"{t.name} {t.times[-1]:.4g} s" for t in timings)
            )
    return Row(label, size or {}, timings[0], timings[1:], note, answers)


def format_row(row: Row) -> str:
    """One line: ours, every other side with its ratio, the ratio to the strongest."""
    text = f"  {row.label}: {row.ours.name} {row.ours.median:.4g} s"
    for t in row.others:
        text += f" | {t.name} {t.median:.4g} s ({t.median / row.ours.median:.3g}x)"
    if row.strongest is None:
        return text + " | (no baseline at this size)"
    return text + f" | ratio vs strongest: {row.ratio:.3g}x, answers agree"


def _short(x: Any) -> str:
    text = repr(x)
    return text if len(text) <= 120 else text[:117] + "..."


def scaling(
    family: str,
    x_label: str,
    points: Sequence[tuple[float, Callable[[], Sequence[Side]]]],
    *,
    repeat: int,
    agree: Callable[[Any, Any], bool] = _same,
    log: Callable[[str], None] | None = None,
) -> tuple[Curve, list[Row]]:
    """Measure the sides built by each point's factory (ours first) at every size ``x``.

    A side missing at some size (too slow there) gets ``nan`` at that size.
    """
    names: list[str] = []
    medians: dict[float, dict[str, float]] = {}
    rows = []
    for x, make in points:
        sides = make()
        if log is not None:
            log(f"  {family}: {x_label} = {x:g}")
        row = measure(
            f"{family} {x_label}={x:g}",
            sides,
            repeat=repeat,
            agree=agree,
            size={x_label: x},
            log=log,
        )
        rows.append(row)
        medians[x] = {t.name: t.median for t in [row.ours, *row.others]}
        names += [s.name for s in sides if s.name not in names]
    sizes = list(medians)
    series = {n: [medians[x].get(n, math.nan) for x in sizes] for n in names}
    return Curve(family, x_label, [float(x) for x in sizes], series), rows


def plot_curve(curve: Curve, path: Path) -> None:
    """Log-log plot of every series with its fitted exponent."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for name, ts in curve.series.items():
        t = np.asarray(ts, dtype=float)
        ok = np.isfinite(t)
        b = fit_exponent(curve.sizes, ts)
        ax.loglog(np.asarray(curve.sizes)[ok], t[ok], "o-", label=f"{name} (exponent {b:.2f})")
    ax.set_xlabel(curve.x_label)
    ax.set_ylabel("median time (s)")
    ax.set_title(f"{curve.family}: time against {curve.x_label}")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


@dataclass
class Context:
    """What a case gets: the run mode and helpers bound to it."""

    quick: bool
    repeat: int
    out_dir: Path
    verbose: bool = True
    notes: list[str] = field(default_factory=list)

    def log(self, text: str) -> None:
        if self.verbose:
            print(text, file=sys.stderr, flush=True)

    def note(self, text: str) -> None:
        """A message kept with the case's results (e.g. a peer skipped)."""
        self.notes.append(text)
        self.log(f"  note: {text}")

    def measure(self, label: str, sides: Sequence[Side], **kw: Any) -> Row:
        self.log(f"  {label}")
        kw.setdefault("repeat", self.repeat)
        return measure(label, sides, log=self.log, **kw)

    def scaling(
        self,
        family: str,
        x_label: str,
        points: Sequence[tuple[float, Callable[[], Sequence[Side]]]],
        **kw: Any,
    ) -> tuple[Curve, list[Row]]:
        kw.setdefault("repeat", self.repeat)
        curve, rows = scaling(family, x_label, points, log=self.log, **kw)
        name = family.replace(" ", "_").replace("/", "_") + ".png"
        try:
            plot_curve(curve, self.out_dir / name)
            curve.plot = name
        except ImportError:
            self.note("matplotlib not installed: no plot")
        return curve, rows

    def optional(self, module: str, purpose: str) -> ModuleType | None:
        """Import an optional peer library, or note that it is skipped."""
        try:
            return importlib.import_module(module)
        except ImportError:
            self.note(f"{module} not installed: {purpose} skipped (pip install {module})")
            return None


CaseOutput = list[Row | Curve]


@dataclass(frozen=True)
class Case:
    """A named benchmark: ``run(context)`` returns its rows and curves."""

    name: str
    description: str
    run: Callable[[Context], CaseOutput]


def machine() -> dict[str, Any]:
    """CPU model, cores, memory, OS, Python and library versions."""
    cpu = platform.processor() or platform.machine()
    mem_gb = math.nan
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal"):
                    mem_gb = int(line.split()[1]) / 2**20
                    break
    except OSError:
        pass
    from importlib import metadata

    libs: dict[str, str | None] = {}
    for lib in (
        "mechsolve",
        "numpy",
        "scipy",
        "highspy",
        "ortools",
        "networkx",
        "rustworkx",
        "pygambit",
        "nashpy",
        "matplotlib",
    ):
        try:
            libs[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            libs[lib] = None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(mem_gb, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "libraries": libs,
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }
