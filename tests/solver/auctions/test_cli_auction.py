"""``mechsolve auction`` through the installed console script (subprocess, small grids)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mechsolve.solver.auctions import (
    audit_mechanism,
    first_price_tables,
    optimal_menu,
    uniform_grid,
)

SCRIPT = Path(sys.executable).parent / "mechsolve"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), "auction", *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_menu_text_and_json() -> None:
    """1x2 K=8: the text output names revenue, status, time, rounds and the menu; --json
    carries the same revenue as the library."""
    text = _run("--bidders", "1", "--items", "2", "--grid", "8")
    assert text.returncode == 0, text.stderr
    for word in ("revenue", "status", "OPTIMAL", "solve time", "rounds", "menu (", "verification"):
        assert word in text.stdout
    out = json.loads(_run("--items", "2", "--grid", "8", "--json", "--continuous").stdout)
    assert out["status"] == "OPTIMAL" and out["verification"]["passed"]
    assert out["revenue"] == pytest.approx(optimal_menu(uniform_grid(2, 8)).revenue, abs=1e-9)
    assert out["rounds"] >= 1 and len(out["menu"]) >= 2
    assert out["continuous_revenue"] < out["revenue"]


def test_solve_save_audit_roundtrip(tmp_path: Path) -> None:
    """2x1 DSIC K=6 written with --output audits to zero regret; a first-price table in the
    JSON format audits to the library's positive regret."""
    mech = tmp_path / "dsic.npz"
    res = _run("--bidders", "2", "--items", "1", "--grid", "6", "--output", str(mech))
    assert res.returncode == 0, res.stderr
    audit = json.loads(_run("--audit", str(mech), "--json").stdout)
    assert audit["regret_max"] == 0.0 and audit["revenue"] > 0.4

    prior = uniform_grid(1, 6)
    alloc, pay = first_price_tables(prior, 2)
    fp = tmp_path / "first_price.json"
    fp.write_text(
        json.dumps({"allocation": alloc.tolist(), "payment": pay.tolist(), "lo": 0, "hi": 1})
    )
    out = json.loads(_run("--audit", str(fp), "--json").stdout)
    want = audit_mechanism(alloc, pay, prior)
    assert (
        out["regret_mean"] == pytest.approx(want.regret_mean, abs=1e-12) and out["regret_mean"] > 0
    )
    assert out["witness_bidder"] in (0, 1)


def test_samples_bic_and_errors(tmp_path: Path) -> None:
    """An empirical prior from a CSV (2 bidders, BIC) solves; bad input exits 2 with the
    project's message."""
    csv = tmp_path / "values.csv"
    x = np.random.default_rng(0).integers(0, 5, size=(40, 2)) / 4
    csv.write_text("# v1, v2\n" + "\n".join(f"{a},{b}" for a, b in x))
    out = json.loads(_run("--samples", str(csv), "--bidders", "2", "--bic", "--json").stdout)
    assert out["mode"] == "bic" and out["status"] == "OPTIMAL" and out["verification"]["passed"]
    bad = _run("--grid", "1")
    assert bad.returncode == 2
    assert "uniform_grid(): `points_per_item` must be an integer >= 2; got 1" in bad.stderr
    bad = _run("--constraints", "all")
    assert bad.returncode == 2
    assert "`constraints` must be one of 'generation', 'full'; got 'all'" in bad.stderr
