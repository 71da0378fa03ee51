"""StructuredMediatorService over a real socket: every restaurant and matching mediator (every
method, known and true utility) returns what the in-process solver returns; bad requests get
INVALID_ARGUMENT or RESOURCE_EXHAUSTED naming the field, and the server keeps serving."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import time

import grpc
import numpy as np
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status

from mechsolve import convert as cv
from mechsolve.client import (
    AsyncMechsolveClient,
    LocalMechsolve,
    MechsolveClient,
    RemoteInputError,
    RemoteProblemTooLargeError,
)
from mechsolve.server.app import RunningServer, free_port
from mechsolve.solver.core.errors import MechsolveInputError
from mechsolve.solver.core.results import Termination
from mechsolve.solver.structured import matching as mt
from mechsolve.solver.structured import restaurant as rs
from mechsolve.v1 import common_pb2 as cpb
from mechsolve.v1 import structured_pb2 as spb
from mechsolve.v1 import structured_pb2_grpc as sgrpc

SERVICE = "mechsolve.v1.StructuredMediatorService"
LOCAL = LocalMechsolve()

# 30 agents, 6 restaurants with capacities 1..4, a Zipf-crowded profile: congestion, free seats
# and stayers all occur.
INST = rs.random_restaurant_instance(30, 6, max_capacity=4, alpha=1.5, seed=1)
CHOICES, DELEGATE = rs.random_restaurant_profile(30, 6, popularity=1.0, seed=2)
REWARDS = mt.random_matching_instance(24, seed=3)
PARTNERS, MDELEGATE = mt.random_matching_profile(24, seed=4)
PARTNERS[[0, 5]] = -1  # nobody: negative pointers cross the wire too

TIMINGS = {"build_time_s", "solve_time_s", "info"}


def assert_same_result(remote, local) -> None:
    """Every field equal (arrays with their dtype), timings aside; info without wall time."""
    assert type(remote) is type(local)
    for f in dataclasses.fields(local):
        if f.name in TIMINGS:
            continue
        a, b = getattr(remote, f.name), getattr(local, f.name)
        if isinstance(b, np.ndarray):
            assert a.dtype == b.dtype, f.name
            np.testing.assert_array_equal(a, b, err_msg=f.name)
        else:
            np.testing.assert_equal(a, b, err_msg=f.name)
    assert dataclasses.replace(remote.info, wall_time_s=0) == dataclasses.replace(
        local.info, wall_time_s=0
    )
    assert remote.wall_time_s > 0


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
    if method is not None:
        kw["method"] = method
    if planner:
        local = rs.restaurant_central_planner(INST.known, INST.capacities, CHOICES, **kw)
    else:
        local = SOLVER[mediator](INST.known, INST.capacities, CHOICES, DELEGATE, **kw)
    assert_same_result(remote, local)
    assert remote.mediator_utility == kw["mediator_utility"]
    assert len(remote.true_payoff_after) == (0 if utility == "no_private" else 30)
    assert np.isnan(remote.gain_over_paper) == (mediator != "pareto_exact")


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
    assert np.isnan(remote.gain_over_paper) == (mediator != "pareto_exact")


def test_matching_named_methods_match_the_in_process_client(client: MechsolveClient) -> None:
    remote = client.mediate_matching(REWARDS, PARTNERS, mediator="central_planner")
    assert_same_result(remote, mt.matching_central_planner(REWARDS, PARTNERS))
    assert_same_result(remote, LOCAL.matching_central_planner(REWARDS, PARTNERS))
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
            return (
                await c.restaurant_pareto(INST.known, INST.capacities, CHOICES, DELEGATE),
                await c.matching_pareto(REWARDS, PARTNERS, MDELEGATE),
            )

    rest, match = asyncio.run(run())
    assert_same_result(rest, rs.restaurant_pareto(INST.known, INST.capacities, CHOICES, DELEGATE))
    assert_same_result(match, mt.matching_pareto(REWARDS, PARTNERS, MDELEGATE))


def test_call_deadline_is_the_solver_time_limit(client: MechsolveClient) -> None:
    # A pool of ~100 unmatched delegators on which the LP stays fractional after the odd-set
    # cuts, so the branch-and-bound finish runs until its time limit (seconds to minutes).
    rewards = mt.random_matching_instance(200, seed=0)
    partners, delegate = mt.random_matching_profile(200, seed=100)
    t0 = time.perf_counter()
    res = client.matching_pareto(rewards, partners, delegate, timeout=2.0)
    assert time.perf_counter() - t0 < 2.0  # answered within the deadline
    assert res.termination in (Termination.OPTIMAL, Termination.FEASIBLE)
    assert res.wall_time_s < 0.95 * 2.0 + 0.05
    matched = np.flatnonzero(res.mates >= 0)  # a valid matching: mates are mutual
    np.testing.assert_array_equal(res.mates[res.mates[matched]], matched)
    assert res.payoff_after[res.delegate].sum() >= res.payoff_before[res.delegate].sum()


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
# Bad requests
# ---------------------------------------------------------------------------------------------
KNOWN = [[0.5, 0.2, 0.9], [0.1, 0.8, 0.3], [0.4, 0.4, 0.4], [0.7, 0.0, 0.6]]
NAN = float("nan")


def _rest(**overrides) -> spb.MediateRestaurantRequest:
    fields = dict(
        known_utilities=cv.tensor(KNOWN),
        capacities=[1, 2, 1],
        choices=[0, 1, 2, 0],
        delegate=[True, True, False, True],
        mediator=spb.STRUCTURED_MEDIATOR_PARETO,
    )
    fields.update(overrides)
    return spb.MediateRestaurantRequest(**fields)


def _match(**overrides) -> spb.MediateMatchingRequest:
    fields = dict(
        rewards=cv.tensor(np.ones((4, 4)) - np.eye(4)),
        partners=[1, 0, 3, -1],
        delegate=[True, False, True, True],
        mediator=spb.STRUCTURED_MEDIATOR_PARETO,
    )
    fields.update(overrides)
    return spb.MediateMatchingRequest(**fields)


def _known_with(i: int, j: int, value: float) -> cpb.Tensor:
    k = np.array(KNOWN)
    k[i, j] = value
    return cv.tensor(k)


INVALID = grpc.StatusCode.INVALID_ARGUMENT
TOO_LARGE = grpc.StatusCode.RESOURCE_EXHAUSTED
PLANNER = spb.STRUCTURED_MEDIATOR_CENTRAL_PLANNER
EXACT = spb.STRUCTURED_MEDIATOR_PARETO_EXACT
MANY = 2001  # over max_exact_agents=2000

CASES = [
    # -- restaurant: capacities, utilities, shapes, choices ---------------------------------
    ("MediateRestaurant", _rest(capacities=[1, 0, 1]), INVALID, "capacities[1]", "must be >= 1; got 0"),
    ("MediateRestaurant", _rest(capacities=[-2, 1, 1]), INVALID, "capacities[0]", "must be >= 1; got -2"),
    ("MediateRestaurant", _rest(capacities=[1, 2]), INVALID, "capacities", r"must have shape \(3,\); got \(2,\)"),
    ("MediateRestaurant", _rest(known_utilities=_known_with(1, 2, NAN)), INVALID, "known_utilities[1][2]", "must be finite; got nan"),
    ("MediateRestaurant", _rest(known_utilities=_known_with(0, 0, -0.5)), INVALID, "known_utilities[0][0]", "must be >= 0.0; got -0.5"),
    ("MediateRestaurant", _rest(known_utilities=cpb.Tensor(shape=[4, 3], values=[1, 2, 3, 4, 5])), INVALID, "known_utilities.values", r"has 5 values for shape \(4, 3\): expected 12"),
    ("MediateRestaurant", _rest(known_utilities=cv.tensor([0.5, 0.2, 0.9])), INVALID, "known_utilities", "must have 2 dimension"),
    ("MediateRestaurant", _rest(known_utilities=None), INVALID, "known_utilities", "is required"),
    ("MediateRestaurant", _rest(private_utilities=_known_with(3, 1, NAN), alpha=1.0), INVALID, "private_utilities[3][1]", "must be finite; got nan"),
    ("MediateRestaurant", _rest(private_utilities=cv.tensor(np.ones((4, 2)))), INVALID, "private_utilities", r"must have shape \(4, 3\); got \(4, 2\)"),
    ("MediateRestaurant", _rest(mediator_utility=spb.MEDIATOR_UTILITY_TRUE), INVALID, "private_utilities", "must be given when mediator_utility='true'"),
    ("MediateRestaurant", _rest(choices=[0, 1, 3, 0]), INVALID, "choices[2]", r"must be in \[0, 3\); got 3"),
    ("MediateRestaurant", _rest(choices=[0, -1, 2, 0]), INVALID, "choices[1]", r"must be in \[0, 3\); got -1"),
    ("MediateRestaurant", _rest(choices=[0, 1]), INVALID, "choices", r"must have shape \(4,\); got \(2,\)"),
    ("MediateRestaurant", _rest(delegate=[True]), INVALID, "delegate", r"must have shape \(4,\); got \(1,\)"),
    ("MediateRestaurant", _rest(delegate=[]), INVALID, "delegate", r"must have shape \(4,\); got \(0,\)"),
    ("MediateRestaurant", _rest(mediator=PLANNER), INVALID, "delegate", "must be empty for the central planner"),
    ("MediateRestaurant", _rest(alpha=-1.0), INVALID, "alpha", "must be >= 0.0; got -1.0"),
    ("MediateRestaurant", _rest(alpha=NAN), INVALID, "alpha", "must be finite; got nan"),
    # -- restaurant: enums ----------------------------------------------------------------
    ("MediateRestaurant", _rest(mediator=0), INVALID, "mediator", "is required; got STRUCTURED_MEDIATOR_UNSPECIFIED"),
    ("MediateRestaurant", _rest(mediator=42), INVALID, "mediator", "is not a known STRUCTURED_MEDIATOR value; got 42"),
    ("MediateRestaurant", _rest(method=9), INVALID, "method", "is not a known RESTAURANT_METHOD value; got 9"),
    ("MediateRestaurant", _rest(mediator=EXACT, method=2), INVALID, "method", "does not apply to the exact mediator"),
    ("MediateRestaurant", _rest(mediator_utility=7), INVALID, "mediator_utility", "is not a known MEDIATOR_UTILITY value; got 7"),
    # -- restaurant: size limits ----------------------------------------------------------
    ("MediateRestaurant", _rest(known_utilities=cpb.Tensor(shape=[200_001, 1])), TOO_LARGE, "known_utilities", "over the limit max_agents=200000"),
    ("MediateRestaurant", _rest(known_utilities=cpb.Tensor(shape=[1, 100_001])), TOO_LARGE, "known_utilities", "over the limit max_restaurants=100000"),
    ("MediateRestaurant", _rest(known_utilities=cv.tensor(np.ones((MANY, 1))), capacities=[MANY], choices=[0] * MANY, delegate=[True] * MANY, mediator=EXACT), TOO_LARGE, "delegate", "over the limit max_exact_agents=2000"),
    ("MediateRestaurant", _rest(known_utilities=cv.tensor(np.ones((600, 1))), capacities=[600], choices=[0] * 600, delegate=[True] * 600, method=3), TOO_LARGE, "method", "over the limit max_candidates=200000"),
    # -- matching -------------------------------------------------------------------------
    ("MediateMatching", _match(partners=[1, 0, 2, 0]), INVALID, "partners[2]", "must not be 2 \\(an agent cannot point at itself\\)"),
    ("MediateMatching", _match(partners=[1, 0, 4, 0]), INVALID, "partners[2]", r"must be in \[-1, 4\); got 4"),
    ("MediateMatching", _match(partners=[-2, 0, 1, 0]), INVALID, "partners[0]", r"must be in \[-1, 4\); got -2"),
    ("MediateMatching", _match(partners=[1, 0]), INVALID, "partners", r"must have shape \(4,\); got \(2,\)"),
    ("MediateMatching", _match(rewards=cv.tensor(np.ones((4, 3)))), INVALID, "rewards", r"must be square \(n, n\); got shape \(4, 3\)"),
    ("MediateMatching", _match(rewards=cv.tensor(np.where(np.eye(4)[::-1] > 0, NAN, 1.0))), INVALID, "rewards[0][3]", "must be finite; got nan"),
    ("MediateMatching", _match(rewards=cv.tensor(-np.eye(4))), INVALID, "rewards[0][0]", "must be >= 0.0; got -1.0"),
    ("MediateMatching", _match(rewards=cpb.Tensor(shape=[4, 4], values=[1.0])), INVALID, "rewards.values", r"has 1 values for shape \(4, 4\)"),
    ("MediateMatching", _match(rewards=None), INVALID, "rewards", "is required"),
    ("MediateMatching", _match(delegate=[True, False]), INVALID, "delegate", r"must have shape \(4,\)"),
    ("MediateMatching", _match(mediator=PLANNER), INVALID, "delegate", "must be empty for the central planner"),
    ("MediateMatching", _match(mediator=0), INVALID, "mediator", "is required; got STRUCTURED_MEDIATOR_UNSPECIFIED"),
    ("MediateMatching", _match(mediator=7), INVALID, "mediator", "is not a known STRUCTURED_MEDIATOR value; got 7"),
    ("MediateMatching", _match(rewards=cpb.Tensor(shape=[450, 450])), TOO_LARGE, "rewards", "over the limit max_candidates=200000"),
]  # fmt: skip


@pytest.fixture
def sstub(server: RunningServer):
    """The raw generated stub, for malformed requests the typed client would not send."""
    with grpc.insecure_channel(server.address) as channel:
        yield sgrpc.StructuredMediatorServiceStub(channel)


def _bad_field(err: grpc.RpcError) -> str:
    status = rpc_status.from_call(err)
    assert status is not None
    br = error_details_pb2.BadRequest()
    assert status.details[0].Unpack(br)
    return br.field_violations[0].field


@pytest.mark.parametrize(
    ("rpc", "request_msg", "code", "field", "message"),
    [pytest.param(*c, id=f"{c[0]}-{c[3]}-{i}") for i, c in enumerate(CASES)],
)
def test_bad_request_names_the_field(
    sstub, client: MechsolveClient, rpc, request_msg, code, field, message
) -> None:
    with pytest.raises(grpc.RpcError) as info:
        getattr(sstub, rpc)(request_msg, timeout=10)
    err = info.value
    assert err.code() == code, err.details()
    assert re.search(message, err.details()), err.details()
    assert f"[field: {field}]" in err.details()
    assert _bad_field(err) == field
    # the server keeps serving
    assert client.health(SERVICE) == "SERVING"
    assert client.matching_pareto(REWARDS[:4, :4], [1, 0, 3, 2], [1, 1, 1, 1]).welfare_after > 0


def test_client_raises_the_project_exceptions(client: MechsolveClient) -> None:
    with pytest.raises(RemoteInputError, match=r"`capacities\[1\]` must be >= 1") as info:
        client.restaurant_pareto(KNOWN, [1, 0, 1], [0, 1, 2, 0], [1, 1, 0, 1])
    assert info.value.field == "capacities[1]"
    with pytest.raises(RemoteInputError) as info:
        client.matching_punishing(np.ones((3, 3)), [1, 1, 0], [1, 0, 1])
    assert info.value.field == "partners[1]"
    with pytest.raises(RemoteProblemTooLargeError, match="max_candidates"):
        client.matching_central_planner(np.zeros((450, 450)), np.full(450, -1))


def test_client_validates_before_sending() -> None:
    with MechsolveClient(f"127.0.0.1:{free_port()}") as c:  # nothing listens: never sent
        args = (KNOWN, [1, 2, 1], [0, 1, 2, 0])
        for call, message in [
            (lambda: c.restaurant_pareto(*args, [1, 2, 0, 1]), r"`delegate\[1\]` must be a boolean"),
            (lambda: c.restaurant_pareto(KNOWN, [1, 2, 1], [0, 0.5, 2, 0], [1, 1, 1, 1]), r"`choices\[1\]` must be an integer"),
            (lambda: c.restaurant_pareto(KNOWN, [[1, 2, 1]], [0, 1, 2, 0], [1, 1, 1, 1]), "`capacities` must have 1 dimension"),
            (lambda: c.restaurant_pareto(*args, [1, 1, 0, 1], method="simplex"), "`method` must be one of"),
            (lambda: c.mediate_restaurant(*args, [1, 1, 0, 1], mediator="lottery"), "`mediator` must be one of"),
            (lambda: c.restaurant_pareto(*args, [1, 1, 0, 1], mediator_utility="private"), "`mediator_utility` must be one of"),
            (lambda: c.restaurant_pareto(*args, [1, 1, 0, 1], alpha=True), "`alpha` must be a real number"),
            (lambda: c.matching_pareto(np.ones((2, 2)), [[1, 0]], [1, 1]), "`partners` must have 1 dimension"),
            (lambda: c.matching_pareto([[0, "a"], [1, 0]], [1, 0], [1, 1]), "`rewards` must be an array of real"),
            (lambda: c.matching_pareto([[0, np.inf], [1, 0]], [1, 0], [1, 1]), r"`rewards\[0\]\[1\]` must be finite"),
        ]:  # fmt: skip
            with pytest.raises(MechsolveInputError, match=message):
                call()


def test_in_process_dispatch_rejects_what_the_server_rejects() -> None:
    args = (KNOWN, [1, 2, 1], [0, 1, 2, 0])
    with pytest.raises(MechsolveInputError, match="`delegate` must be empty for the central"):
        LOCAL.mediate_restaurant(*args, [1, 1, 1, 1], mediator="central_planner")
    with pytest.raises(MechsolveInputError, match="`delegate` is required"):
        LOCAL.mediate_matching(np.ones((2, 2)), [1, 0], mediator="punishing")
    with pytest.raises(MechsolveInputError, match="`method` does not apply to the exact"):
        LOCAL.mediate_restaurant(*args, [1, 1, 0, 1], mediator="pareto_exact", method="highs_lp")
