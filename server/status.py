"""Errors to gRPC statuses, the call deadline to a solver time limit, and where a solve runs
(no mechanism logic here).

- :class:`~mechsolve.solver.core.errors.ProblemTooLargeError` -> ``RESOURCE_EXHAUSTED``
- :class:`~mechsolve.solver.core.errors.MechsolveInputError` -> ``INVALID_ARGUMENT``
- :class:`~mechsolve.solver.core.errors.SolverBackendError` -> ``FAILED_PRECONDITION``

Each carries the solver's message, the request field path, and a ``google.rpc.BadRequest``
detail with that field (readable with ``grpc_status.rpc_status.from_call``).

A small request runs inline on the event loop (cheaper than a thread hand-off, and it finishes
in well under a millisecond); every other request runs on the solve thread pool, so that a long
solve never blocks health checks or other calls.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
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
"""The solver gets at most this fraction of the call's remaining time as its time limit..."""

RESERVE_SECONDS = 0.2
"""...and leaves at least this much of it (or half, for shorter deadlines) to encode and send
the answer: a solve that stops at its limit still answers before the deadline."""

MIN_USEFUL_SECONDS = 0.002
"""Less remaining time than this: answer DEADLINE_EXCEEDED without starting a solve."""

INLINE_BYTES = 16 * 1024
"""Requests at most this large (serialized) may run inline on the event loop."""

HANDLED = (MechsolveInputError, SolverBackendError)
"""The exceptions answered with a status (anything else is a bug: UNKNOWN, logged)."""


class DeadlineExceeded(Exception):
    """Too little of the deadline is left to start a solve."""


def status_for(exc: Exception, field: str) -> grpc.Status:
    """The status a handled exception maps to (see the module docstring)."""
    if isinstance(exc, ProblemTooLargeError):
        code = grpc.StatusCode.RESOURCE_EXHAUSTED
    elif isinstance(exc, MechsolveInputError):
        code = grpc.StatusCode.INVALID_ARGUMENT
    else:
        code = grpc.StatusCode.FAILED_PRECONDITION
    message = f"{exc} [field: {field}]" if field else str(exc)
    violation = error_details_pb2.BadRequest.FieldViolation(field=field, description=message)
    detail = any_pb2.Any()
    detail.Pack(error_details_pb2.BadRequest(field_violations=[violation]))
    proto = status_pb2.Status(code=getattr(code_pb2, code.name), message=message, details=[detail])
    return rpc_status.to_status(proto)


def time_limit(
    context: grpc.aio.ServicerContext, cap: float, per_message: float | None = None
) -> float:
    """The solver's time limit: the time left before the deadline (of the call, and of the
    message for a stream) less a reserve (5%, at least ``RESERVE_SECONDS`` or half of it), at
    most ``cap``."""
    remaining = [r for r in (context.time_remaining(), per_message) if r is not None]
    if not remaining:
        return cap
    left = min(remaining)
    if left < MIN_USEFUL_SECONDS:
        raise DeadlineExceeded
    reserve = max((1 - DEADLINE_FRACTION) * left, min(RESERVE_SECONDS, left / 2))
    return min(cap, left - reserve)


_POOL: ThreadPoolExecutor | None = None


def set_solve_threads(threads: int) -> None:
    """Size the process-wide solve thread pool (the server calls this at start)."""
    global _POOL
    if _POOL is None or _POOL._max_workers != threads:
        _POOL = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="mechsolve-solve")


async def run(inline: bool, fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` here (inline) or on the solve pool."""
    if inline:
        return fn(*args)
    if _POOL is None:
        set_solve_threads(8)
    return await asyncio.get_running_loop().run_in_executor(_POOL, fn, *args)


async def abort(context: grpc.aio.ServicerContext, exc: BaseException, field: str) -> None:
    """End the call with the status ``exc`` maps to."""
    if isinstance(exc, DeadlineExceeded):
        await context.abort(
            grpc.StatusCode.DEADLINE_EXCEEDED, "deadline exceeded before the solve started"
        )
    await context.abort_with_status(status_for(exc, field))  # type: ignore[arg-type]
