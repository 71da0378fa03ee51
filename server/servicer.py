"""The one servicer: every RPC declared in :mod:`mechsolve.api` is served the same way.

A request is decoded into the solver function's arguments (sizes checked against the server's
limits first), the function runs with the server's limits and the call's time limit (what
remains of the deadline less a reserve), and its result is encoded into the response. A stream does the
same for each message, with the per-message deadline the client sends as metadata.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
import grpc.aio
from google.protobuf.message import Message

from mechsolve import codec
from mechsolve.api import SERVICES, Rpc, Stream
from mechsolve.api.declare import STREAM_TIME_LIMIT_METADATA
from mechsolve.solver.core.errors import MechsolveInputError

from .config import ServerConfig
from .status import HANDLED, INLINE_BYTES, DeadlineExceeded, abort, run, time_limit


def handlers(config: ServerConfig) -> list[grpc.GenericRpcHandler]:
    """One generic handler per declared service."""
    return [
        grpc.method_handlers_generic_handler(
            service, {rpc.name: _handler(rpc, config) for rpc in rpcs}
        )
        for service, rpcs in SERVICES.items()
    ]


def solve(rpc: Rpc, config: ServerConfig, request: Message, seconds: float) -> Message:
    """Request -> solver call -> response."""
    kwargs = codec.decode_request(rpc, request, config.solver_limits)
    if rpc.takes_limits:
        kwargs["limits"] = config.solver_limits
    if rpc.takes_time_limit:
        kwargs["time_limit"] = seconds
    return codec.encode_result(rpc, rpc.function(**kwargs))


def _inline(rpc: Rpc, request: Message) -> bool:
    return rpc.inline is not None and request.ByteSize() <= INLINE_BYTES and rpc.inline(request)


def _handler(rpc: Rpc | Stream, config: ServerConfig) -> grpc.RpcMethodHandler:
    serialize = {
        "request_deserializer": rpc.request.FromString,
        "response_serializer": rpc.response.SerializeToString,
    }
    if isinstance(rpc, Stream):
        return grpc.stream_stream_rpc_method_handler(_streaming(rpc, config), **serialize)
    return grpc.unary_unary_rpc_method_handler(_unary(rpc, config), **serialize)


def _unary(rpc: Rpc, config: ServerConfig) -> Any:
    async def call(request: Message, context: grpc.aio.ServicerContext) -> Message | None:
        try:
            seconds = time_limit(context, config.max_solve_seconds)
            return await run(_inline(rpc, request), solve, rpc, config, request, seconds)
        except (*HANDLED, DeadlineExceeded) as exc:
            await abort(context, exc, rpc.field_path(getattr(exc, "argument", "")))
        return None

    return call


def _streaming(stream: Stream, config: ServerConfig) -> Any:
    async def call(
        requests: AsyncIterator[Any], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[Message]:
        try:
            per_message = _per_message_limit(context)
            async for request in requests:
                seconds = time_limit(context, config.max_solve_seconds, per_message)
                inner = request.batch
                answer = await run(
                    _inline(stream.of, inner), solve, stream.of, config, inner, seconds
                )
                yield stream.response(result=answer.result)
        except (*HANDLED, DeadlineExceeded) as exc:
            await abort(context, exc, stream.field_path(getattr(exc, "argument", "")))

    return call


def _per_message_limit(context: grpc.aio.ServicerContext) -> float | None:
    for key, value in context.invocation_metadata() or ():
        if key == STREAM_TIME_LIMIT_METADATA:
            try:
                seconds = float(value)
            except ValueError:
                seconds = float("nan")
            if not 0 < seconds < float("inf"):
                raise MechsolveInputError(
                    "stream", key, f"must be a positive number of seconds; got {value!r}"
                )
            return seconds
    return None
