"""Bearer-token authentication (``grpc.aio`` interceptor). Health checks and reflection stay
open (probes and discovery need no secret); every other method, known or not, needs a token
first: an unknown method without a token is ``UNAUTHENTICATED``, not ``UNIMPLEMENTED``."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import grpc
import grpc.aio

OPEN_SERVICES = ("/grpc.health.v1.Health/", "/grpc.reflection.")
"""Method prefixes that need no token (probes and discovery)."""

Continuation = Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler | None]]


class AuthInterceptor(grpc.aio.ServerInterceptor):
    """Requires ``authorization: Bearer <token>`` (the scheme case-insensitive, RFC 7235) with
    one of ``tokens``, compared in constant time; answers ``UNAUTHENTICATED`` otherwise."""

    def __init__(self, tokens: Iterable[str]) -> None:
        self._tokens = tuple(t.encode() for t in tokens)

    def _ok(self, metadata: tuple[Any, ...]) -> bool:
        for key, value in metadata:
            if key == "authorization" and isinstance(value, str):
                scheme, _, given = value.partition(" ")
                if scheme.lower() == "bearer":
                    return any(hmac.compare_digest(given.strip().encode(), t) for t in self._tokens)
        return False

    async def intercept_service(
        self, continuation: Continuation, details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler | None:
        if details.method.startswith(OPEN_SERVICES) or self._ok(
            tuple(details.invocation_metadata or ())
        ):
            return await continuation(details)
        handler = await continuation(details)
        if handler is not None and handler.request_streaming:
            return grpc.stream_stream_rpc_method_handler(_deny_stream)
        return grpc.unary_unary_rpc_method_handler(_deny)


async def _deny(_request: Any, context: grpc.aio.ServicerContext) -> Any:
    await context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing or invalid bearer token")


async def _deny_stream(_requests: Any, context: grpc.aio.ServicerContext) -> Any:
    await context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing or invalid bearer token")
    yield  # pragma: no cover - an async generator, as a streaming handler must be
