"""Exact incentive audit of any auction given as tables on a grid (or as a Python callable).

For a mechanism ``(allocation[t, i, j], payment[t, i])`` on the product of the bidders' type
sets (SPEC section 6; seed 004, first study), with ``u_i(s; t) = allocation[s, i] . t_i -
payment[s, i]`` the utility of bidder ``i`` with true type ``t_i`` when the reports are ``s``:

- revenue ``= sum_t f(t) sum_i payment[t, i]``;
- ex-post regret (RegretNet, Duetting et al. 2019): ``rgt_i(t) = max_{s_i} u_i(s_i, t_-i; t) -
  u_i(t; t)`` over every type ``s_i`` of bidder ``i`` (the others truthful); reported as
  ``E[rgt_i]`` per bidder, their mean over bidders (RegretNet's number) and the maximum, with the
  profile and misreport attaining it;
- IR: negative ex-post utilities ``u_i(t; t) < 0``;
- supply: ``sum_i allocation[t, i, j] > 1`` or allocations outside ``[0, 1]`` (and
  ``sum_j allocation[t, i, j] > 1`` for unit-demand bidders).

The scan is exact: every profile and every misreport, vectorized and chunked.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..core import validation as v
from ..core.errors import MechsolveInputError
from ..core.limits import Limits, resolve
from .arguments import bidder_priors, check_profiles, flag
from .priors import MAX_VALUE, TypePrior, profile_probs
from .results import AuctionResult, AuditReport, MenuResult
from .separation import best_deviation

REGRET_CONVENTION = (
    "ex-post regret of bidder i at profile t: the largest utility gain from reporting any "
    "other type of its type set while the others report truthfully; regret_mean = (1/n) "
    "sum_i E_t[rgt_i(t)] (RegretNet's reported regret), regret_max = max over i and t"
)

Mechanism = Callable[[NDArray[np.float64]], tuple[Any, Any]]
"""``bids (B, n, m) -> (allocation (B, n, m), payment (B, n))``."""


def bidder_menus(
    allocation: NDArray[np.float64], payment: NDArray[np.float64], i: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Bidder ``i``'s menus: ``alloc[r, s]`` (``(R, T_i, m)``) and ``pay[r, s]`` (``(R, T_i)``)
    when the others report profile ``r`` (C order over the other bidders) and ``i`` reports
    ``s``."""
    n = payment.ndim - 1
    t_i = payment.shape[i]
    a = np.moveaxis(allocation[..., i, :], i, n - 1)
    p = np.moveaxis(payment[..., i], i, n - 1)
    return a.reshape(-1, t_i, allocation.shape[-1]), p.reshape(-1, t_i)


def audit_mechanism(
    allocation: Any,
    payment: Any,
    priors: Any,
    *,
    unit_demand: bool = False,
    tolerance: float = 1e-9,
    limits: Limits | None = None,
) -> AuditReport:
    """Audit tables ``allocation (T_1, ..., T_n, n, m)`` and ``payment (T_1, ..., T_n, n)`` on
    ``priors`` (one :class:`TypePrior` for i.i.d. bidders, or one per bidder).

    Values of at most ``tolerance`` are reported as 0 (rounding noise of LP solutions).
    """
    fn = "audit_mechanism"
    pay = v.float_array(
        fn, "payment", payment, allow_empty=False, min_value=-MAX_VALUE, max_value=MAX_VALUE
    )
    if pay.ndim < 2:
        raise MechsolveInputError(
            fn, "payment", f"must have shape (T_1, ..., T_n, n); got {pay.shape}"
        )
    n = pay.shape[-1]
    ps = bidder_priors(fn, priors, n if isinstance(priors, TypePrior) else None)
    if len(ps) != n or pay.ndim != n + 1:
        raise MechsolveInputError(
            fn,
            "payment",
            f"must have shape (T_1, ..., T_n, n) for {len(ps)} bidders; got {pay.shape}",
        )
    lim = resolve(limits)
    check_profiles(fn, ps, lim, interim=False)
    shape = tuple(p.n_types for p in ps)
    m = ps[0].n_items
    alloc = v.float_array(fn, "allocation", allocation, shape=(*shape, n, m))
    v.float_array(fn, "payment", pay, shape=(*shape, n))
    ud = flag(fn, "unit_demand", unit_demand)
    tol = v.real(fn, "tolerance", tolerance, min_value=0.0)
    return _audit(alloc, pay, ps, ud, tol)


def _audit(
    alloc: NDArray[np.float64],
    pay: NDArray[np.float64],
    ps: tuple[TypePrior, ...],
    unit_demand: bool,
    tol: float,
) -> AuditReport:
    n = len(ps)
    shape = tuple(p.n_types for p in ps)
    prob = profile_probs(ps)
    mean_i = np.zeros(n)
    max_i = np.zeros(n)
    witness: tuple[int, NDArray[np.int64], int] = (-1, np.empty(0, np.int64), -1)
    worst = 0.0
    negative = np.zeros(shape, dtype=np.bool_)
    ir_max = 0.0
    for i, p in enumerate(ps):
        a_i, p_i = bidder_menus(alloc, pay, i)  # (R, T_i, m), (R, T_i)
        best, arg = best_deviation(p.values, a_i, p_i)
        truthful = np.einsum("rtm,tm->rt", a_i, p.values) - p_i
        regret = np.maximum(best - truthful, 0.0)
        regret[regret <= tol] = 0.0
        w = np.moveaxis(prob, i, n - 1).reshape(regret.shape)
        mean_i[i] = float((w * regret).sum())
        k = int(regret.argmax())
        max_i[i] = float(regret.flat[k])
        if max_i[i] > worst:
            worst = float(max_i[i])
            r, a = divmod(k, shape[i])
            others = np.unravel_index(r, shape[:i] + shape[i + 1 :]) if n > 1 else ()
            profile = np.array([*others[:i], a, *others[i:]], dtype=np.int64)
            witness = (i, profile, int(arg.flat[k]))
        util = np.moveaxis(truthful.reshape(*shape[:i], *shape[i + 1 :], shape[i]), n - 1, i)
        negative |= util < -tol
        ir_max = max(ir_max, float(-util.min()))
    supply = max(
        float(alloc.sum(axis=-2).max(initial=0.0)) - 1.0,
        -float(alloc.min(initial=0.0)),
        float(alloc.max(initial=0.0)) - 1.0,
    )
    if unit_demand:
        supply = max(supply, float(alloc.sum(axis=-1).max(initial=0.0)) - 1.0)
    revenue = float((pay.sum(axis=-1) * prob).sum())
    return AuditReport(
        revenue=revenue,
        regret_mean=float(mean_i.mean()),
        regret_per_bidder=mean_i,
        regret_max_per_bidder=max_i,
        regret_max=worst,
        witness_bidder=witness[0],
        witness_profile=witness[1],
        witness_report=witness[2],
        ir_violation_max=ir_max if ir_max > tol else 0.0,
        ir_violation_mass=float(prob[negative].sum()),
        supply_violation_max=supply if supply > tol else 0.0,
        tolerance=tol,
        convention=REGRET_CONVENTION,
    )


def audit_callable(
    mechanism: Mechanism,
    priors: Any,
    n_bidders: int | None = None,
    *,
    unit_demand: bool = False,
    batch_size: int = 65_536,
    tolerance: float = 1e-9,
    limits: Limits | None = None,
) -> AuditReport:
    """Audit an in-process mechanism ``bids (B, n, m) -> (allocation (B, n, m), payment
    (B, n))`` (e.g. a RegretNet forward pass) on every profile of the grid, in batches."""
    fn = "audit_callable"
    if not callable(mechanism):
        raise MechsolveInputError(fn, "mechanism", f"must be callable; got {mechanism!r}")
    ps = bidder_priors(fn, priors, n_bidders)
    lim = resolve(limits)
    check_profiles(fn, ps, lim, interim=False)
    bs = v.positive_int(fn, "batch_size", batch_size)
    shape = tuple(p.n_types for p in ps)
    n, m, total = len(ps), ps[0].n_items, math.prod(shape)
    idx = np.unravel_index(np.arange(total), shape)
    bids = np.stack([p.values[idx[i]] for i, p in enumerate(ps)], axis=1)  # (P, n, m)
    alloc = np.empty((total, n, m))
    pay = np.empty((total, n))
    for s in range(0, total, bs):
        out = mechanism(bids[s : s + bs].copy())
        if not isinstance(out, tuple) or len(out) != 2:
            raise MechsolveInputError(
                fn, "mechanism", f"must return (allocation, payment); got {type(out).__name__}"
            )
        k = min(bs, total - s)
        alloc[s : s + k] = v.float_array(fn, "mechanism(...)[0]", out[0], shape=(k, n, m))
        pay[s : s + k] = v.float_array(fn, "mechanism(...)[1]", out[1], shape=(k, n))
    return _audit(
        alloc.reshape(*shape, n, m),
        pay.reshape(*shape, n),
        ps,
        flag(fn, "unit_demand", unit_demand),
        v.real(fn, "tolerance", tolerance, min_value=0.0),
    )


def result_tables(
    function: str, result: AuctionResult | MenuResult
) -> tuple[NDArray[np.float64], NDArray[np.float64], tuple[TypePrior, ...], bool]:
    """``(allocation, payment, priors, unit_demand)`` of a solved menu (one bidder) or auction."""
    if isinstance(result, MenuResult):
        alloc, pay = result.allocation[:, None, :], result.payment[:, None]
        return alloc, pay, (result.prior,), result.unit_demand
    if isinstance(result, AuctionResult):
        return result.allocation, result.payment, result.priors, result.unit_demand
    raise MechsolveInputError(
        function, "result", f"must be a MenuResult or AuctionResult; got {type(result).__name__}"
    )


def audit_result(result: AuctionResult | MenuResult, *, tolerance: float = 1e-7) -> AuditReport:
    """Audit a solver result on its own grid (a menu is a one-bidder mechanism)."""
    alloc, pay, ps, ud = result_tables("audit_result", result)
    if pay.size == 0:
        raise MechsolveInputError(
            "audit_result",
            "result",
            f"has no mechanism (termination {result.termination.reason.value})",
        )
    return _audit(alloc, pay, ps, ud, tolerance)
