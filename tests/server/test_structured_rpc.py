"""StructuredMediatorService over a real socket: every restaurant and matching mediator (every
method, known and true utility, every named client method) returns what the in-process solver
returns; a time limit comes back as a termination; bad requests get INVALID_ARGUMENT or
RESOURCE_EXHAUSTED naming the field, unset enums mean the function's defaults, and the server
keeps serving."""

from __future__ import annotations

import asyncio
import dataclasses
import math
import re
from collections.abc import Iterator
from typing import Any

import grpc
import numpy as np
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status

from mechsolve import codec
from mechsolve.api import RPCS, Rpc
from mechsolve.client import (
    AsyncMechsolveClient,
    LocalMechsolve,
    MechsolveClient,
    RemoteInputError,
    RemoteProblemTooLargeError,
)
from mechsolve.server.app import RunningServer, build_server, free_port
from mechsolve.server.config import ServerConfig
from mechsolve.solver.core.errors import MechsolveInputError
from mechsolve.solver.core.limits import Limits
from mechsolve.solver.core.results import Limit, TerminationReason
from mechsolve.solver.structured import matching as mt
from mechsolve.solver.structured import restaurant as rs
from mechsolve.v1 import common_pb2 as cpb
from mechsolve.v1 import structured_pb2 as spb
from mechsolve.v1 import structured_pb2_grpc as sgrpc

from ..conftest import TEST_LIMITS

SERVICE = "mechsolve.v1.StructuredMediatorService"
LOCAL = LocalMechsolve(limits=TEST_LIMITS)
RESTAURANT: Rpc = next(r for r in RPCS if isinstance(r, Rpc) and r.name == "MediateRestaurant")
MATCHING: Rpc = next(r for r in RPCS if isinstance(r, Rpc) and r.name == "MediateMatching")

# 30 agents, 6 restaurants with capacities 1..4, a Zipf-crowded profile: congestion, free seats
# and stayers all occur.
INST = rs.random_restaurant_instance(30, 6, max_capacity=4, alpha=1.5, seed=1)
CHOICES, DELEGATE = rs.random_restaurant_profile(30, 6, popularity=1.0, seed=2)
REWARDS = mt.random_matching_instance(24, seed=3)
PARTNERS, MDELEGATE = mt.random_matching_profile(24, seed=4)
PARTNERS[[0, 5]] = -1  # nobody: negative pointers cross the wire too

TIMINGS = {"build_time_s", "solve_time_s", "wall_time_s"}


def assert_same_result(remote: Any, local: Any, where: str = "result") -> None:
    """Every field equal, recursively (arrays with their dtype, nan == nan), timings aside;
    a remote wall time is positive."""
    assert type(remote) is type(local), f"{where}: {type(remote)} != {type(local)}"
    if isinstance(local, np.ndarray):
        assert remote.dtype == local.dtype, f"{where}: {remote.dtype} != {local.dtype}"
        np.testing.assert_array_equal(remote, local, err_msg=where)
    elif dataclasses.is_dataclass(local):
        for f in dataclasses.fields(local):
            if f.name in TIMINGS:
                if f.name == "wall_time_s":
                    assert getattr(remote, f.name) > 0, where
                continue
            assert_same_result(getattr(remote, f.name), getattr(local, f.name), f"{where}.{f.name}")
    elif isinstance(local, float) and math.isnan(local):
        assert isinstance(remote, float) and math.isnan(remote), f"{where}: {remote!r}"
    else:
        assert remote == local, f"{where}: {remote!r} != {local!r}"


def assert_consistent(res: Any) -> None:
    """The result vocabulary: welfare is the beneficiaries' (the delegators') total, the
    all-agent totals are properties."""
    np.testing.assert_array_equal(res.beneficiaries, res.delegate)
    assert res.welfare_function == "utilitarian"
    assert res.welfare_before == pytest.approx(res.utilities_before[res.delegate].sum())
    assert res.welfare_after == pytest.approx(res.utilities_after[res.delegate].sum())
    assert res.total_utility_before == pytest.approx(res.utilities_before.sum())
    assert res.total_utility_after == pytest.approx(res.utilities_after.sum())


# ---------------------------------------------------------------------------------------------
# Same answers as in-process
# ---------------------------------------------------------------------------------------------
RESTAURANT_CASES = [
    *[("pareto", m) for m in rs.PARETO_METHODS],
    ("pareto_exact", None),
    *[("punishing", m) for m in rs.PARETO_METHODS],
    *[("central_planner", m) for m in rs.PARETO_METHODS],
]
SOLVER = {
    "pareto": rs.restaurant_pareto,
    "pareto_exact": rs.restaurant_pareto_exact,
    "punishing": rs.restaurant_punishing,
}


@pytest.mark.parametrize("utility", ["known", "true", "no_private"])
@pytest.mark.parametrize(("mediator", "method"), RESTAURANT_CASES)
def test_restaurant_rpc_matches_in_process(
    client: MechsolveClient, mediator: str, method: str | None, utility: str
) -> None:
    kw: dict = {"mediator_utility": "true" if utility == "true" else "known"}
    if utility != "no_private":
        kw.update(private=INST.private, alpha=INST.alpha)
    planner = mediator == "central_planner"
    delegate = None if planner else DELEGATE
    remote = client.mediate_restaurant(
        INST.known, INST.capacities, CHOICES, delegate, mediator=mediator, method=method, **kw
    )
    assert_same_result(
        remote,
        LOCAL.mediate_restaurant(
            INST.known, INST.capacities, CHOICES, delegate, mediator=mediator, method=method, **kw
        ),
    )
    if method is not None:
        kw["method"] = method
    if planner:
        local = rs.restaurant_central_planner(INST.known, INST.capacities, CHOICES, **kw)
    else:
        local = SOLVER[mediator](INST.known, INST.capacities, CHOICES, DELEGATE, **kw)
    assert_same_result(remote, local)
    assert remote.mediator == mediator and remote.mediator_utility == kw["mediator_utility"]
    assert remote.termination.is_optimal
    assert len(remote.true_utilities_after) == (0 if utility == "no_private" else 30)
    assert math.isnan(remote.true_total_utility_after) == (utility == "no_private")
    assert np.isnan(remote.gain_over_paper) == (mediator != "pareto_exact")
    if mediator == "punishing":  # not everyone delegates: one restaurant for the others
        assert remote.method == "punishing_one_restaurant"
    assert_consistent(remote)
    if planner:
        assert remote.beneficiaries.all()


def test_restaurant_named_methods_match_the_in_process_client(client: MechsolveClient) -> None:
    args = (INST.known, INST.capacities, CHOICES)
    kw = {"private": INST.private, "alpha": INST.alpha}
    everyone = np.ones(30, dtype=bool)  # punishing with everyone delegating: the planner
    for name, extra in [
        ("restaurant_pareto", {"method": "highs_lp", "mediator_utility": "true"}),
        ("restaurant_pareto_exact", {"mediator_utility": "true"}),
        ("restaurant_punishing", {"method": "seat_assignment"}),
    ]:
        for d in (DELEGATE, everyone):
            assert_same_result(
                getattr(client, name)(*args, d, **kw, **extra),
                getattr(LOCAL, name)(*args, d, **kw, **extra),
            )
    assert client.restaurant_punishing(*args, everyone).method == "planner_min_cost_flow"
    assert_same_result(
        client.restaurant_central_planner(*args, method="highs_lp"),
        LOCAL.restaurant_central_planner(*args, method="highs_lp"),
    )
    assert_same_result(
        client.restaurant_pareto(*args, DELEGATE),
        LOCAL.mediate_restaurant(*args, DELEGATE),
    )


MATCHING_SOLVER = {
    "pareto": mt.matching_pareto,
    "pareto_exact": mt.matching_pareto_exact,
    "punishing": mt.matching_punishing,
}


@pytest.mark.parametrize("mediator", list(MATCHING_SOLVER))
def test_matching_rpc_matches_in_process(client: MechsolveClient, mediator: str) -> None:
    remote = client.mediate_matching(REWARDS, PARTNERS, MDELEGATE, mediator=mediator)
    local = MATCHING_SOLVER[mediator](REWARDS, PARTNERS, MDELEGATE)
    assert_same_result(remote, local)
    assert_same_result(
        remote, LOCAL.mediate_matching(REWARDS, PARTNERS, MDELEGATE, mediator=mediator)
    )
    assert remote.mediator == mediator and remote.termination.is_optimal
    assert np.isnan(remote.gain_over_paper) == (mediator != "pareto_exact")
    assert remote.actions_before[0] == -1 and remote.actions_before.dtype == np.int64
    assert_consistent(remote)


def test_matching_named_methods_match_the_in_process_client(client: MechsolveClient) -> None:
    remote = client.mediate_matching(REWARDS, PARTNERS, mediator="central_planner")
    assert_same_result(remote, mt.matching_central_planner(REWARDS, PARTNERS))
    assert_same_result(remote, LOCAL.matching_central_planner(REWARDS, PARTNERS))
    assert remote.beneficiaries.all()
    everyone = np.ones(24, dtype=bool)
    for name in MATCHING_SOLVER:
        for d in (MDELEGATE, everyone):
            assert_same_result(
                getattr(client, f"matching_{name}")(REWARDS, PARTNERS, d),
                getattr(LOCAL, f"matching_{name}")(REWARDS, PARTNERS, d),
            )
    assert_same_result(
        client.matching_pareto_exact(REWARDS, PARTNERS, MDELEGATE),
        LOCAL.mediate_matching(REWARDS, PARTNERS, MDELEGATE, mediator="pareto_exact"),
    )


def test_async_client(server: RunningServer) -> None:
    async def run() -> tuple:
        async with AsyncMechsolveClient(server.address) as c:
            return await asyncio.gather(
                c.restaurant_pareto(INST.known, INST.capacities, CHOICES, DELEGATE),
                c.matching_pareto(REWARDS, PARTNERS, MDELEGATE),
                c.mediate_restaurant(
                    INST.known, INST.capacities, CHOICES, mediator="central_planner"
                ),
            )

    rest, match, planner = asyncio.run(run())
    assert_same_result(rest, rs.restaurant_pareto(INST.known, INST.capacities, CHOICES, DELEGATE))
    assert_same_result(match, mt.matching_pareto(REWARDS, PARTNERS, MDELEGATE))
    assert_same_result(planner, rs.restaurant_central_planner(INST.known, INST.capacities, CHOICES))


def test_service_is_healthy_and_discoverable(server: RunningServer) -> None:
    with grpc.insecure_channel(server.address) as ch:
        resp = health_pb2_grpc.HealthStub(ch).Check(
            health_pb2.HealthCheckRequest(service=SERVICE), timeout=5
        )
        assert resp.status == health_pb2.HealthCheckResponse.SERVING
        req = reflection_pb2.ServerReflectionRequest(list_services="")
        names = {
            s.name
            for r in reflection_pb2_grpc.ServerReflectionStub(ch).ServerReflectionInfo(
                iter([req]), timeout=5
            )
            for s in r.list_services_response.service
        }
        assert SERVICE in names


# ---------------------------------------------------------------------------------------------
# Time limits
# ---------------------------------------------------------------------------------------------
def _pareto_for_delegators(res: Any) -> None:
    """No delegator is worse off after mediation (exact check of the congested payoffs)."""
    d = res.delegate
    assert np.all(res.utilities_after[d] >= res.utilities_before[d] - 1e-9)
    assert res.welfare_after >= res.welfare_before - 1e-9


def test_call_deadline_is_the_solver_time_limit(client: MechsolveClient) -> None:
    """The call's deadline is the solver's time limit: the answer is a result (optimal, or
    feasible with limit TIME), never DEADLINE_EXCEEDED, and it keeps its guarantees."""
    # A pool of ~100 unmatched delegators (the matching LP plus a blossom finish).
    rewards = mt.random_matching_instance(200, seed=0)
    partners, delegate = mt.random_matching_profile(200, seed=100)
    res = client.matching_pareto(rewards, partners, delegate, time_limit=2.0)
    assert res.termination.reason in (TerminationReason.OPTIMAL, TerminationReason.FEASIBLE)
    assert res.termination.is_optimal or res.termination.limit is Limit.TIME
    matched = np.flatnonzero(res.mates >= 0)  # a valid matching: mates are mutual
    np.testing.assert_array_equal(res.mates[res.mates[matched]], matched)
    _pareto_for_delegators(res)
    # The exact restaurant MILP (48,727 binaries, solved in this process: about 3 s alone; a
    # deadline it reaches is a termination too, but HiGHS may overrun a limit that stops it in
    # its root phases by more than the 5% the server keeps, so the deadline is generous).
    inst = rs.random_restaurant_instance(150, 30, max_capacity=3, alpha=1.5, seed=1)
    choices, dele = rs.random_restaurant_profile(150, 30, popularity=1.5, seed=2)
    exact = client.restaurant_pareto_exact(
        inst.known, inst.capacities, choices, dele, time_limit=30.0
    )
    assert exact.termination.reason in (TerminationReason.OPTIMAL, TerminationReason.FEASIBLE)
    assert exact.termination.is_optimal or exact.termination.limit is Limit.TIME
    _pareto_for_delegators(exact)
    assert exact.gain_over_paper >= -1e-9


# 600 agents at 40 restaurants: the exact MILP has ~1.2 million binaries (minutes to solve), so
# a time-limited solve runs in a child process that is killed at the limit.
BIG = rs.random_restaurant_instance(600, 40, max_capacity=4, alpha=1.5, seed=1)
BIG_CHOICES, BIG_DELEGATE = rs.random_restaurant_profile(600, 40, popularity=1.5, seed=2)


@pytest.fixture(scope="module")
def capped() -> Iterator[RunningServer]:
    """Default size limits, and at most 2 s per solve (``max_solve_seconds``) whatever the
    call's deadline: a time limit that binds well before the deadline on a busy machine."""
    running = build_server(ServerConfig(port=0, limits=Limits(), solvers=2, max_solve_seconds=2))
    yield running
    running.stop(grace=0.5)


def test_time_limit_is_a_termination(capped: RunningServer) -> None:
    """A MILP stopped by its time limit comes back as FEASIBLE (limit TIME), not as an error,
    with the paper's solution as the fallback when the MILP found nothing better."""
    args = (BIG.known, BIG.capacities, BIG_CHOICES, BIG_DELEGATE)
    with MechsolveClient(capped.address, default_time_limit=60.0) as c:
        res = c.restaurant_pareto_exact(*args)
    assert res.termination.reason is TerminationReason.FEASIBLE
    assert res.termination.limit is Limit.TIME and res.termination.has_solution
    assert res.mediator == "pareto_exact" and res.method == "milp"
    _pareto_for_delegators(res)
    assert res.gain_over_paper >= 0.0  # never worse than the paper's method
    if "paper's solution kept" in res.termination.detail:  # (the MILP found nothing in 2 s)
        paper = rs.restaurant_pareto(*args)
        np.testing.assert_array_equal(res.actions_after, paper.actions_after)
        assert res.gain_over_paper == 0.0


@pytest.fixture(scope="module")
def roomy() -> Iterator[RunningServer]:
    """Default size limits and solve cap: the call's deadline is the only time limit."""
    running = build_server(ServerConfig(port=0, limits=Limits(), solvers=2))
    yield running
    running.stop(grace=0.5)


def test_a_short_deadline_on_a_big_milp_is_a_termination(roomy: RunningServer) -> None:
    with MechsolveClient(roomy.address) as c:
        res = c.restaurant_pareto_exact(
            BIG.known, BIG.capacities, BIG_CHOICES, BIG_DELEGATE, time_limit=5.0
        )
    assert res.termination.limit is Limit.TIME and res.termination.has_solution


# ---------------------------------------------------------------------------------------------
# Bad requests
# ---------------------------------------------------------------------------------------------
KNOWN = [[0.5, 0.2, 0.9], [0.1, 0.8, 0.3], [0.4, 0.4, 0.4], [0.7, 0.0, 0.6]]
NAN = float("nan")


def _tensor(values: Any) -> cpb.Tensor:
    a = np.asarray(values, dtype=np.float64)
    return cpb.Tensor(shape=a.shape, values=a.ravel().tolist())


def _rest(**overrides: Any) -> spb.MediateRestaurantRequest:
    fields = dict(
        known_utilities=_tensor(KNOWN),
        capacities=[1, 2, 1],
        choices=[0, 1, 2, 0],
        delegate=[True, True, False, True],
        mediator=spb.STRUCTURED_MEDIATOR_PARETO,
    )
    fields.update(overrides)
    return spb.MediateRestaurantRequest(**{k: v for k, v in fields.items() if v is not None})


def _match(**overrides: Any) -> spb.MediateMatchingRequest:
    fields = dict(
        rewards=_tensor(np.ones((4, 4)) - np.eye(4)),
        partners=[1, 0, 3, -1],
        delegate=[True, False, True, True],
        mediator=spb.STRUCTURED_MEDIATOR_PARETO,
    )
    fields.update(overrides)
    return spb.MediateMatchingRequest(**{k: v for k, v in fields.items() if v is not None})


def _known_with(i: int, j: int, value: float) -> cpb.Tensor:
    k = np.array(KNOWN)
    k[i, j] = value
    return _tensor(k)


INVALID = grpc.StatusCode.INVALID_ARGUMENT
TOO_LARGE = grpc.StatusCode.RESOURCE_EXHAUSTED
PLANNER = spb.STRUCTURED_MEDIATOR_CENTRAL_PLANNER
EXACT = spb.STRUCTURED_MEDIATOR_PARETO_EXACT
MANY = 2001  # over max_exact_agents=2000
U32 = 2**32 - 1

CASES = [
    # -- restaurant: capacities, utilities, shapes, choices ---------------------------------
    ("MediateRestaurant", _rest(capacities=[1, 0, 1]), INVALID, "capacities[1]", "must be >= 1; got 0"),
    ("MediateRestaurant", _rest(capacities=[-2, 1, 1]), INVALID, "capacities[0]", "must be >= 1; got -2"),
    ("MediateRestaurant", _rest(capacities=[1, 2]), INVALID, "capacities", r"must have shape \(3,\); got \(2,\)"),
    ("MediateRestaurant", _rest(known_utilities=_known_with(1, 2, NAN)), INVALID, "known_utilities[1][2]", "must be finite; got nan"),
    ("MediateRestaurant", _rest(known_utilities=_known_with(0, 0, -0.5)), INVALID, "known_utilities[0][0]", "must be >= 0.0; got -0.5"),
    ("MediateRestaurant", _rest(known_utilities=cpb.Tensor(shape=[4, 3], values=[1, 2, 3, 4, 5])), INVALID, "known_utilities.values", r"has 5 values for shape \(4, 3\): expected 12"),
    ("MediateRestaurant", _rest(known_utilities=cpb.Tensor(shape=[U32, U32])), INVALID, "known_utilities.values", r"has 0 values for shape \(4294967295, 4294967295\)"),
    ("MediateRestaurant", _rest(known_utilities=cpb.Tensor(shape=[1] * 33)), INVALID, "known_utilities.shape", "has 33 dimensions, over 32"),
    ("MediateRestaurant", _rest(known_utilities=_tensor([0.5, 0.2, 0.9])), INVALID, "known_utilities", "must have 2 dimension"),
    ("MediateRestaurant", _rest(known_utilities=None), INVALID, "known_utilities", "is required"),
    ("MediateRestaurant", _rest(capacities=[]), INVALID, "capacities", "is required"),
    ("MediateRestaurant", _rest(private_utilities=_known_with(3, 1, NAN), alpha=1.0), INVALID, "private_utilities[3][1]", "must be finite; got nan"),
    ("MediateRestaurant", _rest(private_utilities=_tensor(np.ones((4, 2)))), INVALID, "private_utilities", r"must have shape \(4, 3\); got \(4, 2\)"),
    ("MediateRestaurant", _rest(mediator_utility=spb.MEDIATOR_UTILITY_TRUE), INVALID, "private_utilities", "must be given when mediator_utility='true'"),
    ("MediateRestaurant", _rest(choices=[0, 1, 3, 0]), INVALID, "choices[2]", r"must be in \[0, 3\); got 3"),
    ("MediateRestaurant", _rest(choices=[0, -1, 2, 0]), INVALID, "choices[1]", r"must be in \[0, 3\); got -1"),
    ("MediateRestaurant", _rest(choices=[0, 1]), INVALID, "choices", r"must have shape \(4,\); got \(2,\)"),
    ("MediateRestaurant", _rest(delegate=[True]), INVALID, "delegate", r"must have shape \(4,\); got \(1,\)"),
    ("MediateRestaurant", _rest(delegate=[]), INVALID, "delegate", "is required for mediator='pareto'"),
    ("MediateRestaurant", _rest(delegate=[], mediator=EXACT), INVALID, "delegate", "is required for mediator='pareto_exact'"),
    ("MediateRestaurant", _rest(mediator=PLANNER), INVALID, "delegate", "must be empty for the central planner"),
    ("MediateRestaurant", _rest(alpha=-1.0), INVALID, "alpha", "must be >= 0.0; got -1.0"),
    ("MediateRestaurant", _rest(alpha=NAN), INVALID, "alpha", "must be finite; got nan"),
    # -- restaurant: enums ----------------------------------------------------------------
    ("MediateRestaurant", _rest(mediator=42), INVALID, "mediator", "is not a known StructuredMediator value; got 42"),
    ("MediateRestaurant", _rest(method=9), INVALID, "method", "is not a known RestaurantMethod value; got 9"),
    ("MediateRestaurant", _rest(mediator=EXACT, method=2), INVALID, "method", "does not apply to the exact mediator"),
    ("MediateRestaurant", _rest(mediator_utility=7), INVALID, "mediator_utility", "is not a known MediatorUtility value; got 7"),
    # -- restaurant: size limits ----------------------------------------------------------
    ("MediateRestaurant", _rest(known_utilities=_tensor(np.ones((200_001, 1)))), TOO_LARGE, "known_utilities", "over the limit max_agents=200000"),
    ("MediateRestaurant", _rest(known_utilities=_tensor(np.ones((1, 100_001)))), TOO_LARGE, "capacities", "over the limit max_restaurants=100000"),
    ("MediateRestaurant", _rest(known_utilities=_tensor(np.ones((MANY, 1))), capacities=[MANY], choices=[0] * MANY, delegate=[True] * MANY, mediator=EXACT), TOO_LARGE, "delegate", "over the limit max_exact_agents=2000"),
    # -- matching -------------------------------------------------------------------------
    ("MediateMatching", _match(partners=[1, 0, 2, 0]), INVALID, "partners[2]", r"must not be 2 \(an agent cannot point at itself\)"),
    ("MediateMatching", _match(partners=[1, 0, 4, 0]), INVALID, "partners[2]", r"must be in \[-1, 4\); got 4"),
    ("MediateMatching", _match(partners=[-2, 0, 1, 0]), INVALID, "partners[0]", r"must be in \[-1, 4\); got -2"),
    ("MediateMatching", _match(partners=[1, 0]), INVALID, "partners", r"must have shape \(4,\); got \(2,\)"),
    ("MediateMatching", _match(partners=[]), INVALID, "partners", "is required"),
    ("MediateMatching", _match(rewards=_tensor(np.ones((4, 3)))), INVALID, "rewards", r"must be square \(n, n\); got shape \(4, 3\)"),
    ("MediateMatching", _match(rewards=_tensor(np.where(np.eye(4)[::-1] > 0, NAN, 1.0))), INVALID, "rewards[0][3]", "must be finite; got nan"),
    ("MediateMatching", _match(rewards=_tensor(-np.eye(4))), INVALID, "rewards[0][0]", "must be >= 0.0; got -1.0"),
    ("MediateMatching", _match(rewards=cpb.Tensor(shape=[4, 4], values=[1.0])), INVALID, "rewards.values", r"has 1 values for shape \(4, 4\)"),
    ("MediateMatching", _match(rewards=cpb.Tensor(shape=[U32, U32])), INVALID, "rewards.values", r"has 0 values for shape"),
    ("MediateMatching", _match(rewards=None), INVALID, "rewards", "is required"),
    ("MediateMatching", _match(delegate=[True, False]), INVALID, "delegate", r"must have shape \(4,\)"),
    ("MediateMatching", _match(delegate=[]), INVALID, "delegate", "is required for mediator='pareto'"),
    ("MediateMatching", _match(mediator=PLANNER), INVALID, "delegate", "must be empty for the central planner"),
    ("MediateMatching", _match(mediator=7), INVALID, "mediator", "is not a known StructuredMediator value; got 7"),
    ("MediateMatching", _match(rewards=_tensor(np.zeros((450, 450))), partners=[-1] * 450, delegate=[True] * 450), TOO_LARGE, "rewards", "over the limit max_candidates=200000"),
]  # fmt: skip


@pytest.fixture
def sstub(server: RunningServer) -> Iterator[sgrpc.StructuredMediatorServiceStub]:
    """The raw generated stub, for malformed requests the typed client would not send."""
    with grpc.insecure_channel(server.address) as channel:
        yield sgrpc.StructuredMediatorServiceStub(channel)


def _bad_field(err: grpc.RpcError) -> str:
    status = rpc_status.from_call(err)
    assert status is not None
    br = error_details_pb2.BadRequest()
    assert status.details[0].Unpack(br)
    return str(br.field_violations[0].field)


@pytest.mark.parametrize(
    ("rpc", "request_msg", "code", "field", "message"),
    [pytest.param(*c, id=f"{c[0]}-{c[3]}-{i}") for i, c in enumerate(CASES)],
)
def test_bad_request_names_the_field(
    sstub, client: MechsolveClient, rpc, request_msg, code, field, message
) -> None:
    with pytest.raises(grpc.RpcError) as info:
        getattr(sstub, rpc)(request_msg, timeout=30)
    err = info.value
    assert err.code() == code, err.details()
    assert re.search(message, err.details()), err.details()
    assert f"[field: {field}]" in err.details()
    assert _bad_field(err) == field
    # the server keeps serving
    assert client.health(SERVICE) == "SERVING"
    assert client.matching_pareto(REWARDS[:4, :4], [1, 0, 3, 2], [1, 1, 1, 1]).welfare_after > 0


def test_unset_fields_mean_the_defaults(sstub) -> None:
    """``*_UNSPECIFIED`` and unset fields are the solver function's defaults: the Pareto
    mediator, min-cost flow, the known utility, no private utilities, alpha 0."""
    base = _rest(mediator=spb.STRUCTURED_MEDIATOR_UNSPECIFIED)
    unset = sstub.MediateRestaurant(base, timeout=30).result
    explicit = sstub.MediateRestaurant(
        _rest(
            method=spb.RESTAURANT_METHOD_MIN_COST_FLOW,
            mediator_utility=spb.MEDIATOR_UTILITY_KNOWN,
        ),
        timeout=30,
    ).result
    assert unset.mediator == explicit.mediator == spb.STRUCTURED_MEDIATOR_PARETO
    assert unset.info.method == explicit.info.method == "min_cost_flow"
    assert unset.mediator_utility == spb.MEDIATOR_UTILITY_KNOWN
    assert list(unset.actions_after) == list(explicit.actions_after)
    assert len(unset.true_utilities_after) == 0
    kwargs = codec.decode_request(RESTAURANT, base, TEST_LIMITS)
    assert set(kwargs) == {"known", "capacities", "choices", "delegate", "alpha"}
    assert kwargs["alpha"] == 0.0
    planner = sstub.MediateRestaurant(_rest(mediator=PLANNER, delegate=[]), timeout=30).result
    assert planner.mediator == PLANNER and all(planner.beneficiaries)
    match = sstub.MediateMatching(_match(mediator=0), timeout=30).result
    assert match.mediator == spb.STRUCTURED_MEDIATOR_PARETO
    assert list(match.actions_before) == [1, 0, 3, -1]


def test_requests_encode_as_the_solver_arguments() -> None:
    """The client's request for a call decodes (on the server, with its limits) to the same
    arguments: known/private travel as known_utilities/private_utilities."""
    args = {
        "known": INST.known,
        "capacities": INST.capacities,
        "choices": CHOICES,
        "delegate": DELEGATE,
        "mediator": "pareto_exact",
        "private": INST.private,
        "alpha": INST.alpha,
        "mediator_utility": "true",
    }
    msg = RESTAURANT.request.FromString(codec.encode_request(RESTAURANT, args).SerializeToString())
    assert msg.HasField("known_utilities") and msg.HasField("private_utilities")
    assert msg.mediator == EXACT and msg.mediator_utility == spb.MEDIATOR_UTILITY_TRUE
    back = codec.decode_request(RESTAURANT, msg, TEST_LIMITS)
    assert set(back) == set(args)
    for name, value in args.items():
        np.testing.assert_array_equal(np.asarray(back[name]), np.asarray(value), err_msg=name)
    margs = {"rewards": REWARDS, "partners": PARTNERS, "delegate": MDELEGATE}
    back = codec.decode_request(MATCHING, codec.encode_request(MATCHING, margs), TEST_LIMITS)
    assert back.keys() == margs.keys() and back["partners"].dtype == np.int64
    for name, value in margs.items():
        np.testing.assert_array_equal(back[name], value, err_msg=name)


def test_client_raises_the_project_exceptions(client: MechsolveClient) -> None:
    with pytest.raises(RemoteInputError, match=r"`capacities\[1\]` must be >= 1") as info:
        client.restaurant_pareto(KNOWN, [1, 0, 1], [0, 1, 2, 0], [1, 1, 0, 1])
    assert info.value.field == "capacities[1]"
    with pytest.raises(RemoteInputError, match=r"`known\[0\]\[1\]` must be >= 0") as info:
        client.restaurant_pareto([[0.5, -1.0]], [1, 1], [0], [1])
    assert info.value.field == "known_utilities[0][1]"
    with pytest.raises(RemoteInputError) as info:
        client.matching_punishing(np.ones((3, 3)), [1, 1, 0], [1, 0, 1])
    assert info.value.field == "partners[1]"
    with pytest.raises(RemoteProblemTooLargeError, match="max_candidates") as too_large:
        client.matching_central_planner(np.zeros((450, 450)), np.full(450, -1))
    assert too_large.value.field == "rewards"


def test_client_validates_before_sending() -> None:
    with MechsolveClient(f"127.0.0.1:{free_port()}", default_time_limit=5.0) as c:
        args = (KNOWN, [1, 2, 1], [0, 1, 2, 0])  # nothing listens: never sent
        for call, message in [
            (lambda: c.restaurant_pareto(*args, [1, 2, 0, 1]), r"`delegate\[1\]` must be"),
            (lambda: c.restaurant_pareto(KNOWN, [1, 2, 1], [0, 0.5, 2, 0], [1, 1, 1, 1]), r"`choices\[1\]` must be an integer"),
            (lambda: c.restaurant_pareto(KNOWN, [[1, 2, 1]], [0, 1, 2, 0], [1, 1, 1, 1]), r"`capacities` must be one-dimensional; got shape \(1, 3\)"),
            (lambda: c.restaurant_pareto(*args, [1, 1, 0, 1], method="simplex"), "`method` must be one of 'min_cost_flow', 'highs_lp', 'seat_assignment'"),
            (lambda: c.mediate_restaurant(*args, [1, 1, 0, 1], mediator="lottery"), "`mediator` must be one of"),
            (lambda: c.restaurant_pareto(*args, [1, 1, 0, 1], mediator_utility="private"), "`mediator_utility` must be one of"),
            (lambda: c.restaurant_pareto(*args, [1, 1, 0, 1], alpha=True), "`alpha` must be a real number"),
            (lambda: c.restaurant_pareto(*args, [1, 1, 0, 1], private=[[np.nan] * 3] * 4), r"`private\[0\]\[0\]` must be finite"),
            (lambda: c.matching_pareto(np.ones((2, 2)), [[1, 0]], [1, 1]), "`partners` must be one-dimensional"),
            (lambda: c.matching_pareto([[0, "a"], [1, 0]], [1, 0], [1, 1]), "`rewards` must be an array of real"),
            (lambda: c.matching_pareto([[0, np.inf], [1, 0]], [1, 0], [1, 1]), r"`rewards\[0\]\[1\]` must be finite"),
            (lambda: c.matching_pareto(np.ones((2, 2)), [1, 0], [1, 1], time_limit=-1.0), "`time_limit` must be > 0"),
        ]:  # fmt: skip
            with pytest.raises(MechsolveInputError, match=message) as info:
                call()
            assert not isinstance(info.value, RemoteInputError)


def test_in_process_dispatch_rejects_what_the_server_rejects(client: MechsolveClient) -> None:
    args = (KNOWN, [1, 2, 1], [0, 1, 2, 0])
    for api in (LOCAL, client):
        with pytest.raises(MechsolveInputError, match="`delegate` must be empty for the central"):
            api.mediate_restaurant(*args, [1, 1, 1, 1], mediator="central_planner")
        with pytest.raises(MechsolveInputError, match="`method` does not apply to the exact"):
            api.mediate_restaurant(*args, [1, 1, 0, 1], mediator="pareto_exact", method="highs_lp")
        with pytest.raises(MechsolveInputError, match="`delegate` is required"):
            api.mediate_matching(np.ones((2, 2)), [1, 0], mediator="punishing")
        with pytest.raises(MechsolveInputError, match="`delegate` is required"):
            api.mediate_restaurant(*args, None, mediator="pareto")


@pytest.mark.parametrize(
    "name", ["restaurant_pareto", "restaurant_punishing", "restaurant_pareto_exact"]
)
def test_a_missing_delegate_is_refused_in_process_as_over_the_wire(
    client: MechsolveClient, name: str
) -> None:
    args = (KNOWN, [1, 2, 1], [0, 1, 2, 0], None)
    with pytest.raises(RemoteInputError, match="`delegate` is required") as remote:
        getattr(client, name)(*args)
    assert remote.value.field == "delegate"
    with pytest.raises(MechsolveInputError, match="`delegate`"):
        getattr(LOCAL, name)(*args)


def test_the_seat_assignment_size_limit_names_the_method(sstub) -> None:
    request = _rest(
        known_utilities=_tensor(np.ones((600, 1))),
        capacities=[600],
        choices=[0] * 600,
        delegate=[True] * 600,
        method=spb.RESTAURANT_METHOD_SEAT_ASSIGNMENT,
    )
    with pytest.raises(grpc.RpcError) as info:
        sstub.MediateRestaurant(request, timeout=30)
    assert info.value.code() == TOO_LARGE, info.value.details()
    assert "over the limit max_candidates=200000" in info.value.details()
    assert _bad_field(info.value) == "method"
