"""What every family shares: errors, results and terminations, limits, validation, and the
solver backends (HiGHS, cvxpy)."""
