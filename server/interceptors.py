"""Server interceptors (``grpc.aio``): bearer-token authentication and one structured log line
per RPC."""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import grpc
import grpc.aio
import numpy as np

from .logs import log

OPEN_SERVICES = ("/grpc.health.v1.Health/", "/grpc.reflection.")
"""Method prefixes that need no token (probes and discovery)."""

_KINDS = {
    "unary_unary": grpc.unary_unary_rpc_method_handler,
    "unary_stream": grpc.unary_stream_rpc_method_handler,
    "stream_unary": grpc.stream_unary_rpc_method_handler,
    "stream_stream": grpc.stream_stream_rpc_method_handler,
}


def _wrap(
    handler: grpc.RpcMethodHandler, wrap: Callable[[Any, bool], Any]
) -> grpc.RpcMethodHandler:
    """The same handler with its behaviour wrapped; ``wrap(behaviour, streams_responses)``."""
    for attr, make in _KINDS.items():
        behaviour = getattr(handler, attr)
        if behaviour is not None:
            return make(
                wrap(behaviour, handler.response_streaming),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
    return handler


Continuation = Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler | None]]


class AuthInterceptor(grpc.aio.ServerInterceptor):
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

    async def intercept_service(
        self, continuation: Continuation, details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler | None:
        handler = await continuation(details)
        if handler is None or details.method.startswith(OPEN_SERVICES):
            return handler
        if self._ok(tuple(details.invocation_metadata or ())):
            return handler

        def deny(_behaviour: Any, _streams: bool) -> Any:
            async def reject(_request: Any, context: grpc.aio.ServicerContext) -> Any:
                await context.abort(
                    grpc.StatusCode.UNAUTHENTICATED, "missing or invalid bearer token"
                )

            return reject

        return _wrap(handler, deny)


class LoggingInterceptor(grpc.aio.ServerInterceptor):
    """Structured call logs: every failed call is logged (``rpc`` at INFO: method, status,
    duration, peer); successful calls are logged one by one at DEBUG and summed up in an
    ``rpc_stats`` line (calls, p50/p99 milliseconds per method and status) every
    ``stats_seconds`` at INFO. Writing a log line per successful call costs about a tenth of
    a small call's server time, hence the summary at the default level."""

    def __init__(self, stats_seconds: float = 10.0) -> None:
        self._stats = _CallStats(stats_seconds)

    def flush(self) -> None:
        """Write the statistics gathered since the last ``rpc_stats`` line (at shutdown)."""
        self._stats.flush()

    async def intercept_service(
        self, continuation: Continuation, details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler | None:
        handler = await continuation(details)
        if handler is None:
            return None
        method = details.method
        stats = self._stats

        def done(context: grpc.aio.ServicerContext, start: float) -> None:
            code = getattr(context.code() or grpc.StatusCode.OK, "name", "UNKNOWN")
            ms = (time.perf_counter() - start) * 1e3
            level = logging.DEBUG if code == "OK" else logging.INFO
            log("rpc", level, method=method, code=code, ms=round(ms, 3), peer=context.peer())
            stats.add(method, code, ms)

        def timed(behaviour: Any, streams: bool) -> Any:
            if streams:

                async def stream(request: Any, context: grpc.aio.ServicerContext) -> Any:
                    start = time.perf_counter()
                    try:
                        async for response in behaviour(request, context):
                            yield response
                    finally:
                        done(context, start)

                return stream

            async def unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
                start = time.perf_counter()
                try:
                    return await behaviour(request, context)
                finally:
                    done(context, start)

            return unary

        return _wrap(handler, timed)


class _CallStats:
    """Durations per (method, status) since the last ``rpc_stats`` line."""

    def __init__(self, every: float) -> None:
        self.every = every
        self.since = time.monotonic()
        self.ms: dict[tuple[str, str], list[float]] = {}

    def add(self, method: str, code: str, ms: float) -> None:
        self.ms.setdefault((method, code), []).append(ms)
        if time.monotonic() - self.since >= self.every:
            self.flush()

    def flush(self) -> None:
        for (method, code), values in sorted(self.ms.items()):
            arr = np.asarray(values)
            log(
                "rpc_stats",
                method=method,
                code=code,
                calls=len(values),
                p50_ms=round(float(np.percentile(arr, 50)), 3),
                p99_ms=round(float(np.percentile(arr, 99)), 3),
                seconds=round(time.monotonic() - self.since, 1),
            )
        self.ms.clear()
        self.since = time.monotonic()
