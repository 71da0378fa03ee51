"""AuctionService over a real socket: every RPC returns what the in-process solver returns
(menus, DSIC, BIC, regret budgets, audits, evaluations, extrapolation on small grids); bad
requests get INVALID_ARGUMENT or RESOURCE_EXHAUSTED naming the field, and the server keeps
serving; ``mechsolve auction --address`` solves on the server."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import subprocess
import sys
from pathlib import Path

import grpc
import numpy as np
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status

from mechsolve import convert as cv
from mechsolve import convert_auctions as ca
from mechsolve.client import (
    AsyncMechsolveClient,
    LocalMechsolve,
    MechsolveClient,
    RemoteInputError,
    RemoteProblemTooLargeError,
)
from mechsolve.server.app import RunningServer
from mechsolve.solver.auctions import (
    AuctionResult,
    InterimAuctionResult,
    MenuResult,
    TypePrior,
    discrete_marginals,
    empirical_prior,
    first_price_tables,
    second_price_tables,
    uniform_grid,
)
from mechsolve.solver.core.errors import MechsolveInputError
from mechsolve.v1 import auctions_pb2 as apb
from mechsolve.v1 import auctions_pb2_grpc as agrpc
from mechsolve.v1 import common_pb2 as cpb

SERVICE = "mechsolve.v1.AuctionService"
LOCAL = LocalMechsolve()
TIMINGS = {"info", "stats", "wall_time_s"}

G1x5 = uniform_grid(1, 5)
G2x5 = uniform_grid(2, 5)
G2x3 = uniform_grid(2, 3)
G2x4 = uniform_grid(2, 4)
EMPIRICAL = empirical_prior(np.random.default_rng(0).integers(0, 4, (40, 2)) / 4.0)
DISCRETE = discrete_marginals([[0.0, 1.0, 2.0], [0.5, 1.5]], [[0.2, 0.3, 0.5], [0.5, 0.5]])


def assert_same(remote, local) -> None:
    """Every field equal (arrays with their dtype and shape), timings aside; priors content."""
    assert type(remote) is type(local)
    if isinstance(local, tuple):
        assert len(remote) == len(local)
        for a, b in zip(remote, local, strict=True):
            assert_same(a, b)
        return
    for f in dataclasses.fields(local):
        if f.name in TIMINGS:
            continue
        a, b = getattr(remote, f.name), getattr(local, f.name)
        if isinstance(b, TypePrior):
            assert a.same_as(b) and a.kind is b.kind and a.grid_shape == b.grid_shape
        elif isinstance(b, tuple) and b and isinstance(b[0], TypePrior):
            assert len(a) == len(b) and all(x.same_as(y) for x, y in zip(a, b, strict=True))
        elif isinstance(b, tuple) and b and isinstance(b[0], np.ndarray):
            for x, y in zip(a, b, strict=True):
                assert x.dtype == y.dtype
                np.testing.assert_array_equal(x, y, err_msg=f.name)
        elif isinstance(b, np.ndarray):
            assert a.dtype == b.dtype, f.name
            np.testing.assert_array_equal(a, b, err_msg=f.name)
        else:
            np.testing.assert_equal(a, b, err_msg=f.name)
    if hasattr(local, "info"):
        assert dataclasses.replace(remote.info, wall_time_s=0) == dataclasses.replace(
            local.info, wall_time_s=0
        )
        assert remote.wall_time_s > 0
    if hasattr(local, "stats"):
        strip = {"lp_time_s": 0.0, "separation_time_s": 0.0}
        assert dataclasses.replace(remote.stats, **strip) == dataclasses.replace(
            local.stats, **strip
        )


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
    pytest.param("optimal_auction", (G2x3, 2), {}, id="dsic-2x2-K3"),
    pytest.param("optimal_dsic_auction", (uniform_grid(1, 6), 2), {}, id="dsic-2x1-K6"),
    pytest.param("optimal_auction", ([G2x3, uniform_grid(2, 3, hi=2)],), {}, id="dsic-asymmetric"),
    pytest.param("optimal_auction", (G2x4, 2), {"incentive": "bic"}, id="bic-2x2-K4"),
    pytest.param("optimal_bic_auction", ([EMPIRICAL, DISCRETE],), {}, id="bic-mixed-priors"),
    pytest.param("regret_budget_auction", (G2x3, 2), {"epsilon": 1e-3}, id="regret-budget"),
    pytest.param("regret_budget_curve", (uniform_grid(1, 4), 2), {}, id="regret-budget-curve"),
    pytest.param("extrapolate_optimum", (1, 1, (5, 10)), {}, id="extrapolate-1x1"),
    pytest.param(
        "extrapolate_optimum", (2, 1, (3, 6)), {"points": "corner"}, id="extrapolate-corner"
    ),
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
            assert res.termination.value == "OPTIMAL" and res.verification.passed


def test_result_types_and_priors(client: MechsolveClient) -> None:
    menu = client.optimal_menu(G2x5)
    assert isinstance(menu, MenuResult) and menu.prior is G2x5
    dsic = client.optimal_auction(G2x3, 2)
    assert isinstance(dsic, AuctionResult) and dsic.priors == (G2x3, G2x3)
    assert dsic.allocation.shape == (9, 9, 2, 2) and dsic.payment.shape == (9, 9, 2)
    bic = client.optimal_auction(G2x4, 2, incentive="bic")
    assert isinstance(bic, InterimAuctionResult) and len(bic.allocation) == 2
    assert bic.allocation[0].shape == (16, 2) and bic.priors == (G2x4, G2x4)


def test_audits_match_in_process(client: MechsolveClient) -> None:
    """The LP mechanism audits to zero regret, first price to a positive one: both as the
    library computes them; a menu audits as a one-bidder mechanism."""
    dsic = LOCAL.optimal_auction(G2x3, 2)
    rep = client.audit_result(dsic)
    assert_same(rep, LOCAL.audit_result(dsic))
    assert rep.regret_max == 0.0 and rep.revenue == pytest.approx(dsic.revenue)
    menu = LOCAL.optimal_menu(G2x5)
    assert_same(client.audit_result(menu), LOCAL.audit_result(menu))

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
    menu = LOCAL.optimal_menu(G2x5)
    assert_same(client.continuous_menu_revenue(menu), LOCAL.continuous_menu_revenue(menu))
    box = {"lo": 0.0, "hi": 2.0, "tol": 1e-4, "max_cells": 100_000}
    assert_same(
        client.continuous_menu_revenue(menu.menu(), **box),
        LOCAL.continuous_menu_revenue(menu.menu(), **box),
    )
    samples = np.random.default_rng(1).random((500, 2))
    assert_same(
        client.sampled_menu_revenue(menu, samples), LOCAL.sampled_menu_revenue(menu, samples)
    )
    dsic = LOCAL.optimal_auction(G2x3, 2)
    for kw in ({"n_samples": 2_000, "seed": 3}, {"n_samples": 500}):
        assert_same(client.rounded_evaluation(dsic, **kw), LOCAL.rounded_evaluation(dsic, **kw))


def test_async_client(server: RunningServer) -> None:
    async def go() -> tuple:
        async with AsyncMechsolveClient(server.address) as c:
            return await c.optimal_menu(G2x5), await c.audit_mechanism(
                *first_price_tables(G1x5, 2), G1x5
            )

    menu, rep = asyncio.run(go())
    assert_same(menu, LOCAL.optimal_menu(G2x5))
    assert_same(rep, LOCAL.audit_mechanism(*first_price_tables(G1x5, 2), G1x5))


# ---------------------------------------------------------------------------------------------
# Bad requests
# ---------------------------------------------------------------------------------------------
def _grid(**kw) -> apb.Prior:
    fields = {"n_items": 2, "points_per_item": 3}
    fields.update(kw)
    return apb.Prior(uniform_grid=apb.UniformGrid(**fields))


def _menu(prior: apb.Prior | None = None, **kw) -> apb.OptimalMenuRequest:
    return apb.OptimalMenuRequest(prior=prior or _grid(), **kw)


def _auction(priors=None, **kw) -> apb.OptimalAuctionRequest:
    fields = {
        "priors": [_grid()] if priors is None else priors,
        "n_bidders": 2,
        "incentive": apb.INCENTIVE_DSIC,
    }
    fields.update(kw)
    return apb.OptimalAuctionRequest(**fields)


def _samples(values) -> apb.Prior:
    return apb.Prior(empirical=apb.EmpiricalSamples(samples=cv.tensor(values)))


def _type_set(values, probs, kind=0) -> apb.Prior:
    return apb.Prior(type_set=apb.TypeSet(values=cv.tensor(values), probs=probs, kind=kind))


def _audit(**kw) -> apb.AuditMechanismRequest:
    alloc, pay = first_price_tables(G2x3, 2)
    fields = {
        "allocation": cv.tensor(alloc),
        "payment": cv.tensor(pay),
        "priors": [ca.prior_to_proto(G2x3)],
    }
    fields.update(kw)
    return apb.AuditMechanismRequest(**fields)


def _evaluate(**kw) -> apb.EvaluateMenuRequest:
    fields = {
        "allocation": cv.tensor([[1.0, 0.0], [1.0, 1.0]]),
        "price": cv.tensor([0.5, 0.9]),
        "uniform": apb.UniformBox(lo=0.0, hi=1.0),
    }
    fields.update(kw)
    return apb.EvaluateMenuRequest(**fields)


INVALID = grpc.StatusCode.INVALID_ARGUMENT
TOO_LARGE = grpc.StatusCode.RESOURCE_EXHAUSTED
NAN = float("nan")

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
    ("OptimalMenu", _menu(_grid(n_items=0)), INVALID,
     "prior.uniform_grid.n_items", "must be an integer >= 1; got 0", "no-items"),
    ("OptimalMenu", _menu(_grid(points=7)), INVALID,
     "prior.uniform_grid.points", "is not a known GRID_POINTS value; got 7", "points-unknown"),
    # priors: samples, marginals, type sets
    ("OptimalMenu", _menu(_samples([[0.1, 0.2], [NAN, 0.3]])), INVALID,
     "prior.empirical.samples[1][0]", "must be finite; got nan", "nan-samples"),
    ("OptimalMenu", _menu(_samples([[0.1, -0.5]])), INVALID,
     "prior.empirical.samples[0][1]", "must be >= 0.0; got -0.5", "negative-samples"),
    ("OptimalMenu", _menu(apb.Prior(empirical=apb.EmpiricalSamples())), INVALID,
     "prior.empirical.samples", "is required", "missing-samples"),
    ("OptimalMenu", _menu(apb.Prior(empirical=apb.EmpiricalSamples(
        samples=cv.tensor([0.1, 0.2])))), INVALID,
     "prior.empirical.samples", r"must have 2 dimension\(s\); got shape \(2,\)", "samples-1d"),
    ("OptimalMenu", _menu(apb.Prior(discrete_marginals=apb.DiscreteMarginals(items=[
        apb.Marginal(values=[0, 1]), apb.Marginal(values=[1, 1])]))), INVALID,
     "prior.discrete_marginals.items[1].values", "must be distinct", "marginal-duplicates"),
    ("OptimalMenu", _menu(apb.Prior(discrete_marginals=apb.DiscreteMarginals(items=[
        apb.Marginal(values=[0, 1], probs=[0.5, 0.6])]))), INVALID,
     "prior.discrete_marginals.items[0].probs", "must sum to 1", "marginal-probs"),
    ("OptimalMenu", _menu(apb.Prior(discrete_marginals=apb.DiscreteMarginals())), INVALID,
     "prior.discrete_marginals.items", "must be a non-empty list", "marginals-empty"),
    ("OptimalMenu", _menu(_type_set([[0.0], [1.0]], [0.5, 0.4])), INVALID,
     "prior.type_set.probs", "must sum to 1", "type-set-probs"),
    ("OptimalMenu", _menu(_type_set([[0.0], [0.0]], [0.5, 0.5])), INVALID,
     "prior.type_set.values", "must have distinct rows", "type-set-duplicates"),
    ("OptimalMenu", _menu(_type_set([[0.0, 0.0], [1.0, 1.0]], [0.5, 0.5], 1)), INVALID,
     "prior.type_set.values", "must be a full product grid", "type-set-not-a-grid"),
    ("OptimalMenu", _menu(_type_set([[0.0], [1.0]], [0.5, 0.5], 5)), INVALID,
     "prior.type_set.kind", "is not a known TYPE_SET_KIND value; got 5", "type-set-kind"),
    ("OptimalMenu", apb.OptimalMenuRequest(), INVALID,
     "prior", "is required", "missing-prior"),
    ("OptimalAuction", _auction(priors=[apb.Prior()]), INVALID,
     "priors[0]", "is required: set one of uniform_grid", "empty-prior"),
    ("OptimalAuction", _auction(priors=[]), INVALID,
     "priors", "is required", "missing-priors"),
    # enums and modes
    ("OptimalMenu", _menu(constraints=9), INVALID,
     "constraints", "is not a known CONSTRAINT_MODE value; got 9", "constraints-unknown"),
    ("OptimalAuction", _auction(incentive=0), INVALID,
     "incentive", "is required; got INCENTIVE_UNSPECIFIED", "incentive-unset"),
    ("OptimalAuction", _auction(incentive=42), INVALID,
     "incentive", "is not a known INCENTIVE value; got 42", "incentive-unknown"),
    ("OptimalAuction", _auction(incentive=apb.INCENTIVE_MENU), INVALID,
     "incentive", "must be INCENTIVE_DSIC or INCENTIVE_BIC", "incentive-menu"),
    ("OptimalAuction", _auction(incentive=apb.INCENTIVE_BIC, unit_demand=True), INVALID,
     "unit_demand", "is not supported with incentive='bic'", "bic-unit-demand"),
    # bidders
    ("OptimalAuction", _auction(priors=[_grid(), _grid()], n_bidders=3), INVALID,
     "n_bidders", r"must equal len\(priors\)=2; got 3", "n-bidders-mismatch"),
    ("OptimalAuction", _auction(priors=[_grid(), _grid(n_items=3)], n_bidders=0), INVALID,
     "priors[1]", r"must have 2 items like priors\[0\]; got 3", "items-mismatch"),
    ("OptimalAuction", _auction(n_bidders=17), INVALID,
     "n_bidders", "must be at most 16; got 17", "too-many-bidders"),
    ("RegretBudgetAuction", apb.RegretBudgetAuctionRequest(priors=[_grid()], epsilon=-0.1),
     INVALID, "epsilon", "must be >= 0.0; got -0.1", "negative-epsilon"),
    ("RegretBudgetCurve", apb.RegretBudgetCurveRequest(priors=[_grid()], epsilons=[0, NAN]),
     INVALID, "epsilons[1]", "must be finite; got nan", "nan-epsilon"),
    # audits and evaluations
    ("AuditMechanism", _audit(payment=cv.tensor(np.zeros((9, 9, 3)))), INVALID,
     "payment", r"must have shape \(T_1, ..., T_n, n\) for 3 bidders", "audit-payment-shape"),
    ("AuditMechanism", apb.AuditMechanismRequest(priors=[_grid()]), INVALID,
     "allocation", "is required", "audit-missing-allocation"),
    ("AuditMechanism", _audit(allocation=cpb.Tensor(shape=[9, 9, 2, 2], values=[0.5])), INVALID,
     "allocation.values", r"has 1 values for shape \(9, 9, 2, 2\)", "audit-tensor-size"),
    ("AuditMechanism", _audit(priors=[]), INVALID,
     "priors", "is required", "audit-missing-priors"),
    ("EvaluateMenu", _evaluate(uniform=None), INVALID,
     "distribution", "is required", "evaluate-no-distribution"),
    ("EvaluateMenu", _evaluate(price=cv.tensor([0.5])), INVALID,
     "price", r"must have shape \(2,\)", "evaluate-price-shape"),
    ("EvaluateMenu", _evaluate(uniform=apb.UniformBox(lo=1.0, hi=1.0)), INVALID,
     "uniform.hi", "must be > lo=1.0; got 1.0", "evaluate-box"),
    ("EvaluateMenu", _evaluate(uniform=apb.UniformBox(tolerance=0.0)), INVALID,
     "uniform.tolerance", "must be > 0.0; got 0.0", "evaluate-tolerance"),
    ("EvaluateMenu", _evaluate(samples=cv.tensor([[0.1, -1.0]])), INVALID,
     "samples[0][1]", "must be >= 0.0; got -1.0", "evaluate-negative-samples"),
    ("EvaluateRoundedBids", apb.EvaluateRoundedBidsRequest(
        allocation=_audit().allocation, payment=_audit().payment,
        priors=[_type_set(G2x3.values, G2x3.probs.tolist())]), INVALID,
     "priors[0]", "must be a uniform grid; got kind='discrete'", "rounded-not-a-grid"),
    ("ExtrapolateOptimum", apb.ExtrapolateOptimumRequest(n_items=1, grids=[5]), INVALID,
     "grids", "must be two grid sizes", "extrapolate-one-grid"),
    ("ExtrapolateOptimum", apb.ExtrapolateOptimumRequest(n_items=1, grids=[5, 5]), INVALID,
     "grids", "must differ from k1=5", "extrapolate-same-grids"),
    # sizes
    ("OptimalMenu", _menu(_grid(points_per_item=1001)), TOO_LARGE,
     "prior.uniform_grid.points_per_item", "over the limit max_types=1000000", "oversize-grid"),
    ("OptimalMenu", _menu(_grid(n_items=4_000_000_000)), TOO_LARGE,
     "prior.uniform_grid.points_per_item", "over the limit max_types", "huge-item-count"),
    ("OptimalMenu", _menu(apb.Prior(discrete_marginals=apb.DiscreteMarginals(
        items=[apb.Marginal(values=list(range(101)))] * 3))), TOO_LARGE,
     "prior.discrete_marginals.items", "over the limit max_types", "oversize-marginals"),
    ("OptimalAuction", _auction(priors=[_grid(points_per_item=40)]), TOO_LARGE,
     "priors", "has size 2560000, over the limit max_types=1000000", "oversize-profiles"),
    ("AuditMechanism", _audit(priors=[_grid(points_per_item=40)] * 2), TOO_LARGE,
     "priors", "over the limit max_types", "oversize-audit"),
    ("EvaluateMenu", _evaluate(uniform=apb.UniformBox(max_cells=10**9)), TOO_LARGE,
     "uniform.max_cells", "over the limit 4000000", "evaluate-max-cells"),
    ("ExtrapolateOptimum", apb.ExtrapolateOptimumRequest(n_items=2, grids=[5, 2000]), TOO_LARGE,
     "grids", "over the limit max_types", "extrapolate-oversize"),
]  # fmt: skip


def _bad_field(err: grpc.RpcError) -> str:
    status = rpc_status.from_call(err)
    assert status is not None
    br = error_details_pb2.BadRequest()
    assert status.details[0].Unpack(br)
    return br.field_violations[0].field


@pytest.fixture(scope="module")
def stub(server: RunningServer):
    with grpc.insecure_channel(server.address) as channel:
        yield agrpc.AuctionServiceStub(channel)


@pytest.mark.parametrize(
    ("rpc", "request_msg", "code", "field", "message"),
    [pytest.param(*c[:5], id=c[5]) for c in CASES],
)
def test_bad_requests_name_the_field(stub, rpc, request_msg, code, field, message) -> None:
    with pytest.raises(grpc.RpcError) as info:
        getattr(stub, rpc)(request_msg, timeout=10)
    err = info.value
    assert err.code() == code, err.details()
    assert re.search(message, err.details()), err.details()
    assert f"[field: {field}]" in err.details()
    assert _bad_field(err) == field


def test_server_keeps_serving_after_errors(server: RunningServer, stub) -> None:
    for c in CASES[:5]:
        with pytest.raises(grpc.RpcError):
            getattr(stub, c[0])(c[1], timeout=10)
    with grpc.insecure_channel(server.address) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        resp = health.Check(health_pb2.HealthCheckRequest(service=SERVICE), timeout=5)
        assert resp.status == health_pb2.HealthCheckResponse.SERVING
    resp = stub.OptimalMenu(_menu(), timeout=10)
    assert resp.mechanism.info.termination == 1 and resp.mechanism.verification.passed


def test_client_raises_remote_errors_with_the_field(client: MechsolveClient) -> None:
    with pytest.raises(RemoteInputError) as info:
        client.optimal_auction(G2x4, 2, incentive="bic", unit_demand=True)
    assert info.value.field == "unit_demand"
    with pytest.raises(RemoteProblemTooLargeError) as too_large:
        client.optimal_auction(uniform_grid(2, 40), 2)
    assert too_large.value.field == "priors"
    with pytest.raises(RemoteInputError) as not_grid:
        client.rounded_evaluation(
            dataclasses.replace(LOCAL.optimal_auction(EMPIRICAL, 2), priors=(EMPIRICAL,) * 2)
        )
    assert not_grid.value.field == "priors[0]"


def test_client_validates_before_sending(client: MechsolveClient) -> None:
    with pytest.raises(MechsolveInputError, match=r"client\(\): `constraints` must be one of"):
        client.optimal_menu(G2x3, constraints="some")
    with pytest.raises(MechsolveInputError, match=r"client\(\): `incentive` must be one of"):
        client.optimal_auction(G2x3, 2, incentive="bayes")
    with pytest.raises(MechsolveInputError, match=r"client\(\): `prior` must be a TypePrior"):
        client.optimal_menu([G2x3])
    with pytest.raises(MechsolveInputError, match=r"client\(\): `n_bidders` must equal"):
        client.optimal_auction([G2x3, G2x3], 3)
    with pytest.raises(MechsolveInputError, match=r"client\(\): `unit_demand` must be True"):
        client.optimal_menu(G2x3, unit_demand=1)


# ---------------------------------------------------------------------------------------------
# Conversions and the CLI
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "prior",
    [G2x5, uniform_grid(3, 2, lo=0.5, hi=2.5, points="corner"), EMPIRICAL, DISCRETE],
    ids=["grid", "corner-grid", "empirical", "discrete"],
)
def test_priors_cross_the_wire_exactly(prior: TypePrior) -> None:
    msg = apb.Prior.FromString(ca.prior_to_proto(prior).SerializeToString())
    back = ca.prior_from_proto(msg, "test", "prior")
    assert back.same_as(prior) and back.kind is prior.kind
    assert back.grid_shape == prior.grid_shape
    if prior.is_uniform_grid:
        assert msg.WhichOneof("source") == "uniform_grid"
        assert (back.lo, back.hi) == (prior.lo, prior.hi)


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
        return json.loads(out.stdout)

    common = ("--bidders", "2", "--items", "1", "--grid", "5", "--continuous")
    remote = run(*common, "--eval-samples", "2000", "--address", server.address)
    local = run(*common, "--eval-samples", "2000", "--output", str(mech))
    assert remote.pop("server") == server.address
    for key in ("solve_time_s", "output"):
        remote.pop(key, None), local.pop(key, None)
    assert remote == local
    audit = run("--audit", str(mech), "--address", server.address)
    assert audit["regret_max"] == 0.0 and audit["revenue"] == pytest.approx(local["revenue"])
