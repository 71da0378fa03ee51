"""Remote errors, raised as the same exception family the in-process solver raises, so that code
written against one runs against the other."""

from __future__ import annotations

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from mechsolve.solver.core.errors import MechsolveError, MechsolveInputError, ProblemTooLargeError


class MechsolveRpcError(MechsolveError):
    """A call failed with a gRPC status that is not an input error (``code`` tells which)."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(f"{code.name}: {message}")


class RemoteInputError(MechsolveInputError):
    """The server answered ``INVALID_ARGUMENT``; ``field`` is the request field at fault."""

    def __init__(self, message: str, field: str) -> None:
        self.field = field
        ValueError.__init__(self, message)
        self.function, self.argument, self.detail = "server", field, message


class RemoteProblemTooLargeError(ProblemTooLargeError):
    """The server answered ``RESOURCE_EXHAUSTED`` for a problem over its size limits."""

    def __init__(self, message: str, field: str) -> None:
        self.field = field
        ValueError.__init__(self, message)
        self.function, self.argument, self.detail = "server", field, message


def _field(err: grpc.RpcError) -> str | None:
    """The BadRequest field of the status details, if any."""
    try:
        status = rpc_status.from_call(err)
    except ValueError:
        return None
    if status is None:
        return None
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            br = error_details_pb2.BadRequest()
            detail.Unpack(br)
            if br.field_violations:
                return str(br.field_violations[0].field)
    return None


def translate(err: grpc.RpcError) -> Exception:
    """The exception to raise for a failed call."""
    code = err.code()
    message = err.details() or ""
    field = _field(err)
    if code == grpc.StatusCode.INVALID_ARGUMENT and field is not None:
        return RemoteInputError(message, field)
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED and field is not None:
        return RemoteProblemTooLargeError(message, field)
    return MechsolveRpcError(code, message)
