"""The one servicer: every RPC declared in :mod:`mechsolve.api` is served the same way.

A request's bytes are parsed here (a malformed message is ``INVALID_ARGUMENT``, not gRPC's
``UNKNOWN``), decoded into the solver function's arguments (sizes checked against the server's
limits first), the function runs with the server's limits and the call's time limit (what
remains of the deadline less a reserve), and its result is encoded into the response.

Small cheap requests are answered inline on the event loop; every other one runs in a solve
worker process (:mod:`.workers`) that is killed when the deadline passes or the caller
cancels. A stream does the same for each message, with the per-message deadline the client
sends as metadata. Health checks and reflection are never refused; the mechsolve RPCs are
admitted up to ``max_concurrent_rpcs`` at a time, then ``RESOURCE_EXHAUSTED``.
"""

from __future__ import annotations

import asyncio
import re
import time
import traceback
from collections.abc import AsyncIterator
from typing import Any

import grpc
import grpc.aio
from google.protobuf.message import DecodeError, Message

from mechsolve import codec
from mechsolve.api import RPCS, SERVICES, Rpc, Stream
from mechsolve.api.declare import STREAM_TIME_LIMIT_METADATA
from mechsolve.solver.core.errors import MechsolveInputError
from mechsolve.solver.core.limits import Limits

from .config import ServerConfig
from .logs import log
from .memory import Trimmer
from .metrics import Metrics
from .status import HANDLED, INLINE_BYTES, DeadlineExceeded, code_for, status_for, time_limit
from .workers import Answer, SolverPool

BY_PATH: dict[str, Rpc] = {r.path: r for r in RPCS if isinstance(r, Rpc)}

DEADLINE_SLACK = 0.05
"""Seconds: see :func:`_ended_by`."""

_SECONDS = re.compile(r"\+?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
"""A stream's per-message time limit: a plain decimal number of seconds (``2``, ``0.5``,
``1e-1``)."""


def answer_bytes(path: str, request: bytes, limits: Limits, seconds: float) -> Answer:
    """Request bytes -> response bytes, or the status a failure maps to (also in workers)."""
    rpc = BY_PATH[path]
    try:
        msg = rpc.request.FromString(request)
    except (DecodeError, UnicodeDecodeError):
        return Answer(
            None, "INVALID_ARGUMENT", f"the request is not a valid {rpc.request.DESCRIPTOR.name}"
        )
    return answer(rpc, msg, limits, seconds)


def answer(rpc: Rpc, request: Message, limits: Limits, seconds: float) -> Answer:
    """Decode, solve, encode; every failure becomes a documented status."""
    try:
        return Answer(
            codec.encode_result(rpc, solve(rpc, request, limits, seconds)).SerializeToString()
        )
    except Exception as exc:
        return failure(rpc, exc)


def solve(
    rpc: Rpc,
    request: Message,
    limits: Limits,
    seconds: float | None,
    supplied: dict[str, Any] | None = None,
) -> Any:
    """The solver function's result for a request message (sizes checked against ``limits``
    while decoding, ``seconds`` as its time limit, ``supplied`` arguments taken as given);
    raises what the solver raises."""
    return rpc.call(codec.decode_request(rpc, request, limits, supplied), limits, seconds)


def failure(rpc: Rpc, exc: Exception) -> Answer:
    """The status a failed solve is answered with (a bug: ``INTERNAL``, its traceback logged)."""
    if isinstance(exc, HANDLED):
        return Answer(None, code_for(exc), str(exc), rpc.field_path(getattr(exc, "argument", "")))
    if isinstance(exc, MemoryError):
        return Answer(
            None, "RESOURCE_EXHAUSTED", "the call ran out of its memory budget", retire=True
        )
    log("internal_error", method=rpc.path, traceback="".join(traceback.format_exception(exc)))
    return Answer(None, "INTERNAL", "internal error (logged on the server)")


class Servicer:
    """The handlers of every declared service, sharing admission, workers and metrics."""

    def __init__(self, config: ServerConfig, metrics: Metrics) -> None:
        self.config = config
        self.limits = config.solver_limits
        self.pool = SolverPool(config.solvers, config.call_memory_mb, self.limits)
        self.metrics = metrics
        self.in_flight = 0
        self.pending_bytes = 0
        self.trimmer = Trimmer()
        self._replaced_seen = 0
        metrics.solver_memory.set_function(self.pool.resident_bytes)

    def handlers(self) -> list[grpc.GenericRpcHandler]:
        """One generic handler per declared service (raw bytes in and out)."""
        return [
            grpc.method_handlers_generic_handler(
                service, {rpc.name: self._handler(rpc) for rpc in rpcs}
            )
            for service, rpcs in SERVICES.items()
        ]

    def _handler(self, rpc: Rpc | Stream) -> grpc.RpcMethodHandler:
        if isinstance(rpc, Stream):
            return grpc.stream_stream_rpc_method_handler(self._streaming(rpc))
        return grpc.unary_unary_rpc_method_handler(self._unary(rpc))

    async def _solve(
        self, rpc: Rpc, request: bytes, seconds: float, deadline: float | None
    ) -> Answer:
        start = time.perf_counter()
        try:
            return await self._solve_somewhere(rpc, request, seconds, deadline)
        finally:
            self.metrics.solve.labels(rpc.path).observe(time.perf_counter() - start)

    async def _solve_somewhere(
        self, rpc: Rpc, request: bytes, seconds: float, deadline: float | None
    ) -> Answer:
        """Inline for small cheap requests, else on a worker process."""
        if len(request) <= INLINE_BYTES and rpc.inline is not None:
            try:
                msg = rpc.request.FromString(request)
            except (DecodeError, UnicodeDecodeError):
                return answer_bytes(rpc.path, request, self.limits, seconds)
            if rpc.inline(msg):
                return answer(rpc, msg, self.limits, seconds)
        return await self.pool.answer(rpc.path, request, seconds, deadline)

    def _admit(self, context: grpc.aio.ServicerContext, size: int) -> float:
        """The solver's time limit for this call, once admitted (calls in flight, and the
        request bytes they hold, within the server's limits)."""
        if self.in_flight >= self.config.max_concurrent_rpcs:
            raise _Busy
        self._check_pending(size)
        return time_limit(context, self.config.max_solve_seconds)

    def _check_pending(self, size: int) -> None:
        if self.pending_bytes + size > self.config.max_pending_mb << 20:
            raise _Busy(
                f"the server holds {self.pending_bytes >> 20} MB of requests in flight, "
                f"its max_pending_mb is {self.config.max_pending_mb}; retry later"
            )

    def _hold(self, size: int) -> None:
        """A stream message's bytes join the pending ones (or the stream ends busy)."""
        self._check_pending(size)
        self.pending_bytes += size

    def _release(self, size: int) -> None:
        self.pending_bytes -= size
        self.trimmer.after_call(size)

    def _unary(self, rpc: Rpc) -> Any:
        async def call(request: bytes, context: grpc.aio.ServicerContext) -> bytes | None:
            start, code, size = time.perf_counter(), "CANCELLED", len(request)
            try:
                seconds = self._admit(context, size)
                self._enter(size)
                try:
                    result = await self._solve(rpc, request, seconds, context.time_remaining())
                finally:
                    self._leave(size)
                code = result.code
                if result.payload is not None:
                    return result.payload
                request = b""  # see _abort
                await _abort(context, result)
            except (DeadlineExceeded, _Busy) as exc:
                refused, request = _answer_of(exc), b""
                code = refused.code
                await _abort(context, refused)
            except asyncio.CancelledError:
                code = _ended_by(context)
                raise
            finally:
                self.metrics.done(rpc.path, code, time.perf_counter() - start, context)
                self.trimmer.after_call(size)
            return None

        return call

    def _streaming(self, stream: Stream) -> Any:
        async def call(
            requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext
        ) -> AsyncIterator[bytes]:
            start, code = time.perf_counter(), "CANCELLED"
            try:
                per_message = _per_message_limit(stream, context)
                self._admit(context, 0)
                self._enter(0)
                try:
                    async for raw in requests:
                        seconds = time_limit(context, self.config.max_solve_seconds, per_message)
                        self._hold(len(raw))
                        try:
                            result = await self._solve(
                                stream.of, _inner(stream, raw), seconds,
                                _earliest(context, per_message),
                            )  # fmt: skip
                        finally:
                            self._release(len(raw))
                        if result.payload is None:
                            code = result.code
                            field = stream.field_path(result.field) if result.field else ""
                            raw = b""  # see _abort
                            await _abort(context, Answer(None, result.code, result.message, field))
                            return
                        # StreamMediateBatchResponse and MediateBatchResponse are the same on the
                        # wire (one field 1, `result`, of the same type): the bytes are the answer
                        yield result.payload
                    code = "OK"
                finally:
                    self._leave(0)
            except (DeadlineExceeded, _Busy, MechsolveInputError) as exc:
                refused, raw = _answer_of(exc), b""  # see _abort
                code = refused.code
                await _abort(context, refused)
            except asyncio.CancelledError:
                code = _ended_by(context)
                raise
            finally:
                self.metrics.done(stream.path, code, time.perf_counter() - start, context)

        return call

    def _enter(self, size: int) -> None:
        self.in_flight += 1
        self.pending_bytes += size
        self.metrics.in_flight.set(self.in_flight)

    def _leave(self, size: int) -> None:
        self.in_flight -= 1
        self.pending_bytes -= size
        self.metrics.in_flight.set(self.in_flight)
        self.metrics.replaced.inc(self.pool.replaced - self._replaced_seen)
        self._replaced_seen = self.pool.replaced

    def close(self) -> None:
        self.pool.close()

    async def drained(self, seconds: float) -> None:
        """Wait (at most ``seconds``) until no call is in flight."""
        end = time.monotonic() + seconds
        while self.in_flight and time.monotonic() < end:
            await asyncio.sleep(0.01)


class _Busy(Exception):
    """More mechsolve calls in flight than ``max_concurrent_rpcs``, or more request bytes than
    ``max_pending_mb``."""


def _ended_by(context: grpc.aio.ServicerContext) -> str:
    """Why a call was cancelled under its handler: its deadline passed, or the caller left
    (or the server stopped). A client whose deadline passes cancels the call itself, a little
    before the server's copy of the deadline (which started when the request arrived): a
    cancel within ``DEADLINE_SLACK`` of the deadline counts as the deadline."""
    left = context.time_remaining()
    return "DEADLINE_EXCEEDED" if left is not None and left <= DEADLINE_SLACK else "CANCELLED"


def _answer_of(exc: Exception) -> Answer:
    """The answer to a call refused before its solve: past its deadline, over the server's
    admission limits, or (a stream's) bad time-limit metadata."""
    if isinstance(exc, DeadlineExceeded):
        return Answer(None, "DEADLINE_EXCEEDED", "deadline exceeded before the solve started")
    if isinstance(exc, _Busy):
        said = str(exc) or "the server is at its max_concurrent_rpcs; retry later"
        return Answer(None, "RESOURCE_EXHAUSTED", said)
    return Answer(None, code_for(exc), str(exc), getattr(exc, "argument", ""))


async def _abort(context: grpc.aio.ServicerContext, result: Answer) -> None:
    """End the call with the answer's status (and a BadRequest detail when it names a field).

    ``abort`` raises through the handler: the exception's traceback keeps the handler's frame,
    and grpc.aio keeps the exception in a reference cycle that lives until a full garbage
    collection. Handlers drop their request bytes before calling this, or every refused large
    request would stay in memory until then."""
    if result.field:
        await context.abort_with_status(status_for(result.code, result.message, result.field))
    await context.abort(grpc.StatusCode[result.code], result.message)


def _inner(stream: Stream, raw: bytes) -> bytes:
    """The batch request carried by one stream message (bytes; invalid bytes stay invalid)."""
    try:
        message: Any = stream.request.FromString(raw)
        return bytes(message.batch.SerializeToString())
    except (DecodeError, UnicodeDecodeError):
        return b"\xff"  # not a valid message either: the solve answers INVALID_ARGUMENT


def _earliest(context: grpc.aio.ServicerContext, per_message: float | None) -> float | None:
    left = [t for t in (context.time_remaining(), per_message) if t is not None]
    return min(left) if left else None


def _per_message_limit(stream: Stream, context: grpc.aio.ServicerContext) -> float | None:
    for key, value in context.invocation_metadata() or ():
        if key == STREAM_TIME_LIMIT_METADATA:
            seconds = float(value) if _SECONDS.fullmatch(value) else float("nan")
            if not 0 < seconds < float("inf"):
                raise MechsolveInputError(
                    stream.function.__name__,
                    key,
                    f"must be a positive number of seconds; got {value!r}",
                )
            return seconds
    return None
