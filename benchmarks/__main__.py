"""Run the benchmark suite: ``python -m benchmarks [NAME ...] [--quick] [--list]``.

NAME is a case (``restaurant.pareto_zipf``) or a module's prefix (``restaurant``). Each case
prints its figure beside its strongest baseline and the ratio, measured side by side
(interleaved, the same repetitions, medians) with the answers checked; the results go to
JSON (``--out``), a Markdown table (``--markdown``) and one PNG per scaling curve. Exit
status 1 if any answers differ or a case fails.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from benchmarks.harness import (
    AnswersDiffer,
    Case,
    Context,
    Curve,
    Row,
    Skip,
    format_row,
    machine,
)

ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"


def _script_case(module: str, path: Path, error: str | None) -> Case:
    """A module without ``SUITE_CASES``: run as a script (not in ``--quick``)."""

    def run(ctx: Context) -> list[Row | Curve]:
        if error is not None:
            raise Skip(f"cannot import: {error}")
        if ctx.quick:
            raise Skip("a standalone script: run by name or in the full suite")
        proc = subprocess.run(
            [sys.executable, str(path)], cwd=ROOT, capture_output=True, text=True, check=False
        )
        ctx.notes.append(proc.stdout[-4000:])
        if proc.returncode != 0:
            raise RuntimeError(f"exit {proc.returncode}: {proc.stderr[-2000:]}")
        return []

    return Case(f"{module}.script", f"python benchmarks/{path.name} (its own output)", run)


def discover() -> list[Case]:
    """Every ``benchmarks/bench_*.py``: its ``SUITE_CASES``, or the module as a script."""
    cases: list[Case] = []
    for path in sorted((ROOT / "benchmarks").glob("bench_*.py")):
        module = path.stem.removeprefix("bench_")
        try:
            mod = importlib.import_module(f"benchmarks.{path.stem}")
        except Exception as exc:  # a missing optional peer must not stop the suite
            cases.append(_script_case(module, path, f"{type(exc).__name__}: {exc}"))
            continue
        found = getattr(mod, "SUITE_CASES", None)
        cases += list(found or [])
        if not found or getattr(mod, "SUITE_SCRIPT", False):
            cases.append(_script_case(module, path, None))
    return cases


def select(cases: list[Case], names: list[str]) -> list[Case]:
    if not names:
        return cases
    chosen = [c for c in cases if any(c.name == n or c.name.startswith(n + ".") for n in names)]
    unknown = [
        n for n in names if not any(c.name == n or c.name.startswith(n + ".") for c in cases)
    ]
    if unknown:
        raise SystemExit(f"unknown benchmark(s): {', '.join(unknown)} (see --list)")
    return chosen


def run_case(case: Case, ctx: Context) -> dict[str, Any]:
    t0 = time.perf_counter()
    out: dict[str, Any] = {"name": case.name, "description": case.description}
    try:
        items = case.run(ctx)
        out["status"] = "ok"
    except Skip as exc:
        items, out["status"] = [], "skipped"
        ctx.note(f"skipped: {exc}")
    except AnswersDiffer as exc:
        items, out["status"] = [], "ANSWERS DIFFER"
        ctx.note(str(exc))
    except Exception as exc:  # report and go on; the exit status says it failed
        items, out["status"] = [], "error"
        ctx.note(f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")
    out["rows"] = [r.to_json() for r in items if isinstance(r, Row)]
    out["curves"] = [c.to_json() for c in items if isinstance(c, Curve)]
    out["notes"] = list(ctx.notes)
    out["wall_s"] = time.perf_counter() - t0
    for r in items:
        if isinstance(r, Row):
            print(format_row(r), flush=True)
        else:
            print(
                f"  scaling {r.family} vs {r.x_label}: "
                + ", ".join(f"{k} exponent {b:.2f}" for k, b in r.exponents.items()),
                flush=True,
            )
    return out


def _fmt_s(x: float) -> str:
    if not math.isfinite(x):
        return "-"
    return f"{x * 1e3:.1f} ms" if x < 1 else f"{x:.2f} s"


def markdown(results: dict[str, Any]) -> str:
    """The measured section of docs/benchmarks.md."""
    m = results["machine"]
    libs = ", ".join(f"{k} {v}" for k, v in m["libraries"].items() if v)
    lines = [
        BEGIN,
        f"Measured {results['date']} by `{results['command']}` in {results['wall_s']:.0f} s "
        f"({'quick' if results['quick'] else 'full'} run, {results['repeat']} repetitions per "
        "side, medians).",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB, {m['os']}, Python "
        f"{m['python']}; {libs}. Load average at the start: "
        f"{', '.join(f'{x:.2f}' for x in m['load_average'] or [])} (the machine was shared).",
        "",
        "| case | size | ours | strongest baseline | ratio | other baselines and peers |",
        "|---|---|---|---|---|---|",
    ]
    for c in results["cases"]:
        for r in c["rows"]:
            s = next((t for t in r["others"] if t["name"] == r["strongest"]), None)
            others = "; ".join(
                f"{t['name']} {_fmt_s(t['median_s'])} ({t['ratio']:.3g}x)"
                for t in r["others"]
                if t["name"] != r["strongest"]
            )
            size = ", ".join(
                f"{k} {v:,}" if isinstance(v, int) else f"{k} {v:g}" for k, v in r["size"].items()
            )
            lines.append(
                f"| {c['name']}: {r['label']} | {size} | {r['ours']['name']} "
                f"{_fmt_s(r['ours']['median_s'])} | "
                + (f"{s['name']} {_fmt_s(s['median_s'])}" if s else "-")
                + (f" | **{r['ratio']:.3g}x**" if s else " | -")
                + f" | {others or '-'} |"
            )
    lines += [
        "",
        "Scaling (time ~ size^b, least squares on log-log):",
        "",
        "| family | size | sizes | exponent b per method | plot |",
        "|---|---|---|---|---|",
    ]
    for c in results["cases"]:
        for cv in c["curves"]:
            ex = "; ".join(f"{k}: {b:.2f}" for k, b in cv["exponents"].items())
            sizes = ", ".join(f"{x:g}" for x in cv["sizes"])
            plot = f"[{cv['plot']}](../out/benchmarks/{cv['plot']})" if cv["plot"] else "-"
            lines.append(f"| {cv['family']} | {cv['x_label']} | {sizes} | {ex} | {plot} |")
    lines += ["", "Cases not measured:", ""]
    skipped = [c for c in results["cases"] if c["status"] != "ok"]
    lines += [
        f"- {c['name']}: {c['status']}: {c['notes'][-1].splitlines()[0] if c['notes'] else ''}"
        for c in skipped
    ] or ["- none"]
    notes = [
        (c["name"], n)
        for c in results["cases"]
        if c["status"] == "ok"
        for n in c["notes"]
        if not n.startswith("\n") and len(n) < 300
    ]
    if notes:
        lines += ["", "Notes:", ""] + [f"- {name}: {n}" for name, n in notes]
    return "\n".join([*lines, END, ""])


def write_markdown(path: Path, section: str) -> None:
    """Replace the measured section of ``path`` (between the markers), or write a new file."""
    if path.exists():
        text = path.read_text()
        if BEGIN in text and END in text:
            head, rest = text.split(BEGIN, 1)
            path.write_text(head + section.rstrip("\n") + rest.split(END, 1)[1])
            return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# Benchmarks\n\n" + section)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    ap.add_argument("names", nargs="*", help="cases or module prefixes (default: every case)")
    ap.add_argument("--quick", action="store_true", help="small sizes, 2 repetitions: checks only")
    ap.add_argument("--list", action="store_true", help="list the cases and exit")
    ap.add_argument("--repeat", type=int, default=None, help="repetitions per side (default 3)")
    ap.add_argument(
        "--out",
        type=Path,
        default=None,
        help="folder of results.json and the plots (default out/benchmarks; out/benchmarks/quick "
        "with --quick)",
    )
    ap.add_argument(
        "--markdown",
        type=Path,
        default=None,
        help="Markdown table (default: docs/benchmarks.md for a full run of every "
        "case, else OUT/results.md)",
    )
    ap.add_argument(
        "--no-scripts",
        action="store_true",
        help="leave out the standalone scripts (modules without SUITE_CASES)",
    )
    ap.add_argument("--no-progress", action="store_true", help="no progress lines on stderr")
    a = ap.parse_args(argv)
    cases = select(discover(), a.names)
    if a.no_scripts:
        cases = [c for c in cases if not c.name.endswith(".script")]
    if a.list:
        for c in cases:
            print(f"{c.name:32s} {c.description}")
        return 0
    repeat = a.repeat or (2 if a.quick else 3)
    if a.out is None:
        a.out = ROOT / "out" / "benchmarks" / ("quick" if a.quick else "")
    full = not a.quick and not a.names
    md_path = a.markdown or (ROOT / "docs" / "benchmarks.md" if full else a.out / "results.md")
    a.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    results: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "command": "python -m benchmarks " + " ".join(argv if argv is not None else sys.argv[1:]),
        "quick": a.quick,
        "repeat": repeat,
        "machine": machine(),
        "cases": [],
    }
    for i, case in enumerate(cases, 1):
        print(f"[{i}/{len(cases)}] {case.name}: {case.description}", flush=True)
        ctx = Context(a.quick, repeat, a.out, verbose=not a.no_progress)
        results["cases"].append(run_case(case, ctx))
        print(
            f"  ... {results['cases'][-1]['status']} in {results['cases'][-1]['wall_s']:.1f} s",
            flush=True,
        )
    results["wall_s"] = time.perf_counter() - t0
    (a.out / "results.json").write_text(json.dumps(results, indent=1, default=float))
    write_markdown(md_path, markdown(results))
    bad = [c["name"] for c in results["cases"] if c["status"] not in ("ok", "skipped")]
    print(f"results: {a.out / 'results.json'}, table: {md_path}")
    if bad:
        print(f"FAILED: {', '.join(bad)}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
