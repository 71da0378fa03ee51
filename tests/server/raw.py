"""Calls made the way an attacker (or a client in another language) makes them: raw bytes on a
plain gRPC channel, no project client in between; the status, message and BadRequest field
read from what came back."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
import numpy as np
from google.protobuf.message import Message
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from mechsolve import codec
from mechsolve.api import RPCS, Rpc
from mechsolve.v1 import common_pb2 as cpb

BY_NAME: dict[str, Any] = {r.name: r for r in RPCS}


@dataclass
class Reply:
    code: grpc.StatusCode
    message: str = ""
    field: str = ""
    payload: bytes = b""


def _reply_of(error: grpc.RpcError) -> Reply:
    call: Any = error
    field = ""
    status = rpc_status.from_call(call)
    for detail in status.details if status is not None else ():
        bad = error_details_pb2.BadRequest()
        if detail.Unpack(bad) and bad.field_violations:
            field = bad.field_violations[0].field
    return Reply(call.code(), call.details() or "", field)


def call(
    address: str,
    path: str,
    payload: bytes | Message,
    timeout: float | None = 30.0,
    metadata: Sequence[tuple[str, str]] = (),
) -> Reply:
    """One unary call with ``payload`` as the request bytes."""
    data = payload if isinstance(payload, bytes) else payload.SerializeToString()
    with grpc.insecure_channel(address) as channel:
        method = channel.unary_unary(path)
        try:
            answer = method(data, timeout=timeout, metadata=metadata)
        except grpc.RpcError as error:
            return _reply_of(error)
    return Reply(grpc.StatusCode.OK, payload=answer)


def stream(
    address: str,
    path: str,
    payloads: Iterable[bytes],
    timeout: float | None = 30.0,
    metadata: Sequence[tuple[str, str]] = (),
) -> tuple[list[bytes], Reply]:
    """One bidirectional stream: the answers that came, and how it ended."""
    answers: list[bytes] = []
    with grpc.insecure_channel(address) as channel:
        method = channel.stream_stream(path)
        try:
            for answer in method(iter(payloads), timeout=timeout, metadata=metadata):
                answers.append(answer)
        except grpc.RpcError as error:
            return answers, _reply_of(error)
    return answers, Reply(grpc.StatusCode.OK)


def request(name: str, **arguments: Any) -> Message:
    """The request message of RPC ``name`` for solver arguments (validated as a client would)."""
    rpc: Rpc = BY_NAME[name]
    return codec.encode_request(rpc, arguments)


def tensor(values: Any) -> cpb.Tensor:
    a = np.asarray(values, dtype=np.float64)
    return cpb.Tensor(shape=a.shape, values=a.ravel().tolist())
