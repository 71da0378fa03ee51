"""AuctionService over a real socket: every RPC returns what the in-process solver returns
(menus, DSIC, BIC, regret budgets, audits, evaluations, extrapolation on small grids); a time or
row limit comes back as a termination, never as an error; bad requests get INVALID_ARGUMENT or
RESOURCE_EXHAUSTED naming the field (hostile sizes before anything of that size is built), and
the server keeps serving; ``mechsolve auction --address`` solves on the server."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import math
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status

from mechsolve import codec
from mechsolve.api import RPCS, Rpc
from mechsolve.client import (
    AsyncMechsolveClient,
    LocalMechsolve,
    MechsolveClient,
    MechsolveRpcError,
    RemoteInputError,
    RemoteProblemTooLargeError,
)
from mechsolve.server.app import RunningServer, build_server, free_port
from mechsolve.server.config import ServerConfig
from mechsolve.solver.auctions import (
    AuctionResult,
    Incentive,
    InterimAuctionResult,
    MenuResult,
    PriorKind,
    TypePrior,
    audit_result,
    discrete_marginals,
    empirical_prior,
    first_price_tables,
    second_price_tables,
    uniform_grid,
)
from mechsolve.solver.core.errors import MechsolveInputError
from mechsolve.solver.core.results import Limit, TerminationReason
from mechsolve.v1 import auctions_pb2 as apb
from mechsolve.v1 import auctions_pb2_grpc as agrpc
from mechsolve.v1 import common_pb2 as cpb

from ..conftest import TEST_LIMITS

SERVICE = "mechsolve.v1.AuctionService"
LOCAL = LocalMechsolve(limits=TEST_LIMITS)
RPC: dict[str, Rpc] = {r.name: r for r in RPCS if isinstance(r, Rpc) and r.service == SERVICE}
TIMINGS = {"wall_time_s", "lp_time_s", "separation_time_s"}

G1x5 = uniform_grid(1, 5)
G2x5 = uniform_grid(2, 5)
G2x3 = uniform_grid(2, 3)
G2x4 = uniform_grid(2, 4)
EMPIRICAL = empirical_prior(np.random.default_rng(0).integers(0, 4, (40, 2)) / 4.0)
DISCRETE = discrete_marginals([[0.0, 1.0, 2.0], [0.5, 1.5]], [[0.2, 0.3, 0.5], [0.5, 0.5]])


def assert_same(remote: Any, local: Any, where: str = "result") -> None:
    """Every field equal, recursively (arrays with their dtype and shape, priors by content,
    kind, grid shape and box, nan == nan), timings aside; a remote wall time is positive."""
    assert type(remote) is type(local), f"{where}: {type(remote)} != {type(local)}"
    if isinstance(local, tuple | list):
        assert len(remote) == len(local), where
        for i, (a, b) in enumerate(zip(remote, local, strict=True)):
            assert_same(a, b, f"{where}[{i}]")
    elif isinstance(local, TypePrior):
        assert remote.same_as(local), where
        assert (remote.kind, remote.grid_shape) == (local.kind, local.grid_shape), where
        np.testing.assert_equal((remote.lo, remote.hi), (local.lo, local.hi), err_msg=where)
    elif isinstance(local, np.ndarray):
        assert remote.dtype == local.dtype, f"{where}: {remote.dtype} != {local.dtype}"
        np.testing.assert_array_equal(remote, local, err_msg=where)
    elif dataclasses.is_dataclass(local):
        for f in dataclasses.fields(local):
            if f.name in TIMINGS:
                if f.name == "wall_time_s":
                    assert getattr(remote, f.name) > 0, where
                continue
            assert_same(getattr(remote, f.name), getattr(local, f.name), f"{where}.{f.name}")
    elif isinstance(local, float) and math.isnan(local):
        assert isinstance(remote, float) and math.isnan(remote), f"{where}: {remote!r}"
    else:
        assert remote == local, f"{where}: {remote!r} != {local!r}"


# ---------------------------------------------------------------------------------------------
# Same answers as in-process
# ---------------------------------------------------------------------------------------------
SOLVES = [
    pytest.param("optimal_menu", (uniform_grid(1, 5),), {}, id="menu-1x1-K5"),
    pytest.param("optimal_menu", (G2x5,), {}, id="menu-1x2-K5"),
    pytest.param(
        "optimal_menu", (uniform_grid(2, 4, points="corner", lo=1, hi=3),), {}, id="menu-corner"
    ),
    pytest.param("optimal_menu", (G2x4,), {"unit_demand": True}, id="menu-unit-demand"),
    pytest.param("optimal_menu", (G2x4,), {"constraints": "full"}, id="menu-full-lp"),
    pytest.param("optimal_menu", (G2x4,), {"symmetry": False}, id="menu-no-symmetry"),
    pytest.param("optimal_menu", (EMPIRICAL,), {}, id="menu-empirical"),
    pytest.param("optimal_menu", (DISCRETE,), {}, id="menu-discrete"),
    pytest.param("optimal_dsic_auction", (G2x3, 2), {}, id="dsic-2x2-K3"),
    pytest.param("optimal_dsic_auction", (uniform_grid(1, 6), 2), {}, id="dsic-2x1-K6"),
    pytest.param(
        "optimal_dsic_auction", ([G2x3, uniform_grid(2, 3, hi=2)],), {}, id="dsic-asymmetric"
    ),
    pytest.param("optimal_dsic_auction", (G2x3, 2), {"unit_demand": True}, id="dsic-unit-demand"),
    pytest.param(
        "optimal_dsic_auction",
        (G2x3, 2),
        {"constraints": "full", "symmetry": False},
        id="dsic-full-no-symmetry",
    ),
    pytest.param("optimal_bic_auction", (G2x4, 2), {}, id="bic-2x2-K4"),
    pytest.param("optimal_bic_auction", ([EMPIRICAL, DISCRETE],), {}, id="bic-mixed-priors"),
    pytest.param("optimal_bic_auction", (G2x3, 3), {"symmetry": False}, id="bic-no-symmetry"),
    pytest.param("regret_budget_auction", (G2x3, 2), {"epsilon": 1e-3}, id="regret-budget"),
    pytest.param("regret_budget_curve", (uniform_grid(1, 4), 2), {}, id="regret-budget-curve"),
    pytest.param(
        "regret_budget_curve",
        (G2x3, 2),
        {"epsilons": [0.0, 0.01], "constraints": "full"},
        id="regret-budget-curve-full",
    ),
    pytest.param("extrapolate_optimum", (1, 1, (5, 10)), {}, id="extrapolate-1x1"),
    pytest.param(
        "extrapolate_optimum", (2, 1, (3, 6)), {"points": "corner"}, id="extrapolate-corner"
    ),
    pytest.param("extrapolate_optimum", (1, 2, (3, 5)), {}, id="extrapolate-2-bidders"),
]


@pytest.mark.parametrize(("method", "args", "kw"), SOLVES)
def test_solves_match_in_process(
    client: MechsolveClient, method: str, args: tuple, kw: dict
) -> None:
    remote = getattr(client, method)(*args, **kw)
    local = getattr(LOCAL, method)(*args, **kw)
    assert_same(remote, local)
    for res in remote if isinstance(remote, tuple) else (remote,):
        if hasattr(res, "verification"):
            assert res.termination.is_optimal and res.verification.passed
            assert res.info.bound == pytest.approx(res.revenue)
        else:
            assert res.message == "" and math.isfinite(res.estimate)


def test_result_types_and_priors(client: MechsolveClient) -> None:
    menu = client.optimal_menu(G2x5)
    assert isinstance(menu, MenuResult) and menu.prior.same_as(G2x5)
    assert menu.prior.is_uniform_grid and (menu.prior.lo, menu.prior.hi) == (0.0, 1.0)
    dsic = client.optimal_dsic_auction(G2x3, 2)
    assert isinstance(dsic, AuctionResult) and dsic.incentive is Incentive.DSIC
    assert len(dsic.priors) == 2 and all(p.same_as(G2x3) for p in dsic.priors)
    assert dsic.allocation.shape == (9, 9, 2, 2) and dsic.payment.shape == (9, 9, 2)
    bic = client.optimal_bic_auction(G2x4, 2)
    assert isinstance(bic, InterimAuctionResult) and bic.incentive is Incentive.BIC
    assert len(bic.allocation) == 2 and bic.allocation[0].shape == (16, 2)
    assert len(bic.priors) == 2 and all(p.same_as(G2x4) for p in bic.priors)
    regret = client.regret_budget_auction(G2x3, 2, epsilon=0.01)
    assert regret.incentive is Incentive.REGRET_BUDGET and regret.regret_budget == 0.01


def _audit_over_the_wire(client: MechsolveClient, res: AuctionResult | MenuResult, **kw: Any):
    """What ``audit_result`` was on the client: the tables, priors and unit demand of a
    result sent to AuditMechanism (a menu is a one-bidder mechanism)."""
    if isinstance(res, MenuResult):
        tables = (res.allocation[:, None, :], res.payment[:, None], [res.prior])
    else:
        tables = (res.allocation, res.payment, list(res.priors))
    return client.audit_mechanism(*tables, unit_demand=res.unit_demand, **kw)


def test_audits_match_in_process(client: MechsolveClient) -> None:
    """The LP mechanism audits to zero regret, first price to a positive one: both as the
    library computes them; a menu audits as a one-bidder mechanism."""
    dsic = LOCAL.optimal_dsic_auction(G2x3, 2)
    rep = _audit_over_the_wire(client, dsic, tolerance=1e-7)
    assert_same(rep, audit_result(dsic))
    assert rep.regret_max == 0.0 and rep.revenue == pytest.approx(dsic.revenue)
    assert rep.witness_bidder == -1 and rep.witness_profile.shape == (0,)
    assert rep.witness_profile.dtype == np.int64
    menu = LOCAL.optimal_menu(G2x5)
    assert_same(_audit_over_the_wire(client, menu, tolerance=1e-7), audit_result(menu))
    ud = LOCAL.optimal_dsic_auction(G2x3, 2, unit_demand=True)
    assert_same(_audit_over_the_wire(client, ud, tolerance=1e-7), audit_result(ud))

    alloc, pay = first_price_tables(G2x3, 2)
    remote = client.audit_mechanism(alloc, pay, G2x3)
    assert_same(remote, LOCAL.audit_mechanism(alloc, pay, G2x3))
    assert remote.regret_max > 0 and remote.witness_bidder >= 0
    assert remote.witness_profile.dtype == np.int64 and remote.witness_profile.shape == (2,)

    prior_b = uniform_grid(2, 3, hi=2)
    alloc, pay = second_price_tables([G2x3, prior_b], reserve=0.5)
    kw = {"unit_demand": True, "tolerance": 1e-6}
    assert_same(
        client.audit_mechanism(alloc, pay, [G2x3, prior_b], **kw),
        LOCAL.audit_mechanism(alloc, pay, [G2x3, prior_b], **kw),
    )


def test_evaluations_match_in_process(client: MechsolveClient) -> None:
    res = LOCAL.optimal_menu(G2x5)
    menu = res.menu()
    assert (menu.lo, menu.hi) == (0.0, 1.0)  # a uniform grid's menu carries its box
    assert_same(client.continuous_menu_revenue(menu), LOCAL.continuous_menu_revenue(menu))
    box = {"lo": 0.0, "hi": 2.0, "tol": 1e-4, "max_cells": 100_000}
    assert_same(
        client.continuous_menu_revenue(menu, **box), LOCAL.continuous_menu_revenue(menu, **box)
    )
    no_box = dataclasses.replace(menu, lo=None, hi=None)  # the box must then be sent
    assert_same(
        client.continuous_menu_revenue(no_box, lo=0.0, hi=1.0),
        LOCAL.continuous_menu_revenue(menu),
    )
    # issue 12: a box per item (v1 ~ U[4, 16], v2 ~ U[4, 7]) travels as one value per item
    boxed = uniform_grid(2, 6, lo=(4, 4), hi=(16, 7))
    remote_menu = client.optimal_menu(boxed)
    assert_same(remote_menu, LOCAL.optimal_menu(boxed))
    box_menu = LOCAL.optimal_menu(boxed).menu()
    assert (box_menu.lo, box_menu.hi) == (4.0, (16.0, 7.0))
    per_item = {"lo": (4.0, 4.0), "hi": (16.0, 7.0), "tol": 1e-3}
    assert_same(
        client.continuous_menu_revenue(box_menu, **per_item),
        LOCAL.continuous_menu_revenue(box_menu, **per_item),
    )
    assert_same(
        client.extrapolate_optimum(2, grids=(4, 6), lo=(4.0, 4.0), hi=(16.0, 7.0)),
        LOCAL.extrapolate_optimum(2, grids=(4, 6), lo=(4.0, 4.0), hi=(16.0, 7.0)),
    )
    samples = np.random.default_rng(1).random((500, 2))
    remote = client.sampled_menu_revenue(menu, samples)
    assert_same(remote, LOCAL.sampled_menu_revenue(menu, samples))
    assert remote.evaluations == 500 and remote.error_kind == "standard_error"

    dsic = LOCAL.optimal_dsic_auction(G2x3, 2)
    tables = (dsic.allocation, dsic.payment, list(dsic.priors))
    seeded = client.rounded_evaluation(*tables, n_samples=2_000, seed=3)
    assert_same(seeded, LOCAL.rounded_evaluation(*tables, n_samples=2_000, seed=3))
    assert seeded.seed == 3 and seeded.revenue == pytest.approx(dsic.revenue)
    # no seed: the server draws one from fresh entropy and returns it, so the draw replays
    fresh = client.rounded_evaluation(*tables, n_samples=500)
    assert 0 <= fresh.seed < 2**63 and fresh.n_samples == 500
    assert_same(fresh, LOCAL.rounded_evaluation(*tables, n_samples=500, seed=fresh.seed))
    assert client.rounded_evaluation(*tables, n_samples=500).seed != fresh.seed


def test_async_client(server: RunningServer) -> None:
    async def go() -> tuple:
        async with AsyncMechsolveClient(server.address) as c:
            return await asyncio.gather(
                c.optimal_menu(G2x5),
                c.audit_mechanism(*first_price_tables(G1x5, 2), G1x5),
                c.optimal_bic_auction([EMPIRICAL, DISCRETE]),
            )

    menu, rep, bic = asyncio.run(go())
    assert_same(menu, LOCAL.optimal_menu(G2x5))
    assert_same(rep, LOCAL.audit_mechanism(*first_price_tables(G1x5, 2), G1x5))
    assert_same(bic, LOCAL.optimal_bic_auction([EMPIRICAL, DISCRETE]))


# ---------------------------------------------------------------------------------------------
# Limits reported as terminations
# ---------------------------------------------------------------------------------------------
def _no_solution(res: Any, limit: Limit) -> None:
    """NO_SOLUTION_FOUND by ``limit``: no tables, no revenue, nothing verified."""
    assert res.termination.reason is TerminationReason.NO_SOLUTION_FOUND, res.termination
    assert res.termination.limit is limit and not res.termination.has_solution
    assert math.isnan(res.revenue) and math.isnan(res.objective)
    tables = res.allocation if isinstance(res.allocation, tuple) else (res.allocation,)
    assert all(t.size == 0 for t in tables)


@pytest.fixture(scope="module")
def capped() -> Iterator[RunningServer]:
    """A server that gives every solve at most 2 s (``max_solve_seconds``), whatever the
    call's deadline: limits that bind well before the deadline, however busy the machine."""
    running = build_server(
        ServerConfig(port=0, limits=TEST_LIMITS, solvers=2, max_solve_seconds=2.0)
    )
    yield running
    running.stop(grace=0.5)


def test_time_limits_are_terminations(capped: RunningServer) -> None:
    """An LP stopped by its time limit comes back as a result that says so: NO_SOLUTION_FOUND
    with limit TIME (a menu on 90,000 types, whose first LP alone takes minutes; a BIC auction
    that needs about a minute, with the last relaxation's value as its bound)."""
    with MechsolveClient(capped.address, default_time_limit=60.0) as c:
        menu = c.optimal_menu(uniform_grid(2, 300))
        bic = c.optimal_bic_auction(uniform_grid(2, 30), 3)
    _no_solution(menu, Limit.TIME)
    assert menu.allocation.shape == (0, 2) and menu.payment.shape == (0,)
    assert not menu.verification.passed
    _no_solution(bic, Limit.TIME)
    assert bic.allocation == bic.payment == bic.utility == () and len(bic.priors) == 3
    # the last LP solved is a relaxation: its value bounds the optimum (1.14180...) from above
    assert bic.stats.rounds >= 1 and bic.info.bound >= 1.1418


def test_curve_time_limit_bounds_the_whole_call(capped: RunningServer) -> None:
    """``time_limit`` of regret_budget_curve bounds every budget together: one result per
    budget, the budgets it did not reach NO_SOLUTION_FOUND with limit TIME."""
    eps = [0.0, 1e-3, 1e-2, 0.1]
    with MechsolveClient(capped.address, default_time_limit=60.0) as c:
        res = c.regret_budget_curve(uniform_grid(1, 30), 3, epsilons=eps)
    assert [r.regret_budget for r in res] == eps
    assert all(r.incentive is Incentive.REGRET_BUDGET for r in res)
    for r in res:  # solved to optimality, or stopped by the time limit
        if not r.termination.is_optimal:
            _no_solution(r, Limit.TIME)
            assert r.allocation.shape == (30, 30, 30, 3, 0)
    _no_solution(res[-1], Limit.TIME)  # 1e-3 alone takes ~15 s: 0.1 is never reached
    assert res[-1].termination.detail == "time limit reached before this budget"


def test_call_deadline_is_the_solver_time_limit(client: MechsolveClient) -> None:
    """Without a server cap the call's deadline is the time limit: the solver gets 0.95 x
    what remains and answers NO_SOLUTION_FOUND (limit TIME) before the deadline, never
    DEADLINE_EXCEEDED."""
    menu = client.optimal_menu(uniform_grid(2, 300), time_limit=10.0)
    _no_solution(menu, Limit.TIME)
    assert menu.allocation.shape == (0, 2)


ROW_LIMITS = TEST_LIMITS.with_(max_lp_rows=900)
SAMPLES_12 = empirical_prior(np.random.default_rng(2).random((12, 2)))  # 914 rows at the optimum
SAMPLES_300 = empirical_prior(np.random.default_rng(1).random((300, 2)))  # 1448 rows to start


@pytest.fixture(scope="module")
def row_limited() -> Iterator[RunningServer]:
    """A server whose LPs may not grow past 900 rows."""
    running = build_server(ServerConfig(port=0, limits=ROW_LIMITS, solvers=2))
    yield running
    running.stop(grace=0.5)


def test_row_limit_is_a_termination_with_the_relaxation_bound(
    row_limited: RunningServer,
) -> None:
    """Constraint generation that would grow the LP past max_lp_rows stops: an auction with
    NO_SOLUTION_FOUND (limit ROWS), empty tables and the last relaxation's value in
    ``info.bound``; a menu with every type given its best entry of the last LP's menu
    (FEASIBLE, verified IC and IR). The full LP over the limit is RESOURCE_EXHAUSTED. All as
    the in-process solver with the same limits reports it."""
    local = LocalMechsolve(limits=ROW_LIMITS)
    with MechsolveClient(row_limited.address) as c:
        dsic = c.optimal_dsic_auction(SAMPLES_12, 2)
        assert_same(dsic, local.optimal_dsic_auction(SAMPLES_12, 2))
        menu = c.optimal_menu(SAMPLES_300)
        assert_same(menu, local.optimal_menu(SAMPLES_300))
        with pytest.raises(RemoteProblemTooLargeError, match="max_lp_rows=900") as full:
            c.optimal_dsic_auction(SAMPLES_12, 2, constraints="full")
        assert full.value.field == "constraints"
    _no_solution(dsic, Limit.ROWS)
    assert dsic.allocation.shape == (12, 12, 2, 0) and dsic.payment.shape == (12, 12, 0)
    optimum = LOCAL.optimal_dsic_auction(SAMPLES_12, 2)
    assert optimum.termination.is_optimal and dsic.info.bound >= optimum.revenue
    assert menu.termination.reason is TerminationReason.FEASIBLE
    assert menu.termination.limit is Limit.ROWS and menu.verification.passed
    assert menu.allocation.shape == (300, 2)
    assert menu.revenue <= LOCAL.optimal_menu(SAMPLES_300).revenue <= menu.info.bound


# ---------------------------------------------------------------------------------------------
# Bad requests
# ---------------------------------------------------------------------------------------------
def _tensor(values: Any) -> cpb.Tensor:
    a = np.asarray(values, dtype=np.float64)
    return cpb.Tensor(shape=a.shape, values=a.ravel().tolist())


def _prior(prior: TypePrior) -> apb.Prior:
    """A TypePrior's message, as the client encodes it."""
    return codec.encode_request(RPC["OptimalMenu"], {"prior": prior}).prior


def _boxed(fields: dict[str, Any]) -> dict[str, Any]:
    """``lo``/``hi`` are repeated (one number for every item, or one per item)."""
    return {k: [v] if k in ("lo", "hi") and isinstance(v, float) else v for k, v in fields.items()}


def _grid(**kw: Any) -> apb.Prior:
    fields = {"n_items": 2, "points_per_item": 3}
    fields.update(kw)
    return apb.Prior(uniform_grid=apb.UniformGrid(**_boxed(fields)))


def _menu(prior: apb.Prior | None = None, **kw: Any) -> apb.OptimalMenuRequest:
    return apb.OptimalMenuRequest(prior=prior or _grid(), **kw)


def _dsic(priors: list | None = None, **kw: Any) -> apb.OptimalDsicAuctionRequest:
    fields: dict[str, Any] = {"priors": [_grid()] if priors is None else priors, "n_bidders": 2}
    fields.update(kw)
    return apb.OptimalDsicAuctionRequest(**fields)


def _bic(priors: list | None = None, **kw: Any) -> apb.OptimalBicAuctionRequest:
    fields: dict[str, Any] = {"priors": [_grid()] if priors is None else priors, "n_bidders": 2}
    fields.update(kw)
    return apb.OptimalBicAuctionRequest(**fields)


def _samples(values: Any) -> apb.Prior:
    return apb.Prior(empirical=apb.EmpiricalSamples(samples=_tensor(values)))


def _type_set(values: Any, probs: Any, kind: int = 0) -> apb.Prior:
    return apb.Prior(type_set=apb.TypeSet(values=_tensor(values), probs=probs, kind=kind))


def _audit(**kw: Any) -> apb.AuditMechanismRequest:
    alloc, pay = first_price_tables(G2x3, 2)
    fields: dict[str, Any] = {
        "allocation": _tensor(alloc),
        "payment": _tensor(pay),
        "priors": [_prior(G2x3)],
    }
    fields.update(kw)
    return apb.AuditMechanismRequest(**fields)


def _rounded(**kw: Any) -> apb.EvaluateRoundedBidsRequest:
    alloc, pay = first_price_tables(G2x3, 2)
    fields: dict[str, Any] = {
        "allocation": _tensor(alloc),
        "payment": _tensor(pay),
        "priors": [_prior(G2x3)],
        "n_samples": 100,
    }
    fields.update(kw)
    return apb.EvaluateRoundedBidsRequest(**fields)


def _menu_msg(**kw: Any) -> apb.Menu:
    fields: dict[str, Any] = {
        "allocation": _tensor([[1.0, 0.0], [1.0, 1.0]]),
        "price": _tensor([0.5, 0.9]),
        "lo": 0.0,
        "hi": 1.0,
    }
    fields.update(kw)
    return apb.Menu(**_boxed({k: v for k, v in fields.items() if v is not None}))


def _continuous(**kw: Any) -> apb.ContinuousMenuRevenueRequest:
    fields: dict[str, Any] = {"menu": _menu_msg(), "tol": 1e-3}
    fields.update(kw)
    return apb.ContinuousMenuRevenueRequest(
        **_boxed({k: v for k, v in fields.items() if v is not None})
    )


def _sampled(**kw: Any) -> apb.SampledMenuRevenueRequest:
    fields: dict[str, Any] = {"menu": _menu_msg(), "samples": _tensor([[0.2, 0.9], [0.7, 0.7]])}
    fields.update(kw)
    return apb.SampledMenuRevenueRequest(**{k: v for k, v in fields.items() if v is not None})


INVALID = grpc.StatusCode.INVALID_ARGUMENT
TOO_LARGE = grpc.StatusCode.RESOURCE_EXHAUSTED
NAN = float("nan")
U32 = 2**32 - 1  # the largest uint32 a hostile request can put in a count field
G2x3_VALUES = G2x3.values.tolist()
G2x3_PROBS = G2x3.probs.tolist()

CASES = [
    # priors: grids
    ("OptimalMenu", _menu(_grid(points_per_item=1)), INVALID,
     "prior.uniform_grid.points_per_item", "must be an integer >= 2; got 1", "k-below-2"),
    ("OptimalMenu", _menu(_grid(lo=1.0, hi=0.5)), INVALID,
     "prior.uniform_grid.hi", "must be > lo=1.0; got 0.5", "lo-above-hi"),
    ("OptimalMenu", _menu(_grid(lo=1.0)), INVALID,
     "prior.uniform_grid.hi", "must be > lo=1.0; got 1.0", "lo-equals-default-hi"),
    ("OptimalMenu", _menu(_grid(lo=-1.0)), INVALID,
     "prior.uniform_grid.lo", "must be >= 0.0; got -1.0", "negative-lo"),
    ("OptimalMenu", _menu(_grid(lo=NAN)), INVALID,
     "prior.uniform_grid.lo", "must be finite", "nan-lo"),
    ("OptimalMenu", _menu(_grid(n_items=0)), INVALID,
     "prior.uniform_grid.n_items", "must be an integer >= 1; got 0", "no-items"),
    ("OptimalMenu", _menu(_grid(points=7)), INVALID,
     "prior.uniform_grid.points", "is not a known GridPoints value; got 7", "points-unknown"),
    # priors: samples, marginals, type sets
    ("OptimalMenu", _menu(_samples([[0.1, 0.2], [NAN, 0.3]])), INVALID,
     "prior.empirical.samples[1][0]", "must be finite; got nan", "nan-samples"),
    ("OptimalMenu", _menu(_samples([[0.1, -0.5]])), INVALID,
     "prior.empirical.samples[0][1]", "must be >= 0.0; got -0.5", "negative-samples"),
    ("OptimalMenu", _menu(apb.Prior(empirical=apb.EmpiricalSamples())), INVALID,
     "prior.empirical.samples", "is required", "missing-samples"),
    ("OptimalMenu", _menu(apb.Prior(empirical=apb.EmpiricalSamples(
        samples=_tensor([0.1, 0.2])))), INVALID,
     "prior.empirical.samples", r"must have 2 dimension\(s\); got shape \(2,\)", "samples-1d"),
    ("OptimalMenu", _menu(apb.Prior(empirical=apb.EmpiricalSamples(
        samples=cpb.Tensor(shape=[3, 2], values=[0.5])))), INVALID,
     "prior.empirical.samples.values", r"has 1 values for shape \(3, 2\)", "samples-size"),
    ("OptimalMenu", _menu(apb.Prior(discrete_marginals=apb.DiscreteMarginals(items=[
        apb.Marginal(values=[0, 1]), apb.Marginal(values=[1, 1])]))), INVALID,
     "prior.discrete_marginals.items[1].values", "must be distinct", "marginal-duplicates"),
    ("OptimalMenu", _menu(apb.Prior(discrete_marginals=apb.DiscreteMarginals(items=[
        apb.Marginal(values=[0, 1], probs=[0.5, 0.6])]))), INVALID,
     "prior.discrete_marginals.items[0].probs", "must sum to 1", "marginal-probs"),
    ("OptimalMenu", _menu(apb.Prior(discrete_marginals=apb.DiscreteMarginals(items=[
        apb.Marginal(values=[0, 1]), apb.Marginal(values=[0, 1], probs=[1.0])]))), INVALID,
     "prior.discrete_marginals.items[1].probs", r"must have shape \(2,\)", "marginal-probs-len"),
    ("OptimalMenu", _menu(apb.Prior(discrete_marginals=apb.DiscreteMarginals())), INVALID,
     "prior.discrete_marginals.values", "must be a non-empty list", "marginals-empty"),
    ("OptimalMenu", _menu(_type_set([[0.0], [1.0]], [0.5, 0.4])), INVALID,
     "prior.type_set.probs", "must sum to 1", "type-set-probs"),
    ("OptimalMenu", _menu(_type_set([[0.0], [1.0]], [0.5])), INVALID,
     "prior.type_set.probs", r"must have shape \(2,\)", "type-set-probs-len"),
    ("OptimalMenu", _menu(_type_set([[0.0], [1.0]], [1.5, -0.5])), INVALID,
     "prior.type_set.probs[1]", "must be >= 0.0; got -0.5", "type-set-negative-probs"),
    ("OptimalMenu", _menu(_type_set([[0.0], [0.0]], [0.5, 0.5])), INVALID,
     "prior.type_set.values", "must have distinct rows", "type-set-duplicates"),
    ("OptimalMenu", _menu(_type_set([[0.0, 0.0], [1.0, 1.0]], [0.5, 0.5], 1)), INVALID,
     "prior.type_set.values", "must be a full product grid", "type-set-not-a-grid"),
    ("OptimalMenu", _menu(_type_set([[0.0], [1.0]], [0.5, 0.5], 5)), INVALID,
     "prior.type_set.kind", "is not a known TypeSetKind value; got 5", "type-set-kind"),
    ("OptimalMenu", apb.OptimalMenuRequest(), INVALID,
     "prior", "is required", "missing-prior"),
    ("OptimalDsicAuction", _dsic(priors=[_grid(), _type_set(G2x3_VALUES, [0.1] * 9)]), INVALID,
     "priors[1].type_set.probs", "must sum to 1", "dsic-type-set-probs"),
    ("OptimalBicAuction", _bic(priors=[_type_set(G2x3_VALUES, [NAN] * 9)]), INVALID,
     "priors[0].type_set.probs[0]", "must be finite; got nan", "bic-type-set-nan-probs"),
    ("OptimalDsicAuction", _dsic(priors=[apb.Prior()]), INVALID,
     "priors[0]", "is required: set one of uniform_grid", "empty-prior"),
    ("OptimalDsicAuction", _dsic(priors=[]), INVALID,
     "priors", "is required", "missing-priors"),
    ("OptimalBicAuction", _bic(priors=[]), INVALID,
     "priors", "is required", "bic-missing-priors"),
    # enums
    ("OptimalMenu", _menu(constraints=9), INVALID,
     "constraints", "is not a known ConstraintMode value; got 9", "constraints-unknown"),
    ("OptimalDsicAuction", _dsic(constraints=9), INVALID,
     "constraints", "is not a known ConstraintMode value; got 9", "dsic-constraints-unknown"),
    # bidders
    ("OptimalDsicAuction", _dsic(priors=[_grid(), _grid()], n_bidders=3), INVALID,
     "n_bidders", r"must equal len\(priors\)=2; got 3", "n-bidders-mismatch"),
    ("OptimalBicAuction", _bic(priors=[_grid(), _grid()], n_bidders=3), INVALID,
     "n_bidders", r"must equal len\(priors\)=2; got 3", "bic-n-bidders-mismatch"),
    ("OptimalDsicAuction", _dsic(n_bidders=0), INVALID,
     "n_bidders", "must be an integer >= 1; got 0", "zero-bidders"),
    ("OptimalDsicAuction", _dsic(priors=[_grid(), _grid(n_items=3)], n_bidders=None), INVALID,
     "priors[1]", r"must have 2 items like priors\[0\]; got 3", "items-mismatch"),
    ("OptimalDsicAuction", _dsic(n_bidders=17), INVALID,
     "n_bidders", "must be at most 16; got 17", "too-many-bidders"),
    ("OptimalBicAuction", _bic(priors=[_grid()] * 17, n_bidders=None), INVALID,
     "n_bidders", "must be at most 16; got 17", "bic-too-many-priors"),
    ("RegretBudgetAuction", apb.RegretBudgetAuctionRequest(priors=[_grid()], epsilon=-0.1),
     INVALID, "epsilon", "must be >= 0.0; got -0.1", "negative-epsilon"),
    ("RegretBudgetAuction", apb.RegretBudgetAuctionRequest(priors=[_grid()], epsilon=NAN),
     INVALID, "epsilon", "must be finite", "nan-epsilon"),
    ("RegretBudgetCurve", apb.RegretBudgetCurveRequest(priors=[_grid()], epsilons=[0, NAN]),
     INVALID, "epsilons[1]", "must be finite; got nan", "nan-epsilons"),
    ("RegretBudgetCurve", apb.RegretBudgetCurveRequest(priors=[_grid()], epsilons=[0, -1]),
     INVALID, "epsilons[1]", "must be >= 0.0; got -1.0", "negative-epsilons"),
    # audits and evaluations
    ("AuditMechanism", _audit(payment=_tensor(np.zeros((9, 9, 3)))), INVALID,
     "payment", r"must have shape \(T_1, ..., T_n, n\) for 3 bidders", "audit-payment-shape"),
    ("AuditMechanism", _audit(allocation=None), INVALID,
     "allocation", "is required", "audit-missing-allocation"),
    ("AuditMechanism", _audit(allocation=cpb.Tensor(shape=[9, 9, 2, 2], values=[0.5])), INVALID,
     "allocation.values", r"has 1 values for shape \(9, 9, 2, 2\)", "audit-tensor-size"),
    ("AuditMechanism", _audit(allocation=_tensor(np.zeros((9, 9, 2, 3)))), INVALID,
     "allocation", r"must have shape \(9, 9, 2, 2\)", "audit-allocation-shape"),
    ("AuditMechanism", _audit(priors=[]), INVALID,
     "priors", "is required", "audit-missing-priors"),
    ("AuditMechanism", _audit(tolerance=-1.0), INVALID,
     "tolerance", "must be >= 0.0; got -1.0", "audit-negative-tolerance"),
    ("ContinuousMenuRevenue", _continuous(menu=None), INVALID,
     "menu", "is required", "continuous-no-menu"),
    ("ContinuousMenuRevenue", _continuous(menu=_menu_msg(price=None)), INVALID,
     "menu", "is incomplete", "continuous-menu-without-price"),
    ("ContinuousMenuRevenue", _continuous(menu=_menu_msg(price=_tensor([0.5]))), INVALID,
     "menu.price", r"must have shape \(2,\)", "continuous-price-shape"),
    ("ContinuousMenuRevenue", _continuous(menu=_menu_msg(
        price=cpb.Tensor(shape=[2], values=[0.5]))), INVALID,
     "menu.price.values", r"has 1 values for shape \(2,\)", "continuous-price-size"),
    ("ContinuousMenuRevenue", _continuous(lo=1.0, hi=1.0), INVALID,
     "hi", "must be > lo=1.0; got 1.0", "continuous-box"),
    ("ContinuousMenuRevenue", _continuous(tol=0.0), INVALID,
     "tol", "must be > 0.0; got 0.0", "continuous-tolerance"),
    ("SampledMenuRevenue", _sampled(samples=_tensor([[0.1, -1.0]])), INVALID,
     "samples[0][1]", "must be >= 0.0; got -1.0", "sampled-negative-samples"),
    ("SampledMenuRevenue", _sampled(samples=_tensor([[0.1, 0.2, 0.3]])), INVALID,
     "samples", r"must have shape \(\*, 2\); got \(1, 3\)", "sampled-samples-shape"),
    ("SampledMenuRevenue", _sampled(menu=None), INVALID,
     "menu", "is required", "sampled-no-menu"),
    ("EvaluateRoundedBids", _rounded(priors=[_type_set(G2x3_VALUES, G2x3_PROBS)]), INVALID,
     "priors[0]", "must be a uniform grid; got kind='discrete'", "rounded-not-a-grid"),
    ("EvaluateRoundedBids", _rounded(n_samples=1), INVALID,
     "n_samples", "must be an integer >= 2; got 1", "rounded-one-sample"),
    ("EvaluateRoundedBids", _rounded(seed=2**63), INVALID,
     "seed", r"must be in \[0, 2\*\*63\)", "rounded-seed"),
    ("ExtrapolateOptimum", apb.ExtrapolateOptimumRequest(n_items=1, grids=[5]), INVALID,
     "grids", "must be two grid sizes", "extrapolate-one-grid"),
    ("ExtrapolateOptimum", apb.ExtrapolateOptimumRequest(n_items=1, grids=[5, 1]), INVALID,
     "grids[1]", "must be an integer >= 2; got 1", "extrapolate-small-grid"),
    ("ExtrapolateOptimum", apb.ExtrapolateOptimumRequest(n_items=0, grids=[5, 10]), INVALID,
     "n_items", "must be an integer >= 1; got 0", "extrapolate-no-items"),
    ("ExtrapolateOptimum", apb.ExtrapolateOptimumRequest(n_items=1, n_bidders=17, grids=[2, 3]),
     INVALID, "n_bidders", "must be at most 16; got 17", "extrapolate-too-many-bidders"),
    ("ExtrapolateOptimum", apb.ExtrapolateOptimumRequest(n_items=1, points=9), INVALID,
     "points", "is not a known GridPoints value; got 9", "extrapolate-points"),
    # sizes: rejected before anything of that size is built
    ("OptimalMenu", _menu(_grid(points_per_item=1001)), TOO_LARGE,
     "prior.uniform_grid.points_per_item", "over the limit max_types=1000000", "oversize-grid"),
    ("OptimalMenu", _menu(_grid(n_items=1, points_per_item=U32)), TOO_LARGE,
     "prior.uniform_grid.points_per_item", "over the limit max_types", "huge-points-per-item"),
    ("OptimalMenu", _menu(_grid(n_items=U32)), TOO_LARGE,
     "prior.uniform_grid.points_per_item", "over the limit max_types", "huge-item-count"),
    ("OptimalMenu", _menu(_grid(n_items=U32, points_per_item=U32)), TOO_LARGE,
     "prior.uniform_grid.points_per_item", "over the limit max_types", "huge-grid"),
    ("OptimalDsicAuction", _dsic(priors=[_grid(), _grid(n_items=2, points_per_item=U32)],
                                 n_bidders=None), TOO_LARGE,
     "priors[1].uniform_grid.points_per_item", "over the limit max_types", "dsic-huge-grid"),
    ("OptimalMenu", _menu(apb.Prior(discrete_marginals=apb.DiscreteMarginals(
        items=[apb.Marginal(values=list(range(101)))] * 3))), TOO_LARGE,
     "prior.discrete_marginals.values", "over the limit max_types", "oversize-marginals"),
    ("OptimalMenu", _menu(apb.Prior(empirical=apb.EmpiricalSamples(
        samples=cpb.Tensor(shape=[U32, 2])))), TOO_LARGE,
     "prior.empirical.samples", "over the limit max_types", "oversize-samples"),
    ("OptimalMenu", _menu(apb.Prior(type_set=apb.TypeSet(
        values=cpb.Tensor(shape=[U32, 2])))), TOO_LARGE,
     "prior.type_set.values", "over the limit max_types", "oversize-type-set"),
    ("OptimalDsicAuction", _dsic(priors=[_grid(points_per_item=40)]), TOO_LARGE,
     "priors", "has size 2560000, over the limit max_types=1000000", "oversize-profiles"),
    ("RegretBudgetCurve", apb.RegretBudgetCurveRequest(
        priors=[_grid(points_per_item=40)], n_bidders=2), TOO_LARGE,
     "priors", "over the limit max_types", "oversize-curve"),
    ("AuditMechanism", _audit(priors=[_grid(points_per_item=40)] * 2), TOO_LARGE,
     "priors", "over the limit max_types", "oversize-audit"),
    ("ContinuousMenuRevenue", _continuous(max_cells=10**9), TOO_LARGE,
     "max_cells", "over the limit max_candidates=200000", "continuous-max-cells"),
    ("EvaluateRoundedBids", _rounded(n_samples=2**40), TOO_LARGE,
     "n_samples", "over the limit max_types", "rounded-n-samples"),
]  # fmt: skip


def _bad_field(err: grpc.RpcError) -> str:
    status = rpc_status.from_call(err)
    assert status is not None
    br = error_details_pb2.BadRequest()
    assert status.details[0].Unpack(br)
    return str(br.field_violations[0].field)


@pytest.fixture(scope="module")
def stub(server: RunningServer) -> Iterator[agrpc.AuctionServiceStub]:
    """The raw generated stub, for malformed requests the client would not send."""
    with grpc.insecure_channel(server.address) as channel:
        yield agrpc.AuctionServiceStub(channel)


def _fails(stub: Any, rpc: str, request: Any) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as info:
        getattr(stub, rpc)(request, timeout=30)
    return info.value


@pytest.mark.parametrize(
    ("rpc", "request_msg", "code", "field", "message"),
    [pytest.param(*c[:5], id=c[5]) for c in CASES],
)
def test_bad_requests_name_the_field(stub, rpc, request_msg, code, field, message) -> None:
    assert type(request_msg) is RPC[rpc].request
    err = _fails(stub, rpc, request_msg)
    assert err.code() == code, err.details()
    assert re.search(message, err.details()), err.details()
    assert f"[field: {field}]" in err.details()
    assert _bad_field(err) == field


def test_unspecified_enums_mean_the_default(stub) -> None:
    """``*_UNSPECIFIED`` and unset optional fields are the function's defaults."""
    plain = stub.OptimalDsicAuction(_dsic(), timeout=30).result
    explicit = stub.OptimalDsicAuction(
        _dsic(constraints=apb.CONSTRAINT_MODE_GENERATION, symmetry=True, unit_demand=False),
        timeout=30,
    ).result
    assert plain.info.method == explicit.info.method == "rochet_lp_generation"
    assert plain.allocation == explicit.allocation and plain.payment == explicit.payment
    assert plain.revenue == explicit.revenue and plain.incentive == apb.INCENTIVE_DSIC
    grid = stub.OptimalMenu(_menu(_grid(points=apb.GRID_POINTS_UNSPECIFIED)), timeout=30)
    mid = stub.OptimalMenu(_menu(_grid(points=apb.GRID_POINTS_MIDPOINT)), timeout=30)
    assert grid.result.revenue == mid.result.revenue
    assert grid.result.prior == mid.result.prior
    one = stub.OptimalDsicAuction(_dsic(n_bidders=None), timeout=30).result
    assert len(one.priors) == 1  # one prior, n_bidders unset: one bidder


def test_server_keeps_serving_after_errors(server: RunningServer, stub) -> None:
    for c in CASES:
        _fails(stub, c[0], c[1])
    with grpc.insecure_channel(server.address) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        resp = health.Check(health_pb2.HealthCheckRequest(service=SERVICE), timeout=5)
        assert resp.status == health_pb2.HealthCheckResponse.SERVING
    resp = stub.OptimalMenu(_menu(), timeout=30)
    assert resp.result.info.termination.reason == cpb.TERMINATION_REASON_OPTIMAL
    assert resp.result.verification.passed


def test_client_raises_remote_errors_with_the_field(client: MechsolveClient) -> None:
    with pytest.raises(RemoteInputError) as info:
        client.optimal_dsic_auction([G2x3, uniform_grid(3, 2)])
    assert info.value.field == "priors[1]"
    with pytest.raises(RemoteInputError) as info:
        client.optimal_dsic_auction([G2x3, G2x3], 3)
    assert info.value.field == "n_bidders"
    with pytest.raises(RemoteProblemTooLargeError) as too_large:
        client.optimal_dsic_auction(uniform_grid(2, 40), 2)
    assert too_large.value.field == "priors"
    dsic = LOCAL.optimal_dsic_auction(EMPIRICAL, 2)
    with pytest.raises(RemoteInputError) as not_grid:
        client.rounded_evaluation(dsic.allocation, dsic.payment, [EMPIRICAL, EMPIRICAL])
    assert not_grid.value.field == "priors[0]"
    with pytest.raises(RemoteInputError) as bad_menu:
        client.sampled_menu_revenue(LOCAL.optimal_menu(G2x5).menu(), [[0.5, 0.5, 0.5]])
    assert bad_menu.value.field == "samples"


def test_client_validates_before_sending() -> None:
    """The client refuses what it cannot encode, naming the argument as the solver would;
    nothing is sent (nothing listens at the address: a sent call would fail UNAVAILABLE)."""
    menu = LOCAL.optimal_menu(G2x3).menu()
    with MechsolveClient(f"127.0.0.1:{free_port()}", default_time_limit=5.0) as c:
        for call, message in [
            (lambda: c.optimal_menu(G2x3, constraints="some"), r"optimal_menu\(\): `constraints` must be one of 'generation', 'full'"),
            (lambda: c.optimal_menu([G2x3]), r"optimal_menu\(\): `prior` must be a TypePrior; got list"),
            (lambda: c.optimal_menu(G2x3, unit_demand=1), r"`unit_demand` must be True or False; got 1"),
            (lambda: c.optimal_dsic_auction(G2x3, 2.5), r"`n_bidders` must be an integer"),
            (lambda: c.optimal_dsic_auction(G2x3, -1), r"`n_bidders` must be an integer >= 0; got -1"),
            (lambda: c.optimal_dsic_auction([G2x3, "grid"]), r"`priors\[1\]` must be a TypePrior; got str"),
            (lambda: c.optimal_bic_auction(G2x3, 2, symmetry="yes"), "`symmetry` must be True or False"),
            (lambda: c.regret_budget_auction(G2x3, 2, epsilon=math.nan), "`epsilon` must be finite"),
            (lambda: c.regret_budget_curve(G2x3, 2, epsilons=[0.0, math.inf]), r"`epsilons\[1\]` must be finite"),
            (lambda: c.audit_mechanism([[0.5, "x"]], [0.0], G2x3), "`allocation` must be an array of real numbers"),
            (lambda: c.sampled_menu_revenue("menu", [[0.5, 0.5]]), "`menu` must be a Menu; got str"),
            (lambda: c.continuous_menu_revenue(menu, max_cells=0.5), "`max_cells` must be an integer"),
            (lambda: c.rounded_evaluation([[0.0]], [0.0], G2x3, seed=-1), "`seed` must be an integer >= 0"),
            (lambda: c.extrapolate_optimum(1, grids=(5, 10), points="edges"), "`points` must be one of 'midpoint', 'corner'"),
            (lambda: c.optimal_menu(G2x3, time_limit=0), "`time_limit` must be > 0"),
        ]:  # fmt: skip
            with pytest.raises(MechsolveInputError, match=message) as info:
                call()
            assert not isinstance(info.value, RemoteInputError)
        with pytest.raises(MechsolveRpcError) as unavailable:  # what a sent call gets
            c.optimal_menu(G2x3, time_limit=0.5)
        assert unavailable.value.code in (
            grpc.StatusCode.UNAVAILABLE,
            grpc.StatusCode.DEADLINE_EXCEEDED,
        )


# ---------------------------------------------------------------------------------------------
# Hostile counts
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("rpc", "request_msg"),
    [
        pytest.param("OptimalDsicAuction", _dsic(n_bidders=U32), id="dsic"),
        pytest.param("OptimalBicAuction", _bic(n_bidders=U32), id="bic"),
        pytest.param(
            "RegretBudgetCurve",
            apb.RegretBudgetCurveRequest(priors=[_grid()], n_bidders=U32),
            id="curve",
        ),
        pytest.param(
            "ExtrapolateOptimum",
            apb.ExtrapolateOptimumRequest(n_items=1, n_bidders=U32, grids=[2, 3]),
            id="extrapolate",
        ),
    ],
)
def test_a_huge_bidder_count_is_refused_before_allocation(stub, rpc: str, request_msg: Any) -> None:
    """n_bidders = 2^32 - 1 with one shared prior: refused naming n_bidders (at most 16)
    before anything is built per bidder (a tuple of 2^32 priors would be 34 GB; the solve
    worker's memory limit would make a regression RESOURCE_EXHAUSTED, never the machine's)."""
    err = _fails(stub, rpc, request_msg)
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, err.details()
    assert _bad_field(err) == "n_bidders" and "must be at most 16" in err.details()


@pytest.mark.parametrize(
    "request_msg",
    [
        pytest.param(apb.ExtrapolateOptimumRequest(n_items=100_000, grids=[2, 3]), id="items"),
        pytest.param(apb.ExtrapolateOptimumRequest(n_items=U32), id="u32-items"),
        pytest.param(apb.ExtrapolateOptimumRequest(n_items=1, grids=[U32, 3]), id="u32-grid"),
        pytest.param(apb.ExtrapolateOptimumRequest(n_items=2, grids=[5, 2000]), id="oversize"),
    ],
)
def test_extrapolation_sizes_are_resource_exhausted(stub, request_msg: Any) -> None:
    """ExtrapolateOptimum's n_items and grids are plain counts, not a Prior: the grid they
    imply (up to 40^(2^32 - 1) points) is still refused before it is built, and the server
    keeps serving."""
    err = _fails(stub, "ExtrapolateOptimum", request_msg)
    assert err.code() == TOO_LARGE, err.details()
    assert "over the limit max_types=1000000" in err.details()
    assert (
        stub.ExtrapolateOptimum(
            apb.ExtrapolateOptimumRequest(n_items=1, grids=[2, 3]), timeout=30
        ).result.estimate
        > 0
    )


@pytest.mark.parametrize(
    ("request_msg", "code"),
    [
        pytest.param(
            apb.ExtrapolateOptimumRequest(n_items=2, grids=[5, 2000]), TOO_LARGE, id="oversize"
        ),
        pytest.param(apb.ExtrapolateOptimumRequest(n_items=U32), TOO_LARGE, id="u32-items"),
        pytest.param(apb.ExtrapolateOptimumRequest(n_items=1, grids=[3, 3]), INVALID, id="same"),
    ],
)
def test_extrapolation_errors_name_a_request_field(stub, request_msg: Any, code: Any) -> None:
    err = _fails(stub, "ExtrapolateOptimum", request_msg)
    assert err.code() == code, err.details()
    assert _bad_field(err) in RPC["ExtrapolateOptimum"].request.DESCRIPTOR.fields_by_name or (
        _bad_field(err) in ("grids[0]", "grids[1]")
    ), err.details()


def test_a_result_where_a_menu_is_expected_is_an_input_error() -> None:
    """The in-process solver says `menu` must be a Menu (MenuResult.menu()); the client must
    refuse it as an input error too, before sending."""
    res = LOCAL.optimal_menu(G2x3)
    with pytest.raises(MechsolveInputError, match="`menu` must be a Menu"):
        LOCAL.sampled_menu_revenue(res, [[0.5, 0.5]])
    with MechsolveClient(f"127.0.0.1:{free_port()}", default_time_limit=5.0) as c:
        with pytest.raises(MechsolveInputError, match="`menu` must be a Menu"):
            c.sampled_menu_revenue(res, [[0.5, 0.5]])


# ---------------------------------------------------------------------------------------------
# Priors on the wire, and the CLI
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "prior",
    [
        G2x5,
        uniform_grid(3, 2, lo=0.5, hi=2.5, points="corner"),
        EMPIRICAL,
        DISCRETE,
        discrete_marginals([[0.0, 1.0], [0.0, 1.0]]),  # a product grid, not uniform on a box
    ],
    ids=["grid", "corner-grid", "empirical", "discrete", "unit-marginals"],
)
def test_priors_cross_the_wire_exactly(prior: TypePrior) -> None:
    """A prior survives encode -> bytes -> decode (the server's side, with its limits) bit
    for bit; a uniform grid travels as its recipe, anything else as its type set."""
    rpc = RPC["OptimalMenu"]
    msg = rpc.request.FromString(codec.encode_request(rpc, {"prior": prior}).SerializeToString())
    back = codec.decode_request(rpc, msg, TEST_LIMITS)["prior"]
    assert_same(back, prior)
    np.testing.assert_array_equal(back.probs, prior.probs)
    which = msg.prior.WhichOneof("source")
    if prior.is_uniform_grid:
        assert which == "uniform_grid"
        assert msg.prior.uniform_grid.points_per_item == prior.grid_shape[0]
    else:
        assert which == "type_set"
        empirical = prior.kind is PriorKind.EMPIRICAL
        expected = apb.TYPE_SET_KIND_EMPIRICAL if empirical else apb.TYPE_SET_KIND_PRODUCT_GRID
        assert msg.prior.type_set.kind == expected


def test_priors_in_results_cross_the_wire_exactly() -> None:
    """Result priors too: one per bidder, each as solved on."""
    rpc = RPC["OptimalBicAuction"]
    local = LOCAL.optimal_bic_auction([EMPIRICAL, DISCRETE, G2x3])
    wire = rpc.response.FromString(codec.encode_result(rpc, local).SerializeToString())
    assert_same(codec.decode_result(rpc, wire), local)
    assert [p.WhichOneof("source") for p in wire.result.priors] == [
        "type_set",
        "type_set",
        "uniform_grid",
    ]


def test_cli_solves_on_the_server(server: RunningServer, tmp_path: Path) -> None:
    """``mechsolve auction --address``: the same JSON as in-process (timings aside), and an
    audit of the written mechanism on the server."""
    script = Path(sys.executable).parent / "mechsolve"
    mech = tmp_path / "dsic.npz"

    def run(*args: str) -> dict:
        out = subprocess.run(
            [str(script), "auction", *args, "--json"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert out.returncode == 0, out.stderr
        return dict(json.loads(out.stdout))

    common = ("--bidders", "2", "--items", "1", "--grid", "5", "--continuous")
    sampled = ("--eval-samples", "2000", "--seed", "7")
    remote = run(*common, *sampled, "--address", server.address)
    local = run(*common, *sampled, "--output", str(mech))
    assert remote.pop("server") == server.address
    for key in ("solve_time_s", "output"):
        remote.pop(key, None), local.pop(key, None)
    assert remote == local
    audit = run("--audit", str(mech), "--address", server.address)
    assert audit["regret_max"] == 0.0 and audit["revenue"] == pytest.approx(local["revenue"])
