"""Errors to gRPC statuses, the call deadline to a solver time limit, and the RPC wrappers that
every servicer method goes through (no mechanism logic here).

- :class:`~mechsolve.solver.errors.ProblemTooLargeError` -> ``RESOURCE_EXHAUSTED``
- :class:`~mechsolve.solver.errors.MechsolveInputError` -> ``INVALID_ARGUMENT``
- :class:`~mechsolve.solver.errors.SolverBackendError` -> ``FAILED_PRECONDITION``

Each carries the solver's message, the request field path, and a ``google.rpc.BadRequest``
detail with that field (readable with ``grpc_status.rpc_status.from_call``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from mechsolve.solver.errors import MechsolveInputError, ProblemTooLargeError, SolverBackendError

DEADLINE_FRACTION = 0.95
"""The solver gets this fraction of the call's remaining time as its time limit."""

MIN_USEFUL_SECONDS = 0.002
"""Less remaining time than this: answer DEADLINE_EXCEEDED without starting a solve."""


def field_path(argument: str, fields: Mapping[str, str]) -> str:
    """The request field for a solver argument: ``actions[1]`` -> ``actions[1]``,
    ``game[0][1]`` -> ``game.payoffs[0][1]``, via the base-name mapping ``fields``; a path that
    already names a field (``game.payoffs.values``) is kept."""
    token = argument.split(" ")[0]
    if "." in token.split("[")[0]:
        return token
    base = token.split("[")[0]
    return fields.get(base, base) + token[len(base) :]


def _status(code: grpc.StatusCode, message: str, field: str) -> grpc.Status:
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


def abort_for(context: grpc.ServicerContext, exc: Exception, fields: Mapping[str, str]) -> None:
    """Abort the call with the status ``exc`` maps to (never returns)."""
    if isinstance(exc, ProblemTooLargeError):
        code = grpc.StatusCode.RESOURCE_EXHAUSTED
    elif isinstance(exc, MechsolveInputError):
        code = grpc.StatusCode.INVALID_ARGUMENT
    else:
        code = grpc.StatusCode.FAILED_PRECONDITION
    field = field_path(getattr(exc, "argument", ""), fields)
    message = f"{exc} [field: {field}]" if field else str(exc)
    context.abort_with_status(_status(code, message, field))


@dataclass(frozen=True)
class CallBudget:
    """The solver time limit for one call: ``0.95 x`` the deadline's remaining time, capped."""

    time_limit: float


def budget(context: grpc.ServicerContext, cap: float) -> CallBudget:
    remaining = context.time_remaining()
    if remaining is None:
        return CallBudget(cap)
    if remaining < MIN_USEFUL_SECONDS:
        context.abort(
            grpc.StatusCode.DEADLINE_EXCEEDED, "deadline exceeded before the solve started"
        )
    return CallBudget(min(cap, DEADLINE_FRACTION * remaining))


_Handled = (MechsolveInputError, SolverBackendError)


def unary(fields: Mapping[str, str]) -> Callable[[Callable[..., Any]], Any]:
    """Wrap a unary servicer method ``(self, request, context, budget)``: deadline to time
    limit, project errors to statuses."""

    def deco(fn: Callable[..., Any]) -> Any:
        @functools.wraps(fn)
        def wrapper(self: Any, request: Any, context: grpc.ServicerContext) -> Any:
            b = budget(context, self.config.max_solve_seconds)
            try:
                return fn(self, request, context, b)
            except _Handled as exc:
                abort_for(context, exc, fields)

        return wrapper

    return deco


def streaming(fields: Mapping[str, str]) -> Callable[[Callable[..., Any]], Any]:
    """Wrap a stream-stream servicer method ``(self, request_iterator, context)``; a bad
    message aborts the stream with the status it maps to."""

    def deco(fn: Callable[..., Any]) -> Any:
        @functools.wraps(fn)
        def wrapper(
            self: Any, requests: Iterator[Any], context: grpc.ServicerContext
        ) -> Iterator[Any]:
            try:
                yield from fn(self, requests, context)
            except _Handled as exc:
                abort_for(context, exc, fields)

        return wrapper

    return deco
