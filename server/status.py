"""Errors to gRPC statuses and the call deadline to a solver time limit (no mechanism logic
here).

- :class:`~mechsolve.solver.core.errors.ProblemTooLargeError` -> ``RESOURCE_EXHAUSTED``
- :class:`~mechsolve.solver.core.errors.MechsolveInputError` -> ``INVALID_ARGUMENT``
- :class:`~mechsolve.solver.core.errors.SolverBackendError` -> ``FAILED_PRECONDITION``

Each carries the solver's message, the request field path, and a ``google.rpc.BadRequest``
detail with that field (readable with ``grpc_status.rpc_status.from_call``).
"""

from __future__ import annotations

from typing import Any

import grpc
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


def code_for(exc: Exception) -> str:
    """The status code name a handled exception maps to (see the module docstring)."""
    if isinstance(exc, ProblemTooLargeError):
        return "RESOURCE_EXHAUSTED"
    if isinstance(exc, MechsolveInputError):
        return "INVALID_ARGUMENT"
    return "FAILED_PRECONDITION"


def describe(message: str, field: str) -> str:
    """A status's message as the caller reads it: the solver's message and the request field."""
    return f"{message} [field: {field}]" if field else message


def status_for(code: str, message: str, field: str) -> grpc.Status:
    """A status with the request ``field`` in its message and a BadRequest detail."""
    text = describe(message, field)
    violation = error_details_pb2.BadRequest.FieldViolation(field=field, description=text)
    detail = any_pb2.Any()
    detail.Pack(error_details_pb2.BadRequest(field_violations=[violation]))
    proto = status_pb2.Status(code=getattr(code_pb2, code), message=text, details=[detail])
    return rpc_status.to_status(proto)


def time_limit(context: Any, cap: float, per_message: float | None = None) -> float:
    """The solver's time limit: the time left before the deadline (of the call, and of the
    message for a stream) less a reserve (5%, at least ``RESERVE_SECONDS`` or half of it), at
    most ``cap``."""
    remaining = [r for r in (context.time_remaining(), per_message) if r is not None]
    if not remaining:
        return cap
    left = min(remaining)
    if left < MIN_USEFUL_SECONDS:
        raise DeadlineExceeded
    return min(cap, left - reserve(left))


def reserve(left: float) -> float:
    """The part of the ``left`` seconds before a deadline kept for answering (5%, at least
    ``RESERVE_SECONDS`` or half of ``left``)."""
    return max((1 - DEADLINE_FRACTION) * left, min(RESERVE_SECONDS, left / 2))
