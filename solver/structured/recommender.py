"""Collaborative filtering by matrix factorization: predicts the known utilities ``U_k`` of the
restaurant game from sparse star ratings (seed 000 section 4.3 and appendix B.1: "a simple
recommender system using collaborative filtering").

Model: ``r_ui ~ mu + b_u + b_i + p_u . q_i`` fitted on the observed ratings only.

- ``"als"`` (default): alternating least squares on
  ``sum_obs (r_ui - mu - b_u - b_i - p_u . q_i)^2 + reg (|p_u|^2 + |q_i|^2 + b_u^2 + b_i^2)``;
  each half-step solves every user's (item's) ``rank x rank`` ridge system at once
  (batched ``numpy.linalg.solve``), biases in closed form in between.
- ``"svd"``: regularized biases as above, then a truncated SVD (``scipy.sparse.linalg.svds``)
  of the residual matrix with unobserved entries at 0.

:func:`known_utilities` turns predictions on the 1..5 star scale into utilities in [0, 1].
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.sparse.linalg import svds

from ..core import validation as v
from ..core.errors import MechsolveInputError

RECOMMENDER_METHODS = ("als", "svd")


@dataclass(frozen=True, eq=False)
class MatrixFactorization:
    """A fitted factorization ``mu + b_u + b_i + P Q^T``.

    Attributes:
        global_mean: ``mu``, the mean observed rating.
        user_bias, item_bias: ``b_u`` (n_users,), ``b_i`` (n_items,).
        user_factors, item_factors: ``P`` (n_users, rank), ``Q`` (n_items, rank).
        method: ``"als"`` or ``"svd"``.
        train_rmse: root-mean-square error on the observed ratings.
    """

    global_mean: float
    user_bias: NDArray[np.float64]
    item_bias: NDArray[np.float64]
    user_factors: NDArray[np.float64]
    item_factors: NDArray[np.float64]
    method: str
    train_rmse: float

    def predict(self) -> NDArray[np.float64]:
        """Predicted ratings for every (user, item), shape ``(n_users, n_items)``."""
        return (
            self.global_mean
            + self.user_bias[:, None]
            + self.item_bias[None, :]
            + self.user_factors @ self.item_factors.T
        )


def _ratings(fn: str, ratings: Any) -> sp.csr_array:
    """Observed ratings as CSR: a sparse matrix's stored entries, or a dense array's non-NaN."""
    if sp.issparse(ratings):
        r = sp.csr_array(ratings, dtype=np.float64)
        r.sum_duplicates()
        v.float_array(fn, "ratings.data", r.data, allow_empty=True)
    else:
        try:
            raw = np.asarray(ratings, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise MechsolveInputError(fn, "ratings", "must be a numeric matrix") from exc
        if raw.ndim != 2:
            raise MechsolveInputError(fn, "ratings", f"must have 2 dimensions; got {raw.shape}")
        v.float_array(fn, "ratings", np.nan_to_num(raw, nan=0.0, posinf=np.inf, neginf=-np.inf))
        rows, cols = np.nonzero(~np.isnan(raw))
        r = sp.csr_array((raw[rows, cols], (rows, cols)), shape=raw.shape)
    if r.nnz == 0:
        raise MechsolveInputError(fn, "ratings", f"must contain observed ratings; got {r.shape}")
    return r


def _biases(
    coo: sp.coo_array,
    target: NDArray[np.float64],
    reg: float,
    b_u: NDArray[np.float64],
    rounds: int,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Regularized biases fitting ``target ~ b_u + b_i`` on the observed entries
    (alternating closed-form updates, starting from ``b_u``)."""
    rows, cols = coo.row, coo.col
    n_u = np.bincount(rows, minlength=coo.shape[0]) + reg
    n_i = np.bincount(cols, minlength=coo.shape[1]) + reg
    b_i = np.zeros(coo.shape[1])
    for _ in range(rounds):
        b_i = np.bincount(cols, weights=target - b_u[rows], minlength=coo.shape[1]) / n_i
        b_u = np.bincount(rows, weights=target - b_i[cols], minlength=coo.shape[0]) / n_u
    return b_u, b_i


def _ridge_rows(
    mask: sp.csr_array, resid: sp.csr_array, other: NDArray[np.float64], reg: float
) -> NDArray[np.float64]:
    """For every row u: ``argmin_p sum_{i obs} (resid_ui - p . other_i)^2 + reg |p|^2``."""
    k = other.shape[1]
    outer = (other[:, :, None] * other[:, None, :]).reshape(len(other), k * k)
    gram = (mask @ outer).reshape(mask.shape[0], k, k) + reg * np.eye(k)
    rhs = resid @ other
    return np.linalg.solve(gram, rhs[:, :, None])[:, :, 0]


def fit_matrix_factorization(
    ratings: Any,
    *,
    rank: int = 10,
    method: str = "als",
    reg: float = 0.1,
    iterations: int = 15,
    seed: Any = None,
) -> MatrixFactorization:
    """Fit ``mu + b_u + b_i + P Q^T`` to the observed ``ratings`` (users x items).

    ``ratings``: a scipy sparse matrix whose stored entries are the observations, or a dense
    array with NaN for unobserved entries. ``rank`` is capped at ``min(shape) - 1``.
    """
    fn = "fit_matrix_factorization"
    r = _ratings(fn, ratings)
    k = v.positive_int(fn, "rank", rank)
    method = v.choice(fn, "method", method, RECOMMENDER_METHODS)
    lam = v.real(fn, "reg", reg, min_value=0.0, min_exclusive=True)
    iters = v.positive_int(fn, "iterations", iterations)
    gen = v.rng(fn, seed)
    k = max(1, min(k, min(r.shape) - 1))
    coo = r.tocoo()
    rows, cols, vals = coo.row, coo.col, coo.data
    mu = float(vals.mean())
    b_u, b_i = _biases(coo, vals - mu, lam, np.zeros(r.shape[0]), rounds=10)
    mask = sp.csr_array((np.ones(len(vals)), (rows, cols)), shape=r.shape)
    mask_t = mask.T.tocsr()
    if min(r.shape) < 2:  # one user or one item: the biases say it all
        p, q = np.zeros((r.shape[0], 1)), np.zeros((r.shape[1], 1))
    elif method == "svd":
        resid = sp.csr_array((vals - mu - b_u[rows] - b_i[cols], (rows, cols)), shape=r.shape)
        u, s, vt = svds(resid, k=k, random_state=gen)
        p, q = u * np.sqrt(s), vt.T * np.sqrt(s)
    else:
        p = 0.1 * gen.standard_normal((r.shape[0], k))
        q = 0.1 * gen.standard_normal((r.shape[1], k))
        for _ in range(iters):
            base = vals - mu - b_u[rows] - b_i[cols]
            p = _ridge_rows(mask, sp.csr_array((base, (rows, cols)), shape=r.shape), q, lam)
            q = _ridge_rows(mask_t, sp.csr_array((base, (cols, rows)), shape=r.shape[::-1]), p, lam)
            dot = np.einsum("ij,ij->i", p[rows], q[cols])
            b_u, b_i = _biases(coo, vals - mu - dot, lam, b_u, rounds=1)
    fit = mu + b_u[rows] + b_i[cols] + np.einsum("ij,ij->i", p[rows], q[cols])
    rmse = math.sqrt(float(np.mean((fit - vals) ** 2)))
    return MatrixFactorization(mu, b_u, b_i, p, q, method, rmse)


def known_utilities(
    predictions: Any, *, low: float = 1.0, high: float = 5.0
) -> NDArray[np.float64]:
    """Predicted ratings clipped to ``[low, high]`` and scaled to utilities in [0, 1]."""
    fn = "known_utilities"
    lo = v.real(fn, "low", low)
    hi = v.real(fn, "high", high, min_value=lo, min_exclusive=True)
    pred = v.float_array(fn, "predictions", predictions, ndim=2)
    return (np.clip(pred, lo, hi) - lo) / (hi - lo)
