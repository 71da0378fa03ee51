"""Server interceptors: bearer-token authentication and one structured log line per RPC."""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Iterable
from typing import Any

import grpc

from .logs import log

OPEN_SERVICES = ("/grpc.health.v1.Health/", "/grpc.reflection.")
"""Method prefixes that need no token (probes and discovery)."""


def _wrap(handler: grpc.RpcMethodHandler, wrap: Callable[[Any], Any]) -> grpc.RpcMethodHandler:
    """The same handler with its behaviour function wrapped (any of the four kinds)."""
    kinds = {
        "unary_unary": grpc.unary_unary_rpc_method_handler,
        "unary_stream": grpc.unary_stream_rpc_method_handler,
        "stream_unary": grpc.stream_unary_rpc_method_handler,
        "stream_stream": grpc.stream_stream_rpc_method_handler,
    }
    for attr, make in kinds.items():
        behaviour = getattr(handler, attr)
        if behaviour is not None:
            return make(
                wrap(behaviour),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
    return handler


class AuthInterceptor(grpc.ServerInterceptor):
    """Requires ``authorization: Bearer <token>`` with one of ``tokens`` (constant-time
    comparison); answers ``UNAUTHENTICATED`` otherwise. Health and reflection stay open."""

    def __init__(self, tokens: Iterable[str]) -> None:
        self._tokens = tuple(t.encode() for t in tokens)

    def _ok(self, metadata: tuple[Any, ...]) -> bool:
        for key, value in metadata:
            if key == "authorization" and isinstance(value, str) and value.startswith("Bearer "):
                given = value[len("Bearer ") :].encode()
                return any(hmac.compare_digest(given, t) for t in self._tokens)
        return False

    def intercept_service(
        self,
        continuation: Callable[[Any], grpc.RpcMethodHandler | None],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = continuation(details)
        method = details.method
        if handler is None or method.startswith(OPEN_SERVICES):
            return handler
        if self._ok(tuple(details.invocation_metadata or ())):
            return handler

        def deny(_behaviour: Any) -> Any:
            def reject(_request: Any, context: grpc.ServicerContext) -> Any:
                context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing or invalid bearer token")

            return reject

        return _wrap(handler, deny)


class LoggingInterceptor(grpc.ServerInterceptor):
    """Logs ``rpc`` with method, status code, duration and peer for every call."""

    def intercept_service(
        self,
        continuation: Callable[[Any], grpc.RpcMethodHandler | None],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = continuation(details)
        if handler is None:
            return None
        method = details.method

        def done(context: grpc.ServicerContext, start: float) -> None:
            code = context.code() or grpc.StatusCode.OK
            log(
                "rpc",
                method=method,
                code=getattr(code, "name", str(code)),
                ms=round((time.perf_counter() - start) * 1e3, 3),
                peer=context.peer(),
            )

        def unary(behaviour: Any) -> Any:
            def call(request: Any, context: grpc.ServicerContext) -> Any:
                start = time.perf_counter()
                try:
                    return behaviour(request, context)
                finally:
                    done(context, start)

            return call

        def stream(behaviour: Any) -> Any:
            def call(request: Any, context: grpc.ServicerContext) -> Any:
                start = time.perf_counter()
                try:
                    yield from behaviour(request, context)
                finally:
                    done(context, start)

            return call

        return _wrap(handler, stream if handler.response_streaming else unary)
