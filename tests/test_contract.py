"""One contract test per RPC, generated from the declarations in mechsolve.api: for every
declared RPC (and its aliases) the client methods have the solver function's signature, the
remote result (sync and asyncio, over a real socket) equals the in-process one, every malformed
field is INVALID_ARGUMENT naming that field, and an over-limit request is RESOURCE_EXHAUSTED.
A new declaration is covered without writing a test."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import math
from collections.abc import Iterator
from typing import Any

import grpc
import numpy as np
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from mechsolve import codec
from mechsolve.api import RPCS, Rpc, Stream, api_signature
from mechsolve.client import AsyncMechsolveClient, LocalMechsolve, MechsolveClient
from mechsolve.client.methods import served_functions
from mechsolve.server.app import RunningServer, build_server
from mechsolve.server.config import ServerConfig
from mechsolve.solver.auctions import TypePrior
from mechsolve.solver.core.errors import MechsolveInputError, ProblemTooLargeError
from mechsolve.solver.core.limits import Limits

TINY = Limits(**{f: 1 for f in Limits.__dataclass_fields__ if f.startswith("max_")})
"""Limits no example fits in."""

UNARY = [pytest.param(r, id=r.name) for r in RPCS if isinstance(r, Rpc)]
EVERY = [pytest.param(r, id=r.name) for r in RPCS]
METHODS = [pytest.param(r, f, fixed, id=f.__name__) for r, f, fixed in served_functions()]
TIMINGS = ("wall_time_s", "build_time_s", "solve_time_s", "lp_time_s", "separation_time_s")


@pytest.fixture(scope="module")
def tiny_server() -> Iterator[RunningServer]:
    running = build_server(ServerConfig(port=0, limits=TINY, solvers=2))
    yield running
    running.stop(grace=0.5)


def same(a: Any, b: Any, where: str = "result") -> None:
    """``a`` and ``b`` hold the same values (timings aside), recursively."""
    if dataclasses.is_dataclass(a):
        assert type(a) is type(b), where
        for f in dataclasses.fields(a):
            if f.name not in TIMINGS:
                same(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype.kind == b.dtype.kind, where
        np.testing.assert_array_equal(a, b, err_msg=where)
    elif isinstance(a, list | tuple):
        assert isinstance(b, list | tuple) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{where}[{i}]")
    elif isinstance(a, TypePrior):
        assert a.same_as(b) and (a.kind, a.grid_shape) == (b.kind, b.grid_shape), where
    elif isinstance(a, float) and math.isnan(a):
        assert isinstance(b, float) and math.isnan(b), where
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def _call(api: Any, name: str, args: dict[str, Any]) -> Any:
    out = getattr(api, name)(**args)
    return list(out) if inspect.isgenerator(out) or isinstance(out, Iterator) else out


async def _call_async(address: str, name: str, args: dict[str, Any]) -> Any:
    async with AsyncMechsolveClient(address) as client:
        out = getattr(client, name)(**args)
        if hasattr(out, "__aiter__"):
            return [x async for x in out]
        return await out


# -- signatures ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("rpc", "function", "fixed"), METHODS)
def test_client_methods_have_the_solver_signature(rpc: Any, function: Any, fixed: Any) -> None:
    expected = api_signature(function)
    assert "limits" not in expected.parameters
    with MechsolveClient("127.0.0.1:1") as sync:
        for client in (sync, LocalMechsolve()):
            method = getattr(client, function.__name__)
            assert inspect.signature(method) == expected, type(client).__name__
            assert method.__doc__ == function.__doc__ and method.__doc__
            assert method.__name__ == function.__name__
    method = getattr(AsyncMechsolveClient, function.__name__)  # unbound: no event loop needed
    sig = inspect.signature(method)
    assert sig.replace(parameters=list(sig.parameters.values())[1:]) == expected
    assert method.__doc__ == function.__doc__
    unary_async = getattr(AsyncMechsolveClient, function.__name__)
    assert inspect.iscoroutinefunction(unary_async) == isinstance(rpc, Rpc)
    assert set(fixed) <= set(inspect.signature(rpc.function).parameters)
    assert set(expected.parameters) <= set(api_signature(rpc.function).parameters) | {
        getattr(rpc, "batches_argument", "")
    }


@pytest.mark.parametrize("rpc", EVERY)
def test_declaration_matches_the_proto(rpc: Any) -> None:
    """Request fields are the function's arguments; every message mirrors its dataclass; a
    default that is not the field's zero value needs field presence (``optional``)."""
    assert rpc.method.input_type is rpc.request.DESCRIPTOR
    assert rpc.method.output_type is rpc.response.DESCRIPTOR
    target = rpc.of if isinstance(rpc, Stream) else rpc
    fields = set(target.request.DESCRIPTOR.fields_by_name)
    assert {fd.name for fd in target.arguments.values()} == fields
    for name, fd in target.arguments.items():
        default = target.signature.parameters[name].default
        if default is inspect.Parameter.empty or default is None or fd.is_repeated:
            continue
        if fd.message_type is None and fd.enum_type is None and default != fd.default_value:
            assert fd.has_presence, f"{name} defaults to {default!r}: make the field optional"


def _dataclass_messages(annotation: Any, descriptor: Any, seen: set[str]) -> Iterator[str]:
    from mechsolve.codec.values import CODECS, _dataclass, _element, hints

    if descriptor.full_name in seen or descriptor.full_name in CODECS:
        return
    seen.add(descriptor.full_name)
    cls = _dataclass(annotation) or _dataclass(_element(annotation)[0])
    if cls is None:
        return
    yield from codec.mirror_problems(descriptor, cls)
    types = hints(cls)
    for fd in descriptor.fields:
        if fd.message_type is not None:
            yield from _dataclass_messages(types[fd.name], fd.message_type, seen)


@pytest.mark.parametrize("rpc", UNARY)
def test_result_messages_mirror_the_result_dataclasses(rpc: Rpc) -> None:
    from mechsolve.codec.values import hints

    result = rpc.result_field
    if result.message_type is not None:
        problems = list(
            _dataclass_messages(hints(rpc.function)["return"], result.message_type, set())
        )
        assert not problems


# -- remote equals in-process --------------------------------------------------------------------
# (in process with the server's limits: its size limits, and each solve's share of its CPUs)


@pytest.mark.parametrize("rpc", EVERY)
def test_remote_equals_in_process(rpc: Any, server: RunningServer) -> None:
    args = rpc.example()
    name = rpc.function.__name__
    local = _call(LocalMechsolve(limits=server.config.solver_limits), name, args)
    with MechsolveClient(server.address) as client:
        same(_call(client, name, rpc.example()), local)
    same(asyncio.run(_call_async(server.address, name, rpc.example())), local)


@pytest.mark.parametrize(("rpc", "function", "fixed"), [p for p in METHODS if p.values[2]])
def test_aliases_equal_their_rpc(
    rpc: Any, function: Any, fixed: Any, server: RunningServer
) -> None:
    params = inspect.signature(function).parameters
    args = {k: v for k, v in rpc.example().items() if k in params and k not in fixed}
    local = LocalMechsolve(limits=server.config.solver_limits)
    expected = getattr(local, rpc.function.__name__)(**args, **fixed)
    same(getattr(local, function.__name__)(**args), expected)
    with MechsolveClient(server.address) as client:
        same(getattr(client, function.__name__)(**args), expected)


VECTORIZED = [pytest.param(r, id=r.name) for r in RPCS if isinstance(r, Rpc) and r.vectorized]


@pytest.mark.parametrize("rpc", VECTORIZED)
def test_vectorized_rows_equal_single_calls(rpc: Rpc) -> None:
    """``row(of(stacked calls), i)`` is call ``i``'s own result: the example, and the example
    with its stacked arguments rolled (other profiles), stacked in one call."""
    vec = rpc.vectorized
    assert vec is not None and set(vec.stacked) <= set(rpc.arguments)
    example = rpc.example()
    calls = [
        {**example, **{name: np.roll(np.asarray(example[name]), shift) for name in vec.stacked}}
        for shift in range(3)
    ]
    shared = {k: v for k, v in example.items() if k not in vec.stacked}
    stacked = {name: np.stack([np.asarray(c[name]) for c in calls]) for name in vec.stacked}
    batch = vec.of.function(**shared, **stacked)
    for i, call in enumerate(calls):
        same(vec.row(batch, i), rpc.function(**call), f"row {i}")


# -- malformed and over-limit requests ---------------------------------------------------------


def _request(rpc: Rpc) -> Any:
    bound = rpc.signature.bind(**rpc.example())
    arguments = {k: v for k, v in bound.arguments.items() if k != "time_limit"}
    return codec.encode_request(rpc, arguments)


def _probes(rpc: Rpc) -> Iterator[tuple[str, Any]]:
    """``(field path that must be named, malformed request)`` for every field that can be
    malformed generically: an undefined enum number, a tensor whose values do not fill its
    shape, a game without payoffs, a prior without a source, a real number that is not finite,
    a required field left unset (an empty string for a required text)."""
    for name, fd in rpc.arguments.items():
        msg = _request(rpc)
        if fd.enum_type is not None:
            setattr(msg, fd.name, 99)
            yield fd.name, msg
            continue
        kind = fd.message_type.name if fd.message_type is not None else ""
        if kind in ("Tensor", "Int64Tensor", "BoolTensor", "Game"):
            target = getattr(msg, fd.name)
            tensor = target.payoffs if kind == "Game" else target
            tensor.Clear()
            tensor.shape.extend([2, 2, 2] if kind == "Game" else [2, 2])
            tensor.values.append(True if kind == "BoolTensor" else 1)
            yield f"{fd.name}{'.payoffs' if kind == 'Game' else ''}.values", msg
        if kind == "Prior":
            prior = getattr(msg, fd.name)
            target = prior[0] if fd.is_repeated else prior
            target.Clear()
            yield f"{fd.name}{'[0]' if fd.is_repeated else ''}", msg
        if fd.type == fd.TYPE_DOUBLE:  # every real argument is finite
            msg = _request(rpc)
            if fd.is_repeated:
                getattr(msg, fd.name)[:] = [0.5, float("nan")]
            else:
                setattr(msg, fd.name, float("nan"))
            yield fd.name, msg
        required = rpc.signature.parameters[name].default is inspect.Parameter.empty
        if required and (
            fd.is_repeated or fd.message_type is not None or fd.type == fd.TYPE_STRING
        ):
            msg = _request(rpc)
            msg.ClearField(fd.name)
            yield fd.name, msg


def _top(field: str) -> str:
    """The request field a path starts in: ``priors[0].type_set.probs`` -> ``priors``."""
    return field.split(".")[0].split("[")[0]


def _bad_field(err: grpc.RpcError) -> str:
    status = rpc_status.from_call(err)
    assert status is not None, err
    br = error_details_pb2.BadRequest()
    assert status.details[0].Unpack(br)
    return str(br.field_violations[0].field)


@pytest.mark.parametrize("rpc", UNARY)
def test_malformed_fields_are_invalid_argument_naming_the_field(
    rpc: Rpc, server: RunningServer
) -> None:
    probes = list(_probes(rpc))
    assert probes, "no field to probe"
    with grpc.insecure_channel(server.address) as channel:
        call = channel.unary_unary(
            rpc.path,
            request_serializer=rpc.request.SerializeToString,
            response_deserializer=rpc.response.FromString,
        )
        for field, request in probes:
            with pytest.raises(grpc.RpcError) as info:
                call(request, timeout=30)
            assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT, (
                field,
                info.value.details(),
            )
            assert _bad_field(info.value).startswith(field), (field, info.value.details())
            assert field in info.value.details()


@pytest.mark.parametrize("rpc", UNARY)
def test_over_limit_requests_are_resource_exhausted(rpc: Rpc, tiny_server: RunningServer) -> None:
    with grpc.insecure_channel(tiny_server.address) as channel:
        call = channel.unary_unary(
            rpc.path,
            request_serializer=rpc.request.SerializeToString,
            response_deserializer=rpc.response.FromString,
        )
        with pytest.raises(grpc.RpcError) as info:
            call(_request(rpc), timeout=30)
    assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, info.value.details()
    assert _top(_bad_field(info.value)) in rpc.request.DESCRIPTOR.fields_by_name, (
        info.value.details()
    )
    if rpc.takes_limits:
        with pytest.raises(ProblemTooLargeError):
            _call(LocalMechsolve(limits=TINY), rpc.function.__name__, rpc.example())


def test_a_stream_message_over_the_limit_ends_the_stream(tiny_server: RunningServer) -> None:
    stream = next(r for r in RPCS if isinstance(r, Stream))
    with (
        MechsolveClient(tiny_server.address) as client,
        pytest.raises(ProblemTooLargeError) as info,
    ):
        list(getattr(client, stream.function.__name__)(**stream.example()))
    assert getattr(info.value, "field", "").startswith("batch.")


@pytest.mark.parametrize("rpc", UNARY)
def test_unset_fields_mean_the_solvers_defaults(rpc: Rpc, server: RunningServer) -> None:
    """A raw client that sets only the required fields (as any non-Python client may) gets what
    the solver function gives with only those arguments: the server's reading of every unset
    field is the function's default."""
    example = rpc.example()
    required = {
        k: v
        for k, v in example.items()
        if rpc.signature.parameters[k].default is inspect.Parameter.empty or k == "seed"
    }
    local_call = getattr(LocalMechsolve(limits=server.config.solver_limits), rpc.function.__name__)
    while True:  # add back what the call needs (delegate=None is only the planner's)
        try:
            local = local_call(**required)
            break
        except MechsolveInputError as exc:
            assert exc.argument in example and exc.argument not in required, exc
            required[exc.argument] = example[exc.argument]
    with grpc.insecure_channel(server.address) as channel:
        call = channel.unary_unary(
            rpc.path,
            request_serializer=rpc.request.SerializeToString,
            response_deserializer=rpc.response.FromString,
        )
        response = call(codec.encode_request(rpc, required), timeout=60)
    same(codec.decode_result(rpc, response), local)


def test_a_stream_message_is_its_unary_request_and_response_on_the_wire() -> None:
    """The servicer forwards a stream answer's bytes as they are: the stream's response and the
    unary response must be the same message on the wire (one field 1, ``result``, same type),
    and the stream request wraps the unary request as field 1 ``batch``."""
    for stream in (r for r in RPCS if isinstance(r, Stream)):
        ours, theirs = stream.response.DESCRIPTOR, stream.of.response.DESCRIPTOR
        assert [(f.number, f.name, f.message_type) for f in ours.fields] == [
            (f.number, f.name, f.message_type) for f in theirs.fields
        ]
        (batch,) = stream.request.DESCRIPTOR.fields
        assert (batch.number, batch.name, batch.message_type) == (
            1,
            "batch",
            stream.of.request.DESCRIPTOR,
        )
