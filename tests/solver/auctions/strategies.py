"""Hypothesis strategies for small random priors."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from mechsolve.solver.auctions import TypePrior, discrete_marginals


@st.composite
def small_priors(draw: st.DrawFn, n_items: int, max_points: int = 3) -> TypePrior:
    """A product of discrete marginals with 2..max_points distinct values in [0, 1] (on a
    1/20 lattice, so that ties and degenerate cases occur) and random probabilities."""
    values, probs = [], []
    for _ in range(n_items):
        k = draw(st.integers(2, max_points))
        pts = draw(st.lists(st.integers(0, 20), min_size=k, max_size=k, unique=True))
        w = np.array(draw(st.lists(st.integers(1, 5), min_size=k, max_size=k)), dtype=float)
        values.append(np.array(pts) / 20.0)
        probs.append(w / w.sum())
    return discrete_marginals(values, probs)
