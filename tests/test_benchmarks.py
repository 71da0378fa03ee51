"""The benchmark suite runs in ``--quick`` form and every comparison's answers agree.

No timing is asserted (issue 16): only that ``python -m benchmarks --quick`` exits 0, that
every suite case either ran or was skipped with a message (a missing optional peer), that the
families of the issue are measured, and that every measured row checked its answers.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_quick_suite_runs_and_answers_agree(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--no-progress", "--out", str(tmp_path),
         "--markdown", str(tmp_path / "results.md")],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = json.loads((tmp_path / "results.json").read_text())
    status = {c["name"]: c["status"] for c in results["cases"]}
    assert set(status.values()) <= {"ok", "skipped"}, status
    for c in results["cases"]:
        if c["status"] == "skipped":
            assert c["notes"], f"{c['name']} skipped without saying why"
    for family in ("restaurant", "mediators", "auctions"):
        ran = [n for n, s in status.items() if n.startswith(family + ".") and s == "ok"]
        assert ran, f"no {family} case ran: {status}"
    rows = [r for c in results["cases"] for r in c["rows"]]
    assert rows and all(r["answers_agree"] for r in rows)
    assert all(r["ours"]["times_s"] and len(r["ours"]["times_s"]) == results["repeat"]
               for r in rows)  # fmt: skip
    curves = [cv for c in results["cases"] for cv in c["curves"]]
    assert curves and all(len(cv["sizes"]) >= 2 for cv in curves)
    assert "| case |" in (tmp_path / "results.md").read_text()


def test_suite_lists_every_case() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--list"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    names = [line.split()[0] for line in proc.stdout.splitlines() if line.strip()]
    for expected in (
        "restaurant.pareto_zipf",
        "mediators.game",
        "auctions.cg_vs_full",
        "mediators.batch_scaling",
        "restaurant.scaling",
    ):
        assert expected in names


def test_harness_fails_loudly_when_answers_differ() -> None:
    sys.path.insert(0, str(ROOT))
    from benchmarks.harness import AnswersDiffer, Side, fit_exponent, measure

    calls: list[str] = []

    def side(name: str, value: float) -> Side:
        def run() -> float:
            calls.append(name)
            return value

        return Side(name, run, "ours" if name == "a" else "strong")

    row = measure("same", [side("a", 1.0), side("b", 1.0), side("c", 1.0)], repeat=3)
    assert len(row.ours.times) == 3 and all(len(t.times) == 3 for t in row.others)
    # interleaved: repetition r starts at side r (mod 3)
    assert calls == ["a", "b", "c", "b", "c", "a", "c", "a", "b"]
    try:
        measure("differ", [side("a", 1.0), side("b", 2.0)], repeat=1)
    except AnswersDiffer as exc:
        assert "b answered 2.0" in str(exc)
    else:
        raise AssertionError("answers that differ were not reported")
    assert abs(fit_exponent([1, 10, 100], [2.0, 200.0, 20000.0]) - 2.0) < 1e-9
