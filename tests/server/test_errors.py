"""Bad requests get INVALID_ARGUMENT or RESOURCE_EXHAUSTED naming the field (in the message and
in a google.rpc.BadRequest detail); the server keeps serving afterwards."""

from __future__ import annotations

import re

import grpc
import numpy as np
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from mechsolve.client import MechsolveClient, RemoteInputError, RemoteProblemTooLargeError
from mechsolve.solver.games.normal_form import seed000_prisoners_dilemma
from mechsolve.v1 import common_pb2 as cpb
from mechsolve.v1 import mediators_pb2 as mpb


def _game(payoffs) -> cpb.Game:
    p = np.asarray(payoffs, dtype=np.float64)
    return cpb.Game(payoffs=cpb.Tensor(shape=p.shape, values=p.ravel().tolist()))


def _ints(a) -> cpb.Int64Tensor:
    a = np.asarray(a, dtype=np.int64)
    return cpb.Int64Tensor(shape=a.shape, values=a.ravel().tolist())


def _bools(a) -> cpb.BoolTensor:
    a = np.asarray(a, dtype=bool)
    return cpb.BoolTensor(shape=a.shape, values=a.ravel().tolist())


PD = _game(seed000_prisoners_dilemma().payoffs)


def _mediate(**overrides) -> mpb.MediateRequest:
    fields = dict(game=PD, actions=[1, 1], delegate=[True, True], mediator=mpb.MEDIATOR_KIND_PARETO)
    fields.update(overrides)
    return mpb.MediateRequest(**fields)


def _batch(**overrides) -> mpb.MediateBatchRequest:
    fields = dict(
        game=PD,
        actions=_ints([[1, 1], [0, 1]]),
        delegate=_bools([[1, 1], [1, 0]]),
        mediator=mpb.MEDIATOR_KIND_PARETO,
    )
    fields.update(overrides)
    return mpb.MediateBatchRequest(**fields)


def _bad_field(err: grpc.RpcError) -> str:
    status = rpc_status.from_call(err)
    assert status is not None
    br = error_details_pb2.BadRequest()
    assert status.details[0].Unpack(br)
    return br.field_violations[0].field


NAN_GAME = cpb.Game(payoffs=cpb.Tensor(shape=[2, 2, 2], values=[1, 2, 3, float("nan"), 1, 1, 1, 1]))
SHORT_GAME = cpb.Game(payoffs=cpb.Tensor(shape=[2, 2, 2], values=[1, 2, 3]))
FLAT_GAME = cpb.Game(payoffs=cpb.Tensor(shape=[8], values=[0] * 8))

CASES = [
    pytest.param(
        "Mediate",
        _mediate(game=SHORT_GAME),
        grpc.StatusCode.INVALID_ARGUMENT,
        "game.payoffs.values",
        r"has 3 values for shape \(2, 2, 2\): expected 8",
        id="tensor-size",
    ),
    pytest.param(
        "Mediate",
        _mediate(game=NAN_GAME),
        grpc.StatusCode.INVALID_ARGUMENT,
        "game.payoffs[0][1][1]",
        "must be finite; got nan",
        id="nan",
    ),
    pytest.param(
        "Mediate",
        _mediate(game=FLAT_GAME),
        grpc.StatusCode.INVALID_ARGUMENT,
        "game.payoffs",
        r"must have shape \(n_players, k_1, ..., k_n\)",
        id="game-shape",
    ),
    pytest.param(
        "Mediate",
        mpb.MediateRequest(actions=[0, 0], delegate=[1, 1], mediator=1),
        grpc.StatusCode.INVALID_ARGUMENT,
        "game",
        "`game` is required",
        id="missing-game",
    ),
    pytest.param(
        "Mediate",
        _mediate(actions=[1, 7]),
        grpc.StatusCode.INVALID_ARGUMENT,
        "actions[1]",
        r"must be in \[0, 2\); got 7",
        id="action-range",
    ),
    pytest.param(
        "Mediate",
        _mediate(actions=[1]),
        grpc.StatusCode.INVALID_ARGUMENT,
        "actions",
        r"must have shape \(2,\); got \(1,\)",
        id="action-count",
    ),
    pytest.param(
        "Mediate",
        _mediate(delegate=[True]),
        grpc.StatusCode.INVALID_ARGUMENT,
        "delegate",
        r"must have shape \(2,\)",
        id="delegate-count",
    ),
    pytest.param(
        "Mediate",
        _mediate(mediator=42),
        grpc.StatusCode.INVALID_ARGUMENT,
        "mediator",
        "is not a known MediatorKind value; got 42",
        id="mediator-unknown",
    ),
    pytest.param(
        "Mediate",
        _mediate(method=9),
        grpc.StatusCode.INVALID_ARGUMENT,
        "method",
        "is not a known MediatorMethod value; got 9",
        id="method-unknown",
    ),
    pytest.param(
        "Mediate",
        _mediate(welfare=cpb.Welfare(kind=17)),
        grpc.StatusCode.INVALID_ARGUMENT,
        "welfare.kind",
        "is not a known WelfareKind value; got 17",
        id="welfare-unknown",
    ),
    pytest.param(
        "Mediate",
        _mediate(welfare=cpb.Welfare(kind=2, weights=[1, 2])),
        grpc.StatusCode.INVALID_ARGUMENT,
        "welfare.weights",
        "apply to the utilitarian welfare only",
        id="weights-non-utilitarian",
    ),
    pytest.param(
        "Mediate",
        _mediate(welfare=cpb.Welfare(disagreement=[0.0])),
        grpc.StatusCode.INVALID_ARGUMENT,
        "welfare.disagreement",
        r"must have shape \(2,\)",
        id="disagreement-length",
    ),
    pytest.param(
        "Mediate",
        _mediate(solver="cbc"),
        grpc.StatusCode.INVALID_ARGUMENT,
        "solver",
        "applies to method='pyomo' only",
        id="solver-without-pyomo",
    ),
    pytest.param(
        "Mediate",
        _mediate(method=mpb.MEDIATOR_METHOD_PYOMO, solver="asl:/bin/sh"),
        grpc.StatusCode.INVALID_ARGUMENT,
        "solver",
        "must be one of 'appsi_highs'; got 'asl:/bin/sh'",
        id="pyomo-solver-not-allowed",
    ),
    pytest.param(
        "MediateBatch",
        _batch(actions=_ints([[1, 1, 0]])),
        grpc.StatusCode.INVALID_ARGUMENT,
        "actions",
        r"must have shape \(\*, 2\); got \(1, 3\)",
        id="batch-actions-shape",
    ),
    pytest.param(
        "MediateBatch",
        _batch(delegate=_bools([[1, 1]])),
        grpc.StatusCode.INVALID_ARGUMENT,
        "delegate",
        r"must have shape \(2, 2\); got \(1, 2\)",
        id="batch-delegate-shape",
    ),
    pytest.param(
        "MediateBatch",
        mpb.MediateBatchRequest(game=PD, mediator=mpb.MEDIATOR_KIND_PARETO),
        grpc.StatusCode.INVALID_ARGUMENT,
        "actions",
        "is required",
        id="batch-missing-actions",
    ),
    pytest.param(
        "Mediate",
        _mediate(game=_game(np.zeros((2, 500, 500)))),
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "game.payoffs",
        "over the limit max_outcomes=200000",
        id="oversize-game",
    ),
    pytest.param(
        "ImportNfg",
        mpb.ImportNfgRequest(text='NFG 1 R "x" { "A" "B" } { 2 2 } 1 2 3'),
        grpc.StatusCode.INVALID_ARGUMENT,
        "text",
        "`payoffs` expected 8 numbers",
        id="nfg-count",
    ),
]


@pytest.mark.parametrize(("rpc", "request_msg", "code", "field", "message"), CASES)
def test_bad_request_names_the_field(
    stub, client: MechsolveClient, rpc, request_msg, code, field, message
) -> None:
    with pytest.raises(grpc.RpcError) as info:
        getattr(stub, rpc)(request_msg, timeout=10)
    err = info.value
    assert err.code() == code
    assert re.search(message, err.details()), err.details()
    assert _bad_field(err).startswith(field)
    # the server keeps serving
    assert client.health() == "SERVING"
    assert client.pareto_mediator(seed000_prisoners_dilemma(), [1, 1], [1, 1]).welfare_after == 4.0


def test_client_raises_the_project_exceptions(client: MechsolveClient) -> None:
    with pytest.raises(
        RemoteInputError, match=r"`actions\[1\]` must be in \[0, 2\); got 5"
    ) as info:
        client.pareto_mediator(seed000_prisoners_dilemma(), [1, 5], [1, 1])
    assert info.value.field == "actions[1]"
    with pytest.raises(RemoteProblemTooLargeError, match="max_outcomes"):
        client.pareto_mediator(np.zeros((2, 600, 600)), [0, 0], [1, 1])
    with pytest.raises(ValueError):  # RemoteInputError is a ValueError like the local error
        client.mediate_batch(seed000_prisoners_dilemma(), [[0, 0]], [[1, 2]])


def test_an_unset_mediator_is_the_functions_default(stub) -> None:
    """MEDIATOR_KIND_UNSPECIFIED means the solver function's default (Pareto), like an omitted
    keyword argument in-process."""
    res = stub.Mediate(_mediate(mediator=mpb.MEDIATOR_KIND_UNSPECIFIED), timeout=10).result
    assert res.mediator == mpb.MEDIATOR_KIND_PARETO and list(res.actions_after) == [0, 0]


def test_batch_profile_limit(client: MechsolveClient) -> None:
    acts = np.zeros((60_000, 2), dtype=np.int64)
    with pytest.raises(RemoteProblemTooLargeError, match="max_batch_profiles=50000"):
        client.mediate_batch(seed000_prisoners_dilemma(), acts, np.ones_like(acts, dtype=bool))
