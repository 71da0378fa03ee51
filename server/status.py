"""Errors to gRPC statuses, the call deadline to a solver time limit, and the RPC wrappers that
every servicer method goes through (no mechanism logic here).

- :class:`~mechsolve.solver.core.errors.ProblemTooLargeError` -> ``RESOURCE_EXHAUSTED``
- :class:`~mechsolve.solver.core.errors.MechsolveInputError` -> ``INVALID_ARGUMENT``
- :class:`~mechsolve.solver.core.errors.SolverBackendError` -> ``FAILED_PRECONDITION``

Each carries the solver's message, the request field path, and a ``google.rpc.BadRequest``
detail with that field (readable with ``grpc_status.rpc_status.from_call``).

The server is ``grpc.aio``. Servicer methods stay plain functions
``(self, request, context, budget) -> response``; the wrappers here run a small request inline
on the event loop (cheaper than a thread hand-off, and it finishes in well under a
millisecond) and every other request on the solve thread pool, so that a long solve never
blocks health checks or other calls.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import grpc
import grpc.aio
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from mechsolve.solver.core.errors import (
    MechsolveInputError,
    ProblemTooLargeError,
    SolverBackendError,
)

DEADLINE_FRACTION = 0.95
"""The solver gets this fraction of the call's remaining time as its time limit."""

MIN_USEFUL_SECONDS = 0.002
"""Less remaining time than this: answer DEADLINE_EXCEEDED without starting a solve."""

INLINE_BYTES = 16 * 1024
"""Requests at most this large (serialized) may run inline on the event loop."""

_Handled = (MechsolveInputError, SolverBackendError)


def field_path(argument: str, fields: Mapping[str, str]) -> str:
    """The request field for a solver argument: ``actions[1]`` -> ``actions[1]``,
    ``game[0][1]`` -> ``game.payoffs[0][1]``, via the base-name mapping ``fields``; a path that
    already names a field (``game.payoffs.values``) is kept."""
    token = argument.split(" ")[0]
    if "." in token.split("[")[0]:
        return token
    base = token.split("[")[0]
    return fields.get(base, base) + token[len(base) :]


def status_for(exc: Exception, fields: Mapping[str, str]) -> grpc.Status:
    """The status a handled exception maps to (see the module docstring)."""
    if isinstance(exc, ProblemTooLargeError):
        code = grpc.StatusCode.RESOURCE_EXHAUSTED
    elif isinstance(exc, MechsolveInputError):
        code = grpc.StatusCode.INVALID_ARGUMENT
    else:
        code = grpc.StatusCode.FAILED_PRECONDITION
    field = field_path(getattr(exc, "argument", ""), fields)
    message = f"{exc} [field: {field}]" if field else str(exc)
    detail = any_pb2.Any()
    detail.Pack(
        error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(field=field, description=message)
            ]
        )
    )
    proto_code = getattr(code_pb2, code.name)
    return rpc_status.to_status(
        status_pb2.Status(code=proto_code, message=message, details=[detail])
    )


@dataclass(frozen=True)
class CallBudget:
    """The solver time limit for one call: ``0.95 x`` the deadline's remaining time, capped."""

    time_limit: float


class _DeadlineExceeded(Exception):
    pass


def budget(context: grpc.aio.ServicerContext, cap: float) -> CallBudget:
    remaining = context.time_remaining()
    if remaining is None:
        return CallBudget(cap)
    if remaining < MIN_USEFUL_SECONDS:
        raise _DeadlineExceeded
    return CallBudget(min(cap, DEADLINE_FRACTION * remaining))


_POOL: ThreadPoolExecutor | None = None


def set_solve_threads(threads: int) -> None:
    """Size the process-wide solve thread pool (the server calls this at start)."""
    global _POOL
    if _POOL is None or _POOL._max_workers != threads:
        _POOL = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="mechsolve-solve")


def _pool() -> ThreadPoolExecutor:
    if _POOL is None:
        set_solve_threads(8)
    assert _POOL is not None
    return _POOL


async def _run(inline: bool, fn: Callable[..., Any], *args: Any) -> Any:
    if inline:
        return fn(*args)
    return await asyncio.get_running_loop().run_in_executor(_pool(), fn, *args)


async def _abort(
    context: grpc.aio.ServicerContext, exc: BaseException, fields: Mapping[str, str]
) -> None:
    if isinstance(exc, _DeadlineExceeded):
        await context.abort(
            grpc.StatusCode.DEADLINE_EXCEEDED, "deadline exceeded before the solve started"
        )
    await context.abort_with_status(status_for(exc, fields))  # type: ignore[arg-type]


Inline = Callable[[Any], bool]


def small(request: Any) -> bool:
    """The default inline test: a request of at most :data:`INLINE_BYTES`."""
    return bool(request.ByteSize() <= INLINE_BYTES)


def unary(
    fields: Mapping[str, str], *, inline: Inline | None = None
) -> Callable[[Callable[..., Any]], Any]:
    """Wrap a unary servicer method ``(self, request, context, budget)``: deadline to time
    limit, project errors to statuses; inline when ``inline(request)``, else on the pool."""

    def deco(fn: Callable[..., Any]) -> Any:
        @functools.wraps(fn)
        async def wrapper(self: Any, request: Any, context: grpc.aio.ServicerContext) -> Any:
            try:
                b = budget(context, self.config.max_solve_seconds)
                here = inline is not None and inline(request)
                return await _run(here, fn, self, request, context, b)
            except (*_Handled, _DeadlineExceeded) as exc:
                await _abort(context, exc, fields)

        return wrapper

    return deco


def streaming(
    fields: Mapping[str, str], *, inline: Inline | None = None
) -> Callable[[Callable[..., Any]], Any]:
    """Wrap a per-message servicer method ``(self, request, context, budget) -> response`` into
    a stream-stream handler that answers every request message in order; a bad message aborts
    the stream with the status it maps to."""

    def deco(fn: Callable[..., Any]) -> Any:
        @functools.wraps(fn)
        async def wrapper(
            self: Any, requests: AsyncIterator[Any], context: grpc.aio.ServicerContext
        ) -> AsyncIterator[Any]:
            try:
                async for request in requests:
                    b = budget(context, self.config.max_solve_seconds)
                    here = inline is not None and inline(request)
                    yield await _run(here, fn, self, request, context, b)
            except (*_Handled, _DeadlineExceeded) as exc:
                await _abort(context, exc, fields)

        return wrapper

    return deco
