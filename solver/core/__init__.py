"""What every family shares: errors, results and terminations, limits, validation, and the
solver backends (HiGHS, cvxpy)."""

if __name__ != "mechsolve.solver.core":  # pragma: no cover - the guard itself
    raise ImportError(f"import mechsolve.solver.core, not {__name__!r} (one copy of its types)")
