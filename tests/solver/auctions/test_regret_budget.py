"""Revenue at a regret budget."""

from __future__ import annotations

import numpy as np
import pytest

from mechsolve.solver.auctions import (
    audit_result,
    optimal_dsic_auction,
    regret_budget_auction,
    regret_budget_curve,
    uniform_grid,
)


def test_zero_budget_is_dsic() -> None:
    """epsilon = 0 reproduces the DSIC optimum (2x1, K=8, 1e-9)."""
    prior = uniform_grid(1, 8)
    assert regret_budget_auction(prior, 2, epsilon=0.0).revenue == pytest.approx(
        optimal_dsic_auction(prior, 2).revenue, abs=1e-9
    )


@pytest.mark.parametrize(("n", "m", "k"), [(1, 2, 8), (2, 2, 5)])
def test_curve_is_monotone_and_within_budget(n: int, m: int, k: int) -> None:
    """Revenue grows with the budget; the audited mean regret never exceeds it (1e-9), and a
    positive budget is used (regret > 0, revenue above DSIC)."""
    curve = regret_budget_curve(uniform_grid(m, k), n, epsilons=(0.0, 1e-4, 1e-3))
    revenues = [r.revenue for r in curve]
    assert np.all(np.diff(revenues) > 0)
    for r in curve:
        assert r.verification.passed
        rep = audit_result(r, tolerance=1e-12)
        assert rep.regret_mean <= r.regret_budget + 1e-9
        assert rep.ir_violation_max == 0.0 and rep.supply_violation_max == 0.0
    assert audit_result(curve[-1]).regret_mean > 0.5e-3
